#!/usr/bin/python3
"""Generate the image fixtures of the tests (run from anywhere; rewrites
testdata/images, testdata/fer2013, testdata/fer2013.csv, testdata/fer-odd).

testdata/images/NAME.{png,pgm,ppm,pnm,jpg} are decoder inputs; for each,
NAME.expect.pgm or NAME.expect.ppm holds the pixels a decoder must return
with the default flags (the file's own channels, alpha composited over
white), computed here from the source arrays with numpy, independently of
the library.  PNGs are written byte by byte (zlib + struct) so that every
colour type, bit depth and interlacing can be covered; JPEGs are written
by PIL, and their expected pixels are PIL's decoding of them.

testdata/fer2013 is a tiny FER2013-style image tree of synthetic 48x48
faces (drawn here, one expression per emotion, with a little deterministic
noise); testdata/fer2013.csv holds the same faces as Kaggle's CSV, in a
shuffled order.  testdata/fer-odd holds images that need conversion or are
bad.
"""
import io
import os
import random
import shutil
import struct
import sys
import zlib

import numpy as np
from PIL import Image, ImageDraw

TOP = os.path.dirname(os.path.abspath(__file__))
IMG = os.path.join(TOP, "images")


# --- writers -------------------------------------------------------------

def chunk(kind, data):
    c = struct.pack(">I", len(data)) + kind + data
    return c + struct.pack(">I", zlib.crc32(kind + data) & 0xffffffff)


def pack_rows(a, depth):
    """a: h x (w*channels) array of samples -> list of packed row bytes."""
    rows = []
    for r in a:
        if depth == 16:
            rows.append(r.astype(">u2").tobytes())
        elif depth == 8:
            rows.append(r.astype(np.uint8).tobytes())
        else:
            per = 8 // depth
            n = len(r)
            padded = np.zeros(((n + per - 1) // per) * per, dtype=np.uint32)
            padded[:n] = r
            padded = padded.reshape(-1, per)
            b = np.zeros(len(padded), dtype=np.uint32)
            for i in range(per):
                b |= padded[:, i] << (8 - depth * (i + 1))
            rows.append(b.astype(np.uint8).tobytes())
    return rows


ADAM7 = [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)]


def png_bytes(samples, ctype, depth, interlace=False, plte=None, trns=None):
    """samples: h x w x c array (c from the colour type; palette indices for 3)."""
    h, w = samples.shape[:2]
    c = samples.shape[2]
    raw = b""
    if interlace:
        for x0, y0, dx, dy in ADAM7:
            sub = samples[y0::dy, x0::dx]
            if sub.size == 0:
                continue
            for row in pack_rows(sub.reshape(sub.shape[0], -1), depth):
                raw += b"\x00" + row
    else:
        for row in pack_rows(samples.reshape(h, w * c), depth):
            raw += b"\x00" + row
    out = b"\x89PNG\r\n\x1a\n"
    out += chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, depth, ctype, 0, 0, 1 if interlace else 0))
    if plte is not None:
        out += chunk(b"PLTE", bytes(np.asarray(plte, dtype=np.uint8).ravel()))
    if trns is not None:
        out += chunk(b"tRNS", trns)
    out += chunk(b"IDAT", zlib.compress(raw, 9))
    out += chunk(b"IEND", b"")
    return out


def pnm_expect(path, a):
    """Write an 8-bit h x w (gray) or h x w x 3 array as binary PGM/PPM."""
    a = np.asarray(a, dtype=np.uint8)
    kind = b"P5" if a.ndim == 2 else b"P6"
    with open(path, "wb") as f:
        f.write(b"%s\n%d %d\n255\n" % (kind, a.shape[1], a.shape[0]))
        f.write(a.tobytes())


def put(name, data, expect):
    with open(os.path.join(IMG, name), "wb") as f:
        f.write(data)
    base = name.rsplit(".", 1)[0]
    if expect is not None:
        ext = "pgm" if np.asarray(expect).ndim == 2 else "ppm"
        pnm_expect(os.path.join(IMG, base + ".expect." + ext), expect)


# --- reference arithmetic (what the decoder must do) ----------------------

