"""Geometric image ops: ``map_coordinates`` (SciPy's order 0/1 with its fill modes), and the
affine, perspective and elastic transforms built on it."""

from __future__ import annotations

import functools
import itertools
import operator

import torch

from ._dispatch import as_tensor, keras_op
from ._dispatch import to_float as as_float
from ._image_filters import gaussian_blur
from ._nn_common import data_format_of


def _mirror(index, size):
    period = max(size - 1, 1)
    return torch.abs((index + period) % (2 * period) - period)


def _reflect(index, size):
    return torch.div(_mirror(2 * index + 1, 2 * size + 1) - 1, 2, rounding_mode="floor")


_FIXERS = {
    "constant": lambda i, n: torch.clamp(i, 0, n - 1),
    "nearest": lambda i, n: torch.clamp(i, 0, n - 1),
    "wrap": lambda i, n: i % n,
    "mirror": _mirror,
    "reflect": _reflect,
}


def _nodes(coordinate, order):
    """(index, weight) pairs of the 1-D interpolation at ``coordinate``."""
    if order == 0:
        rounded = coordinate if not coordinate.is_floating_point() else torch.round(coordinate)
        return [(rounded.long(), 1.0)]
    lower = torch.floor(coordinate)
    upper_weight = coordinate - lower
    return [(lower.long(), 1 - upper_weight), (lower.long() + 1, upper_weight)]


@keras_op
def map_coordinates(inputs, coordinates, order, fill_mode="constant", fill_value=0):
    """Samples ``inputs`` at ``coordinates`` (one array per input axis) with nearest (``order=0``)
    or linear (``order=1``) interpolation; outside points follow ``fill_mode``.

    >>> dn.ops.image.map_coordinates(torch.tensor([1.0, 3.0]), [torch.tensor([0.5])], 1)
    tensor([2.])
    """
    x = as_tensor(inputs)
    coords = [as_tensor(c) for c in coordinates]
    if len(coords) != x.ndim:
        raise ValueError(f"ops.image.map_coordinates needs one coordinate array per input axis "
                         f"({x.ndim}); received {len(coords)}.")
    if fill_mode not in _FIXERS:
        raise ValueError(f"ops.image.map_coordinates: `fill_mode` must be one of {sorted(_FIXERS)}. "
                         f"Received: fill_mode={fill_mode!r}")
    if order not in (0, 1):
        raise NotImplementedError("ops.image.map_coordinates supports order 0 and 1 (as Keras). "
                                  f"Received: order={order}")
    per_axis = []
    for coordinate, size in zip(coords, x.shape):
        per_axis.append([(_FIXERS[fill_mode](i, size), (i >= 0) & (i < size), w)
                         for i, w in _nodes(coordinate, order)])
    result = 0
    for items in itertools.product(*per_axis):
        indices, valid, weights = zip(*items)
        value = x[indices]
        if fill_mode == "constant":
            value = torch.where(functools.reduce(operator.and_, valid), value,
                                torch.as_tensor(fill_value, dtype=x.dtype))
        result = result + functools.reduce(operator.mul, weights) * value
    if not x.is_floating_point():
        result = torch.round(result) if torch.is_tensor(result) and result.is_floating_point() else result
    return result.to(x.dtype)


_ORDERS = {"nearest": 0, "bilinear": 1}


def _batched(images, data_format, op):
    x = as_float(images)
    if x.ndim not in (3, 4):
        raise ValueError(f"ops.image.{op} expects a 3-D image or a 4-D batch; received shape "
                         f"{tuple(x.shape)}.")
    single = x.ndim == 3
    x = x.unsqueeze(0) if single else x
    if data_format_of(data_format, op) == "channels_first":
        x = x.permute(0, 2, 3, 1)
    return x, single


def _unbatched(x, single, data_format):
    if data_format == "channels_first":
        x = x.permute(0, 3, 1, 2)
    return x.squeeze(0) if single else x


def _sample(x, y_in, x_in, interpolation, fill_mode, fill_value, op):
    """Samples each image of ``x`` (N, H, W, C) at per-pixel input coordinates (N, H, W)."""
    if interpolation not in _ORDERS:
        raise ValueError(f"ops.image.{op}: `interpolation` must be 'nearest' or 'bilinear'. "
                         f"Received: interpolation={interpolation!r}")
    channels = torch.arange(x.shape[-1], dtype=x.dtype, device=x.device)
    out = []
    for i in range(x.shape[0]):
        shape = (*y_in.shape[1:], x.shape[-1])
        coords = [y_in[i, ..., None].expand(shape), x_in[i, ..., None].expand(shape),
                  channels.expand(shape)]
        out.append(map_coordinates(x[i], coords, _ORDERS[interpolation], fill_mode, fill_value))
    return torch.stack(out)


