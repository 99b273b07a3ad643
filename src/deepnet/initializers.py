"""Weight initializers with Keras 3 names, arguments and fan computations.

An initializer is called with a shape in **Keras layout** (e.g. a Conv2D kernel is
``(kh, kw, in, out)``) so fan-in / fan-out are the same as in Keras; layers convert the result
to their PyTorch layout. Random draws use PyTorch's global generator unless ``seed`` is given,
so :func:`deepnet.utils.set_random_seed` makes them reproducible.
"""

from __future__ import annotations

import math

import torch

from .utils.lookup import ConfigObject, resolve, serialize_object
from .utils.registry import register_public
from .utils.seeding import make_generator
from .utils.validation import (
    Integral,
    Interval,
    NoneOr,
    Options,
    Real,
    invalid_value,
    validate_params,
)

__all__ = [
    "Constant", "GlorotNormal", "GlorotUniform", "HeNormal", "HeUniform", "Identity",
    "Initializer", "LecunNormal", "LecunUniform", "Ones", "Orthogonal", "RandomNormal",
    "RandomUniform", "TruncatedNormal", "VarianceScaling", "Zeros", "get", "serialize",
]


def compute_fans(shape) -> tuple[float, float]:
    """Keras' fan rule: last axis is fan-out, the one before fan-in, the rest a receptive field.

    >>> dn.initializers.compute_fans((3, 3, 16, 32))  # a 3x3 Conv2D kernel, 16 -> 32 channels
    (144.0, 288.0)
    """
    shape = tuple(shape)
    if len(shape) == 0:
        return 1.0, 1.0
    if len(shape) == 1:
        return float(shape[0]), float(shape[0])
    if len(shape) == 2:
        return float(shape[0]), float(shape[1])
    receptive = math.prod(shape[:-2])
    return float(shape[-2] * receptive), float(shape[-1] * receptive)


_SEED = NoneOr(Interval(Integral, None, None, description="an int"))
_NUMBER = Interval(Real, None, None, description="a finite number", as_given=True)
_POSITIVE = Interval(Real, 0, None, closed="neither", description="a positive number", as_given=True)


class Initializer(ConfigObject):
    """Base class: ``init(shape, dtype=torch.float32) -> torch.Tensor``.

    Subclasses implement ``__call__`` and, when they take arguments, ``get_config``.

    >>> class Halves(dn.initializers.Initializer):
    ...     def __call__(self, shape, dtype=torch.float32):
    ...         return torch.full(tuple(shape), 0.5, dtype=dtype)
    >>> Halves()((2,))
    tensor([0.5000, 0.5000])
    """

    @validate_params({"seed": _SEED})
    def __init__(self, seed: int | None = None):
        self.seed = seed

    def _generator(self):
        return make_generator(self.seed)

    def __call__(self, shape, dtype=torch.float32) -> torch.Tensor:
        raise NotImplementedError

    def get_config(self) -> dict:
        return {"seed": self.seed}


class Zeros(Initializer):
    """All zeros (the default bias initializer).

    >>> dn.initializers.Zeros()((2, 2))
    tensor([[0., 0.],
            [0., 0.]])
    """

    def __init__(self):
        super().__init__(None)

    def __call__(self, shape, dtype=torch.float32):
        return torch.zeros(tuple(shape), dtype=dtype)

    def get_config(self):
        return {}


class Ones(Zeros):
    """All ones (the default ``gamma`` initializer of the normalisation layers).

    >>> dn.initializers.Ones()((3,))
    tensor([1., 1., 1.])
    """

    def __call__(self, shape, dtype=torch.float32):
        return torch.ones(tuple(shape), dtype=dtype)


class Constant(Initializer):
    """Every value equal to ``value``; ``get(0.5)`` builds one from a number.

    >>> dn.initializers.Constant(0.5)((2, 2))
    tensor([[0.5000, 0.5000],
            [0.5000, 0.5000]])
    """

    @validate_params({"value": _NUMBER})
    def __init__(self, value=0.0):
        super().__init__(None)
        self.value = value

    def __call__(self, shape, dtype=torch.float32):
        return torch.full(tuple(shape), float(self.value), dtype=dtype)

    def get_config(self):
        return {"value": self.value}


class RandomNormal(Initializer):
    """Normal draws with mean ``mean`` and standard deviation ``stddev``; ``seed`` fixes them.

    >>> init = dn.initializers.RandomNormal(stddev=0.1, seed=1)
    >>> init((2, 3)).shape, torch.equal(init((2, 3)), init((2, 3)))
    (torch.Size([2, 3]), True)
    """

    @validate_params({"mean": _NUMBER, "stddev": _POSITIVE, "seed": _SEED})
    def __init__(self, mean=0.0, stddev=0.05, seed=None):
        super().__init__(seed)
        self.mean, self.stddev = mean, stddev

    def __call__(self, shape, dtype=torch.float32):
        t = torch.empty(tuple(shape), dtype=dtype)
        return t.normal_(self.mean, self.stddev, generator=self._generator())

    def get_config(self):
        return {"mean": self.mean, "stddev": self.stddev, "seed": self.seed}


