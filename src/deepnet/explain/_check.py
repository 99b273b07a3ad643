"""``check``: which attribution methods can this model's explanations be trusted with."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from numbers import Integral, Real

import numpy as np
import torch

from ..utils.validation import Interval
from ..utils.validation import check as check_arg
from ._attribute import _completeness, _method, _run
from ._common import eval_mode, prepare, resolve_baseline, resolve_target, to_numpy, to_tensor
from ._data import permuted_label_model
from ._faithfulness import cascade, curves, spearman
from ._methods import ADDITIVE, METHODS
from ._multi import MULTI_INPUT_METHODS, FlatInputs, flatten, is_multi, multi_baseline

__all__ = ["ExplanationCheck", "MethodCheck", "check"]

OWNER = "explain.check"
DEFAULT_METHODS = ("saliency", "integrated_gradients", "occlusion", "guided_backprop")
# A method passes the randomisation test when the Spearman rank correlation between its (signed)
# attributions on the trained model and on the model re-initialised from the top layer down stays
# below this value at every step of the cascade: above it, more than half of the map's ranking
# survives destroying weights, so the map shows the input, not what the model learned (Adebayo
# et al. 2018: guided backpropagation stays near 0.9, gradients drop to ~0). Signed, because
# absolute values carry the input's sparsity: on digits, |x * gradient| is zero on the blank
# pixels for any weights, which alone gives |IG| and |occlusion| a rank correlation of ~0.9
# with all weights random (measured; signed: ~0).
RANDOMISATION_THRESHOLD = 0.5
COMPLETENESS_TOLERANCE = 0.01


@dataclass
class MethodCheck:
    """The trust checks of one method (see :func:`check`); ``trusted`` when ``reasons`` is empty.

    >>> m = MethodCheck("saliency", 0.1, {"dense": 0.1}, True, 0.2, 0.5, 0.8, 0.5, True, 0.05)
    >>> m.trusted, m.reasons
    (False, [])
    """

    method: str
    randomisation: float                      # highest Spearman (signed) over the cascade
    randomisation_cascade: dict[str, float]   # after re-initialising down to each layer
    randomisation_passed: bool
    deletion_auc: float
    deletion_auc_random: float
    insertion_auc: float
    insertion_auc_random: float
    faithful: bool
    sensitivity: float                        # max relative change under small input noise
    completeness_error: float | None = None  # mean relative |sum attr - (f(x) - f(b))|
    completeness_by_steps: dict[int, float] = field(default_factory=dict)
    data_randomisation: float | None = None  # Spearman with the model retrained on permuted labels
    trusted: bool = False
    reasons: list[str] = field(default_factory=list)


@dataclass
class ExplanationCheck:
    """The result of :func:`check`: one :class:`MethodCheck` per method.

    >>> r = ExplanationCheck({}, 0.5, 4)
    >>> r.to_dict()["threshold"], r.trusted
    (0.5, [])
    """

    methods: dict[str, MethodCheck]
    threshold: float
    samples: int

    @property
    def trusted(self) -> list[str]:
        """The methods that passed every check."""
        return [k for k, m in self.methods.items() if m.trusted]

    def to_dict(self) -> dict:
        return {"threshold": self.threshold, "samples": self.samples, "trusted": self.trusted,
                "methods": {k: asdict(m) for k, m in self.methods.items()}}

    def __str__(self) -> str:
        lines = [f"Explanation checks on {self.samples} samples (randomisation passes when Spearman < "
                 f"{self.threshold}; faithful when deletion AUC < random and insertion AUC > random)",
                 f"{'method':<22}{'random. rho':>12}{'del AUC':>9}{'(rand)':>8}{'ins AUC':>9}{'(rand)':>8}"
                 f"{'complete':>10}  verdict"]
        data = any(m.data_randomisation is not None for m in self.methods.values())
        if data:
            lines[1] = lines[1].replace("  verdict", f"{'data rho':>10}  verdict")
        for k, m in self.methods.items():
            comp = "-" if m.completeness_error is None else f"{100 * m.completeness_error:.2f}%"
            rho = f"{m.data_randomisation:>10.3f}" if data else ""
            verdict = "trust" if m.trusted else "do not trust: " + "; ".join(m.reasons)
            lines.append(f"{k:<22}{m.randomisation:>12.3f}{m.deletion_auc:>9.3f}{m.deletion_auc_random:>8.3f}"
                         f"{m.insertion_auc:>9.3f}{m.insertion_auc_random:>8.3f}{comp:>10}{rho}  {verdict}")
        trusted = ", ".join(self.trusted) or "none of the methods checked"
        lines.append(f"Trust this model's explanations from: {trusted}.")
        return "\n".join(lines)


def _sensitivity(explain, prep, attr: np.ndarray, radius: float, repeats: int, seed: int) -> float:
    gen = torch.Generator().manual_seed(seed)
    base = np.linalg.norm(attr.reshape(len(attr), -1), axis=1) + 1e-12
    worst = np.zeros(len(attr))
    original = prep.inputs
    for _ in range(repeats):
        noise = (torch.rand(original.shape, generator=gen) * 2 - 1).to(original.device, original.dtype) * radius
        prep.inputs = original + noise
        try:
            diff = explain() - attr
        finally:
            prep.inputs = original
        worst = np.maximum(worst, np.linalg.norm(diff.reshape(len(diff), -1), axis=1) / base)
    return float(worst.mean())


def _one(prep, name, t, b, threshold, steps, seed, data_prep=None) -> MethodCheck:
    opts = dict(METHODS[name].options)

    def explain(method_opts=opts):
        return to_numpy(prep.reduce(_run(prep, name, t, b, method_opts, 64)))

    attr = explain()
    layers = cascade(prep.module, explain, seed=seed)
    data_rho = None if data_prep is None else spearman(attr, to_numpy(data_prep.reduce(
        _run(data_prep, name, t, b, opts, 64))))
    by_layer = {layer: spearman(attr, a) for layer, a in layers}
    rho = max(by_layer.values()) if by_layer else 1.0
    faith = curves(prep, attr, t, b if len(b) == len(prep.inputs) else b.mean(0, keepdim=True).expand_as(prep.inputs),
                   steps=steps, seed=seed)
    span = float(prep.inputs.max() - prep.inputs.min()) or 1.0
    sens = _sensitivity(explain, prep, attr, 0.02 * span, 3, seed)
    rec = MethodCheck(name, rho, by_layer, rho < threshold, **faith,
                      faithful=faith["deletion_auc"] < faith["deletion_auc_random"]
                      and faith["insertion_auc"] > faith["insertion_auc_random"], sensitivity=sens,
                      data_randomisation=data_rho)
    if name in ADDITIVE and name != "kernel_shap":
        full = _run(prep, name, t, b, opts, 64)
        rec.completeness_error = float(np.mean(_completeness(prep, full, t, b)[1]))
        if name == "integrated_gradients":
            for s in (4, 8, 16, 32, 64):
                a = _run(prep, name, t, b, {**opts, "steps": s}, 64)
                rec.completeness_by_steps[s] = float(np.mean(_completeness(prep, a, t, b)[1]))
    rec.reasons = _reasons(rec, attr, threshold)
    rec.trusted = not rec.reasons
    return rec


def _reasons(rec: MethodCheck, attr: np.ndarray, threshold: float) -> list[str]:
    reasons = []
    zero = int((np.abs(attr.reshape(len(attr), -1)).max(1) == 0).sum())
    if zero:
        reasons.append(f"all-zero maps for {zero} of {len(attr)} samples")
    if not rec.randomisation_passed:
        reasons.append(f"insensitive to the weights (rho={rec.randomisation:.2f} >= {threshold})")
    if rec.data_randomisation is not None and rec.data_randomisation >= threshold:
        reasons.append(f"insensitive to the labels (rho={rec.data_randomisation:.2f} >= {threshold} with a "
                       f"model trained on permuted labels)")
    if not rec.faithful:
        reasons.append("deletion/insertion no better than a random ordering")
    if rec.completeness_error is not None and rec.method != "gradient_shap" \
            and rec.completeness_error > COMPLETENESS_TOLERANCE:
        reasons.append(f"completeness error {100 * rec.completeness_error:.1f}% > 1% (raise steps)")
    return reasons


def check(model, x, y=None, methods=DEFAULT_METHODS, *, threshold: float = RANDOMISATION_THRESHOLD,
          baseline=None, steps: int = 16, seed: int = 0, data_randomization: bool = False,
          epochs: int = 5) -> ExplanationCheck:
    """Sanity checks that say which attribution methods to trust for ``model`` on ``x``.

    Per method: model-parameter randomisation (Adebayo et al. 2018: layers re-initialised from
    the top down; Spearman rank correlation of the signed attributions with the trained model's;
    passes when it stays below ``threshold``, default 0.5, at every step), deletion and insertion
    AUCs against a random ordering (``steps`` fractions), max-sensitivity under noise of 2% of the
    input range, and for integrated gradients / DeepLift the completeness error (and its
    convergence with steps). ``y``: explain the true class (default: the predicted class).
    ``trusted``: passed all. Multi-input models: ``x`` a list / dict of inputs (not Grad-CAM).

    ``data_randomization=True`` (Adebayo et al.'s second test; costs a retrain): the model's
    architecture, built fresh from its config and compiled as the model was, is trained for
    ``epochs`` on ``(x, y)`` with ``y`` permuted (seeded); a method passes when the Spearman
    correlation of its attributions on the two models is below ``threshold`` as well.

    >>> model = dn.Sequential([dn.Input((4,)), dn.layers.Dense(8, activation="relu"), dn.layers.Dense(2)])
    >>> r = dn.explain.check(model, np.random.rand(4, 4).astype("float32"), methods=["saliency"], steps=4)
    >>> sorted(r.to_dict()["methods"]["saliency"])[:3]
    ['completeness_by_steps', 'completeness_error', 'data_randomisation']
    """
    names = [_method(m) for m in ([methods] if isinstance(methods, str) else methods)]
    threshold = check_arg(OWNER, "threshold", threshold, Interval(Real, -1, 1))
    steps = check_arg(OWNER, "steps", steps, Interval(Integral, 2, None))
    epochs = check_arg(OWNER, "epochs", epochs, Interval(Integral, 1, None))
    prep, data_prep = _prepare_both(model, x, y, names, data_randomization, epochs, seed)
    if isinstance(prep.module, FlatInputs):
        baseline = multi_baseline(OWNER, prep.module, baseline, len(prep.inputs))
    with eval_mode(model), eval_mode(model if data_prep is None else data_prep.module):
        t = resolve_target(OWNER, prep, None if y is None else _labels(y, prep))
        result = {}
        for name in names:
            b = resolve_baseline(OWNER, prep, baseline, distribution=METHODS[name].distribution)
            result[name] = _one(prep, name, t, b, threshold, steps, seed, data_prep)
    return ExplanationCheck(result, threshold, len(prep.inputs))


def _prepare_both(model, x, y, names, data_randomization: bool, epochs: int, seed: int):
    """The prepared inputs of the model and (with ``data_randomization``) of its copy trained
    on permuted labels."""
    clone = permuted_label_model(model, x, y, epochs, seed) if data_randomization else None
    if not is_multi(model, x):
        return prepare(OWNER, model, x), None if clone is None else prepare(OWNER, clone, x)
    bad = [n for n in names if n not in MULTI_INPUT_METHODS]
    if bad:
        raise ValueError(f"{OWNER}: method {bad[0]!r} does not support multi-input models.\n"
                         f"help: methods that do: {', '.join(MULTI_INPUT_METHODS)}.")
    wrapper, flat = flatten(OWNER, model, x)
    data_prep = None if clone is None else prepare(OWNER, FlatInputs(clone, wrapper.shapes, wrapper.keys), flat)
    return prepare(OWNER, wrapper, flat), data_prep


def _labels(y, prep):
    t = to_tensor(OWNER, "y", y, prep.device)
    return t.argmax(1) if t.ndim == 2 and t.shape[1] > 1 else t.reshape(-1)
