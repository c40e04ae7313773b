/* test-image.c - TAP tests of lib/image.c: every PNG colour type and bit
 * depth, PNM variants and streams, JPEG flavours, bad input, gray
 * conversion, resizing, cropping and writing.
 *
 * Usage: test-image DIR     (DIR = testdata/images, made by
 * testdata/gen-images.py: each NAME.ext has NAME.expect.pgm/ppm with the
 * pixels expected from the default flags, computed with numpy.)
 *
 *        test-image decode [gray|rgb|drop]... FILE OUT
 * decodes FILE (or - for stdin, every image of a stream) and writes each
 * image to OUT as binary PNM; the shell tests use it to compare with PIL.
 */
#include "image.h"
#include "err.h"
#include "tap.h"

#include <png.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *dir;

/* A minimal independent reader of the expected P5/P6 files (maxval 255,
 * no comments, as gen-images.py writes them). */
static struct vb_image *read_expect(const char *path)
{
	FILE *f = fopen(path, "rb");
	struct vb_image *img = NULL;
	char kind;
	int w, h, mx;

	if (!f)
		return NULL;
	if (fscanf(f, "P%c %d %d %d", &kind, &w, &h, &mx) == 4 && fgetc(f) == '\n' && mx == 255) {
		img = vb_image_new(w, h, kind == '5' ? 1 : 3);
		if (img && fread(img->px, 1, (size_t)w * h * img->channels, f) != (size_t)w * h * img->channels) {
			vb_image_free(img);
			img = NULL;
		}
	}
	fclose(f);
	return img;
}

static int same(const struct vb_image *a, const struct vb_image *b)
{
	return a && b && a->w == b->w && a->h == b->h && a->channels == b->channels &&
	       !memcmp(a->px, b->px, (size_t)a->w * a->h * a->channels);
}

static void diag_diff(const struct vb_image *got, const struct vb_image *want)
{
	if (!got || !want) {
		printf("# got %s, want %s; error: %s\n", got ? "an image" : "NULL", want ? "an image" : "NULL",
		       vb_err_msg());
		return;
	}
	printf("# got %dx%dx%d, want %dx%dx%d\n", got->w, got->h, got->channels, want->w, want->h,
	       want->channels);
	if (got->w == want->w && got->h == want->h && got->channels == want->channels)
		for (size_t i = 0; i < (size_t)got->w * got->h * got->channels; i++)
			if (got->px[i] != want->px[i]) {
				printf("# first difference at byte %zu: got %d, want %d\n", i, got->px[i], want->px[i]);
				break;
			}
}

static char *path_of(const char *name)
{
	static char buf[4096];

	snprintf(buf, sizeof buf, "%s/%s", dir, name);
	return buf;
}

/* Decode NAME with the default flags, compare with its .expect file; also
 * through vb_image_read on a stream, and with VB_IMG_GRAY / VB_IMG_RGB. */
static void check_fixture(const char *name, const char *expect)
{
	struct vb_image *want = read_expect(path_of(expect));
	struct vb_image *got = vb_image_load(path_of(name), 0);
	struct vb_image *s = NULL, *g, *wg, *rgb;
	FILE *f;
	int rc;

	if (!ok(same(got, want), "%s decodes to %s", name, expect))
		diag_diff(got, want);
	f = fopen(path_of(name), "rb");
	rc = f ? vb_image_read(f, 0, &s) : -1;
	ok(rc == 1 && same(s, want), "%s read from a stream", name);
	if (f) {
		struct vb_image *t = NULL;
		ok(vb_image_read(f, 0, &t) == 0 && !t, "%s: then a clean end of stream", name);
		fclose(f);
	}
	g = vb_image_load(path_of(name), VB_IMG_GRAY);
	wg = want ? vb_image_to_gray(want) : NULL;
	ok(same(g, wg), "%s with VB_IMG_GRAY is the luma of the expected pixels", name);
	rgb = vb_image_load(path_of(name), VB_IMG_RGB);
	ok(rgb && want && rgb->channels == 3 && rgb->w == want->w &&
	   (want->channels == 3 ? same(rgb, want) : rgb->px[3 * 5] == want->px[5] && rgb->px[3 * 5 + 2] == want->px[5]),
	   "%s with VB_IMG_RGB has 3 channels", name);
	vb_image_free(want);
	vb_image_free(got);
	vb_image_free(s);
	vb_image_free(g);
	vb_image_free(wg);
	vb_image_free(rgb);
}

