"""The optimizers: Keras 3 names, arguments and defaults, each mapped onto a torch implementation.

See docs/optimizers.md for the torch class behind each one, its kernel (fused or foreach) and
where the numerics differ from Keras.
"""

from __future__ import annotations

import inspect
import math

import torch

from ..utils.validation import Boolean, Interval, Real, validate_params
from ._kernels import KerasAdamax, KerasRMSprop
from ._kernels import Lion as _TorchLion
from .base import Optimizer

_BOOL = Boolean()
_FRACTION = Interval(Real, 0, 1)
_BETA = Interval(Real, 0, 1, closed="left")
_LION_BETA = Interval(Real, 0, 1, closed="right")
_NON_NEGATIVE = Interval(Real, 0, None)

__all__ = [
    "SGD",
    "Adadelta",
    "Adagrad",
    "Adam",
    "AdamW",
    "Adamax",
    "Lion",
    "Nadam",
    "RMSprop",
    "TorchOptimizer",
]


class SGD(Optimizer):
    """Stochastic gradient descent with optional (Nesterov) momentum.

    torch.optim.SGD (fused kernel on CPU/CUDA). Keras' velocity update ``v = momentum * v - lr * g``
    equals torch's ``b = momentum * b + g; w -= lr * b`` while the learning rate is constant.

    >>> w = torch.nn.Parameter(torch.tensor([1.0]))
    >>> opt = dn.optimizers.SGD(learning_rate=0.1)
    >>> opt.build([w]); w.grad = torch.tensor([2.0]); opt.step()
    >>> w.data  # 1 - 0.1 * 2
    tensor([0.8000])
    """

    @validate_params({"momentum": _FRACTION, "nesterov": _BOOL})
    def __init__(self, learning_rate=0.01, momentum=0.0, nesterov=False, weight_decay=None,
                 clipnorm=None, clipvalue=None, global_clipnorm=None, name=None, **kwargs):
        super().__init__(learning_rate=learning_rate, weight_decay=weight_decay, clipnorm=clipnorm,
                         clipvalue=clipvalue, global_clipnorm=global_clipnorm, name=name, **kwargs)
        self.momentum = momentum
        self.nesterov = nesterov

    def _torch_factory(self):
        # torch rejects nesterov without momentum; Keras treats it as plain SGD.
        return torch.optim.SGD, {"momentum": self.momentum,
                                 "nesterov": self.nesterov and self.momentum > 0}

    def _algorithm_config(self):
        return {"momentum": self.momentum, "nesterov": self.nesterov}


class Adam(Optimizer):
    """Adam (Kingma & Ba), optional AMSGrad.

    torch.optim.Adam, or torch.optim.AdamW when ``weight_decay`` is set (Keras 3 decay is
    decoupled); fused kernel on CPU/CUDA. Keras adds ``epsilon`` to ``sqrt(v)`` before the bias
    correction, torch after it: the two agree when torch gets ``epsilon / sqrt(1 - beta_2 ** t)``
    at step ``t``, which :meth:`step` sets before each update.

    >>> w = torch.nn.Parameter(torch.tensor([1.0]))
    >>> opt = dn.optimizers.Adam(learning_rate=0.1)
    >>> opt.build([w]); w.grad = torch.tensor([2.0]); opt.step()
    >>> w.data  # the first step moves by the learning rate
    tensor([0.9000])
    """

    _torch_applies_decay = True

    @validate_params({"beta_1": _BETA, "beta_2": _BETA, "epsilon": _NON_NEGATIVE, "amsgrad": _BOOL})
    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7, amsgrad=False,
                 weight_decay=None, clipnorm=None, clipvalue=None, global_clipnorm=None, name=None,
                 **kwargs):
        super().__init__(learning_rate=learning_rate, weight_decay=weight_decay, clipnorm=clipnorm,
                         clipvalue=clipvalue, global_clipnorm=global_clipnorm, name=name, **kwargs)
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.amsgrad = amsgrad

    def step(self) -> None:
        # Keras: w -= lr * sqrt(1 - b2^t) / (1 - b1^t) * m / (sqrt(v) + eps). Torch:
        # w -= lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps_t); multiplying torch's
        # numerator and denominator by sqrt(1 - b2^t) shows they agree for
        # eps_t = eps / sqrt(1 - b2^t) (t = the step about to be taken).
        if self._torch_optimizer is not None:
            eps = self.epsilon / math.sqrt(1.0 - self.beta_2 ** (self.iterations + 1))
            for group in self._torch_optimizer.param_groups:
                group["eps"] = eps
        super().step()

    def _torch_factory(self):
        kwargs = {"betas": (self.beta_1, self.beta_2), "eps": self.epsilon, "amsgrad": self.amsgrad}
        if self.weight_decay:
            return torch.optim.AdamW, {**kwargs, "weight_decay": self.weight_decay}
        return torch.optim.Adam, kwargs

    def _algorithm_config(self):
        return {"beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon,
                "amsgrad": self.amsgrad}


