"""Defensive distillation (Papernot et al. 2016): a teacher trained at temperature ``T``, a
student trained on the teacher's softened outputs at ``T``, the student deployed at ``T = 1``."""

from __future__ import annotations

from numbers import Real

import numpy as np
import torch
import torch.nn.functional as F

from .. import losses, optimizers
from ..utils.validation import ArgumentTypeError, Interval, Options, check, invalid_value

__all__ = ["distill"]

_TEMPERATURE = Interval(Real, 0, None, closed="neither", description="a positive number")


def temperature_crossentropy(temperature: float):
    """``f(y_true, y_pred)``: per-sample cross-entropy of ``softmax(y_pred / T)`` against integer
    labels or against probability rows (soft targets)."""

    def distillation_loss(y_true, y_pred):
        logp = F.log_softmax(y_pred.reshape(y_pred.shape[0], -1).float() / temperature, dim=1)
        if y_true.ndim == 2 and y_true.shape == logp.shape:
            return -(y_true.float() * logp).sum(1)
        return F.nll_loss(logp, y_true.reshape(-1).long(), reduction="none")

    return distillation_loss


def _check_logits(owner: str, name: str, model, x) -> None:
    if not hasattr(model, "fit") or not hasattr(model, "compile"):
        raise invalid_value(owner, name, type(model).__name__, "a deepnet model", error=ArgumentTypeError)
    out = np.asarray(model.predict(x[:64], verbose=0))
    if out.ndim != 2 or out.shape[1] < 2:
        raise invalid_value(owner, name, f"a model with output shape {out.shape[1:]}", "a classifier with one "
                            "output of at least 2 class logits")
    if np.all(out >= 0) and np.allclose(out.sum(1), 1, atol=1e-3):
        raise ValueError(
            f"{owner}: `{name}` outputs probabilities (its rows are non-negative and sum to 1), but distillation "
            "divides logits by the temperature.\nhelp: end the model with a linear layer, e.g. "
            "Dense(10) instead of Dense(10, activation='softmax').")


def _optimizer(spec):
    """A fresh optimizer for each compile (an instance is copied through its config)."""
    if isinstance(spec, optimizers.Optimizer):
        return optimizers.deserialize(optimizers.serialize(spec))
    return spec


def distill(teacher, student, x, y, *, temperature=100.0, optimizer="adam", train_teacher=True, **fit_kwargs):
    """Defensive distillation: train ``teacher`` on ``(x, y)`` at temperature ``T`` (loss
    ``CE(y, softmax(z / T))``), then ``student`` on the teacher's softened outputs
    ``softmax(z_teacher / T)`` at the same ``T``; return the student, re-compiled with ordinary
    cross-entropy on its logits (deployed at ``T = 1``) and ``metrics=["accuracy"]``.

    At ``T = 1`` the student's logits are about ``T`` times larger than a normal model's, so its
    softmax saturates and cross-entropy gradients vanish: gradient attacks with the CE loss
    stall while the margin (C&W) loss does not -- the defense *masks* gradients, which
    :func:`deepnet.robust.check` reports (Carlini & Wagner 2016 broke it this way).

    Args:
        teacher, student: deepnet classifiers whose last layer outputs logits (no softmax).
        x, y: training inputs and integer labels (or one-hot rows).
        temperature: ``T`` (Papernot et al. used 20-100).
        optimizer: the optimizer name/config/instance used for each of the two trainings (a
            copy each time). The logits must grow about ``T``-fold, so high temperatures train
            slowly at small learning rates: on digits, ``Adam(1e-2)`` reaches 90% at ``T = 50``
            in 15 epochs where ``"adam"`` (1e-3) reaches 56%.
        train_teacher: ``False`` to use an already trained teacher as it is.
        **fit_kwargs: passed to both ``fit`` calls (``epochs``, ``batch_size``, ``verbose``...).

    >>> x, y = np.random.rand(32, 4).astype("float32"), np.arange(32) % 2
    >>> teacher = dn.Sequential([dn.Input((4,)), dn.layers.Dense(2)])
    >>> student = dn.Sequential([dn.Input((4,)), dn.layers.Dense(2)])
    >>> dn.robust.distill(teacher, student, x, y, temperature=20, epochs=1, verbose=0) is student
    True
    """
    owner = "distill"
    temperature = float(check(owner, "temperature", temperature, _TEMPERATURE))
    train_teacher = check(owner, "train_teacher", train_teacher, Options([True, False]))
    _check_logits(owner, "teacher", teacher, x)
    _check_logits(owner, "student", student, x)
    loss = temperature_crossentropy(temperature)
    if train_teacher:
        teacher.compile(optimizer=_optimizer(optimizer), loss=loss, metrics=["accuracy"])
        teacher.fit(x, y, **fit_kwargs)
    logits = torch.as_tensor(np.asarray(teacher.predict(x, verbose=0)))
    soft = F.softmax(logits.float() / temperature, dim=1).numpy()
    student.compile(optimizer=_optimizer(optimizer), loss=loss)
    student.fit(x, soft, **fit_kwargs)
    deployed = losses.SparseCategoricalCrossentropy(from_logits=True)
    for model in (teacher, student) if train_teacher else (student,):
        model.compile(optimizer=_optimizer(optimizer), loss=deployed, metrics=["accuracy"])
    return student
