"""Keras 3's Adafactor, Ftrl, Lamb, Muon and ScheduleFreeAdamW: arguments and defaults as Keras
3.15, each on a deepnet torch kernel (``_more_kernels``)."""

from __future__ import annotations

from ..utils.validation import Boolean, Integral, Interval, NoneOr, Real, validate_params
from ._more_kernels import TorchAdafactor, TorchFtrl, TorchLamb, TorchMuon, TorchScheduleFree
from .base import Optimizer

__all__ = ["Adafactor", "Ftrl", "Lamb", "Muon", "ScheduleFreeAdamW"]

_BOOL = Boolean()
_BETA = Interval(Real, 0, 1, closed="left")
_FRACTION = Interval(Real, 0, 1)
_NON_NEGATIVE = Interval(Real, 0, None)
_NON_POSITIVE = Interval(Real, None, 0)
_POSITIVE = Interval(Real, 0, None, closed="neither")
_REAL = Interval(Real, None, None)


def _base_args(learning_rate, weight_decay, clipnorm, clipvalue, global_clipnorm, name):
    return {"learning_rate": learning_rate, "weight_decay": weight_decay, "clipnorm": clipnorm,
            "clipvalue": clipvalue, "global_clipnorm": global_clipnorm, "name": name}


class Adafactor(Optimizer):
    """Adafactor: memory-light Adam-like optimizer with factored second moments (Keras 3).

    Tensors of rank >= 2 keep row and column averages of the squared gradient over their last
    two axes instead of a full second moment; the step is relative to the weights' RMS.
    ``clip_threshold`` (the update's RMS limit) is independent of ``clipnorm``/``clipvalue``.
    ``relative_step`` is stored as Keras does (the step size is ``min(learning_rate,
    1/sqrt(t))`` either way).

    >>> w = torch.nn.Parameter(torch.ones(2, 2))
    >>> opt = dn.optimizers.Adafactor(learning_rate=0.1)
    >>> opt.apply([torch.ones(2, 2)], [w])
    >>> round(w[0, 0].item(), 4)  # 1 - max(1e-3, rms(w)) * min(0.1, 1) * 1
    0.9
    """

    @validate_params({"beta_2_decay": _REAL, "epsilon_1": _NON_NEGATIVE, "epsilon_2": _NON_NEGATIVE,
                      "clip_threshold": _POSITIVE, "relative_step": _BOOL})
    def __init__(self, learning_rate=0.001, beta_2_decay=-0.8, epsilon_1=1e-30, epsilon_2=1e-3,
                 clip_threshold=1.0, relative_step=True, weight_decay=None, clipnorm=None,
                 clipvalue=None, global_clipnorm=None, name=None, **kwargs):
        super().__init__(**_base_args(learning_rate, weight_decay, clipnorm, clipvalue,
                                      global_clipnorm, name), **kwargs)
        self.beta_2_decay = beta_2_decay
        self.epsilon_1 = epsilon_1
        self.epsilon_2 = epsilon_2
        self.clip_threshold = clip_threshold
        self.relative_step = relative_step

    def _torch_factory(self):
        return TorchAdafactor, {"beta_2_decay": self.beta_2_decay, "epsilon_1": self.epsilon_1,
                                "epsilon_2": self.epsilon_2, "clip_threshold": self.clip_threshold}

    def _algorithm_config(self):
        return {"beta_2_decay": self.beta_2_decay, "epsilon_1": self.epsilon_1,
                "epsilon_2": self.epsilon_2, "clip_threshold": self.clip_threshold,
                "relative_step": self.relative_step}


