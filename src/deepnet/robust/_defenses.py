"""Adversarial training through ``fit``: ``model.compile(..., adversarial=AdversarialTraining(...))``.

Each training step first attacks the batch (in eval mode, so BatchNorm statistics and dropout
are those of inference, as in Madry et al.'s reference code), then computes the loss on the
result. The attack is a fixed number of gradient steps with no host synchronisation; a step
costs about ``steps + 1`` forward/backward passes.
"""

from __future__ import annotations

from numbers import Integral, Real

import torch
import torch.nn.functional as F

from ..training import StepWrapper
from ..utils.registry import register_builtin
from ..utils.validation import (
    ArgumentTypeError,
    Interval,
    NoneOr,
    Options,
    invalid_value,
    validate_params,
)
from ._common import eval_mode, normalize_norm
from ._losses import project, random_start, step

__all__ = ["AdversarialTraining", "class_scores", "log_probabilities"]

_METHODS = ("madry", "trades", "fast")
_POSITIVE = Interval(Real, 0, None, closed="neither", description="a positive number")


def log_probabilities(out: torch.Tensor) -> torch.Tensor:
    """Log-probabilities of a batch of class scores ``(N, C)``: ``log_softmax`` of logits, or the
    log of rows that already are probabilities (non-negative, summing to 1) -- decided per
    row on the device, without a host synchronisation.

    >>> log_probabilities(torch.tensor([[0.25, 0.75]])).exp()
    tensor([[0.2500, 0.7500]])
    """
    out = out.float()
    is_prob = (out >= 0).all(1, keepdim=True) & ((out.sum(1, keepdim=True) - 1).abs() < 1e-3)
    tiny = torch.finfo(out.dtype).tiny
    return torch.where(is_prob, out.clamp_min(tiny).log(), F.log_softmax(out, dim=1))


def _check_clip(clip):
    if clip is None:
        return None
    if not isinstance(clip, (tuple, list)) or len(clip) != 2 or not all(
            isinstance(c, Real) and not isinstance(c, bool) for c in clip):
        raise invalid_value("AdversarialTraining", "clip", clip, "None or a pair (low, high) of numbers")
    lo, hi = float(clip[0]), float(clip[1])
    if not lo < hi:
        raise invalid_value("AdversarialTraining", "clip", clip, "low < high")
    return (lo, hi)