static void test_fixtures(void)
{
	static const char *const names[] = {
		"gray1.png", "gray2.png", "gray4.png", "gray8.png", "gray16.png",
		"gray1-i.png", "gray2-i.png", "gray4-i.png", "gray8-i.png", "gray16-i.png",
		"rgb8.png", "rgb16.png", "rgb8-i.png", "rgb16-i.png",
		"graya8.png", "graya16.png", "rgba8.png", "rgba16.png", "rgba8-i.png", "rgba16-i.png",
		"pal1.png", "pal2.png", "pal4.png", "pal8.png",
		"pal1-trns.png", "pal2-trns.png", "pal4-trns.png", "pal8-trns.png", "gray4-trns.png",
		"p2.pgm", "p3.ppm", "p5.pgm", "p6.ppm", "p5-16.pgm", "p6-1000.ppm", "p2-15.pgm",
		"gray.jpg", "gray-prog.jpg", "rgb420.jpg", "rgb444.jpg", "rgb-prog.jpg",
	};

	for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
		char expect[256], probe[4200];
		const char *dot = strrchr(names[i], '.');
		int n = (int)(dot - names[i]);

		snprintf(expect, sizeof expect, "%.*s.expect.pgm", n, names[i]);
		snprintf(probe, sizeof probe, "%s/%s", dir, expect);
		if (access(probe, R_OK))
			snprintf(expect, sizeof expect, "%.*s.expect.ppm", n, names[i]);
		check_fixture(names[i], expect);
	}
}

static void test_alpha_drop(void)
{
	struct vb_image *got = vb_image_load(path_of("rgba8.png"), VB_IMG_ALPHA_DROP);
	struct vb_image *want = read_expect(path_of("rgba8.drop.ppm"));

	if (!ok(same(got, want), "VB_IMG_ALPHA_DROP keeps the colour and ignores alpha"))
		diag_diff(got, want);
	vb_image_free(got);
	vb_image_free(want);
}

static void test_stream(void)
{
	FILE *f = fopen(path_of("stream.ppm"), "rb");
	struct vb_image *img = NULL;
	int i, rc = 1;

	for (i = 0; i < 3 && f; i++) {
		char name[64];
		struct vb_image *want;

		snprintf(name, sizeof name, "stream.%d.expect.ppm", i);
		want = read_expect(path_of(name));
		rc = vb_image_read(f, 0, &img);
		ok(rc == 1 && same(img, want), "PNM stream: image %d", i + 1);
		vb_image_free(img);
		vb_image_free(want);
	}
	ok(f && vb_image_read(f, 0, &img) == 0, "PNM stream: clean end after the last image and a newline");
	if (f)
		fclose(f);
	f = fmemopen((void *)" \n\t ", 4, "rb");
	ok(f && vb_image_read(f, 0, &img) == 0 && !img, "whitespace only: clean end");
	if (f)
		fclose(f);
	f = fopen("/dev/null", "rb");
	ok(f && vb_image_read(f, 0, &img) == 0 && !img, "empty stream: clean end");
	if (f)
		fclose(f);
}

