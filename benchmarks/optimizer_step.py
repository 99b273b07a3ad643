"""Time one training step of a W1-like MLP (40 -> 256 -> 256 -> 10, batch 128) with

* ``torch.optim.Adam(lr=1e-3)``: the hand-written PyTorch reference (torch's default kernel),
* ``torch.optim.Adam(lr=1e-3, fused=True)``,
* ``deepnet.optimizers.Adam()`` (wraps torch Adam, picks the fused kernel),

interleaved step by step (rotating their order) so machine noise hits all three alike. Prints median times of the whole
step (zero_grad + forward + backward + optimizer step) and of the optimizer update alone, and the
ratios to the reference.

    python benchmarks/optimizer_step.py [--steps 2000] [--warmup 200] [--threads 2]
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch

from deepnet.optimizers import Adam


def make_model(seed: int) -> torch.nn.Module:
    torch.manual_seed(seed)
    return torch.nn.Sequential(
        torch.nn.Linear(40, 256), torch.nn.ReLU(),
        torch.nn.Linear(256, 256), torch.nn.ReLU(),
        torch.nn.Linear(256, 10),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--warmup", type=int, default=200)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    x = torch.randn(128, 40)
    y = torch.randint(0, 10, (128,))
    loss_fn = torch.nn.CrossEntropyLoss()

    runs = {}
    model = make_model(0)
    runs["torch Adam (reference)"] = (model, torch.optim.Adam(model.parameters(), lr=1e-3))
    model = make_model(0)
    runs["torch Adam fused=True"] = (model, torch.optim.Adam(model.parameters(), lr=1e-3, fused=True))
    model = make_model(0)
    deepnet_adam = Adam(learning_rate=1e-3)
    deepnet_adam.build(list(model.parameters()))
    runs["deepnet Adam"] = (model, deepnet_adam)

    total = {name: [] for name in runs}
    update = {name: [] for name in runs}
    clock = time.perf_counter
    names = list(runs)
    for i in range(args.warmup + args.steps):
        order = names[i % len(names):] + names[:i % len(names)]  # rotate: no fixed position
        for name in order:
            model, optimizer = runs[name]
            t0 = clock()
            if isinstance(optimizer, torch.optim.Optimizer):
                optimizer.zero_grad(set_to_none=True)
            else:
                optimizer.zero_grad()
            loss = loss_fn(model(x), y)
            loss.backward()
            t1 = clock()
            optimizer.step()
            t2 = clock()
            if i >= args.warmup:
                total[name].append(t2 - t0)
                update[name].append(t2 - t1)

    reference = "torch Adam (reference)"
    ref_total = statistics.median(total[reference])
    ref_update = statistics.median(update[reference])
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, {args.steps} steps "
          f"(after {args.warmup} warm-up), deepnet Adam implementation: {deepnet_adam.implementation}")
    print(f"{'':26s} {'step (us)':>10s} {'ratio':>7s} {'update (us)':>12s} {'ratio':>7s}")
    for name in runs:
        t = statistics.median(total[name])
        u = statistics.median(update[name])
        print(f"{name:26s} {t * 1e6:10.1f} {t / ref_total:7.3f} {u * 1e6:12.1f} {u / ref_update:7.3f}")


if __name__ == "__main__":
    main()
