"""LossScaleOptimizer: Keras 3's dynamic loss scaling around another optimizer."""

from __future__ import annotations

import math

import torch

from ..utils.serialization import deserialize_object, serialize_object
from ..utils.validation import Integral, Interval, NoneOr, Real, String, validate_params
from .base import Optimizer

__all__ = ["LossScaleOptimizer"]

# Keras lets configs carry the base arguments at their defaults only.
_BASE_DEFAULTS = {"weight_decay": None, "clipnorm": None, "global_clipnorm": None, "clipvalue": None,
                  "use_ema": False, "ema_momentum": 0.99, "ema_overwrite_frequency": None,
                  "loss_scale_factor": None, "gradient_accumulation_steps": None}


def _all_finite(grads) -> bool:
    grads = [g for g in grads if g is not None]
    if not grads:
        return True
    return bool(torch.stack([torch.isfinite(g).all() for g in grads]).all())


class LossScaleOptimizer(Optimizer):
    """Dynamic loss scaling around ``inner_optimizer`` (Keras 3).

    ``scale_loss(loss)`` multiplies a loss by the current scale; ``apply(grads, variables)``
    divides the gradients by it and applies them with the inner optimizer when all are finite,
    else skips the update and halves the scale; after ``dynamic_growth_steps`` finite updates in
    a row the scale doubles. In ``fit`` (which does not scale the loss, and under
    ``"mixed_float16"`` scales it with torch's GradScaler) ``step()`` skips non-finite updates
    and keeps the same bookkeeping. Learning rate, iterations and state are the inner
    optimizer's.

    >>> opt = dn.optimizers.LossScaleOptimizer(dn.optimizers.SGD(1.0), initial_scale=4.0)
    >>> w = torch.nn.Parameter(torch.zeros(1))
    >>> opt.apply([opt.scale_loss(torch.ones(1))], [w])  # gradient 4 / scale 4
    >>> w.item(), opt.dynamic_scale
    (-1.0, 4.0)
    >>> opt.apply([torch.tensor([float("inf")])], [w])  # skipped, scale halved
    >>> w.item(), opt.dynamic_scale
    (-1.0, 2.0)
    """

    # inner_optimizer is checked below (an Optimizer that is not a LossScaleOptimizer)
    @validate_params({"inner_optimizer": None, "initial_scale": Interval(Real, 0, None, closed="neither"),
                      "dynamic_growth_steps": Interval(Integral, 1, None), "name": NoneOr(String())})
    def __init__(self, inner_optimizer, initial_scale=2.0**15, dynamic_growth_steps=2000, name=None,
                 **kwargs):
        if not kwargs.pop("dynamic", True):
            raise ValueError("LossScaleOptimizer does not support `dynamic=False`. help: set "
                             "`loss_scale_factor` on the inner optimizer or drop the wrapper.")
        for key, default in _BASE_DEFAULTS.items():
            if key in kwargs and kwargs.pop(key) != default:
                raise ValueError(f"LossScaleOptimizer does not support `{key}`: set it on the "
                                 "`inner_optimizer` instead.")
        if kwargs:
            raise ValueError(f"Argument(s) not recognized by LossScaleOptimizer: {sorted(kwargs)}")
        if not isinstance(inner_optimizer, Optimizer) or isinstance(inner_optimizer, LossScaleOptimizer):
            raise TypeError("Received an invalid value for `inner_optimizer` of LossScaleOptimizer, expected "
                            "a deepnet Optimizer (not a LossScaleOptimizer). Received: "
                            f"inner_optimizer={inner_optimizer!r}")
        self.inner_optimizer = inner_optimizer
        self.initial_scale = float(initial_scale)
        self.dynamic_growth_steps = int(dynamic_growth_steps)
        self.name = name if name is not None else "loss_scale_optimizer"
        self.dynamic_scale = self.initial_scale
        self.step_counter = 0

    # ------------------------------------------------------------- delegated to the inner one
    @property
    def learning_rate(self):
        return self.inner_optimizer.learning_rate

    @learning_rate.setter
    def learning_rate(self, value):
        self.inner_optimizer.learning_rate = value

    @property
    def iterations(self) -> int:
        return self.inner_optimizer.iterations

    @property
    def learning_rate_schedule(self):
        return self.inner_optimizer.learning_rate_schedule

    @property
    def gradient_accumulation_steps(self):
        return getattr(self.inner_optimizer, "gradient_accumulation_steps", None)

    @property
    def torch_optimizer(self):
        return self.inner_optimizer.torch_optimizer

    @property
    def implementation(self):
        return self.inner_optimizer.implementation

    @property
    def built(self) -> bool:
        return self.inner_optimizer.built

    def build(self, params) -> None:
        self.inner_optimizer.build(params)

    def zero_grad(self) -> None:
        self.inner_optimizer.zero_grad()

    def exclude_from_weight_decay(self, var_list=None, var_names=None) -> None:
        self.inner_optimizer.exclude_from_weight_decay(var_list=var_list, var_names=var_names)

    # ------------------------------------------------------------- scaling
    def scale_loss(self, loss):
        """``loss`` times the current scale (call before ``backward`` in a custom step)."""
        return loss * self.dynamic_scale

    def _record(self, finite: bool) -> None:
        if not finite:
            self.step_counter = 0
            self.dynamic_scale *= 0.5
        elif self.step_counter == self.dynamic_growth_steps - 1:
            self.step_counter = 0
            self.dynamic_scale *= 2.0
        else:
            self.step_counter += 1

    def step(self) -> None:
        """The inner step when every gradient is finite (the gradients are the unscaled ones
        ``fit`` computes); otherwise no update and the scale halves."""
        params = self.inner_optimizer._params
        finite = _all_finite([p.grad for p in params])
        if finite:
            self.inner_optimizer.step()
        self._record(finite)

    def apply(self, grads, trainable_variables=None) -> None:
        grads = list(grads)
        finite = _all_finite(grads)
        if finite:
            inverse = 1.0 / self.dynamic_scale
            self.inner_optimizer.apply([None if g is None else g * inverse for g in grads],
                                       trainable_variables)
        elif not self.inner_optimizer.built and trainable_variables is not None:
            self.inner_optimizer.build(list(trainable_variables))
        self._record(finite)

    # ------------------------------------------------------------- state and config
    def state_dict(self) -> dict:
        return {**self.inner_optimizer.state_dict(), "loss_scale": {
            "dynamic_scale": self.dynamic_scale, "step_counter": self.step_counter}}

    def load_state_dict(self, state: dict) -> None:
        state = dict(state)
        scale = state.pop("loss_scale", None)
        self.inner_optimizer.load_state_dict(state)
        if isinstance(scale, dict):
            value = float(scale.get("dynamic_scale", self.initial_scale))
            self.dynamic_scale = value if math.isfinite(value) and value > 0 else self.initial_scale
            self.step_counter = int(scale.get("step_counter", 0))

    def get_config(self) -> dict:
        return {"name": self.name, "inner_optimizer": serialize_object(self.inner_optimizer),
                "initial_scale": self.initial_scale, "dynamic_growth_steps": self.dynamic_growth_steps}

    @classmethod
    def from_config(cls, config: dict, custom_objects: dict | None = None):
        config = dict(config)
        inner = config.pop("inner_optimizer")
        if isinstance(inner, dict):
            inner = deserialize_object(inner, kind="optimizer", custom_objects=custom_objects)
        return cls(inner, **config)

    def __repr__(self) -> str:
        return f"LossScaleOptimizer(name={self.name!r}, inner_optimizer={self.inner_optimizer!r})"
