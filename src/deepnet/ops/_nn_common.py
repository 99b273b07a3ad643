"""Small helpers shared by the nn / image / linalg / math / core ops: data formats, spatial
size tuples, 'same' padding and axes."""

from __future__ import annotations

import numpy as np
import torch

DATA_FORMATS = ("channels_last", "channels_first")


def data_format_of(data_format: str | None, op: str) -> str:
    """The data format ``channels_last`` (default) or ``channels_first``; anything else raises."""
    if data_format is None:
        return "channels_last"
    if data_format not in DATA_FORMATS:
        raise ValueError(f"ops.{op}: `data_format` must be one of {DATA_FORMATS}. "
                         f"Received: data_format={data_format!r}")
    return data_format


def tuple_of(value, n: int, name: str, op: str) -> tuple[int, ...]:
    """An int or a sequence of ``n`` ints as a tuple of ``n`` ints."""
    if isinstance(value, (int, np.integer)):
        return (int(value),) * n
    values = tuple(int(v) for v in value)
    if len(values) != n:
        raise ValueError(f"ops.{op}: `{name}` must be an int or a tuple of {n} ints. "
                         f"Received: {name}={value!r}")
    return values


def to_channels_first(x: torch.Tensor, data_format: str) -> torch.Tensor:
    """(N, *spatial, C) -> (N, C, *spatial) when ``data_format`` is channels_last."""
    return torch.movedim(x, -1, 1) if data_format == "channels_last" else x


def from_channels_first(x: torch.Tensor, data_format: str) -> torch.Tensor:
    """The inverse of :func:`to_channels_first`."""
    return torch.movedim(x, 1, -1) if data_format == "channels_last" else x


def padding_of(padding: str, op: str, allowed=("valid", "same")) -> str:
    """``padding`` lower-cased, checked against ``allowed``."""
    if not isinstance(padding, str) or padding.lower() not in allowed:
        raise ValueError(f"ops.{op}: `padding` must be one of {allowed}. Received: padding={padding!r}")
    return padding.lower()


def same_pads(sizes, kernel, strides, dilation) -> list[tuple[int, int]]:
    """TensorFlow's 'same' padding per spatial dim: (before, after), the extra one after."""
    pads = []
    for n, k, s, d in zip(sizes, kernel, strides, dilation):
        eff = (k - 1) * d + 1
        out = -(-n // s)
        total = max((out - 1) * s + eff - n, 0)
        pads.append((total // 2, total - total // 2))
    return pads


def torch_pad_arg(pads: list[tuple[int, int]]) -> list[int]:
    """``F.pad``'s argument (last dim first) from per-dim (before, after) pairs."""
    flat: list[int] = []
    for before, after in reversed(pads):
        flat += [before, after]
    return flat


def axis_list(axis, ndim: int) -> list[int]:
    """``axis`` (None, an int or a sequence) as a list of non-negative ints."""
    if axis is None:
        return list(range(ndim))
    if isinstance(axis, (int, np.integer)):
        axis = [axis]
    return [int(a) % ndim if ndim else 0 for a in axis]
