"""The result of :func:`deepnet.robust.evaluate`: table, JSON and the accuracy-vs-eps plot."""

from __future__ import annotations

import json
import os

from ..utils.io import atomic_write_bytes

__all__ = ["RobustnessResult"]


class RobustnessResult:
    """Robust accuracy of a model per attack and budget (fractions in [0, 1]).

    Fields: ``clean_accuracy``; ``robust_accuracy[attack][str(eps)]``; ``success_rate`` (the
    fraction of correctly classified samples the attack fooled); ``mean_perturbation`` (mean
    norm of ``x_adv - x`` over the attacked samples, in the attack's norm); ``per_class``
    (``{"clean": {label: acc}, attack: {str(eps): {label: acc}}}``); ``n_samples``, ``norm``.

    >>> r = RobustnessResult(0.9, {"pgd": {"0.1": 0.4}}, {"pgd": {"0.1": 0.55}},
    ...                      {"pgd": {"0.1": 0.1}}, {"clean": {"0": 0.9}}, 10, "inf")
    >>> r.to_dict()["robust_accuracy"]
    {'pgd': {'0.1': 0.4}}
    """

    def __init__(self, clean_accuracy, robust_accuracy, success_rate, mean_perturbation, per_class, n_samples,
                 norm):
        self.clean_accuracy, self.robust_accuracy = clean_accuracy, robust_accuracy
        self.success_rate, self.mean_perturbation = success_rate, mean_perturbation
        self.per_class, self.n_samples, self.norm = per_class, n_samples, norm

    def to_dict(self) -> dict:
        """Plain JSON-ready dict.

        >>> RobustnessResult(1.0, {}, {}, {}, {}, 1, "inf").to_dict()["clean_accuracy"]
        1.0
        """
        return {"clean_accuracy": self.clean_accuracy, "robust_accuracy": self.robust_accuracy,
                "success_rate": self.success_rate, "mean_perturbation": self.mean_perturbation,
                "per_class": self.per_class, "n_samples": self.n_samples, "norm": self.norm}

    def to_json(self, path: str | os.PathLike | None = None) -> str:
        """The JSON text; written (atomically) to ``path`` when given.

        >>> import json
        >>> json.loads(RobustnessResult(1.0, {}, {}, {}, {}, 1, "inf").to_json())["clean_accuracy"]
        1.0
        """
        text = json.dumps(self.to_dict(), indent=2)
        if path is not None:
            atomic_write_bytes(path, (text + "\n").encode())
        return text

    def table(self) -> str:
        """The printed table: one row per attack and eps.

        >>> print(RobustnessResult(0.9, {"pgd": {"0.1": 0.4}}, {"pgd": {"0.1": 0.5}}, {"pgd": {"0.1": 0.1}},
        ...                        {}, 10, "inf").table())
        clean accuracy 90.00% on 10 samples (L-inf)
        attack      eps  robust acc  success  mean |delta|
        pgd         0.1      40.00%   50.00%        0.1000
        """
        norm = "L-inf" if self.norm == "inf" else "L2"
        lines = [f"clean accuracy {100 * self.clean_accuracy:.2f}% on {self.n_samples} samples ({norm})",
                 f"{'attack':<10}{'eps':>5}  {'robust acc':>10}  {'success':>7}  {'mean |delta|':>12}"]
        for attack, by_eps in self.robust_accuracy.items():
            for eps, acc in by_eps.items():
                lines.append(f"{attack:<10}{eps:>5}  {100 * acc:>9.2f}%  {100 * self.success_rate[attack][eps]:>6.2f}%"
                             f"  {self.mean_perturbation[attack][eps]:>12.4f}")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.table()

    def __repr__(self) -> str:
        return f"RobustnessResult(clean_accuracy={self.clean_accuracy:.4f}, attacks={list(self.robust_accuracy)})"

    def plot(self, path: str | os.PathLike):
        """Save the accuracy-vs-eps curve (one line per attack, clean accuracy at eps=0) as a PNG;
        returns the path.

        >>> import os, tempfile
        >>> r = RobustnessResult(0.9, {"pgd": {"0.1": 0.4}}, {}, {}, {}, 10, "inf")
        >>> os.path.exists(r.plot(os.path.join(tempfile.mkdtemp(), "curve.png")))
        True
        """
        import matplotlib

        matplotlib.use("Agg", force=False)
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(5, 3.5))
        for attack, by_eps in self.robust_accuracy.items():
            eps = [0.0] + [float(e) for e in by_eps]
            ax.plot(eps, [self.clean_accuracy] + list(by_eps.values()), marker="o", label=attack)
        ax.set_xlabel(f"eps ({'L-inf' if self.norm == 'inf' else 'L2'})")
        ax.set_ylabel("accuracy")
        ax.set_ylim(0, 1.02)
        ax.grid(alpha=0.3)
        ax.legend()
        fig.tight_layout()
        fig.savefig(path, dpi=120)
        plt.close(fig)
        return path
