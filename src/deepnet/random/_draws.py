"""The draws of :mod:`deepnet.random`, each under a forked, seeded torch RNG when seeded."""

from __future__ import annotations

import contextlib
import math

import torch

from ..utils.dtypes import to_torch_dtype
from ._seed_generator import draw_seed

__all__ = ["beta", "binomial", "categorical", "dropout", "gamma", "normal", "randint", "shuffle",
           "truncated_normal", "uniform"]


@contextlib.contextmanager
def _rng(seed):
    """Run the block on torch's CPU generator, seeded (and restored afterwards) when seeded."""
    value = draw_seed(seed)
    if value is None:
        yield
        return
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(value)
        yield


def _shape(shape) -> tuple:
    if isinstance(shape, int):
        return (shape,)
    return tuple(int(s) for s in shape)


def normal(shape, mean=0.0, stddev=1.0, dtype=None, seed=None):
    """Samples of a normal distribution (mean ``mean``, standard deviation ``stddev``).

    >>> dn.random.normal((2, 3), seed=0).shape
    torch.Size([2, 3])
    """
    with _rng(seed):
        return torch.randn(_shape(shape), dtype=to_torch_dtype(dtype)) * stddev + mean


def uniform(shape, minval=0.0, maxval=1.0, dtype=None, seed=None):
    """Samples of a uniform distribution on ``[minval, maxval)``.

    >>> bool(((dn.random.uniform((100,), 2, 3, seed=0) - 2.5).abs() <= 0.5).all())
    True
    """
    with _rng(seed):
        return torch.rand(_shape(shape), dtype=to_torch_dtype(dtype)) * (maxval - minval) + minval


def truncated_normal(shape, mean=0.0, stddev=1.0, dtype=None, seed=None):
    """Normal samples redrawn until within two standard deviations of the mean (Keras' rule).

    >>> bool((dn.random.truncated_normal((1000,), seed=0).abs() <= 2).all())
    True
    """
    out = torch.empty(_shape(shape), dtype=to_torch_dtype(dtype))
    with _rng(seed):
        return torch.nn.init.trunc_normal_(out, mean, stddev, mean - 2 * stddev, mean + 2 * stddev)


def randint(shape, minval, maxval, dtype="int32", seed=None):
    """Integers drawn uniformly from ``[minval, maxval)``.

    >>> dn.random.randint((3,), 0, 1, seed=0).tolist()
    [0, 0, 0]
    """
    with _rng(seed):
        return torch.randint(int(minval), int(maxval), _shape(shape), dtype=to_torch_dtype(dtype))


def categorical(logits, num_samples, dtype="int32", seed=None):
    """``num_samples`` class ids per row of ``logits`` ``(batch, classes)``: ``(batch, num_samples)``.

    >>> dn.random.categorical(torch.tensor([[0.0, 50.0]]), 3, seed=0).tolist()
    [[1, 1, 1]]
    """
    probs = torch.softmax(torch.as_tensor(logits, dtype=torch.float32).cpu(), dim=-1)
    with _rng(seed):
        return torch.multinomial(probs, int(num_samples), replacement=True).to(to_torch_dtype(dtype))


def dropout(inputs, rate, noise_shape=None, seed=None):
    """Zero each entry with probability ``rate``, scale the rest by ``1 / (1 - rate)``.
    ``noise_shape`` (broadcast to the input) shares one draw along axes of size 1.

    >>> dn.random.dropout(torch.ones(4), 0.0, seed=0).tolist()
    [1.0, 1.0, 1.0, 1.0]
    """
    inputs = torch.as_tensor(inputs)
    if not 0 <= rate < 1:
        raise ValueError(f"dropout: `rate` must be in [0, 1); received rate={rate!r}.")
    shape = inputs.shape if noise_shape is None else tuple(
        d if n is None else int(n) for n, d in zip(noise_shape, inputs.shape))
    with _rng(seed):
        keep = (torch.rand(shape) >= rate).to(inputs.device)
    return torch.where(keep, inputs / (1 - rate), torch.zeros((), dtype=inputs.dtype, device=inputs.device))


def shuffle(x, axis=0, seed=None):
    """``x`` with its entries permuted along ``axis``.

    >>> sorted(dn.random.shuffle(torch.arange(5), seed=0).tolist())
    [0, 1, 2, 3, 4]
    """
    x = torch.as_tensor(x)
    with _rng(seed):
        order = torch.randperm(x.shape[axis])
    return x.index_select(axis, order.to(x.device))


def gamma(shape, alpha, dtype=None, seed=None):
    """Samples of a gamma distribution with concentration ``alpha`` (scale 1).

    >>> bool((dn.random.gamma((10,), 2.0, seed=0) > 0).all())
    True
    """
    dtype = to_torch_dtype(dtype)
    concentration = torch.full(_shape(shape), float(alpha), dtype=torch.float64)
    with _rng(seed):
        return torch._standard_gamma(concentration).to(dtype)


def beta(shape, alpha, beta, dtype=None, seed=None):  # noqa: A002 (Keras' argument name)
    """Samples of a beta distribution: ``X / (X + Y)`` with ``X ~ Gamma(alpha)``, ``Y ~ Gamma(beta)``.

    >>> bool(((dn.random.beta((10,), 2.0, 3.0, seed=0) - 0.5).abs() < 0.5).all())
    True
    """
    dtype = to_torch_dtype(dtype)
    size = _shape(shape)
    with _rng(seed):
        x = torch._standard_gamma(torch.full(size, float(alpha), dtype=torch.float64))
        y = torch._standard_gamma(torch.full(size, float(beta), dtype=torch.float64))
    return (x / (x + y)).to(dtype)


def binomial(shape, counts, probabilities, dtype=None, seed=None):
    """Number of successes in ``counts`` trials of probability ``probabilities`` (broadcast).

    >>> dn.random.binomial((3,), 5, 1.0, seed=0).tolist()
    [5.0, 5.0, 5.0]
    """
    size = _shape(shape)
    count = torch.broadcast_to(torch.as_tensor(counts, dtype=torch.float64), size)
    prob = torch.broadcast_to(torch.as_tensor(probabilities, dtype=torch.float64), size)
    if math.prod(size) and (prob.min() < 0 or prob.max() > 1):
        raise ValueError("binomial: `probabilities` must be in [0, 1].")
    with _rng(seed):
        return torch.binomial(count.contiguous(), prob.contiguous()).to(to_torch_dtype(dtype))
