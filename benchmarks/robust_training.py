"""PGD adversarial training on sklearn digits (scaled to [0, 1]) with a small MLP, against a
standard model: clean accuracy, robust accuracy under PGD-40 at eps=0.1, training seconds.

    python benchmarks/robust_training.py [--seeds 0 1 2] [--epochs 40] [--steps 7] [--threads 1] [--standard]

Targets (issue 11): the PGD-trained model >= 83% robust and >= 97% clean accuracy, trained in
<= 60 s on CPU; the standard model ~35% robust; ``--standard`` adds the AutoAttack-style
standard evaluation (APGD-CE, APGD-T, Square; it should confirm PGD-40 within 3 points). One
process, CPU unless --device is given.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

import deepnet as dn


def digits(seed: int):
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    x, y = load_digits(return_X_y=True)
    x = (x / 16.0).astype("float32")
    return train_test_split(x, y, test_size=0.25, random_state=seed, stratify=y)


def mlp(units: int = 256):
    return dn.Sequential([dn.Input((64,)), dn.layers.Dense(units, activation="relu"),
                          dn.layers.Dense(units, activation="relu"), dn.layers.Dense(10)])


def train(x, y, epochs: int, adversarial=None, device: str = "cpu", seed: int = 0):
    dn.utils.set_random_seed(seed)
    model = mlp()
    model.compile(optimizer=dn.optimizers.Adam(1e-3),
                  loss=dn.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"],
                  adversarial=adversarial, device=device)
    start = time.perf_counter()
    model.fit(x, y, batch_size=64, epochs=epochs, verbose=0)
    return model, time.perf_counter() - start


def accuracy(model, x, y) -> float:
    return float((model.predict(x, verbose=0).argmax(1) == y).mean())


def robust_accuracy(model, x, y, eps: float) -> float:
    x_adv = dn.robust.pgd(model, x, y, eps=eps, steps=40, clip=(0, 1))
    return accuracy(model, x_adv, y)


def standard_accuracy(model, x, y, eps: float) -> float:
    x_adv = dn.robust.standard_attack(model, x, y, eps=eps, clip=(0, 1))
    return accuracy(model, x_adv, y)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--epochs", type=int, default=40)
    parser.add_argument("--std-epochs", type=int, default=30)
    parser.add_argument("--steps", type=int, default=7, help="PGD steps per training batch")
    parser.add_argument("--method", default="madry", choices=["madry", "trades", "fast"])
    parser.add_argument("--eps", type=float, default=0.1)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--standard", action="store_true", help="also run the standard (AutoAttack-style) attack")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    print(f"digits [0,1], MLP 64-256-256-10, PGD-40 eval at eps={args.eps}; adversarial training: "
          f"{args.method}, {args.steps} steps, {args.epochs} epochs, device={args.device}, threads={args.threads}")
    print(f"{'seed':>4} {'model':<10} {'clean':>7} {'robust':>7} {'train s':>8}"
          + (f" {'standard':>8}" if args.standard else ""))
    rows = []
    for seed in args.seeds:
        x_tr, x_te, y_tr, y_te = digits(seed)
        std, t_std = train(x_tr, y_tr, args.std_epochs, device=args.device, seed=seed)
        adv = dn.robust.AdversarialTraining("pgd", eps=args.eps, steps=args.steps, method=args.method,
                                            clip=(0, 1))
        rob, t_rob = train(x_tr, y_tr, args.epochs, adversarial=adv, device=args.device, seed=seed)
        for name, model, secs in (("standard", std, t_std), ("pgd-train", rob, t_rob)):
            clean, robust = accuracy(model, x_te, y_te), robust_accuracy(model, x_te, y_te, args.eps)
            rows.append((name, clean, robust, secs))
            extra = f" {standard_accuracy(model, x_te, y_te, args.eps):8.2%}" if args.standard else ""
            print(f"{seed:>4} {name:<10} {clean:7.2%} {robust:7.2%} {secs:8.1f}{extra}", flush=True)
    for name in ("standard", "pgd-train"):
        sel = np.array([r[1:] for r in rows if r[0] == name])
        print(f"mean {name:<10} {sel[:, 0].mean():7.2%} {sel[:, 1].mean():7.2%} {sel[:, 2].mean():8.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