class AdamW(Adam):
    """Adam with decoupled weight decay (default 0.004, Keras'): torch.optim.AdamW, fused.

    >>> w = torch.nn.Parameter(torch.tensor([1.0]))
    >>> opt = dn.optimizers.AdamW(learning_rate=0.1, weight_decay=0.5)
    >>> opt.build([w]); w.grad = torch.tensor([2.0]); opt.step()
    >>> w.data  # decay 1 * 0.5 * 0.1, then the Adam step
    tensor([0.8500])
    """

    def __init__(self, learning_rate=0.001, weight_decay=0.004, beta_1=0.9, beta_2=0.999,
                 epsilon=1e-7, amsgrad=False, clipnorm=None, clipvalue=None, global_clipnorm=None,
                 name=None, **kwargs):
        if weight_decay is None:
            raise ValueError(
                "Received an invalid value for `weight_decay` of AdamW, expected a float >= 0. "
                "Received: weight_decay=None"
            )
        super().__init__(learning_rate=learning_rate, beta_1=beta_1, beta_2=beta_2, epsilon=epsilon,
                         amsgrad=amsgrad, weight_decay=weight_decay, clipnorm=clipnorm,
                         clipvalue=clipvalue, global_clipnorm=global_clipnorm, name=name, **kwargs)

    def _torch_factory(self):
        kwargs = {"betas": (self.beta_1, self.beta_2), "eps": self.epsilon, "amsgrad": self.amsgrad,
                  "weight_decay": self.weight_decay}
        return torch.optim.AdamW, kwargs


class RMSprop(Optimizer):
    """RMSprop with Keras' exact formula (epsilon inside the square root): deepnet's own foreach
    implementation (torch.optim.RMSprop adds epsilon outside the root and has no fused kernel).

    >>> w = torch.nn.Parameter(torch.tensor([1.0]))
    >>> opt = dn.optimizers.RMSprop(learning_rate=0.1)
    >>> opt.build([w]); w.grad = torch.tensor([2.0]); opt.step()
    >>> w.data  # 1 - 0.1 * 2 / sqrt(0.1 * 2 ** 2)
    tensor([0.6838])
    """

    @validate_params({"rho": _FRACTION, "momentum": _FRACTION, "epsilon": _NON_NEGATIVE,
                      "centered": _BOOL})
    def __init__(self, learning_rate=0.001, rho=0.9, momentum=0.0, epsilon=1e-7, centered=False,
                 weight_decay=None, clipnorm=None, clipvalue=None, global_clipnorm=None, name=None,
                 **kwargs):
        super().__init__(learning_rate=learning_rate, weight_decay=weight_decay, clipnorm=clipnorm,
                         clipvalue=clipvalue, global_clipnorm=global_clipnorm, name=name, **kwargs)
        self.rho = rho
        self.momentum = momentum
        self.epsilon = epsilon
        self.centered = centered

    def _torch_factory(self):
        return KerasRMSprop, {"alpha": self.rho, "eps": self.epsilon, "momentum": self.momentum,
                              "centered": self.centered}

    def _algorithm_config(self):
        return {"rho": self.rho, "momentum": self.momentum, "epsilon": self.epsilon,
                "centered": self.centered}


class Adagrad(Optimizer):
    """Adagrad: torch.optim.Adagrad (fused kernel on CPU/CUDA) with Keras' numerics.

    Keras divides by ``sqrt(accumulator + epsilon)``, torch by ``sqrt(accumulator) + eps``; the
    torch optimizer therefore starts its accumulator at ``initial_accumulator_value + epsilon``
    with ``eps=0``, which gives Keras' update exactly (its ``sum`` state holds Keras'
    accumulator plus ``epsilon``).

    >>> w = torch.nn.Parameter(torch.tensor([1.0]))
    >>> opt = dn.optimizers.Adagrad(learning_rate=0.1)
    >>> opt.build([w]); w.grad = torch.tensor([2.0]); opt.step()
    >>> w.data
    tensor([0.9012])
    """

    @validate_params({"initial_accumulator_value": _NON_NEGATIVE, "epsilon": _NON_NEGATIVE})
    def __init__(self, learning_rate=0.001, initial_accumulator_value=0.1, epsilon=1e-7,
                 weight_decay=None, clipnorm=None, clipvalue=None, global_clipnorm=None, name=None,
                 **kwargs):
        super().__init__(learning_rate=learning_rate, weight_decay=weight_decay, clipnorm=clipnorm,
                         clipvalue=clipvalue, global_clipnorm=global_clipnorm, name=name, **kwargs)
        self.initial_accumulator_value = initial_accumulator_value
        self.epsilon = epsilon

    def _torch_factory(self):
        return torch.optim.Adagrad, {
            "initial_accumulator_value": self.initial_accumulator_value + self.epsilon, "eps": 0.0}

    def _algorithm_config(self):
        return {"initial_accumulator_value": self.initial_accumulator_value,
                "epsilon": self.epsilon}


