"""``Operation``: the graph node an op of :mod:`deepnet.ops` records when it is called on
symbolic tensors (``x + y``, ``ops.mean(x, axis=1)`` in a functional model).

One registered layer class serves every op: its config holds the op's registered name
(``"op": "mean"``) and the op's arguments with each symbolic tensor replaced by a placeholder
(``{"__tensor__": 0}``) and every constant in a JSON form (tuples, slices, ``...``, dtypes and
arrays are tagged). Saved graphs therefore name ops, never code; loading looks the name up among
``deepnet.ops``' public ops only. The node's inputs are the symbolic tensors in order; its output
shapes and dtypes come from running the op once on fake tensors (no computation).

``deepnet.ops`` sits below ``layers`` and cannot create this layer itself: importing this module
installs :func:`record_op` as the handler of :mod:`deepnet.utils.symbolic`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from ..utils import nest, symbolic
from ..utils.lazy import lazy_import
from ..utils.naming import unique_name
from ..utils.validation import InstanceOf, String, validate_params
from ._tensors import KerasTensor, Node, dtype_name, is_shape, standardize_dtype
from .base import Layer

ops = lazy_import("deepnet.ops")

__all__ = ["Operation", "record_op"]


class Operation(Layer):
    """A call of the op ``op`` of :mod:`deepnet.ops` as a layer of a functional graph; created
    for you when an op (or a Python operator) meets a symbolic tensor.

    Args:
        op: the op's name in ``deepnet.ops`` (``"add"``, ``"mean"``, ``"get_item"``, ...).
        arguments: ``{"args": [...], "kwargs": {...}}``, the op's arguments in JSON form with
            ``{"__tensor__": i}`` standing for the i-th input tensor.

    >>> x = dn.Input((3,))
    >>> y = dn.ops.mean(x * 2.0, axis=1)
    >>> type(y.node.layer).__name__, y.node.layer.get_config()["op"], y.shape
    ('Operation', 'mean', (None,))
    """

    @validate_params({"op": String(), "arguments": InstanceOf(dict, description="a dict with 'args' and 'kwargs'")})
    def __init__(self, op: str, arguments: dict | None = None, **kwargs):
        kwargs.setdefault("name", unique_name(op) if isinstance(op, str) else None)
        super().__init__(**kwargs)
        self.op = op
        self.arguments = {"args": [], "kwargs": {}} if arguments is None else arguments
        self._fn = _op_function(op)
        self._input_dtypes: list[torch.dtype] | None = None

    def call(self, inputs):
        tensors = [inputs] if isinstance(inputs, torch.Tensor) else list(inputs)
        args = [_decode(a, tensors) for a in self.arguments.get("args", [])]
        kwargs = {k: _decode(v, tensors) for k, v in self.arguments.get("kwargs", {}).items()}
        return self._fn(*args, **kwargs)

    # -- symbolic ------------------------------------------------------------------------------
    def _symbolic_call(self, args: tuple, kwargs: dict):
        inputs = args[0]
        kts = [inputs] if isinstance(inputs, KerasTensor) else list(inputs)
        self._input_dtypes = [t.dtype for t in kts]
        specs = self._infer([t.shape for t in kts], self._input_dtypes)
        node = Node(layer=self, call_args=(inputs if isinstance(inputs, KerasTensor) else list(kts),),
                    call_kwargs={}, outputs=None)
        counter = iter(range(1 << 30))
        node.outputs = nest.map_structure(
            lambda s: KerasTensor(s.shape, s.dtype, node, next(counter)) if isinstance(s, _Spec) else s, specs)
        self.built = True
        self._inbound_nodes.append(node)
        return node.outputs

    def compute_output_shape(self, *shapes, **kwargs):
        flat = [shapes[0]] if is_shape(shapes[0]) else list(shapes[0])
        dtypes = self._input_dtypes or [torch.float32] * len(flat)
        specs = self._infer(flat, dtypes)
        return nest.map_structure(lambda s: s.shape if isinstance(s, _Spec) else s, specs)

    def _infer(self, shapes: list[tuple], dtypes: list[torch.dtype]):
        """Output shapes/dtypes from two runs on fake tensors with different stand-ins for the
        unknown dimensions (a dimension that follows the stand-ins is unknown, ``None``)."""
        first = self._fake_run(shapes, dtypes, 2, 3)
        unknown = any(d is None for s in shapes for d in s)
        second = self._fake_run(shapes, dtypes, 5, 7) if unknown else first
        return _merge(first, second)

    def _fake_run(self, shapes, dtypes, batch: int, other: int):
        from torch._subclasses.fake_tensor import (
            DataDependentOutputException,
            DynamicOutputShapeException,
            FakeTensorMode,
        )

        def realize(shape, dtype):
            full = [(batch if i == 0 else other) if d is None else d for i, d in enumerate(shape)]
            return torch.empty(full, dtype=dtype)

        try:
            with FakeTensorMode(allow_non_fake_inputs=True), torch.no_grad():
                out = self.call([realize(s, d) for s, d in zip(shapes, dtypes)])
                return nest.map_structure(
                    lambda t: _Spec(tuple(int(n) for n in t.shape), t.dtype) if isinstance(t, torch.Tensor) else t,
                    out)
        except (DataDependentOutputException, DynamicOutputShapeException) as exc:
            raise ValueError(
                f"ops.{self.op} cannot be applied to a symbolic tensor: its output shape depends on the "
                "values of its input, which are unknown while the model is built. help: call it in a custom "
                "Layer's call() (run eagerly), or use an op with a fixed output shape.") from exc

    def get_config(self) -> dict:
        return {**super().get_config(), "op": self.op, "arguments": self.arguments}


class _Spec:
    """The shape and dtype of one output of a fake run (a leaf for ``nest``)."""

    __slots__ = ("shape", "dtype")

    def __init__(self, shape, dtype):
        self.shape, self.dtype = shape, dtype


def _merge(a, b):
    if isinstance(a, _Spec) and isinstance(b, _Spec) and len(a.shape) == len(b.shape):
        return _Spec(tuple(x if x == y else None for x, y in zip(a.shape, b.shape)), a.dtype)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)) and len(a) == len(b):
        return type(a)(_merge(x, y) for x, y in zip(a, b))
    return a


def _op_function(name: str):
    """The public op ``name`` of deepnet.ops (only those: a config cannot reach anything else)."""
    if name not in ops.__all__ or not callable(getattr(ops, name)):
        raise ValueError(f"Operation: unknown op {name!r}; expected the name of a function of deepnet.ops "
                         "(for example 'add' or 'mean'). help: a model config can only refer to deepnet's ops.")
    return getattr(ops, name)


# ----------------------------------------------------------------------------- arguments <-> JSON

_NUMBERS = (bool, int, float, str, type(None))


def _encode(value: Any, tensors: list, op: str):  # noqa: C901 -- one branch per supported kind
    """``value`` in JSON form; symbolic tensors are appended to ``tensors`` and replaced by
    ``{"__tensor__": index}``."""
    if isinstance(value, KerasTensor):
        tensors.append(value)
        return {"__tensor__": len(tensors) - 1}
    if isinstance(value, _NUMBERS):
        return value
    if isinstance(value, np.generic) and value.dtype.kind in "biuf":
        return value.item()
    if isinstance(value, list):
        return [_encode(v, tensors, op) for v in value]
    if isinstance(value, tuple):
        return {"__tuple__": [_encode(v, tensors, op) for v in value]}
    if isinstance(value, dict):
        return {"__dict__": {str(k): _encode(v, tensors, op) for k, v in value.items()}}
    if isinstance(value, slice):
        return {"__slice__": [_encode(v, tensors, op) for v in (value.start, value.stop, value.step)]}
    if value is Ellipsis:
        return {"__ellipsis__": True}
    if isinstance(value, torch.dtype):
        return {"__dtype__": dtype_name(value)}
    if isinstance(value, (torch.Tensor, np.ndarray)):
        array = value.detach().cpu().numpy() if isinstance(value, torch.Tensor) else value
        if array.dtype.kind in "biuf":
            return {"__array__": array.tolist(), "dtype": array.dtype.name}
    raise TypeError(
        f"ops.{op} received an argument of type {type(value).__name__} ({value!r:.60}) together with a symbolic "
        "tensor; a functional model can only store numbers, strings, lists/tuples/dicts of them, slices, "
        "dtypes and numeric arrays as op arguments. help: compute it inside a custom Layer's call().")


def _decode(value: Any, tensors: list):  # noqa: C901 -- the inverse of _encode, one branch per tag
    if isinstance(value, list):
        return [_decode(v, tensors) for v in value]
    if not isinstance(value, dict):
        return value
    if "__tensor__" in value:
        return tensors[value["__tensor__"]]
    if "__tuple__" in value:
        return tuple(_decode(v, tensors) for v in value["__tuple__"])
    if "__dict__" in value:
        return {k: _decode(v, tensors) for k, v in value["__dict__"].items()}
    if "__slice__" in value:
        return slice(*(_decode(v, tensors) for v in value["__slice__"]))
    if "__ellipsis__" in value:
        return Ellipsis
    if "__dtype__" in value:
        return standardize_dtype(value["__dtype__"])
    if "__array__" in value:  # on the device of the op's inputs
        array = np.asarray(value["__array__"], dtype=np.dtype(value["dtype"]))
        return torch.as_tensor(array, device=tensors[0].device if tensors else None)
    raise ValueError(f"Operation: unknown argument encoding {sorted(value)}; expected one written by deepnet.")


def record_op(op_name: str, args: tuple, kwargs: dict):
    """The symbolic handler: record ``ops.<op_name>(*args, **kwargs)`` as an ``Operation``
    node and return its symbolic output(s).

    >>> from deepnet.layers._operation import record_op
    >>> record_op("add", (dn.Input((2,)), 1.0), {}).shape
    (None, 2)
    """
    tensors: list[KerasTensor] = []
    arguments = {"args": [_encode(a, tensors, op_name) for a in args],
                 "kwargs": {k: _encode(v, tensors, op_name) for k, v in kwargs.items()}}
    layer = Operation(op_name, arguments)
    return layer(tensors[0] if len(tensors) == 1 else tensors)


symbolic.set_symbolic_handler(record_op)