class TruncatedNormal(RandomNormal):
    """Normal draws re-drawn beyond two standard deviations (as Keras).

    >>> w = dn.initializers.TruncatedNormal(stddev=1.0, seed=0)((1000,))
    >>> bool(w.abs().max() <= 2.0)
    True
    """

    def __call__(self, shape, dtype=torch.float32):
        t = torch.empty(tuple(shape), dtype=dtype)
        return _truncated_normal_(t, self.mean, self.stddev, self._generator())


class RandomUniform(Initializer):
    """Uniform draws in ``[minval, maxval)``.

    >>> w = dn.initializers.RandomUniform(minval=-1.0, maxval=1.0, seed=0)((100,))
    >>> bool(w.min() >= -1.0 and w.max() < 1.0)
    True
    """

    @validate_params({"minval": _NUMBER, "maxval": _NUMBER, "seed": _SEED})
    def __init__(self, minval=-0.05, maxval=0.05, seed=None):
        super().__init__(seed)
        if maxval <= minval:
            raise invalid_value(self, "maxval", maxval, f"a number greater than minval ({minval})")
        self.minval, self.maxval = minval, maxval

    def __call__(self, shape, dtype=torch.float32):
        t = torch.empty(tuple(shape), dtype=dtype)
        return t.uniform_(self.minval, self.maxval, generator=self._generator())

    def get_config(self):
        return {"minval": self.minval, "maxval": self.maxval, "seed": self.seed}


def _truncated_normal_(t: torch.Tensor, mean: float, std: float, generator) -> torch.Tensor:
    with torch.no_grad():
        t.normal_(0.0, 1.0, generator=generator)
        if t.is_meta:  # no values to redraw (shape-only tensors, e.g. under torch.device("meta"))
            return t
        bad = t.abs() > 2.0
        while bool(bad.any()):
            t[bad] = torch.empty(int(bad.sum()), dtype=t.dtype).normal_(0.0, 1.0, generator=generator)
            bad = t.abs() > 2.0
        return t.mul_(std).add_(mean)


class VarianceScaling(Initializer):
    """Draws scaled to the fans: variance ``scale / n`` with ``n`` chosen by ``mode``.

    ``mode`` is ``"fan_in"``, ``"fan_out"`` or ``"fan_avg"``; ``distribution`` is
    ``"truncated_normal"``, ``"untruncated_normal"`` or ``"uniform"`` (limit ``sqrt(3 * scale / n)``).

    >>> init = dn.initializers.VarianceScaling(scale=2.0, distribution="uniform", seed=0)
    >>> bool(init((100, 10)).abs().max() <= (3 * 2.0 / 100) ** 0.5)
    True
    """

    _MODES = ("fan_in", "fan_out", "fan_avg")
    _DISTRIBUTIONS = ("truncated_normal", "untruncated_normal", "uniform")

    @validate_params({"scale": _POSITIVE, "mode": Options(_MODES),
                      "distribution": Options((*_DISTRIBUTIONS, "normal")), "seed": _SEED})
    def __init__(self, scale=1.0, mode="fan_in", distribution="truncated_normal", seed=None):
        super().__init__(seed)
        if distribution == "normal":
            distribution = "truncated_normal"
        self.scale, self.mode, self.distribution = scale, mode, distribution

    def __call__(self, shape, dtype=torch.float32):
        fan_in, fan_out = compute_fans(shape)
        n = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2.0}[self.mode]
        scale = self.scale / max(1.0, n)
        t = torch.empty(tuple(shape), dtype=dtype)
        gen = self._generator()
        if self.distribution == "truncated_normal":
            # 0.879... is the std of a unit normal truncated at two standard deviations.
            return _truncated_normal_(t, 0.0, math.sqrt(scale) / 0.87962566103423978, gen)
        if self.distribution == "untruncated_normal":
            return t.normal_(0.0, math.sqrt(scale), generator=gen)
        limit = math.sqrt(3.0 * scale)
        return t.uniform_(-limit, limit, generator=gen)

    def get_config(self):
        return {"scale": self.scale, "mode": self.mode, "distribution": self.distribution, "seed": self.seed}


def _preset(name: str, scale: float, mode: str, distribution: str) -> type:
    @validate_params({"seed": _SEED})
    def __init__(self, seed=None):
        VarianceScaling.__init__(self, scale, mode, distribution, seed)

    def get_config(self):
        return {"seed": self.seed}

    return type(name, (VarianceScaling,), {"__init__": __init__, "get_config": get_config,
                                           "__doc__": _preset_doc(name, scale, mode, distribution)})