class Adadelta(Optimizer):
    """Adadelta: torch.optim.Adadelta (foreach; same formula as Keras).

    >>> w = torch.nn.Parameter(torch.tensor([1.0]))
    >>> opt = dn.optimizers.Adadelta(learning_rate=1.0)
    >>> opt.build([w]); w.grad = torch.tensor([2.0]); opt.step()
    >>> w.data
    tensor([0.9986])
    """

    @validate_params({"rho": _FRACTION, "epsilon": _NON_NEGATIVE})
    def __init__(self, learning_rate=0.001, rho=0.95, epsilon=1e-7, weight_decay=None,
                 clipnorm=None, clipvalue=None, global_clipnorm=None, name=None, **kwargs):
        super().__init__(learning_rate=learning_rate, weight_decay=weight_decay, clipnorm=clipnorm,
                         clipvalue=clipvalue, global_clipnorm=global_clipnorm, name=name, **kwargs)
        self.rho = rho
        self.epsilon = epsilon

    def _torch_factory(self):
        return torch.optim.Adadelta, {"rho": self.rho, "eps": self.epsilon}

    def _algorithm_config(self):
        return {"rho": self.rho, "epsilon": self.epsilon}


class Adamax(Optimizer):
    """Adamax (infinity-norm Adam) with Keras' formula: deepnet's own foreach implementation
    (torch.optim.Adamax adds epsilon inside the running maximum, Keras to the divisor).

    >>> w = torch.nn.Parameter(torch.tensor([1.0]))
    >>> opt = dn.optimizers.Adamax(learning_rate=0.1)
    >>> opt.build([w]); w.grad = torch.tensor([2.0]); opt.step()
    >>> w.data
    tensor([0.9000])
    """

    @validate_params({"beta_1": _BETA, "beta_2": _BETA, "epsilon": _NON_NEGATIVE})
    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7,
                 weight_decay=None, clipnorm=None, clipvalue=None, global_clipnorm=None, name=None,
                 **kwargs):
        super().__init__(learning_rate=learning_rate, weight_decay=weight_decay, clipnorm=clipnorm,
                         clipvalue=clipvalue, global_clipnorm=global_clipnorm, name=name, **kwargs)
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon

    def _torch_factory(self):
        return KerasAdamax, {"betas": (self.beta_1, self.beta_2), "eps": self.epsilon}

    def _algorithm_config(self):
        return {"beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon}


class Nadam(Optimizer):
    """Nesterov Adam: torch.optim.NAdam with ``momentum_decay=1.0`` (Keras 3's momentum schedule
    ``beta_1 * (1 - 0.5 * 0.96 ** t)``) and torch's decoupled decay (foreach).

    >>> w = torch.nn.Parameter(torch.tensor([1.0]))
    >>> opt = dn.optimizers.Nadam(learning_rate=0.1)
    >>> opt.build([w]); w.grad = torch.tensor([2.0]); opt.step()
    >>> w.data
    tensor([0.8937])
    """

    _torch_applies_decay = True

    @validate_params({"beta_1": _BETA, "beta_2": _BETA, "epsilon": _NON_NEGATIVE})
    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7,
                 weight_decay=None, clipnorm=None, clipvalue=None, global_clipnorm=None, name=None,
                 **kwargs):
        super().__init__(learning_rate=learning_rate, weight_decay=weight_decay, clipnorm=clipnorm,
                         clipvalue=clipvalue, global_clipnorm=global_clipnorm, name=name, **kwargs)
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon

    def _torch_factory(self):
        return torch.optim.NAdam, {"betas": (self.beta_1, self.beta_2), "eps": self.epsilon,
                                   "momentum_decay": 1.0, "weight_decay": self.weight_decay or 0.0,
                                   "decoupled_weight_decay": True}

    def _algorithm_config(self):
        return {"beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon}


class Lion(Optimizer):
    """Lion (sign of interpolated momentum): deepnet's own foreach torch optimizer.

    >>> w = torch.nn.Parameter(torch.tensor([1.0]))
    >>> opt = dn.optimizers.Lion(learning_rate=0.1)
    >>> opt.build([w]); w.grad = torch.tensor([2.0]); opt.step()
    >>> w.data  # moves by the learning rate times the sign
    tensor([0.9000])
    """

    @validate_params({"beta_1": _LION_BETA, "beta_2": _FRACTION})
    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.99, weight_decay=None,
                 clipnorm=None, clipvalue=None, global_clipnorm=None, name=None, **kwargs):
        super().__init__(learning_rate=learning_rate, weight_decay=weight_decay, clipnorm=clipnorm,
                         clipvalue=clipvalue, global_clipnorm=global_clipnorm, name=name, **kwargs)
        self.beta_1 = beta_1
        self.beta_2 = beta_2

    def _torch_factory(self):
        return _TorchLion, {"betas": (self.beta_1, self.beta_2)}

    def _algorithm_config(self):
        return {"beta_1": self.beta_1, "beta_2": self.beta_2}