@register_builtin
class AdversarialTraining(StepWrapper):
    """Adversarial training as a compile option: ``model.compile(..., adversarial=...)`` then
    the ordinary ``fit`` (callbacks, schedules, progress bar, mixed precision, resume and
    ``save``/``load_model`` unchanged; the option is saved in the compile section).

    Args:
        attack: ``"pgd"`` or ``"fgsm"`` (``method="fast"`` always uses FGSM from a random start).
        eps: the budget, in the units of ``x``.
        steps: attack steps per training batch (Madry: 7-40; ignored by ``"fast"``).
        method: ``"madry"`` (Madry et al. 2018: minimise the loss on PGD examples),
            ``"trades"`` (Zhang et al. 2019: clean loss + ``beta`` * KL(clean || adversarial),
            the attack maximising the KL term) or ``"fast"`` (Wong et al. 2020: one FGSM step of
            ``1.25 * eps`` from a uniform random start).
        step_size: attack step length (default ``2.5 * eps / steps``; ``"fast"``: ``1.25 * eps``).
        clip: the valid input range ``(low, high)`` or ``None`` (unbounded).
        beta: the TRADES trade-off (6.0 in the paper).
        norm: ``"inf"`` or ``2``.
        random_start: start the PGD attack from a random point of the ball.

    The attack maximises the *compiled loss* (so any loss and output form work); the loss and
    metrics ``fit`` reports are those on the adversarial batch (``"madry"``, ``"fast"``) or the
    TRADES objective and clean predictions (``"trades"``); validation data is clean.

    >>> model = dn.Sequential([dn.Input((4,)), dn.layers.Dense(3)])
    >>> model.compile(optimizer="adam", loss=dn.losses.SparseCategoricalCrossentropy(from_logits=True),
    ...               adversarial=dn.robust.AdversarialTraining("pgd", eps=0.1, steps=3, clip=(0, 1)))
    >>> x, y = np.random.rand(16, 4).astype("float32"), np.arange(16) % 3
    >>> model.fit(x, y, epochs=2, verbose=0).epoch
    [0, 1]
    """

    @validate_params({
        "attack": Options(["pgd", "fgsm"], ignore_case=True), "eps": _POSITIVE,
        "steps": Interval(Integral, 1, None), "method": Options(_METHODS, ignore_case=True),
        "step_size": NoneOr(_POSITIVE), "beta": Interval(Real, 0, None), "random_start": Options([True, False]),
    })
    def __init__(self, attack="pgd", eps=0.1, steps=10, method="madry", step_size=None, clip=None, beta=6.0,
                 norm="inf", random_start=True):
        self.attack = attack
        self.eps = float(eps)
        self.steps = int(steps)
        self.method = method
        self.step_size = None if step_size is None else float(step_size)
        self.clip = _check_clip(clip)
        self.beta = float(beta)
        self.norm = normalize_norm("AdversarialTraining", norm)
        self.random_start = random_start
        if self.clip is not None and self.eps > self.clip[1] - self.clip[0]:
            raise invalid_value("AdversarialTraining", "eps", eps, f"at most the width of `clip` {self.clip}")

    def get_config(self) -> dict:
        """The constructor arguments.

        >>> dn.robust.AdversarialTraining("pgd", eps=0.1, steps=7).get_config()["steps"]
        7
        """
        return {"attack": self.attack, "eps": self.eps, "steps": self.steps, "method": self.method,
                "step_size": self.step_size, "clip": None if self.clip is None else list(self.clip),
                "beta": self.beta, "norm": self.norm, "random_start": self.random_start}

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"AdversarialTraining({args})"

    # ------------------------------------------------------------------ the attack
    def _plan(self) -> tuple[int, float, bool]:
        """(steps, step size, random start) of the attack run in each training step."""
        if self.method == "fast":
            return 1, self.step_size or 1.25 * self.eps, True
        if self.attack == "fgsm":
            return 1, self.step_size or self.eps, False
        return self.steps, self.step_size or 2.5 * self.eps / self.steps, self.random_start

    def _into_range(self, x: torch.Tensor, delta: torch.Tensor) -> torch.Tensor:
        """``delta`` in the ``eps``-ball with ``x + delta`` inside ``clip``."""
        delta = project(delta, self.eps, self.norm)
        if self.clip is None:
            return delta
        return (x + delta).clamp(*self.clip) - x

    def perturb(self, model, x: torch.Tensor, objective) -> torch.Tensor:
        """Adversarial inputs for the batch ``x``: gradient ascent on ``objective(x_adv)`` (a
        scalar), in eval mode, without host synchronisation.

        >>> model = dn.Sequential([dn.Input((2,)), dn.layers.Dense(2)])
        >>> at = dn.robust.AdversarialTraining(eps=0.1, steps=2)
        >>> x = torch.zeros(3, 2)
        >>> x_adv = at.perturb(model, x, lambda xa: model(xa).sum())
        >>> bool((x_adv - x).abs().max() <= 0.1 + 1e-6)
        True
        """
        steps, size, start = self._plan()
        x = x.detach()
        if start:
            delta = self._into_range(x, self._random_delta(x))
        elif self.method == "trades":  # TRADES' reference starts 0.001 * N(0, 1) away from x
            delta = self._into_range(x, 0.001 * torch.randn_like(x))
        else:
            delta = torch.zeros_like(x)
        with eval_mode(model):
            for _ in range(steps):
                delta = delta.detach().requires_grad_(True)
                grad, = torch.autograd.grad(objective(x + delta), delta)
                delta = self._into_range(x, step(delta.detach(), grad, size, self.norm))
        return (x + delta).detach()

    def _random_delta(self, x: torch.Tensor) -> torch.Tensor:
        if self.norm == "inf":
            return torch.empty_like(x).uniform_(-self.eps, self.eps)
        return random_start(x.shape, self.eps, self.norm, None, x.device, x.dtype)

    # ------------------------------------------------------------------ the training loss
    def training_loss(self, trainer, x, y, sample_weight):
        """``(loss, y_pred)`` of one training batch (called by ``fit``'s step).

        >>> model = dn.Sequential([dn.Input((2,)), dn.layers.Dense(2)])
        >>> model.compile(optimizer="sgd", loss="mse", adversarial=dn.robust.AdversarialTraining(eps=0.1, steps=2))
        >>> loss, y_pred = model._trainer.adversarial.training_loss(
        ...     model._trainer, torch.zeros(4, 2), torch.zeros(4, 2), None)
        >>> tuple(y_pred.shape)
        (4, 2)
        """
        if not isinstance(x, torch.Tensor) or not x.is_floating_point():
            raise ArgumentTypeError(
                "AdversarialTraining: adversarial training perturbs one floating-point input tensor; the model "
                f"received {type(x).__name__}. help: use a one-input model with float features, or train without "
                "`adversarial=`.")
        model = trainer.model
        if self.method == "trades":
            return self._trades_loss(trainer, model, x, y, sample_weight)
        x_adv = self.perturb(model, x, lambda xa: trainer.compute_loss(y, model(xa)))
        return trainer.forward_loss(x_adv, y, sample_weight)

    def _trades_loss(self, trainer, model, x, y, sample_weight):
        with torch.no_grad(), eval_mode(model):
            clean_logp = log_probabilities(class_scores(model(x)))
        x_adv = self.perturb(model, x, lambda xa: F.kl_div(
            log_probabilities(class_scores(model(xa))), clean_logp, log_target=True, reduction="sum"))
        loss, y_pred = trainer.forward_loss(x, y, sample_weight)
        adv_logp = log_probabilities(class_scores(model(x_adv)))
        robust = F.kl_div(adv_logp, log_probabilities(class_scores(y_pred)), log_target=True, reduction="batchmean")
        return loss + self.beta * robust, y_pred


def class_scores(out, owner: str = "AdversarialTraining(method='trades')") -> torch.Tensor:
    """A model output as a ``(N, C)`` batch of class scores (one output only)."""
    if isinstance(out, (list, tuple, dict)):
        raise ValueError(f"{owner} needs a classifier with one output of class scores; the model returned "
                         f"{type(out).__name__}. help: wrap the output to use in a one-output model.")
    return out.reshape(out.shape[0], -1)