/* Every 16-bit level, written by libpng itself into a temporary file. */
static void test_png16_levels(void)
{
	FILE *f = tmpfile();
	png_structp png;
	png_infop info;
	uint8_t row[512];
	struct vb_image *img = NULL;
	int bad = 0, y;

	png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
	info = png_create_info_struct(png);
	if (!f || !png || !info || setjmp(png_jmpbuf(png))) {
		ok(0, "16-bit PNG of every level written");
		return;
	}
	png_init_io(png, f);
	png_set_IHDR(png, info, 256, 256, 16, PNG_COLOR_TYPE_GRAY, PNG_INTERLACE_NONE,
		     PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
	png_write_info(png, info);
	for (y = 0; y < 256; y++) {
		for (int x = 0; x < 256; x++) {
			row[2 * x] = (uint8_t)y;
			row[2 * x + 1] = (uint8_t)x;
		}
		png_write_row(png, row);
	}
	png_write_end(png, NULL);
	png_destroy_write_struct(&png, &info);
	rewind(f);
	ok(vb_image_read(f, 0, &img) == 1 && img && img->w == 256, "16-bit PNG of every level decodes");
	for (long v = 0; img && v < 65536; v++)
		if (img->px[v] != (uint8_t)((v * 255 + 32767) / 65535))
			bad++;
	ok(img && !bad, "16-bit samples become round(v * 255 / 65535) (%d levels differ)", bad);
	vb_image_free(img);
	fclose(f);
}

struct bad_case {
	const char *file;
	const char *msg;   /* expected part of the message */
};

static void test_bad(void)
{
	static const struct bad_case cases[] = {
		{ "bad-truncated.png", "PNG: truncated data" },
		{ "bad-crc.png", "CRC error" },
		{ "bad-sig.png", "PNG: bad signature" },
		{ "bad-huge.png", "Invalid IHDR data (Image height exceeds user limit in IHDR)" },
		{ "bad-p5-short.pgm", "PNM: truncated data" },
		{ "bad-p5-maxval.pgm", "sample 200 exceeds maxval 100" },
		{ "bad-p2-word.pgm", "PNM: expected sample, found byte 0x61" },
		{ "bad-p5-zero.pgm", "invalid image size 0x5" },
		{ "bad-p5-huge.pgm", "too large" },
		{ "bad-p4.pbm", "unsupported PNM format P4" },
		{ "bad-cmyk.jpg", "JPEG: CMYK images are not supported" },
		{ "bad-truncated.jpg", "Premature end of JPEG file" },
		{ "bad-header.jpg", "JPEG" },
		{ "bad-garbage.bin", "unknown image format (first bytes 0x47 0x49)" },
		{ "no-such-file.png", "No such file or directory" },
	};

	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		struct vb_image *img = vb_image_load(path_of(cases[i].file), 0);
		const char *m = vb_err_msg();
		int good = !img && strstr(m, cases[i].msg) && strstr(m, cases[i].file);

		if (!ok(good, "%s: error mentions the file and '%s'", cases[i].file, cases[i].msg))
			printf("# message: %s\n", m);
		vb_image_free(img);
	}
}

/* A JPEG whose SOF claims other dimensions than its data holds. */
static void test_jpeg_dims(void)
{
	FILE *f = fopen(path_of("gray.jpg"), "rb");
	uint8_t buf[65536];
	size_t n = f ? fread(buf, 1, sizeof buf, f) : 0;
	struct vb_image_decoder *d = vb_image_decoder_new();
	static const int dims[][2] = { { 60000, 60000 }, { 30000, 30000 }, { 16000, 16000 }, { 1, 1 } };

	if (f)
		fclose(f);
	for (int k = 0; k < 4; k++) {
		uint8_t copy[65536];
		struct vb_image *img = NULL;
		size_t i;
		int rc;

		memcpy(copy, buf, n);
		for (i = 0; i + 9 < n; i++)
			if (copy[i] == 0xff && copy[i + 1] == 0xc0)
				break;
		copy[i + 5] = (uint8_t)(dims[k][1] >> 8), copy[i + 6] = (uint8_t)dims[k][1];
		copy[i + 7] = (uint8_t)(dims[k][0] >> 8), copy[i + 8] = (uint8_t)dims[k][0];
		rc = vb_image_decode(d, copy, n, 0, &img);
		if (dims[k][0] == 1) {
			if (!ok(rc < 0 && !img && strstr(vb_err_msg(), "extraneous bytes"),
				"JPEG claiming 1x1 with more data: error"))
				printf("# %s\n", vb_err_msg());
		} else if (!ok(rc < 0 && !img, "JPEG claiming %dx%d: error", dims[k][0], dims[k][1]))
			printf("# %s\n", vb_err_msg());
		vb_image_free(img);
	}
	/* The decoder keeps working after errors. */
	{
		struct vb_image *img = NULL, *want = read_expect(path_of("gray.expect.pgm"));
		ok(vb_image_decode(d, buf, n, 0, &img) == 0 && same(img, want), "decoder reused after errors");
		vb_image_free(img);
		vb_image_free(want);
		ok(vb_image_decode(d, buf, 0, 0, &img) < 0 && strstr(vb_err_msg(), "empty"), "empty data: error");
		ok(vb_image_decode(d, "\xff", 1, 0, &img) < 0, "one byte: error");
	}
	vb_image_decoder_free(d);
}

