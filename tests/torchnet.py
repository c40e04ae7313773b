"""torchnet.py - the PyTorch twin of a Vibify architecture YAML, and
safetensors files read and written with numpy only (for the interop tests
and the benchmark).

    net = build(yaml_text, nclasses)        # torch.nn.Module, same tensor names
    tensors, meta = read_safetensors(path)  # {name: np.ndarray}, {key: str}
    write_safetensors(path, tensors, meta)
"""
import json
import struct

import numpy as np
import torch
import yaml

PREFIX = {"conv": "conv", "dwconv": "dwconv", "batchnorm": "bn", "relu": "relu",
          "maxpool": "pool", "gap": "gap", "dropout": "drop", "flatten": "flatten",
          "dense": "fc"}


class Net(torch.nn.Module):
    def __init__(self, arch, nclasses):
        super().__init__()
        c, h, w = arch.get("input", [1, 48, 48])
        self.order = []
        counts = {}
        shape = (c, h, w)
        for spec in arch["layers"]:
            t = spec["type"]
            counts[t] = counts.get(t, 0) + 1
            name = spec.get("name", "%s%d" % (PREFIX[t], counts[t]))
            if t in ("conv", "dwconv"):
                k = spec.get("kernel", 3)
                s = spec.get("stride", 1)
                dw = spec.get("depthwise", t == "dwconv")
                out = shape[0] if dw else spec["filters"]
                p = k // 2 if spec.get("padding", "same") == "same" else 0
                m = torch.nn.Conv2d(shape[0], out, k, s, p, groups=shape[0] if dw else 1,
                                    bias=spec.get("bias", True))
                shape = (out, (shape[1] + 2 * p - k) // s + 1, (shape[2] + 2 * p - k) // s + 1)
            elif t == "batchnorm":
                cls = torch.nn.BatchNorm2d if len(shape) == 3 else torch.nn.BatchNorm1d
                m = cls(shape[0], eps=spec.get("eps", 1e-5), momentum=spec.get("momentum", 0.1))
            elif t == "relu":
                m = torch.nn.ReLU()
            elif t == "maxpool":
                k = spec.get("size", 2)
                s = spec.get("stride", k)
                m = torch.nn.MaxPool2d(k, s)
                shape = (shape[0], (shape[1] - k) // s + 1, (shape[2] - k) // s + 1)
            elif t == "gap":
                m = torch.nn.Sequential(torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten())
                shape = (shape[0],)
            elif t == "dropout":
                m = torch.nn.Dropout(spec.get("rate", 0.5))
            elif t == "flatten":
                m = torch.nn.Flatten()
                shape = (int(np.prod(shape)),)
            elif t == "dense":
                u = spec["units"]
                u = nclasses if u == "classes" else u
                m = torch.nn.Linear(int(np.prod(shape)), u, bias=spec.get("bias", True))
                shape = (u,)
            else:
                raise ValueError("unknown layer type " + t)
            self.add_module(name, m)
            self.order.append(name)

    def forward(self, x):
        for name in self.order:
            m = getattr(self, name)
            if isinstance(m, torch.nn.Linear) and x.dim() > 2:
                x = x.flatten(1)
            x = m(x)
        return x


def build(text, nclasses):
    return Net(yaml.safe_load(text), nclasses)


DT = {"F32": np.float32, "F64": np.float64, "I64": np.int64, "I32": np.int32,
      "U8": np.uint8, "F16": np.float16}


def read_safetensors(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        hdr = json.loads(f.read(n))
        data = f.read()
    meta = hdr.pop("__metadata__", {})
    out = {}
    for k, v in hdr.items():
        b, e = v["data_offsets"]
        out[k] = np.frombuffer(data[b:e], dtype=DT[v["dtype"]]).reshape(v["shape"]).copy()
    return out, meta


def write_safetensors(path, tensors, meta=None):
    hdr, blobs, off = {}, [], 0
    if meta:
        hdr["__metadata__"] = meta
    inv = {np.dtype(v): k for k, v in DT.items()}
    for k, a in tensors.items():
        a = np.ascontiguousarray(a)
        b = a.astype(a.dtype.newbyteorder("<")).tobytes()
        hdr[k] = {"dtype": inv[a.dtype], "shape": list(a.shape),
                  "data_offsets": [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    h = json.dumps(hdr).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


def state_to_numpy(net):
    return {k: v.detach().cpu().numpy() for k, v in net.state_dict().items()}
