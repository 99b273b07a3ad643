"""Table-driven numerics of ``deepnet.ops`` against ``keras.ops`` (torch backend): one row per op
with an argument builder (random NumPy inputs) and keyword arguments; rows that cannot be
compared carry the reason. Shared by tests/test_ops_{nn,image,linalg,core}.py."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field

os.environ.setdefault("KERAS_BACKEND", "torch")

import numpy as np
import pytest
import torch

keras = pytest.importorskip("keras")


@dataclass
class Row:
    """One op: ``build(rng)`` returns the positional arguments (NumPy arrays or plain values)."""

    name: str
    build: Callable | None = None
    kwargs: dict = field(default_factory=dict)
    atol: float = 1e-5
    excluded: str = ""  # why the op is not compared numerically (or not implemented)
    compare: Callable | None = None  # custom check(ours, theirs) for outputs with free choices


def rand(rng, *shape, low=-1.0, high=1.0):
    return rng.uniform(low, high, size=shape).astype("float32")


def _to_torch(value):
    if isinstance(value, np.ndarray):
        return torch.from_numpy(value.copy())
    if isinstance(value, tuple) and value and all(isinstance(v, np.ndarray) for v in value):
        return tuple(_to_torch(v) for v in value)
    return value


def _numpy(value):
    if isinstance(value, (list, tuple)):
        return [_numpy(v) for v in value]
    if isinstance(value, torch.Tensor):
        value = value.detach().cpu()
        return value.numpy() if not value.is_complex() else value.resolve_conj().numpy()
    return np.asarray(keras.ops.convert_to_numpy(value))


def _assert_close(ours, theirs, atol, where):
    if isinstance(theirs, list):
        assert isinstance(ours, list) and len(ours) == len(theirs), f"{where}: structure differs"
        for i, (o, t) in enumerate(zip(ours, theirs)):
            _assert_close(o, t, atol, f"{where}[{i}]")
        return
    ours, theirs = np.asarray(ours), np.asarray(theirs)
    assert ours.shape == theirs.shape, f"{where}: shape {ours.shape} != keras {theirs.shape}"
    if theirs.dtype.kind in "fc":
        np.testing.assert_allclose(ours, theirs, atol=atol, rtol=atol, err_msg=where)
    else:
        np.testing.assert_array_equal(ours, theirs, err_msg=where)


def check_row(row: Row, ours_module, keras_module):
    """Run the op of ``row`` in deepnet and in Keras on the same random inputs and compare."""
    # fresh arguments for each side: some Keras ops write into their inputs (affine_transform)
    args = [_to_torch(a) for a in row.build(np.random.default_rng(0))]
    theirs = getattr(keras_module, row.name)(*args, **row.kwargs)
    args = [_to_torch(a) for a in row.build(np.random.default_rng(0))]
    ours = getattr(ours_module, row.name)(*args, **row.kwargs)
    if row.compare is not None:
        row.compare(_numpy(ours), _numpy(theirs))
    else:
        _assert_close(_numpy(ours), _numpy(theirs), row.atol, row.name)


def keras_names(module) -> set[str]:
    return {n for n in dir(module) if not n.startswith("_") and callable(getattr(module, n))}


def coverage(rows: list[Row], names: set[str], ours_module) -> tuple[list[str], float]:
    """Problems with the table (missing rows, names not exported) and the implemented fraction."""
    table = {r.name for r in rows}
    problems = [f"no row for keras name {n}" for n in sorted(names - table)]
    problems += [f"row for unknown name {n}" for n in sorted(table - names)]
    exported = set(getattr(ours_module, "__all__", ()))
    problems += [f"{n} not in __all__" for n in sorted(names - exported)]
    not_implemented = {r.name for r in rows if r.excluded.startswith("not implemented")}
    return problems, 1 - len(not_implemented) / max(len(names), 1)