class Ftrl(Optimizer):
    """FTRL-proximal (follow the regularized leader), Keras 3's arguments and formula.

    >>> w = torch.nn.Parameter(torch.tensor([1.0]))
    >>> opt = dn.optimizers.Ftrl(learning_rate=0.1)
    >>> opt.apply([torch.tensor([2.0])], [w])
    >>> round(w.item(), 4)
    0.7451
    """

    @validate_params({"learning_rate_power": _NON_POSITIVE, "initial_accumulator_value": _NON_NEGATIVE,
                      "l1_regularization_strength": _NON_NEGATIVE,
                      "l2_regularization_strength": _NON_NEGATIVE,
                      "l2_shrinkage_regularization_strength": _NON_NEGATIVE, "beta": _REAL})
    def __init__(self, learning_rate=0.001, learning_rate_power=-0.5, initial_accumulator_value=0.1,
                 l1_regularization_strength=0.0, l2_regularization_strength=0.0,
                 l2_shrinkage_regularization_strength=0.0, beta=0.0, weight_decay=None,
                 clipnorm=None, clipvalue=None, global_clipnorm=None, name=None, **kwargs):
        super().__init__(**_base_args(learning_rate, weight_decay, clipnorm, clipvalue,
                                      global_clipnorm, name), **kwargs)
        self.learning_rate_power = learning_rate_power
        self.initial_accumulator_value = initial_accumulator_value
        self.l1_regularization_strength = l1_regularization_strength
        self.l2_regularization_strength = l2_regularization_strength
        self.l2_shrinkage_regularization_strength = l2_shrinkage_regularization_strength
        self.beta = beta

    def _torch_factory(self):
        return TorchFtrl, self._algorithm_config()

    def _algorithm_config(self):
        return {"learning_rate_power": self.learning_rate_power,
                "initial_accumulator_value": self.initial_accumulator_value,
                "l1_regularization_strength": self.l1_regularization_strength,
                "l2_regularization_strength": self.l2_regularization_strength,
                "l2_shrinkage_regularization_strength": self.l2_shrinkage_regularization_strength,
                "beta": self.beta}


