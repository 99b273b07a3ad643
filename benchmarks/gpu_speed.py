"""deepnet ``fit`` against a plain PyTorch loop on one device: W1-W5 (benchmarks/train_speed.py)
and a CIFAR-10-shaped ResNet-style network (32x32x3, synthetic data).

Both run in this one process, interleaved, ``--repeats`` times; a run's time is the median of
its steady epochs (2..E), with ``torch.cuda.synchronize()`` at each epoch's end on CUDA; the
ratio is median(deepnet) / median(plain); images/s = samples per epoch / epoch time.
``--ddp`` also times deepnet under ``DataParallel()`` in a process group of one (NCCL on CUDA,
gloo on CPU): the DDP overhead. ``--precision mixed_bfloat16`` (or ``mixed_float16``) runs both
under autocast (the plain loop with a GradScaler for float16); ``--jit`` compiles both.

Usage: python benchmarks/gpu_speed.py [--device cuda] [--workloads W1,...,RESNET] [--repeats 3]
       python benchmarks/gpu_speed.py --device cpu --quick     (seconds: the smoke test)
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import train_speed as ts  # noqa: E402 - W1-W5 models, layouts and data

import deepnet as dn  # noqa: E402
from deepnet import layers as L  # noqa: E402

SETTINGS = {**ts.SETTINGS, "RESNET": (128, 3)}


# ----------------------------------------------------------------------------- the ResNet-style net
class _Block(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.c1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.b1 = nn.BatchNorm2d(cout, momentum=0.01, eps=1e-3)
        self.c2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.b2 = nn.BatchNorm2d(cout, momentum=0.01, eps=1e-3)
        self.skip = None if stride == 1 and cin == cout else nn.Conv2d(cin, cout, 1, stride, bias=False)

    def forward(self, x):
        y = self.b2(self.c2(F.relu(self.b1(self.c1(x)))))
        return F.relu(y + (x if self.skip is None else self.skip(x)))


def plain_resnet():
    return nn.Sequential(nn.Conv2d(3, 32, 3, 1, 1, bias=False), nn.BatchNorm2d(32, momentum=0.01, eps=1e-3), nn.ReLU(),
                         _Block(32, 32, 1), _Block(32, 64, 2), _Block(64, 128, 2), nn.AdaptiveAvgPool2d(1),
                         nn.Flatten(), nn.Linear(128, 10))


def _dn_block(x, cout, stride):
    y = L.Conv2D(cout, 3, strides=stride, padding="same", use_bias=False)(x)
    y = L.Activation("relu")(L.BatchNormalization()(y))
    y = L.BatchNormalization()(L.Conv2D(cout, 3, padding="same", use_bias=False)(y))
    skip = x if stride == 1 and x.shape[-1] == cout else L.Conv2D(cout, 1, strides=stride, use_bias=False)(x)
    return L.Activation("relu")(L.Add()([y, skip]))


def deepnet_resnet():
    inp = L.Input((32, 32, 3))
    x = L.Activation("relu")(L.BatchNormalization()(L.Conv2D(32, 3, padding="same", use_bias=False)(inp)))
    for cout, stride in ((32, 1), (64, 2), (128, 2)):
        x = _dn_block(x, cout, stride)
    return dn.Model(inp, L.Dense(10)(L.GlobalAveragePooling2D()(x)))


def cifar_like(n, n_test, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 10, n + n_test)
    x = rng.normal(0, 1, (n + n_test, 32, 32, 3)).astype("float32")
    x[np.arange(n + n_test), 2 + y * 3, 2 + y * 3, :] += 3.0  # a learnable class signal
    return (x[:n], y[:n]), (x[n:], y[n:])


# ----------------------------------------------------------------------------- runs
def _models(name):
    if name == "RESNET":
        return plain_resnet, deepnet_resnet, (lambda x: np.ascontiguousarray(x.transpose(0, 3, 1, 2))), (lambda x: x)
    return (lambda: ts.plain_model(name)), (lambda: ts.deepnet_model(name)), (lambda x: ts.plain_layout(name, x)), (
        lambda x: ts.deepnet_layout(name, x))


def _sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def run_plain(name, data, seed, device, args):
    (x, y), _ = data
    batch, epochs = SETTINGS[name]
    epochs = min(epochs, args.max_epochs)
    make, _, layout, _ = _models(name)
    torch.manual_seed(seed)
    model = make().to(device)
    if args.channels_last and name in ("W5", "RESNET"):
        model = model.to(memory_format=torch.channels_last)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, eps=1e-8, fused=device.type == "cuda" or None)
    step_model = torch.compile(model) if args.jit else model
    dtype = {"mixed_bfloat16": torch.bfloat16, "mixed_float16": torch.float16}.get(args.precision)
    scaler = torch.amp.GradScaler(device.type) if dtype == torch.float16 else None
    X, Y = torch.from_numpy(layout(x)).to(device), torch.from_numpy(y).to(device)
    n, times = len(X), []
    for _ in range(epochs):
        t0 = time.perf_counter()
        perm = torch.randperm(n, device=device)
        for i in range(0, n, batch):
            idx = perm[i:i + batch]
            opt.zero_grad(set_to_none=True)
            with torch.autocast(device.type, dtype=dtype, enabled=dtype is not None):
                loss = F.cross_entropy(step_model(X[idx]), Y[idx])
            if scaler is None:
                loss.backward()
                opt.step()
            else:
                scaler.scale(loss).backward()
                scaler.step(opt)
                scaler.update()
        _sync(device)
        times.append(time.perf_counter() - t0)
    return times


class _EpochTimer(dn.callbacks.Callback):
    def __init__(self, device):
        super().__init__()
        self.device, self.times = device, []

    def on_epoch_begin(self, epoch, logs=None):
        _sync(self.device)
        self._t = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        _sync(self.device)
        self.times.append(time.perf_counter() - self._t)


def run_deepnet(name, data, seed, device, args, ddp=False):
    (x, y), _ = data
    batch, epochs = SETTINGS[name]
    epochs = min(epochs, args.max_epochs)
    _, _, _, layout = _models(name)
    dn.distribution.set_distribution(dn.distribution.DataParallel() if ddp else None)
    dn.mixed_precision.set_global_policy(args.precision)
    try:
        dn.utils.set_random_seed(seed)
        model = _models(name)[1]()
        model.compile(optimizer=dn.optimizers.Adam(learning_rate=1e-3, epsilon=1e-8), jit_compile=args.jit,
                      loss=dn.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"],
                      device=device)
        timer = _EpochTimer(device)
        model.fit(layout(x), y, batch_size=batch, epochs=epochs, verbose=0, callbacks=[timer])
    finally:
        dn.mixed_precision.set_global_policy("float32")
        dn.distribution.set_distribution(None)
    return timer.times


def _data(name, args, cache):
    key = "resnet" if name == "RESNET" else "images" if name == "W5" else "mnist1d"
    if key not in cache:
        if args.quick:
            n = 128
            cache[key] = (cifar_like(n, 16) if key == "resnet" else ts.synthetic_images(n, 16) if key == "images"
                          else ((np.random.rand(n, 40).astype("float32"), np.random.randint(0, 10, n)), None))
        else:
            cache[key] = cifar_like(20000, 2000) if key == "resnet" else ts.synthetic_images() if key == "images" \
                else ts.mnist1d()
    return cache[key]


def measure(args) -> list[dict]:
    """One row per workload: plain and deepnet ms/epoch, ratio, images/s (and DDP's)."""
    device = torch.device(args.device)
    rows, cache = [], {}
    for name in [w.strip() for w in args.workloads.split(",") if w.strip()]:
        data = _data(name, args, cache)
        plain, deep, ddp = [], [], []
        for r in range(args.repeats):
            plain.append(ts.steady(run_plain(name, data, r, device, args)))
            deep.append(ts.steady(run_deepnet(name, data, r, device, args)))
            if args.ddp:
                ddp.append(ts.steady(run_deepnet(name, data, r, device, args, ddp=True)))
        p, d = statistics.median(plain), statistics.median(deep)
        n = len(data[0][0])
        row = {"workload": name, "plain_ms": p * 1e3, "deepnet_ms": d * 1e3, "ratio": d / p,
               "plain_img_s": n / p, "deepnet_img_s": n / d}
        if ddp:
            row["ddp_ms"] = statistics.median(ddp) * 1e3
            row["ddp_overhead"] = statistics.median(ddp) / d - 1
        rows.append(row)
        print(" ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in row.items()), flush=True)
    return rows


def table(rows) -> str:
    ddp = "ddp_ms" in rows[0]
    head = "| workload | plain (ms/epoch) | deepnet (ms/epoch) | ratio | plain img/s | deepnet img/s |"
    head += " DDP ws=1 (ms/epoch) | DDP overhead |" if ddp else ""
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    for r in rows:
        line = (f"| {r['workload']} | {r['plain_ms']:.1f} | {r['deepnet_ms']:.1f} | {r['ratio']:.3f} | "
                f"{r['plain_img_s']:.0f} | {r['deepnet_img_s']:.0f} |")
        if ddp:
            line += f" {r['ddp_ms']:.1f} | {100 * r['ddp_overhead']:+.1f}% |"
        lines.append(line)
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--workloads", default="W1,W2,W3,W4,W5,RESNET")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--max-epochs", type=int, default=1000, help="cap every workload's epochs")
    parser.add_argument("--precision", default="float32", choices=["float32", "mixed_bfloat16", "mixed_float16"])
    parser.add_argument("--jit", action="store_true", help="torch.compile both (jit_compile=True)")
    parser.add_argument("--channels-last", action="store_true", help="plain loop: channels_last convolutions")
    parser.add_argument("--ddp", action="store_true", help="also time DataParallel() with one process")
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--quick", action="store_true", help="128 samples, 2 epochs, 1 repeat (a smoke test)")
    args = parser.parse_args(argv)
    if args.quick:
        args.repeats, args.max_epochs = 1, 2
    if args.threads:
        torch.set_num_threads(args.threads)
    rows = measure(args)
    print()
    print(table(rows))
    return rows


if __name__ == "__main__":
    main()