static void test_gray(void)
{
	struct vb_image *c = vb_image_new(4, 1, 3), *g;
	static const uint8_t px[12] = { 255, 255, 255, 255, 0, 0, 0, 255, 0, 0, 0, 255 };

	memcpy(c->px, px, 12);
	g = vb_image_to_gray(c);
	ok(g && g->channels == 1 && g->px[0] == 255 && g->px[1] == 76 && g->px[2] == 150 && g->px[3] == 29,
	   "luma of white, red, green, blue is 255 76 150 29 (as PIL)");
	vb_image_free(g);
	vb_image_free(c);

	/* long enough for the vector loop, and a tail */
	c = vb_image_new(101, 3, 3);
	for (int i = 0; i < 101 * 3 * 3; i++)
		c->px[i] = (uint8_t)(i * 37 + (i >> 3) * 11);
	g = vb_image_to_gray(c);
	int bad = !g;
	for (int i = 0; g && i < 101 * 3; i++) {
		unsigned r = c->px[3 * i], gr = c->px[3 * i + 1], b = c->px[3 * i + 2];
		bad |= g->px[i] != (uint8_t)((r * 19595u + gr * 38470u + b * 7471u + 0x8000u) >> 16);
	}
	ok(!bad, "luma of 303 pixels, each (19595 R + 38470 G + 7471 B + 2^15) >> 16");
	vb_image_free(g);
	vb_image_free(c);
}

static void test_resize(void)
{
	struct vb_image *a = vb_image_new(3, 1, 1), *r;
	int good = 1;

	a->px[0] = 0, a->px[1] = 90, a->px[2] = 180;
	r = vb_image_resize(a, 2, 1);
	ok(r && r->px[0] == 30 && r->px[1] == 150, "3 -> 2 area averaging: 30 150");
	vb_image_free(r);
	vb_image_free(a);

	a = vb_image_new(2, 1, 1);
	a->px[0] = 0, a->px[1] = 100;
	r = vb_image_resize(a, 4, 1);
	ok(r && r->px[0] == 0 && r->px[1] == 25 && r->px[2] == 75 && r->px[3] == 100,
	   "2 -> 4 bilinear with centres aligned: 0 25 75 100");
	vb_image_free(r);
	vb_image_free(a);

	a = vb_image_new(4, 4, 3);
	for (int i = 0; i < 48; i++)
		a->px[i] = (uint8_t)(i * 5);
	r = vb_image_resize(a, 2, 2);
	for (int y = 0; r && y < 2; y++)
		for (int x = 0; x < 2; x++)
			for (int c = 0; c < 3; c++) {
				int s = 0;
				for (int dy = 0; dy < 2; dy++)
					for (int dx = 0; dx < 2; dx++)
						s += a->px[((2 * y + dy) * 4 + 2 * x + dx) * 3 + c];
				if (r->px[(y * 2 + x) * 3 + c] != (s + 2) / 4)
					good = 0;
			}
	ok(r && good, "4x4 RGB -> 2x2: each pixel the rounded mean of its 2x2 block, per channel");
	vb_image_free(r);

	r = vb_image_resize(a, 4, 4);
	ok(same(r, a), "same size: unchanged");
	vb_image_free(r);
	vb_image_free(a);

	a = vb_image_new(7, 5, 1);
	memset(a->px, 77, 35);
	r = vb_image_resize(a, 48, 3);
	good = r && r->w == 48 && r->h == 3;
	for (int i = 0; good && i < 48 * 3; i++)
		good = r->px[i] == 77;
	ok(good, "a uniform image stays uniform (enlarge x, shrink y)");
	vb_image_free(r);
	vb_image_free(a);
}

static void test_crop(void)
{
	struct vb_image *a = vb_image_new(3, 2, 1), *c;

	for (int i = 0; i < 6; i++)
		a->px[i] = (uint8_t)(10 * (i + 1));   /* 10 20 30 / 40 50 60 */
	c = vb_image_crop(a, 1, 0, 2, 2);
	ok(c && c->px[0] == 20 && c->px[1] == 30 && c->px[2] == 50 && c->px[3] == 60, "crop inside");
	vb_image_free(c);
	c = vb_image_crop(a, -1, -1, 5, 4);
	ok(c && c->px[0] == 10 && c->px[4] == 30 && c->px[5] == 10 && c->px[6] == 10 && c->px[9] == 30 &&
	   c->px[15] == 40 && c->px[19] == 60, "crop over the edges replicates the border");
	vb_image_free(c);
	c = vb_image_crop(a, 10, 10, 2, 1);
	ok(c && c->px[0] == 60 && c->px[1] == 60, "crop wholly outside: the nearest corner");
	vb_image_free(c);
	c = vb_image_crop(a, 0, 0, 0, 1);
	ok(!c, "crop of width 0: error");
	vb_image_free(a);
}

