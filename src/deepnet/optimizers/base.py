"""Optimizer base class: Keras 3 arguments and semantics on top of a ``torch.optim`` optimizer.

An :class:`Optimizer` holds configuration only until :meth:`Optimizer.build` receives the
parameters; ``build`` then creates the underlying torch optimizer once, choosing its fused
multi-tensor kernel where torch has one for the parameters' device and dtype and the foreach
(multi-tensor) implementation otherwise (never torch's per-tensor Python loop).

The training loop calls :meth:`Optimizer.zero_grad` / ``loss.backward()`` / :meth:`Optimizer.step`.
With a constant learning rate and no clipping or hand-applied weight decay, ``step`` is exactly
the torch step plus ``self.iterations += 1`` (a Python int): no extra tensor op, no device sync.
Gradient clipping, a learning-rate schedule and decoupled weight decay add work only when set.
"""

from __future__ import annotations

import inspect
import math
import numbers
import re

import torch

from ..utils.naming import to_snake_case, unique_name
from ..utils.validation import Integral, Interval, NoneOr, Real, String, validate_params
from . import schedules as _schedules
from ._ema import EMA, EMAMethods, pop_ema_args
from ._kernels import clip_by_global_norm_, clip_by_norm_

__all__ = ["Optimizer"]

def _fused_devices() -> set[str]:
    try:
        from torch.utils._foreach_utils import _get_fused_kernels_supported_devices

        return set(_get_fused_kernels_supported_devices())
    except ImportError:  # older torch: the devices with fused Adam/SGD kernels
        return {"cuda", "cpu"}


def _accepts(torch_class: type, argument: str) -> bool:
    try:
        return argument in inspect.signature(torch_class.__init__).parameters
    except (TypeError, ValueError):
        return False


def _is_number(value) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _as_float(value):
    """A Python float from a number or a one-element tensor/array; None when not numeric."""
    if _is_number(value):
        return float(value)
    if isinstance(value, torch.Tensor) and value.numel() == 1 and value.is_floating_point():
        return float(value.item())
    if hasattr(value, "dtype") and hasattr(value, "item") and getattr(value, "size", 0) == 1:
        try:
            return float(value.item())  # numpy scalar / 0-d array
        except (TypeError, ValueError):
            return None
    return None


def _schedule_caller(schedule):
    """``f(step) -> float`` for a schedule or a user callable taking the step (or nothing)."""
    if isinstance(schedule, _schedules.LearningRateSchedule):
        return schedule
    try:
        inspect.signature(schedule).bind(0)
        return schedule
    except TypeError:
        pass
    except ValueError:  # builtins without a signature: assume they take the step
        return schedule
    try:
        inspect.signature(schedule).bind()
    except TypeError as error:
        raise TypeError(
            "A callable `learning_rate` must take the iteration count (or no argument) and "
            f"return a float; {schedule!r} accepts neither."
        ) from error
    return lambda step: schedule()


_ACCUMULATION = NoneOr(Interval(Integral, 1, None), description="an int >= 1 (or None: no accumulation)")
_DECAY = NoneOr(Interval(Real, 0, None), description="a float >= 0 (or None: no decay)")
_CLIP = NoneOr(Interval(Real, 0, None, closed="neither"), description="a float > 0 (or None: no clipping)")


def _decay_groups(params: list, decays: list, kwargs: dict):
    """``params`` as torch parameter groups: all in one, or the decay-exempt ones apart with
    ``weight_decay=0`` when torch applies the decay."""
    if all(decays) or "weight_decay" not in kwargs:
        return params
    decayed = [p for p, d in zip(params, decays) if d]
    groups = [{"params": decayed}] if decayed else []
    return [*groups, {"params": [p for p, d in zip(params, decays) if not d], "weight_decay": 0.0}]