class Lamb(Optimizer):
    """LAMB: Adam with a per-tensor trust ratio ``||w|| / ||update||`` (Keras 3).

    >>> w = torch.nn.Parameter(torch.tensor([3.0, 4.0]))
    >>> opt = dn.optimizers.Lamb(learning_rate=0.1)
    >>> opt.apply([torch.tensor([1.0, 1.0])], [w])
    >>> [round(x, 3) for x in w.tolist()]  # the step is 0.1 * ||w|| / sqrt(2) per element
    [2.646, 3.646]
    """

    @validate_params({"beta_1": _BETA, "beta_2": _BETA, "epsilon": _NON_NEGATIVE})
    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7,
                 weight_decay=None, clipnorm=None, clipvalue=None, global_clipnorm=None, name=None,
                 **kwargs):
        super().__init__(**_base_args(learning_rate, weight_decay, clipnorm, clipvalue,
                                      global_clipnorm, name), **kwargs)
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon

    def _torch_factory(self):
        return TorchLamb, {"betas": (self.beta_1, self.beta_2), "eps": self.epsilon}

    def _algorithm_config(self):
        return {"beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon}


class ScheduleFreeAdamW(Optimizer):
    """Schedule-free AdamW (Keras 3): no learning-rate schedule needed; the weights are an
    interpolation of the fast iterate and its running average. ``warmup_steps`` ramps the rate
    linearly.

    >>> w = torch.nn.Parameter(torch.tensor([1.0]))
    >>> opt = dn.optimizers.ScheduleFreeAdamW(learning_rate=0.1)
    >>> opt.apply([torch.tensor([2.0])], [w])
    >>> round(w.item(), 4)
    0.9
    """

    @validate_params({"beta_1": _BETA, "beta_2": _BETA, "epsilon": _NON_NEGATIVE,
                      "warmup_steps": Interval(Integral, 0, None)})
    def __init__(self, learning_rate=0.0025, beta_1=0.9, beta_2=0.999, epsilon=1e-8,
                 warmup_steps=0, weight_decay=None, clipnorm=None, clipvalue=None,
                 global_clipnorm=None, name=None, **kwargs):
        super().__init__(**_base_args(learning_rate, weight_decay, clipnorm, clipvalue,
                                      global_clipnorm, name), **kwargs)
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.warmup_steps = warmup_steps

    def _torch_factory(self):
        return TorchScheduleFree, {"betas": (self.beta_1, self.beta_2), "eps": self.epsilon,
                                   "warmup_steps": self.warmup_steps}

    def build(self, params) -> None:
        super().build(params)
        self._torch_optimizer.init_state()  # z starts at the weights before any decay, as Keras

    def _algorithm_config(self):
        return {"beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon,
                "warmup_steps": self.warmup_steps}


class Muon(Optimizer):
    """Muon (Keras 3): 2-D weights take momentum orthogonalised by Newton-Schulz iterations;
    other weights, embeddings (``exclude_embeddings``) and those whose ``path`` matches a
    regular expression of ``exclude_layers`` take AdamW at ``learning_rate * adam_lr_ratio``
    with ``adam_weight_decay``. ``weight_decay`` applies to the Muon weights.

    >>> layer = dn.layers.Dense(3)
    >>> _ = layer(torch.zeros(1, 4))
    >>> opt = dn.optimizers.Muon(learning_rate=0.01)
    >>> opt.apply([torch.ones_like(w) for w in layer.trainable_weights], layer.trainable_weights)
    >>> opt.iterations
    1
    """

    _torch_applies_decay = True

    # long argument list mirrors Keras' signature
    @validate_params({"adam_beta_1": _BETA, "adam_beta_2": _BETA, "adam_weight_decay": _NON_NEGATIVE,
                      "epsilon": _NON_NEGATIVE, "exclude_layers": None,
                      "exclude_embeddings": _BOOL, "muon_a": _REAL, "muon_b": _REAL, "muon_c": _REAL,
                      "adam_lr_ratio": _POSITIVE, "momentum": _FRACTION,
                      "ns_steps": Interval(Integral, 0, None), "nesterov": _BOOL,
                      "rms_rate": NoneOr(_POSITIVE)})
    def __init__(self, learning_rate=0.001, adam_beta_1=0.9, adam_beta_2=0.999,
                 adam_weight_decay=0.004, epsilon=1e-7, weight_decay=0.004, clipnorm=None,
                 clipvalue=None, global_clipnorm=None, name=None, exclude_layers=None,
                 exclude_embeddings=True, muon_a=3.4445, muon_b=-4.7750, muon_c=2.0315,
                 adam_lr_ratio=1, momentum=0.95, ns_steps=5, nesterov=True, rms_rate=0.2,
                 **kwargs):
        super().__init__(**_base_args(learning_rate, weight_decay, clipnorm, clipvalue,
                                      global_clipnorm, name), **kwargs)
        layers = [] if exclude_layers is None else exclude_layers
        if isinstance(layers, str) or not all(isinstance(x, str) for x in layers):
            raise TypeError("Received an invalid value for `exclude_layers` of Muon, expected a list of "
                            f"regular expressions (str) or None. Received: exclude_layers={exclude_layers!r}")
        self.adam_beta_1, self.adam_beta_2 = adam_beta_1, adam_beta_2
        self.adam_weight_decay = adam_weight_decay
        self.epsilon = epsilon
        self.exclude_layers = list(layers)
        self.exclude_embeddings = exclude_embeddings
        self.muon_a, self.muon_b, self.muon_c = muon_a, muon_b, muon_c
        self.adam_lr_ratio = adam_lr_ratio
        self.momentum = momentum
        self.ns_steps = ns_steps
        self.nesterov = nesterov
        self.rms_rate = rms_rate

    def _torch_factory(self):
        return TorchMuon, {
            "adam_betas": (self.adam_beta_1, self.adam_beta_2), "eps": self.epsilon,
            "weight_decay": self.weight_decay or 0.0, "adam_weight_decay": self.adam_weight_decay or 0.0,
            "exclude_layers": list(self.exclude_layers), "exclude_embeddings": self.exclude_embeddings,
            "muon_coefficients": (self.muon_a, self.muon_b, self.muon_c),
            "adam_lr_ratio": self.adam_lr_ratio, "momentum": self.momentum,
            "ns_steps": self.ns_steps, "nesterov": self.nesterov, "rms_rate": self.rms_rate}

    def _exempt_groups(self) -> None:
        """Variables exempt from decay (``exclude_from_weight_decay``) skip both decays."""
        exempt = {id(p) for p, d in zip(self._params, self._decays(self._params)) if not d}
        for group in self._torch_optimizer.param_groups:
            if group["params"] and all(id(p) in exempt for p in group["params"]):
                group["weight_decay"] = group["adam_weight_decay"] = 0.0

    def build(self, params) -> None:
        super().build(params)
        self._exempt_groups()

    def _load_torch_state(self, state: dict) -> None:
        super()._load_torch_state(state)
        self._exempt_groups()

    def _algorithm_config(self):
        return {"adam_beta_1": self.adam_beta_1, "adam_beta_2": self.adam_beta_2,
                "epsilon": self.epsilon, "exclude_layers": list(self.exclude_layers),
                "muon_a": self.muon_a, "muon_b": self.muon_b, "muon_c": self.muon_c,
                "adam_lr_ratio": self.adam_lr_ratio, "momentum": self.momentum,
                "ns_steps": self.ns_steps, "nesterov": self.nesterov,
                "exclude_embeddings": self.exclude_embeddings,
                "adam_weight_decay": self.adam_weight_decay, "rms_rate": self.rms_rate}
