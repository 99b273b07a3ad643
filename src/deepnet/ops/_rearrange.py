"""einops-style ``rearrange`` (``"b h w c -> b (h w) c"``): split, permute and merge axes."""

from __future__ import annotations

import math
import re

from ._dispatch import as_tensor, keras_op

_TOKEN = re.compile(r"\(|\)|[A-Za-z_][A-Za-z0-9_]*|1")


def _parse(side: str, where: str) -> list[list[str]]:
    """One side of a pattern as groups of axis names: ``"b (h w)"`` -> ``[["b"], ["h", "w"]]``."""
    groups: list[list[str]] = []
    current: list[str] | None = None
    for token in _TOKEN.findall(side):
        if token == "(":
            if current is not None:
                raise ValueError(f"ops.rearrange: nested parentheses in the {where} of the pattern.")
            current = []
        elif token == ")":
            if current is None:
                raise ValueError(f"ops.rearrange: unbalanced ')' in the {where} of the pattern.")
            groups.append(current)
            current = None
        elif current is not None:
            current.append(token)
        else:
            groups.append([token])
    if current is not None:
        raise ValueError(f"ops.rearrange: unbalanced '(' in the {where} of the pattern.")
    return groups


def _sizes(groups, shape, axes_lengths) -> dict[str, int]:
    """The length of every elementary axis on the input side."""
    if len(groups) != len(shape):
        raise ValueError(f"ops.rearrange: the pattern names {len(groups)} axes but the tensor has "
                         f"{len(shape)} (shape {tuple(shape)}).")
    sizes = dict(axes_lengths)
    for group, dim in zip(groups, shape):
        unknown = [a for a in group if a not in sizes]
        known = math.prod(sizes[a] for a in group if a in sizes)
        if len(unknown) > 1:
            raise ValueError(f"ops.rearrange: cannot infer the lengths of {unknown}; pass them "
                             "as keyword arguments (e.g. h=4).")
        if unknown:
            sizes[unknown[0]] = dim // known
        elif known != dim:
            raise ValueError(f"ops.rearrange: axes {group} have length {known}, the tensor {dim}.")
    return sizes


@keras_op
def rearrange(tensor, pattern, **axes_lengths):
    """Reorders, splits and merges axes with an einops pattern such as ``"b h w c -> b c h w"``
    or ``"b (h w) c -> b h w c"`` (lengths of split axes as keyword arguments).

    >>> dn.ops.rearrange(torch.ones(2, 3, 4), "b h w -> b (h w)").shape
    torch.Size([2, 12])
    """
    x = as_tensor(tensor)
    if pattern.count("->") != 1:
        raise ValueError(f"ops.rearrange: the pattern needs one '->'. Received: {pattern!r}")
    left, right = (_parse(side, where) for side, where in
                   zip(pattern.split("->"), ("input side", "output side")))
    sizes = _sizes(left, x.shape, axes_lengths)
    names = [a for group in left for a in group]
    out_names = [a for group in right for a in group]
    if sorted(names) != sorted(out_names):
        raise ValueError(f"ops.rearrange: both sides must name the same axes. Received: {pattern!r}")
    x = x.reshape([sizes[a] for a in names])
    x = x.permute([names.index(a) for a in out_names])
    return x.reshape([math.prod(sizes[a] for a in group) for group in right])