@keras_op
def affine_transform(images, transform, interpolation="bilinear", fill_mode="constant",
                     fill_value=0, data_format=None):
    """Applies affine transforms ``[a0, a1, a2, b0, b1, b2, c0, c1]`` (per image or one for all):
    output pixel ``(x, y)`` takes the input at ``(a0 x + a1 y + a2, b0 x + b1 y + b2)``.

    >>> shift = torch.tensor([1.0, 0, 1, 0, 1, 0, 0, 0])
    >>> dn.ops.image.affine_transform(torch.arange(3.0).reshape(1, 3, 1), shift).flatten()
    tensor([1., 2., 0.])
    """
    x, single = _batched(images, data_format, "affine_transform")
    t = as_float(transform).to(x.dtype)
    t = t.unsqueeze(0).expand(x.shape[0], 8) if t.ndim == 1 else t
    h, w = x.shape[1], x.shape[2]
    ys, xs = torch.meshgrid(torch.arange(h, dtype=x.dtype, device=x.device),
                            torch.arange(w, dtype=x.dtype, device=x.device), indexing="ij")

    def coeff(k):
        return t[:, k, None, None]

    k = coeff(6) * xs + coeff(7) * ys + 1.0
    x_in = (coeff(0) * xs + coeff(1) * ys + coeff(2)) / k
    y_in = (coeff(3) * xs + coeff(4) * ys + coeff(5)) / k
    out = _sample(x, y_in, x_in, interpolation, fill_mode, fill_value, "affine_transform")
    return _unbatched(out, single, data_format_of(data_format, "affine_transform"))


def _homography(start, end):
    """The 8 coefficients of the projective map taking each ``end`` point to its ``start``."""
    rows = []
    for s_pt, e_pt in zip(start.unbind(-2), end.unbind(-2)):
        xs, ys, xe, ye = s_pt[..., 0], s_pt[..., 1], e_pt[..., 0], e_pt[..., 1]
        zero, one = torch.zeros_like(xs), torch.ones_like(xs)
        rows.append(torch.stack([xe, ye, one, zero, zero, zero, -xe * xs, -ye * xs], -1))
        rows.append(torch.stack([zero, zero, zero, xe, ye, one, -xe * ys, -ye * ys], -1))
    a = torch.stack(rows, -2)
    b = torch.stack([v for pt in start.unbind(-2) for v in pt.unbind(-1)], -1)
    return torch.linalg.solve(a, b.unsqueeze(-1)).squeeze(-1)


@keras_op
def perspective_transform(images, start_points, end_points, interpolation="bilinear",
                          fill_value=0, data_format=None):
    """Warps images so that the four ``start_points`` ``(x, y)`` land on ``end_points``.

    >>> pts = torch.tensor([[0.0, 0], [2, 0], [0, 2], [2, 2]])
    >>> dn.ops.image.perspective_transform(torch.ones(3, 3, 1), pts, pts).flatten()
    tensor([1., 1., 1., 1., 1., 1., 1., 1., 1.])
    """
    x, single = _batched(images, data_format, "perspective_transform")
    start = as_float(start_points).to(torch.float64)
    end = as_float(end_points).to(torch.float64)
    start = start.unsqueeze(0) if start.ndim == 2 else start
    end = end.unsqueeze(0) if end.ndim == 2 else end
    t = _homography(start, end).to(x.dtype).expand(x.shape[0], 8)
    transform = torch.cat([t[:, :3], t[:, 3:6], t[:, 6:]], dim=1)
    fmt = data_format_of(data_format, "perspective_transform")
    out = affine_transform(x, transform, interpolation, "constant", fill_value, "channels_last")
    return _unbatched(out, single, fmt)


@keras_op
def elastic_transform(images, alpha=20.0, sigma=5.0, interpolation="bilinear",
                      fill_mode="reflect", fill_value=0.0, seed=None, data_format=None):
    """Elastic deformation (Simard et al. 2003): random pixel displacements smoothed by a
    Gaussian of ``sigma`` and scaled by ``alpha`` (seeded by ``seed``).

    >>> dn.ops.image.elastic_transform(torch.ones(1, 8, 8, 1), seed=1).shape
    torch.Size([1, 8, 8, 1])
    """
    x, single = _batched(images, data_format, "elastic_transform")
    n, h, w, _ = x.shape
    gen = torch.Generator().manual_seed(int(seed) if isinstance(seed, int) else 0)
    noise = torch.rand(n, h, w, 2, generator=gen, dtype=x.dtype) * 2 - 1
    size = int(2 * round(3 * float(sigma)) + 1)
    size = min(size, 2 * (min(h, w) // 2) - 1) if min(h, w) > 1 else 1
    smooth = gaussian_blur(noise.to(x.device), (size, size), (float(sigma), float(sigma)))
    ys, xs = torch.meshgrid(torch.arange(h, dtype=x.dtype, device=x.device),
                            torch.arange(w, dtype=x.dtype, device=x.device), indexing="ij")
    y_in, x_in = ys + alpha * smooth[..., 0], xs + alpha * smooth[..., 1]
    out = _sample(x, y_in, x_in, interpolation, fill_mode, fill_value, "elastic_transform")
    return _unbatched(out, single, data_format_of(data_format, "elastic_transform"))

