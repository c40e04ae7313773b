"""The PyTorch peer of bench/04-emotion-train.sh (PyTorch 1.13, Debian).

    04-emotion-train-peer.py train ARCH DATA.npy EPOCHS   -> median images/s of the epochs
    04-emotion-train-peer.py infer ARCH RUNS              -> median batch-1 latency, ms

Training is the same recipe as emotion-train --no-augment: the network of
ARCH built by tests/torchnet.py, Keras-style Glorot-uniform weights, Adam
(lr 1e-3, eps 1e-7), batch 64, shuffled, pixels / 255, 2 threads.
"""
import os
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests"))
import torchnet  # noqa: E402


def glorot(net):
    for m in net.modules():
        if isinstance(m, (torch.nn.Conv2d, torch.nn.Linear)):
            torch.nn.init.xavier_uniform_(m.weight)
            if m.bias is not None:
                torch.nn.init.zeros_(m.bias)


def train(arch, data, epochs):
    torch.set_num_threads(2)
    torch.manual_seed(42)
    with open(data, "rb") as f:
        X = np.load(f)
        y = np.load(f)
    k = int(y.max()) + 1
    net = torchnet.build(open(arch).read(), k)
    glorot(net)
    opt = torch.optim.Adam(net.parameters(), lr=1e-3, eps=1e-7)
    Xt = torch.tensor(X[:, None].astype(np.float32) / 255)
    yt = torch.tensor(y)
    rates = []
    for e in range(epochs):
        net.train()
        t0 = time.perf_counter()
        perm = torch.randperm(len(yt))
        for b in range(0, len(yt), 64):
            i = perm[b:b + 64]
            loss = torch.nn.functional.cross_entropy(net(Xt[i]), yt[i])
            opt.zero_grad()
            loss.backward()
            opt.step()
        rates.append(len(yt) / (time.perf_counter() - t0))
    print("%.1f" % float(np.median(rates)))


def infer(arch, runs):
    torch.set_num_threads(1)
    net = torchnet.build(open(arch).read(), 4)
    net.eval()
    x = torch.rand(1, 1, 48, 48)
    t = []
    with torch.no_grad():
        for r in range(runs + 10):
            t0 = time.perf_counter()
            net(x)
            if r >= 10:
                t.append(time.perf_counter() - t0)
    print("%.4f" % (float(np.median(t)) * 1e3))


if __name__ == "__main__":
    if sys.argv[1] == "train":
        train(sys.argv[2], sys.argv[3], int(sys.argv[4]))
    else:
        infer(sys.argv[2], int(sys.argv[3]))