def to8(v, maxval):
    v = np.asarray(v, dtype=np.int64)
    return ((v * 255 + maxval // 2) // maxval).astype(np.uint8)


def over_white(c, a):
    c = np.asarray(c, dtype=np.int64)
    a = np.asarray(a, dtype=np.int64)
    return ((c * a + 255 * (255 - a) + 127) // 255).astype(np.uint8)


# --- the fixtures ----------------------------------------------------------

def pattern(h, w, c, maxval, seed):
    r = np.random.RandomState(seed)
    return r.randint(0, maxval + 1, size=(h, w, c)).astype(np.int64)


def make_png():
    h, w = 13, 17   # odd sizes exercise partial bytes and Adam7 passes
    for depth in (1, 2, 4, 8, 16):
        mx = (1 << depth) - 1
        g = pattern(h, w, 1, mx, depth)
        put("gray%d.png" % depth, png_bytes(g, 0, depth), to8(g[:, :, 0], mx))
        put("gray%d-i.png" % depth, png_bytes(g, 0, depth, interlace=True), to8(g[:, :, 0], mx))
    for depth in (8, 16):
        mx = (1 << depth) - 1
        rgb = pattern(h, w, 3, mx, 100 + depth)
        put("rgb%d.png" % depth, png_bytes(rgb, 2, depth), to8(rgb, mx))
        put("rgb%d-i.png" % depth, png_bytes(rgb, 2, depth, interlace=True), to8(rgb, mx))
        ga = pattern(h, w, 2, mx, 200 + depth)
        g8, a8 = to8(ga[:, :, 0], mx), to8(ga[:, :, 1], mx)
        put("graya%d.png" % depth, png_bytes(ga, 4, depth), over_white(g8, a8))
        rgba = pattern(h, w, 4, mx, 300 + depth)
        c8, a8 = to8(rgba[:, :, :3], mx), to8(rgba[:, :, 3:], mx)
        put("rgba%d.png" % depth, png_bytes(rgba, 6, depth), over_white(c8, a8))
        put("rgba%d-i.png" % depth, png_bytes(rgba, 6, depth, interlace=True), over_white(c8, a8))
    # alpha dropped instead: the expected pixels for VB_IMG_ALPHA_DROP
    rgba = pattern(h, w, 4, 255, 308)
    pnm_expect(os.path.join(IMG, "rgba8.drop.ppm"), rgba[:, :, :3])
    # palettes, with and without transparency
    for depth in (1, 2, 4, 8):
        n = 1 << depth
        r = np.random.RandomState(400 + depth)
        plte = r.randint(0, 256, size=(n, 3))
        idx = r.randint(0, n, size=(h, w, 1))
        put("pal%d.png" % depth, png_bytes(idx, 3, depth, plte=plte), plte[idx[:, :, 0]])
        alpha = r.randint(0, 256, size=n)
        alpha[0] = 0
        full = np.full(n, 255)
        k = n // 2 + 1
        full[:k] = alpha[:k]
        col = over_white(plte[idx[:, :, 0]], full[idx[:, :, 0]][:, :, None])
        put("pal%d-trns.png" % depth, png_bytes(idx, 3, depth, plte=plte,
                                              trns=bytes(alpha[:k].astype(np.uint8))), col)
    # gray with a transparent colour (tRNS): that level becomes white
    g = pattern(h, w, 1, 15, 500)
    exp = to8(g[:, :, 0], 15)
    exp[g[:, :, 0] == 7] = 255
    put("gray4-trns.png", png_bytes(g, 0, 4, trns=struct.pack(">H", 7)), exp)
    # errors: truncated in IDAT, bad CRC, bad signature
    good = png_bytes(pattern(h, w, 3, 255, 600), 2, 8)
    put("bad-truncated.png", good[:len(good) // 2], None)
    crc = bytearray(good)
    idat = good.index(b"IDAT")
    crc[idat + 4 + struct.unpack(">I", good[idat - 4:idat])[0]] ^= 0x55   # the IDAT CRC
    put("bad-crc.png", bytes(crc), None)
    put("bad-sig.png", b"\x89PNX\r\n\x1a\n" + good[8:], None)
    # a 1x1 PNG claiming 100000 x 100000 pixels
    huge = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 100000, 100000, 8, 0, 0, 0, 0))
    huge += chunk(b"IDAT", zlib.compress(b"\x00\x00")) + chunk(b"IEND", b"")
    put("bad-huge.png", huge, None)


def make_pnm():
    h, w = 5, 7
    g = pattern(h, w, 1, 255, 700)[:, :, 0]
    rgb = pattern(h, w, 3, 255, 701)

    def ascii_rows(a, per_line=7):
        vals = [str(int(v)) for v in np.asarray(a).ravel()]
        return "\n".join(" ".join(vals[i:i + per_line]) for i in range(0, len(vals), per_line)) + "\n"

    put("p2.pgm", ("P2\n# a comment\n%d %d\n# another\n255\n" % (w, h) + ascii_rows(g)).encode(), g)
    put("p3.ppm", ("P3 %d %d 255\n" % (w, h) + ascii_rows(rgb)).encode(), rgb)
    put("p5.pgm", b"P5\n#c\n%d %d\n255\n" % (w, h) + g.astype(np.uint8).tobytes(), g)
    put("p6.ppm", b"P6 %d %d 255\n" % (w, h) + rgb.astype(np.uint8).tobytes(), rgb)
    g16 = pattern(h, w, 1, 65535, 702)[:, :, 0]
    put("p5-16.pgm", b"P5\n%d %d\n65535\n" % (w, h) + g16.astype(">u2").tobytes(), to8(g16, 65535))
    rgb16 = pattern(h, w, 3, 1000, 703)
    put("p6-1000.ppm", b"P6\n%d %d\n1000\n" % (w, h) + rgb16.astype(">u2").tobytes(), to8(rgb16, 1000))
    g15 = pattern(h, w, 1, 15, 704)[:, :, 0]
    put("p2-15.pgm", ("P2 %d %d 15\n" % (w, h) + ascii_rows(g15)).encode(), to8(g15, 15))
    # three frames back to back, as ffmpeg's image2pipe writes them
    s = b""
    for i in range(3):
        f = pattern(4, 6, 3, 255, 710 + i)
        s += b"P6\n6 4\n255\n" + f.astype(np.uint8).tobytes()
        pnm_expect(os.path.join(IMG, "stream.%d.expect.ppm" % i), f)
    put("stream.ppm", s + b"\n", None)
    put("bad-p5-short.pgm", b"P5\n7 5\n255\n" + g.astype(np.uint8).tobytes()[:20], None)
    put("bad-p5-maxval.pgm", b"P5\n2 1\n100\n\x05\xc8", None)
    put("bad-p2-word.pgm", b"P2\n2 1\n255\n12 ab\n", None)
    put("bad-p5-zero.pgm", b"P5\n0 5\n255\n", None)
    put("bad-p5-huge.pgm", b"P5\n40000 40000\n255\n\x00", None)
    put("bad-p4.pbm", b"P4\n8 1\n\xff", None)


def make_jpeg():
    yy, xx = np.mgrid[0:37, 0:45]
    g = ((xx * 5 + yy * 3) % 256).astype(np.uint8)
    g[10:20, 10:30] = 255 - g[10:20, 10:30]
    rgb = np.stack([g, (xx * 7 % 256).astype(np.uint8), (yy * 6 % 256).astype(np.uint8)], axis=2)

    def jpeg(img, **kw):
        b = io.BytesIO()
        img.save(b, "JPEG", **kw)
        return b.getvalue()

    cases = {
        "gray.jpg": jpeg(Image.fromarray(g, "L"), quality=80),
        "rgb420.jpg": jpeg(Image.fromarray(rgb, "RGB"), quality=85),
        "rgb444.jpg": jpeg(Image.fromarray(rgb, "RGB"), quality=90, subsampling=0),
        "rgb-prog.jpg": jpeg(Image.fromarray(rgb, "RGB"), quality=85, progressive=True),
        "gray-prog.jpg": jpeg(Image.fromarray(g, "L"), quality=70, progressive=True),
    }
    for name, data in cases.items():
        dec = np.asarray(Image.open(io.BytesIO(data)))
        put(name, data, dec)
    cmyk = Image.fromarray(rgb, "RGB").convert("CMYK")
    put("bad-cmyk.jpg", jpeg(cmyk, quality=80), None)
    good = cases["rgb420.jpg"]
    put("bad-truncated.jpg", good[:len(good) * 2 // 3], None)
    put("bad-header.jpg", good[:40], None)
    put("bad-garbage.bin", b"GIF89a\x01\x00\x01\x00", None)


# --- synthetic faces ---------------------------------------------------

FER = ["angry", "disgust", "fear", "happy", "sad", "surprise", "neutral"]


def face(emotion, seed):
    """A 48x48 gray cartoon face whose brows and mouth show the emotion."""
    r = random.Random(seed)
    im = Image.new("L", (48, 48), r.randint(20, 90))
    d = ImageDraw.Draw(im)
    cx, cy = 24 + r.randint(-2, 2), 25 + r.randint(-2, 2)
    skin = r.randint(150, 220)
    d.ellipse([cx - 17, cy - 21, cx + 17, cy + 21], fill=skin)
    eye = 30 if emotion != "surprise" else 10
    for ex in (cx - 7, cx + 7):
        big = 3 if emotion in ("fear", "surprise") else 2
        d.ellipse([ex - big, cy - 7 - big, ex + big, cy - 7 + big], fill=eye)
    brow = {"angry": (3, -3), "sad": (-3, 3), "fear": (-2, 2), "surprise": (-4, -4),
            "disgust": (2, -1)}.get(emotion, (0, 0))
    d.line([cx - 11, cy - 12 + brow[0], cx - 4, cy - 12 + brow[1]], fill=40, width=2)
    d.line([cx + 4, cy - 12 + brow[1], cx + 11, cy - 12 + brow[0]], fill=40, width=2)
    my = cy + 9
    if emotion == "happy":
        d.arc([cx - 9, my - 6, cx + 9, my + 5], 10, 170, fill=50, width=2)
    elif emotion in ("sad", "disgust"):
        d.arc([cx - 8, my, cx + 8, my + 9], 200, 340, fill=50, width=2)
    elif emotion in ("surprise", "fear"):
        d.ellipse([cx - 4, my - 3, cx + 4, my + 5], fill=30)
    elif emotion == "angry":
        d.line([cx - 7, my + 2, cx + 7, my + 1], fill=40, width=3)
    else:
        d.line([cx - 7, my + 1, cx + 7, my + 1], fill=60, width=2)
    a = np.asarray(im, dtype=np.int16)
    noise = np.array([r.randint(-6, 6) for _ in range(48 * 48)], dtype=np.int16).reshape(48, 48)
    return Image.fromarray(np.clip(a + noise, 0, 255).astype(np.uint8), "L")


def make_fer():
    root = os.path.join(TOP, "fer2013")
    shutil.rmtree(root, ignore_errors=True)
    rows = []
    ident = 1000
    # split -> (top folder, faces per emotion)
    plan = [("Training", "train", 3), ("PublicTest", "test", 1), ("PrivateTest", "test", 2)]
    for usage, top, per in plan:
        for e, emotion in enumerate(FER):
            d = os.path.join(root, top, emotion)
            os.makedirs(d, exist_ok=True)
            for k in range(per):
                ident += 7
                im = face(emotion, ident)
                if emotion == "neutral" and usage == "Training" and k == 0:
                    name = "%s_%d.png" % (usage, ident)   # one PNG among the JPEGs
                    im.save(os.path.join(d, name), "PNG")
                else:
                    name = "%s_%d.jpg" % (usage, ident)
                    im.save(os.path.join(d, name), "JPEG", quality=75)
                px = np.asarray(Image.open(os.path.join(d, name)).convert("L"))
                rows.append((e, " ".join(str(int(v)) for v in px.ravel()), usage))
    random.Random(7).shuffle(rows)
    with open(os.path.join(TOP, "fer2013.csv"), "w", newline="") as f:
        f.write("emotion,pixels,Usage\n")
        for e, px, usage in rows:
            f.write("%d,%s,%s\n" % (e, px, usage))

    odd = os.path.join(TOP, "fer-odd")
    shutil.rmtree(odd, ignore_errors=True)
    os.makedirs(os.path.join(odd, "happy"))
    os.makedirs(os.path.join(odd, "sad"))
    big = face("happy", 1).resize((96, 96), Image.NEAREST).convert("RGB")
    big.save(os.path.join(odd, "happy", "Training_1.png"), "PNG")       # 96x96 RGB: converted
    small = face("sad", 2).resize((24, 24), Image.NEAREST)
    small.save(os.path.join(odd, "sad", "Training_2.png"), "PNG")       # 24x24: enlarged
    face("sad", 3).save(os.path.join(odd, "sad", "PublicTest_3.jpg"), "JPEG", quality=75)


def main():
    shutil.rmtree(IMG, ignore_errors=True)
    os.makedirs(IMG)
    make_png()
    make_pnm()
    make_jpeg()
    make_fer()


if __name__ == "__main__":
    sys.exit(main())