class Optimizer(EMAMethods):
    """Base class of deepnet optimizers (Keras 3 ``keras.optimizers.Optimizer`` arguments).

    Args:
        learning_rate: float >= 0, a :class:`~deepnet.optimizers.schedules.LearningRateSchedule`
            or a callable taking the iteration count (Keras also allows a no-argument callable:
            accepted too).
        weight_decay: decoupled weight decay (``w -= w * weight_decay * lr`` before each update,
            Keras 3 semantics) or None.
        clipnorm: clip each gradient tensor to this L2 norm.
        clipvalue: clip each gradient element to ``[-clipvalue, clipvalue]``.
        global_clipnorm: clip all gradients together to this global L2 norm.
            At most one of ``clipnorm``, ``clipvalue`` and ``global_clipnorm`` may be set.
        name: optimizer name (default: snake-cased class name, made unique like Keras').

        gradient_accumulation_steps: ``None`` (or 1) updates the weights after every batch; an
            int ``k >= 2`` sums the gradients of ``k`` consecutive batches (each loss divided by
            ``k``) and updates once, so the step equals one on the ``k``-times larger batch (under
            a ``deepnet.distribution`` the first ``k - 1`` backward passes skip the all-reduce).
            ``iterations`` counts weight updates.

        use_ema, ema_momentum, ema_overwrite_frequency: keep a moving average of the weights,
            overwrite the weights with it every ``ema_overwrite_frequency`` updates and at the
            end of ``fit`` (Keras; see ``deepnet.optimizers._ema`` and ``SwapEMAWeights``).

    Keras' ``loss_scale_factor`` is accepted at its default (None) only.

    Subclasses implement ``_torch_factory() -> (torch_class, kwargs)`` (kwargs without ``lr``,
    ``fused`` and ``foreach``) and ``_algorithm_config() -> dict``; they set the class attribute
    ``_torch_applies_decay = True`` when ``kwargs`` makes torch apply Keras' decoupled decay itself.

    >>> opt = dn.optimizers.Adam(learning_rate=1e-3, global_clipnorm=1.0)
    >>> opt.learning_rate, opt.iterations
    (0.001, 0)
    """

    _torch_applies_decay = False
    _keras_only_defaults = {"loss_scale_factor": None}

    # learning_rate (a positive float, a schedule or a callable) is checked by _set_learning_rate.
    @validate_params({"learning_rate": None, "weight_decay": _DECAY, "clipnorm": _CLIP, "clipvalue": _CLIP,
                      "global_clipnorm": _CLIP, "name": NoneOr(String())})
    def __init__(self, learning_rate, weight_decay=None, clipnorm=None, clipvalue=None,
                 global_clipnorm=None, name=None, **kwargs):
        owner = type(self).__name__
        ema_momentum = kwargs.pop("ema_momentum", 0.99)
        self.use_ema, self.ema_overwrite_frequency = pop_ema_args(self, kwargs)
        accumulation = kwargs.pop("gradient_accumulation_steps", None)
        extras = {key: kwargs.pop(key, default) for key, default in self._keras_only_defaults.items()}
        if "decay" in kwargs:
            raise ValueError(
                f"Argument `decay` of {owner} is not supported (it was removed in Keras 3). Pass a "
                "learning-rate schedule instead, e.g. learning_rate=deepnet.optimizers.schedules."
                "InverseTimeDecay(...)."
            )
        if kwargs:
            raise ValueError(f"Argument(s) not recognized by {owner}: {kwargs}")
        for key, value in extras.items():
            if value != self._keras_only_defaults[key]:
                raise ValueError(
                    f"Argument `{key}` of {owner} is not supported by deepnet optimizers; expected "
                    f"{key}={self._keras_only_defaults[key]!r}. Received: {key}={value!r}"
                )
        self.ema_momentum = Interval(Real, 0, 1).check(ema_momentum, self, "ema_momentum")
        self.loss_scale_factor = extras["loss_scale_factor"]
        self.gradient_accumulation_steps = _ACCUMULATION.check(accumulation, self, "gradient_accumulation_steps")

        self.name = unique_name(to_snake_case(owner)) if name is None else name
        self.weight_decay = weight_decay
        clips = {"clipnorm": clipnorm, "clipvalue": clipvalue, "global_clipnorm": global_clipnorm}
        if sum(value is not None for value in clips.values()) > 1:
            raise ValueError(
                f"Only one of `clipnorm`, `clipvalue` and `global_clipnorm` can be set for {owner}. "
                f"Received: clipnorm={clipnorm}, clipvalue={clipvalue}, "
                f"global_clipnorm={global_clipnorm}"
            )
        self.clipnorm, self.clipvalue, self.global_clipnorm = clipnorm, clipvalue, global_clipnorm

        self.iterations = 0
        self.implementation = None  # "fused" or "foreach" once built
        self._torch_optimizer = None
        self._torch_step = self._step_before_build
        self._params: list[torch.Tensor] = []
        self._group_overrides: dict = {}
        self._pending_torch_state = self._ema = self._pending_ema = None
        self._exclude_ids: set = set()
        self._exclude_names: list = []
        self._schedule = None
        self._schedule_fn = None
        self._lr = None
        self._set_learning_rate(learning_rate)
        self._refresh_pre_step()

    # ------------------------------------------------------------------ learning rate
    def _set_learning_rate(self, value):
        owner = type(self).__name__
        if isinstance(value, _schedules.LearningRateSchedule) or (
            callable(value) and not isinstance(value, torch.Tensor)
        ):
            self._schedule_fn = _schedule_caller(value)
            self._schedule = value
            self._lr = None
        else:
            lr = _as_float(value)
            if lr is None or not math.isfinite(lr) or lr < 0:  # 0 is allowed, as in Keras
                raise ValueError(
                    f"Received an invalid value for `learning_rate` of {owner}, expected a positive "
                    "float or zero, "
                    f"a LearningRateSchedule or a callable. Received: learning_rate={value!r}"
                )
            self._schedule = None
            self._schedule_fn = None
            self._lr = lr
        if self._torch_optimizer is not None:
            self._apply_lr(self.learning_rate)
            self._refresh_pre_step()

    @property
    def learning_rate(self) -> float:
        """Learning rate of the next update (a schedule is evaluated at ``iterations``).

        Assigning a float replaces the constant rate or a schedule; assigning a schedule (or
        callable) installs it."""
        if self._schedule_fn is not None:
            return float(self._schedule_fn(self.iterations))
        return self._lr

    @learning_rate.setter
    def learning_rate(self, value):
        self._set_learning_rate(value)

    @property
    def learning_rate_schedule(self):
        """The schedule (or callable) driving the learning rate, or None for a constant rate.

        >>> dn.optimizers.SGD(0.1).learning_rate_schedule is None
        True
        """
        return self._schedule

    @property
    def lr(self) -> float:  # tf.keras-era alias, used by some callbacks
        return self.learning_rate

    @lr.setter
    def lr(self, value):
        self._set_learning_rate(value)

    def _apply_lr(self, lr: float) -> None:
        for group in self._torch_optimizer.param_groups:
            group["lr"] = lr

    # ------------------------------------------------------------------ subclass hooks
    def _torch_factory(self) -> tuple[type, dict]:
        raise NotImplementedError(f"{type(self).__name__} must implement `_torch_factory()`.")

    def _algorithm_config(self) -> dict:
        return {}

    # ------------------------------------------------------------------ build
    @property
    def torch_optimizer(self):
        """The underlying ``torch.optim.Optimizer`` (None until :meth:`build`)."""
        return self._torch_optimizer

    @property
    def built(self) -> bool:
        return self._torch_optimizer is not None

    def _step_before_build(self, *args, **kwargs):
        raise RuntimeError(
            f"{type(self).__name__} {self.name!r} is not built: call `optimizer.build(params)` with "
            "the model's trainable parameters before `step()`."
        )

    def _implementation_flags(self, torch_class: type, params) -> tuple[str, dict]:
        """("fused", {"fused": True}) when torch has a fused kernel of ``torch_class`` for every
        parameter's device and dtype, else ("foreach", {"foreach": True}) (the flag only when the
        class takes it: deepnet's own kernels are always multi-tensor)."""
        if _accepts(torch_class, "fused"):
            devices = _fused_devices()
            # FSDP2's sharded parameters (DTensor) have no fused kernels: they take foreach.
            if all(p.device.type in devices and torch.is_floating_point(p) and type(p).__name__ != "DTensor"
                   for p in params):
                return "fused", {"fused": True}
        return "foreach", ({"foreach": True} if _accepts(torch_class, "foreach") else {})

    def build(self, params) -> None:
        """Create the torch optimizer for ``params`` (the model's trainable parameters).

        Calling it again with the same parameters (same objects, same order) is a no-op; a
        different list raises ValueError: optimizer state belongs to its parameters, so create a
        new optimizer (e.g. ``type(opt).from_config(opt.get_config())``) for another model.
        """
        owner = type(self).__name__
        if isinstance(params, torch.Tensor) or not hasattr(params, "__iter__"):
            raise TypeError(
                f"{owner}.build expects a list of torch.nn.Parameter; received {type(params).__name__}."
            )
        params = list(params)
        if self._torch_optimizer is not None:
            if len(params) == len(self._params) and all(a is b for a, b in zip(params, self._params)):
                return
            raise ValueError(
                f"{owner} {self.name!r} is already built for {len(self._params)} parameters and "
                f"received a different list of {len(params)}. An optimizer's state belongs to its "
                "parameters: create a new optimizer for another model, e.g. "
                f"`{owner}.from_config(optimizer.get_config())`."
            )
        if not params:
            raise ValueError(
                f"{owner}.build received an empty parameter list: the model has no trainable "
                "weights to optimize."
            )
        seen = set()
        for index, p in enumerate(params):
            if not isinstance(p, torch.Tensor):
                raise TypeError(
                    f"{owner}.build expects torch.nn.Parameter objects; item {index} is "
                    f"{type(p).__name__}."
                )
            if not p.requires_grad or not p.is_leaf:
                raise ValueError(
                    f"{owner}.build: parameter {index} (shape {tuple(p.shape)}) is not a trainable "
                    "leaf tensor (requires_grad=False or computed from other tensors); pass the "
                    "model's trainable parameters only."
                )
            if id(p) in seen:
                raise ValueError(f"{owner}.build: parameter {index} appears more than once.")
            seen.add(id(p))

        torch_class, kwargs = self._torch_factory()
        implementation, flags = self._implementation_flags(torch_class, params)
        self._params = params
        self._param_ids = {id(p) for p in params}
        self._torch_optimizer = torch_class(_decay_groups(params, self._decays(params), kwargs),
                                            lr=self.learning_rate, **kwargs, **flags)
        self._group_overrides = {**kwargs, **flags}
        self.implementation = implementation
        self._torch_step = self._torch_optimizer.step
        self._ema = EMA.for_optimizer(self, params)
        if self._pending_torch_state is not None:
            state, self._pending_torch_state = self._pending_torch_state, None
            self._load_torch_state(state)
        self._refresh_pre_step()

    # ------------------------------------------------------------------ training-loop API
    def _refresh_pre_step(self) -> None:
        """Precompute what ``step`` must do before the torch step (None: nothing)."""
        clip = None
        if self.clipvalue is not None:
            clip = self._clip_by_value
        elif self.clipnorm is not None:
            clip = self._clip_by_norm
        elif self.global_clipnorm is not None:
            clip = self._clip_by_global_norm
        decay = bool(self.weight_decay) and not self._torch_applies_decay
        self._decayed = None if not decay or not self._params else [
            p for p, d in zip(self._params, self._decays(self._params)) if d]
        self._pre_clip = clip
        self._pre_decay = decay
        needed = clip is not None or decay or self._schedule_fn is not None
        self._pre_step = self._prepare_step if needed else None

    def _grads(self) -> list[torch.Tensor]:
        return [p.grad for p in self._params if p.grad is not None]

    def _clip_by_value(self) -> None:
        grads = self._grads()
        if grads:
            torch._foreach_clamp_min_(grads, -self.clipvalue)
            torch._foreach_clamp_max_(grads, self.clipvalue)

    def _clip_by_norm(self) -> None:
        clip_by_norm_(self._grads(), self.clipnorm)

    def _clip_by_global_norm(self) -> None:
        clip_by_global_norm_(self._grads(), self.global_clipnorm)

    @torch.no_grad()
    def _prepare_step(self) -> None:
        if self._pre_clip is not None:
            self._pre_clip()
        if self._schedule_fn is not None:
            lr = float(self._schedule_fn(self.iterations))
            self._apply_lr(lr)
        else:
            lr = self._lr
        if self._pre_decay:
            params = [p for p in (self._decayed if self._decayed is not None else self._params) if p.grad is not None]
            if params:
                torch._foreach_mul_(params, 1.0 - lr * self.weight_decay)

    def step(self) -> None:
        """Clip gradients, set a scheduled learning rate, apply decoupled weight decay where
        torch does not, run the torch update and increment ``iterations``."""
        if self._pre_step is not None:
            self._pre_step()
        self._torch_step()
        if self._ema is not None:
            self._ema.update(self._params, self.iterations)
        self.iterations += 1

    def apply(self, grads, trainable_variables=None) -> None:
        """Apply ``grads`` to ``trainable_variables`` (Keras 3): one update with clipping,
        schedule and weight decay, ``iterations += 1``. The first call builds the optimizer for
        the variables given; later calls may pass any subset of them (others stay unchanged),
        or ``None`` for all. A ``None`` gradient skips its variable. Weights created with a
        ``constraint`` are projected onto it after the update, as in Keras.

        >>> w = torch.nn.Parameter(torch.ones(2))
        >>> opt = dn.optimizers.SGD(learning_rate=0.5)
        >>> opt.apply([torch.ones(2)], [w])
        >>> w.tolist(), opt.iterations
        ([0.5, 0.5], 1)
        """
        grads = list(grads)
        variables = self._params if trainable_variables is None else list(trainable_variables)
        owner = type(self).__name__
        if trainable_variables is None and not self.built:
            raise ValueError(f"{owner}.apply(grads): the first call needs `trainable_variables` (the optimizer "
                             "is not built yet). help: optimizer.apply(grads, model.trainable_weights).")
        if len(grads) != len(variables):
            raise ValueError(f"{owner}.apply received {len(grads)} gradients for {len(variables)} variables; "
                             "expected one gradient (or None) per variable.")
        if not self.built:
            self.build(variables)
        unknown = sum(id(v) not in self._param_ids for v in variables)
        if unknown:
            raise ValueError(
                f"{owner} {self.name!r} was built for {len(self._params)} variables and received {unknown} others. "
                "help: use one optimizer per set of variables (e.g. one for the generator, one for the "
                "discriminator of a GAN)."
            )
        given = {id(v): g for v, g in zip(variables, grads)}
        with torch.no_grad():
            saved = [(p, p.grad) for p in self._params]
            for p in self._params:
                p.grad = given.get(id(p))
            try:
                self.step()
            finally:
                for p, g in saved:
                    p.grad = g
            for v in variables:  # Keras: the optimizer applies the variables' constraints
                if getattr(v, "constraint", None) is not None and given.get(id(v)) is not None:
                    v._apply_constraint()

    def apply_gradients(self, grads_and_vars) -> None:
        """``apply`` for a list of ``(gradient, variable)`` pairs (Keras).

        >>> w = torch.nn.Parameter(torch.ones(2))
        >>> dn.optimizers.SGD(learning_rate=1.0).apply_gradients([(torch.ones(2), w)])
        >>> w.tolist()
        [0.0, 0.0]
        """
        pairs = list(grads_and_vars)
        self.apply([g for g, _ in pairs], [v for _, v in pairs])

    def exclude_from_weight_decay(self, var_list=None, var_names=None) -> None:
        """Exempt variables from ``weight_decay`` (Keras): those in ``var_list``, and those
        whose name or path (``"dense/bias"``) contains a match of one of the regular
        expressions in ``var_names``. Call it before the optimizer is built.

        >>> opt = dn.optimizers.AdamW(learning_rate=0.1, weight_decay=0.5)
        >>> opt.exclude_from_weight_decay(var_names=["bias"])
        >>> layer = dn.layers.Dense(1, kernel_initializer="ones", bias_initializer="ones")
        >>> _ = layer(torch.zeros(1, 1))
        >>> opt.apply([torch.zeros(1, 1), torch.zeros(1)], layer.trainable_weights)
        >>> layer.kernel.item(), layer.bias.item()
        (0.95, 1.0)
        """
        if self.built:
            raise ValueError(f"{type(self).__name__}.exclude_from_weight_decay() must be called before the "
                             "optimizer is built (before fit() or the first apply()).")
        self._exclude_ids |= {id(v) for v in var_list or []}
        self._exclude_names.extend(re.compile(n) for n in var_names or [])

    def _decays(self, params) -> list[bool]:
        """Whether each parameter gets weight decay (``exclude_from_weight_decay``)."""
        def excluded(p):
            if id(p) in self._exclude_ids:
                return True
            names = (getattr(p, "name", None), getattr(p, "path", None))
            return any(rx.search(n) for rx in self._exclude_names for n in names if isinstance(n, str))

        return [not excluded(p) for p in params]

    def zero_grad(self) -> None:
        """Drop the parameters' gradients (``set_to_none=True`` semantics)."""
        for p in self._params:
            p.grad = None

    # ------------------------------------------------------------------ state
    def state_dict(self) -> dict:
        """Everything needed for an exact resume: the torch optimizer state, ``iterations`` and
        the learning rate (None when a schedule drives it)."""
        if self._torch_optimizer is not None:
            torch_state = self._torch_optimizer.state_dict()
        else:
            torch_state = self._pending_torch_state
        return {
            "iterations": self.iterations,
            "learning_rate": self._lr if self._schedule is None else None,
            "torch": torch_state,
            **EMA.state_of(self),
        }

    def _load_torch_state(self, state: dict) -> None:
        self._torch_optimizer.load_state_dict(state)
        # The wrapper's configuration stays the source of truth for hyperparameters and for the
        # implementation chosen for this device; the learning rate is the wrapper's current one.
        lr = self.learning_rate
        for group in self._torch_optimizer.param_groups:
            no_decay = group.get("weight_decay") == 0.0 and "weight_decay" in self._group_overrides
            group.update(self._group_overrides)
            if no_decay:
                group["weight_decay"] = 0.0
            group["lr"] = lr
        if self.implementation == "fused":
            # Fused kernels keep `step` on the parameter's device; a state saved by the foreach
            # implementation (or on another device) keeps it elsewhere.
            for p, param_state in self._torch_optimizer.state.items():
                step = param_state.get("step")
                if isinstance(step, torch.Tensor) and step.device != p.device:
                    param_state["step"] = step.to(device=p.device, dtype=torch.float32)

    def load_state_dict(self, state: dict) -> None:
        """Restore :meth:`state_dict` output. Before :meth:`build` the torch part is kept and
        applied when the optimizer is built."""
        owner = type(self).__name__
        if not isinstance(state, dict) or not {"iterations", "learning_rate", "torch"} <= set(state):
            raise ValueError(
                f"{owner}.load_state_dict expects the dict returned by `state_dict()` with keys "
                f"'iterations', 'learning_rate' and 'torch'; received {state!r:.200}."
            )
        iterations = state["iterations"]
        if isinstance(iterations, torch.Tensor):
            iterations = int(iterations.item())
        if isinstance(iterations, bool) or not isinstance(iterations, numbers.Integral) or iterations < 0:
            raise ValueError(
                f"{owner}.load_state_dict: `iterations` must be a non-negative int; received "
                f"{iterations!r}."
            )
        self.iterations = int(iterations)
        if state["learning_rate"] is not None:
            self._set_learning_rate(state["learning_rate"])
        EMA.restore(self, state)
        if state["torch"] is not None:
            if self._torch_optimizer is None:
                self._pending_torch_state = state["torch"]
            else:
                self._load_torch_state(state["torch"])
        elif self._torch_optimizer is not None:
            self._apply_lr(self.learning_rate)

    # ------------------------------------------------------------------ config
    def get_config(self) -> dict:
        if self._schedule is None:
            learning_rate = self._lr
        elif isinstance(self._schedule, _schedules.LearningRateSchedule):
            learning_rate = _schedules.serialize(self._schedule)
        else:
            raise TypeError(
                f"{type(self).__name__} {self.name!r} uses the plain callable {self._schedule!r} as "
                "learning rate, which cannot be serialized: subclass "
                "deepnet.optimizers.schedules.LearningRateSchedule and implement get_config()."
            )
        return {
            "name": self.name,
            "learning_rate": learning_rate,
            "weight_decay": self.weight_decay,
            "clipnorm": self.clipnorm,
            "global_clipnorm": self.global_clipnorm,
            "clipvalue": self.clipvalue,
            "use_ema": self.use_ema,
            "ema_momentum": self.ema_momentum,
            "ema_overwrite_frequency": self.ema_overwrite_frequency,
            "loss_scale_factor": self.loss_scale_factor,
            "gradient_accumulation_steps": self.gradient_accumulation_steps,
            **self._algorithm_config(),
        }

    @classmethod
    def from_config(cls, config: dict, custom_objects: dict | None = None):
        config = dict(config)
        if isinstance(config.get("learning_rate"), dict):
            config["learning_rate"] = _schedules.deserialize(config["learning_rate"], custom_objects)
        return cls(**config)

    def __repr__(self) -> str:
        lr = self._schedule if self._schedule is not None else self._lr
        built = f", implementation={self.implementation!r}" if self.implementation else ""
        return f"{type(self).__name__}(name={self.name!r}, learning_rate={lr!r}{built})"