def _preset_doc(name: str, scale: float, mode: str, distribution: str) -> str:
    return (
        f"VarianceScaling(scale={scale}, mode={mode!r}, distribution={distribution!r}).\n\n"
        f"    >>> dn.initializers.{name}(seed=0)((4, 3)).shape\n"
        "    torch.Size([4, 3])\n"
    )


GlorotUniform = _preset("GlorotUniform", 1.0, "fan_avg", "uniform")
GlorotNormal = _preset("GlorotNormal", 1.0, "fan_avg", "truncated_normal")
HeUniform = _preset("HeUniform", 2.0, "fan_in", "uniform")
HeNormal = _preset("HeNormal", 2.0, "fan_in", "truncated_normal")
LecunUniform = _preset("LecunUniform", 1.0, "fan_in", "uniform")
LecunNormal = _preset("LecunNormal", 1.0, "fan_in", "truncated_normal")
for _cls in (GlorotUniform, GlorotNormal, HeUniform, HeNormal, LecunUniform, LecunNormal):
    _cls.__module__ = __name__


class Orthogonal(Initializer):
    """A (semi-)orthogonal matrix times ``gain``, from the QR decomposition of normal draws.

    >>> w = dn.initializers.Orthogonal(seed=0)((3, 3))
    >>> torch.allclose(w @ w.T, torch.eye(3), atol=1e-6)
    True
    """

    @validate_params({"gain": _NUMBER, "seed": _SEED})
    def __init__(self, gain=1.0, seed=None):
        super().__init__(seed)
        self.gain = gain

    def __call__(self, shape, dtype=torch.float32):
        shape = tuple(shape)
        if len(shape) < 2:
            raise ValueError(f"Orthogonal initializer needs a shape of rank >= 2; received shape {shape}.")
        rows, cols = math.prod(shape[:-1]), shape[-1]
        flat = torch.empty(max(rows, cols), min(rows, cols), dtype=torch.float64)
        flat.normal_(0.0, 1.0, generator=self._generator())
        q, r = torch.linalg.qr(flat)
        q = q * torch.sign(torch.diagonal(r))
        if rows < cols:
            q = q.T
        return (self.gain * q[:rows, :cols]).reshape(shape).to(dtype)

    def get_config(self):
        return {"gain": self.gain, "seed": self.seed}


class Identity(Initializer):
    """``gain`` times the identity matrix (2-D shapes only).

    >>> dn.initializers.Identity(gain=2.0)((2, 3))
    tensor([[2., 0., 0.],
            [0., 2., 0.]])
    """

    @validate_params({"gain": _NUMBER})
    def __init__(self, gain=1.0):
        super().__init__(None)
        self.gain = gain

    def __call__(self, shape, dtype=torch.float32):
        shape = tuple(shape)
        if len(shape) != 2:
            raise ValueError(f"Identity initializer needs a 2-D shape; received shape {shape}.")
        return self.gain * torch.eye(*shape, dtype=dtype)

    def get_config(self):
        return {"gain": self.gain}


_CLASSES = (
    Zeros, Ones, Constant, RandomNormal, RandomUniform, TruncatedNormal, VarianceScaling,
    GlorotUniform, GlorotNormal, HeUniform, HeNormal, LecunUniform, LecunNormal, Orthogonal, Identity,
)
_TABLE: dict = {cls.__name__: cls for cls in _CLASSES}
_TABLE.update({
    "zeros": Zeros, "ones": Ones, "constant": Constant, "random_normal": RandomNormal,
    "random_uniform": RandomUniform, "truncated_normal": TruncatedNormal,
    "uniform": RandomUniform, "normal": RandomNormal,
    "variance_scaling": VarianceScaling, "glorot_uniform": GlorotUniform,
    "glorot_normal": GlorotNormal, "he_uniform": HeUniform, "he_normal": HeNormal,
    "lecun_uniform": LecunUniform, "lecun_normal": LecunNormal, "orthogonal": Orthogonal,
    "identity": Identity,
})


def get(identifier, argument: str = "initializer"):
    """Resolve a name, config dict, :class:`Initializer` or callable ``f(shape, dtype)``.

    >>> dn.initializers.get("he_normal"), dn.initializers.get(0.5)
    (HeNormal(seed=None), Constant(value=0.5))
    """
    if isinstance(identifier, (int, float)) and not isinstance(identifier, bool):
        if not math.isfinite(identifier):
            raise ValueError(f"Received an invalid value for `{argument}`, expected an initializer name, "
                             f"config, Initializer, callable or a finite number. Received: {argument}={identifier!r}")
        return Constant(identifier)
    return resolve(identifier, _TABLE, "initializer", argument)


def serialize(initializer):
    """Config dict of an initializer, as stored in a model file; ``get`` reads it back.

    >>> dn.initializers.serialize(dn.initializers.GlorotUniform(seed=3))
    {'class_name': 'GlorotUniform', 'config': {'seed': 3}}
    """
    return serialize_object(initializer, _TABLE)


register_public("initializer", Initializer, globals())  # the registry kind, declared by its owner