def _torch_class_path(torch_class: type) -> str:
    if getattr(torch.optim, torch_class.__name__, None) is torch_class:
        return torch_class.__name__
    return f"{torch_class.__module__}.{torch_class.__qualname__}"


def _import_torch_class(path: str) -> type:
    """Resolve a torch optimizer class from a config WITHOUT importing anything: only classes
    in ``torch.optim`` (configs are data; a dotted path would import and run a module)."""
    cls = getattr(torch.optim, path, None) if isinstance(path, str) and "." not in path else None
    if not (isinstance(cls, type) and issubclass(cls, torch.optim.Optimizer)):
        raise ValueError(
            f"Could not find the torch optimizer class {path!r}: a config may only name a class in torch.optim "
            "(e.g. 'SGD'). help: pass the class object itself, TorchOptimizer(MyOptimizer, ...), in code."
        )
    return cls


class TorchOptimizer(Optimizer):
    """Any ``torch.optim.Optimizer`` class behind deepnet's optimizer API.

    ``TorchOptimizer(torch.optim.RAdam, learning_rate=1e-3, options={"betas": (0.9, 0.99)})``:
    ``options`` are passed to the torch constructor (use them for torch-style coupled
    ``weight_decay``); deepnet's ``weight_decay`` is Keras' decoupled decay. ``learning_rate``
    defaults to the torch class's default. ``fused=True`` is passed when the class supports it for
    the parameters, else ``foreach=True`` when accepted, unless ``options`` sets either.

    >>> w = torch.nn.Parameter(torch.tensor([1.0]))
    >>> opt = dn.optimizers.TorchOptimizer(torch.optim.SGD, learning_rate=0.1)
    >>> opt.build([w]); w.grad = torch.tensor([2.0]); opt.step()
    >>> w.data
    tensor([0.8000])
    """

    # optimizer_class (a class or a torch.optim name) and options (a dict) are checked below.
    @validate_params({"optimizer_class": None, "options": None})
    def __init__(self, optimizer_class, learning_rate=None, options=None, weight_decay=None,
                 clipnorm=None, clipvalue=None, global_clipnorm=None, name=None, **kwargs):
        if isinstance(optimizer_class, str):
            optimizer_class = _import_torch_class(optimizer_class)
        if not (isinstance(optimizer_class, type) and issubclass(optimizer_class, torch.optim.Optimizer)):
            raise TypeError(
                "Received an invalid value for `optimizer_class` of TorchOptimizer, expected a "
                f"torch.optim.Optimizer subclass. Received: optimizer_class={optimizer_class!r}"
            )
        if options is None:
            options = {}
        if not isinstance(options, dict) or "lr" in options or "params" in options:
            raise ValueError(
                "Received an invalid value for `options` of TorchOptimizer, expected a dict of torch "
                "constructor arguments without 'params' and 'lr' (use `learning_rate`). Received: "
                f"options={options!r}"
            )
        if learning_rate is None:
            default = inspect.signature(optimizer_class.__init__).parameters.get("lr")
            learning_rate = default.default if default is not None and isinstance(
                default.default, float) else 0.001
        self.optimizer_class = optimizer_class
        self.options = dict(options)
        super().__init__(learning_rate=learning_rate, weight_decay=weight_decay, clipnorm=clipnorm,
                         clipvalue=clipvalue, global_clipnorm=global_clipnorm, name=name, **kwargs)

    def _implementation_flags(self, torch_class, params):
        if "fused" in self.options or "foreach" in self.options:  # the user chose
            return ("fused" if self.options.get("fused") else "foreach"), {}
        return super()._implementation_flags(torch_class, params)

    def _torch_factory(self):
        return self.optimizer_class, dict(self.options)

    def _algorithm_config(self):
        return {"optimizer_class": _torch_class_path(self.optimizer_class), "options": self.options}