static void test_write(void)
{
	struct vb_image *a = vb_image_load(path_of("rgb8.png"), 0), *b = NULL;
	FILE *f = tmpfile();
	int rc;

	ok(f && a && vb_image_write_png(f, a) == 0, "write PNG");
	rewind(f);
	rc = vb_image_read(f, 0, &b);
	ok(rc == 1 && same(a, b), "PNG written reads back the same");
	vb_image_free(b);
	fclose(f);
	f = tmpfile();
	ok(vb_image_write_pnm(f, a) == 0 && vb_image_write_pnm(f, a) == 0, "write two PNMs");
	rewind(f);
	b = NULL;
	ok(vb_image_read(f, 0, &b) == 1 && same(a, b), "PNM written reads back the same");
	vb_image_free(b);
	b = NULL;
	ok(vb_image_read(f, 0, &b) == 1 && same(a, b), "and the second one");
	vb_image_free(b);
	fclose(f);
	f = fopen("/dev/full", "wb");
	if (f) {
		setvbuf(f, NULL, _IONBF, 0);
		ok(vb_image_write_png(f, a) < 0 && strstr(vb_err_msg(), "No space"), "PNG to a full disk: error (%s)",
		   vb_err_msg());
		ok(vb_image_write_pnm(f, a) < 0, "PNM to a full disk: error");
		fclose(f);
	}
	vb_image_free(a);
	ok(!vb_image_new(0, 3, 1) && !vb_image_new(3, 3, 2) && !vb_image_new(VB_IMAGE_MAXDIM + 1, 1, 1),
	   "vb_image_new refuses bad sizes and channel counts");
}

static int decode_main(int argc, char **argv)
{
	int flags = 0, i, rc, n = 0;
	FILE *in, *out;
	struct vb_image *img;

	for (i = 2; i < argc - 2; i++)
		flags |= !strcmp(argv[i], "gray") ? VB_IMG_GRAY : !strcmp(argv[i], "rgb") ? VB_IMG_RGB
		       : !strcmp(argv[i], "drop") ? VB_IMG_ALPHA_DROP : 0;
	in = strcmp(argv[argc - 2], "-") ? fopen(argv[argc - 2], "rb") : stdin;
	out = fopen(argv[argc - 1], "wb");
	if (!in || !out) {
		fprintf(stderr, "test-image: cannot open files\n");
		return 2;
	}
	while ((rc = vb_image_read(in, flags, &img)) == 1) {
		n++;
		if (vb_image_write_pnm(out, img))
			rc = -1;
		vb_image_free(img);
		if (rc < 0)
			break;
	}
	if (rc < 0 || n == 0 || fclose(out)) {
		fprintf(stderr, "test-image: %s: %s\n", argv[argc - 2], n ? vb_err_msg() : "no image");
		return 2;
	}
	return 0;
}

int main(int argc, char **argv)
{
	FILE *err;
	long errlen;

	if (argc >= 4 && !strcmp(argv[1], "decode"))
		return decode_main(argc, argv);
	dir = argc > 1 ? argv[1] : "testdata/images";
	/* The libraries must never print: catch anything written to stderr. */
	err = tmpfile();
	fflush(stderr);
	if (err)
		dup2(fileno(err), 2);

	test_fixtures();
	test_alpha_drop();
	test_stream();
	test_png16_levels();
	test_bad();
	test_jpeg_dims();
	test_gray();
	test_resize();
	test_crop();
	test_write();

	fflush(stderr);
	errlen = err ? ftell(err) : -1;
	if (errlen > 0) {
		char buf[256] = "";
		rewind(err);
		if (fgets(buf, sizeof buf, err))
			printf("# stderr: %s", buf);
	}
	ok(errlen == 0, "nothing was written on stderr by the libraries");
	return tap_done();
}
