"""Symbolic tensors, graph nodes, dtype and shape helpers of the layers (re-exported by
:mod:`deepnet.layers.base`)."""

from __future__ import annotations

import contextlib
import functools
import inspect
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from torch import nn

from ..utils import nest, symbolic
from ..utils.formatting import format_shape
from ..utils.lazy import lazy_import

if TYPE_CHECKING:
    from .base import Layer

ops = lazy_import("deepnet.ops")  # operators on KerasTensors record deepnet.ops nodes

__all__ = [
    "KerasTensor", "Node", "accepted_kwargs", "collect_shapes", "dtype_name", "filter_kwargs",
    "format_shape", "infer_output_shape", "is_shape", "map_shapes", "standardize_dtype",
]

_DTYPES = {
    "float16": torch.float16, "bfloat16": torch.bfloat16, "float32": torch.float32,
    "float64": torch.float64, "int8": torch.int8, "int16": torch.int16, "int32": torch.int32,
    "int64": torch.int64, "uint8": torch.uint8, "bool": torch.bool,
}


def standardize_dtype(dtype: Any, argument: str = "dtype") -> torch.dtype:
    """Accept ``"float32"``, ``torch.float32`` or a NumPy dtype; return a ``torch.dtype``."""
    if dtype is None:
        return torch.float32
    if isinstance(dtype, torch.dtype):
        return dtype
    name = getattr(dtype, "name", dtype)
    if isinstance(dtype, type) and issubclass(dtype, np.generic):
        name = np.dtype(dtype).name
    if isinstance(name, str) and name in _DTYPES:
        return _DTYPES[name]
    raise ValueError(
        f"Unknown `{argument}` {dtype!r}; expected one of {', '.join(_DTYPES)} or a torch.dtype."
    )


def dtype_name(dtype: torch.dtype) -> str:
    return str(dtype).replace("torch.", "")


def is_shape(obj: Any) -> bool:
    """True for a single shape tuple such as ``(None, 28, 28, 1)``."""
    return isinstance(obj, tuple) and all(d is None or isinstance(d, int) for d in obj)


def map_shapes(fn: Callable, structure: Any) -> Any:
    """Like :func:`nest.map_structure` but treats shape tuples as leaves."""
    if is_shape(structure):
        return fn(structure)
    if isinstance(structure, (list, tuple)):
        return type(structure)(map_shapes(fn, s) for s in structure)
    if isinstance(structure, dict):
        return {k: map_shapes(fn, v) for k, v in structure.items()}
    return fn(structure)


def collect_shapes(structure: Any) -> list[tuple]:
    """All shape tuples inside a nested structure, in order."""
    if is_shape(structure):
        return [structure]
    if isinstance(structure, (list, tuple)):
        return [s for item in structure for s in collect_shapes(item)]
    if isinstance(structure, dict):
        return [s for item in structure.values() for s in collect_shapes(item)]
    return []


# --------------------------------------------------------------------------- symbolic tensors


class KerasTensor:
    """A placeholder for a tensor in a functional graph: a shape (``None`` = unknown), a dtype
    and the node that produced it. Calling a layer on KerasTensors records the call.

    >>> x = dn.layers.Input(shape=(3,))
    >>> dn.layers.Dense(2)(x).shape
    (None, 2)
    """

    __slots__ = ("shape", "dtype", "node", "index", "name", "_mask")
    _deepnet_symbolic = True  # read by deepnet.utils.symbolic (ops hand symbolic calls to layers)

    def __init__(self, shape, dtype=torch.float32, node: Node | None = None, index: int = 0, name=None):
        self.shape = tuple(shape)
        self.dtype = dtype
        self.node = node
        self.index = index
        self.name = name
        self._mask = _UNSET  # symbolic_mask's result, found on first use

    @property
    def ndim(self) -> int:
        return len(self.shape)

    def __repr__(self) -> str:
        origin = f", produced by {self.node.layer.name!r}" if self.node is not None else ""
        return f"<KerasTensor shape={format_shape(self.shape)}, dtype={dtype_name(self.dtype)}{origin}>"

    @classmethod
    def __torch_function__(cls, func, types, args=(), kwargs=None):
        name = getattr(func, "__name__", str(func))
        if name in _TORCH_OPERATORS and len(args) == 2 and not kwargs:  # torch_tensor + keras_tensor, ...
            op, reflected = _TORCH_OPERATORS[name]
            return getattr(ops, op)(*(args[::-1] if reflected else args))
        raise TypeError(
            f"`{name}` was applied to a symbolic KerasTensor (a placeholder of a functional model "
            "under construction). Only deepnet layers and deepnet.ops can be called on KerasTensors. "
            "help: use the op of the same name in deepnet.ops (e.g. deepnet.ops.exp(x) for torch.exp(x)), or "
            "wrap a plain torch.nn.Module as deepnet.layers.TorchModuleWrapper(module)(x)."
        )

    # Python operators record deepnet.ops nodes (Keras' KerasTensor operators)
    def __add__(self, other):
        return ops.add(self, other)

    def __radd__(self, other):
        return ops.add(other, self)

    def __sub__(self, other):
        return ops.subtract(self, other)

    def __rsub__(self, other):
        return ops.subtract(other, self)

    def __mul__(self, other):
        return ops.multiply(self, other)

    def __rmul__(self, other):
        return ops.multiply(other, self)

    def __truediv__(self, other):
        return ops.divide(self, other)

    def __rtruediv__(self, other):
        return ops.divide(other, self)

    def __floordiv__(self, other):
        return ops.floor_divide(self, other)

    def __rfloordiv__(self, other):
        return ops.floor_divide(other, self)

    def __mod__(self, other):
        return ops.mod(self, other)

    def __rmod__(self, other):
        return ops.mod(other, self)

    def __pow__(self, other):
        return ops.power(self, other)

    def __rpow__(self, other):
        return ops.power(other, self)

    def __matmul__(self, other):
        return ops.matmul(self, other)

    def __rmatmul__(self, other):
        return ops.matmul(other, self)

    def __neg__(self):
        return ops.negative(self)

    def __pos__(self):
        return self

    def __abs__(self):
        return ops.absolute(self)

    def __invert__(self):
        return ops.bitwise_invert(self)

    def __and__(self, other):
        return ops.logical_and(self, other)

    def __rand__(self, other):
        return ops.logical_and(other, self)

    def __or__(self, other):
        return ops.logical_or(self, other)

    def __ror__(self, other):
        return ops.logical_or(other, self)

    def __xor__(self, other):
        return ops.logical_xor(self, other)

    def __rxor__(self, other):
        return ops.logical_xor(other, self)

    def __lt__(self, other):
        return ops.less(self, other)

    def __le__(self, other):
        return ops.less_equal(self, other)

    def __gt__(self, other):
        return ops.greater(self, other)

    def __ge__(self, other):
        return ops.greater_equal(self, other)

    def __eq__(self, other):  # Keras: an op; identity checks in the graph code use `is`
        return ops.equal(self, other)

    def __ne__(self, other):
        return ops.not_equal(self, other)

    __hash__ = object.__hash__  # KerasTensors stay usable as dict keys / set members (by identity)

    def __getitem__(self, key):
        return ops.get_item(self, key)

    @property
    def _keras_mask(self):
        """The mask the producing layer attaches to this output when the model runs, as a
        symbolic boolean KerasTensor (not part of the graph), or ``None`` (Keras' attribute)."""
        if getattr(self, "_mask", _UNSET) is _UNSET:
            self._mask = symbolic_mask(self)
        return self._mask

    def __iter__(self):
        raise TypeError("A symbolic KerasTensor cannot be iterated: its length along axis 0 may be unknown. "
                        "help: index it (x[:, 0]) or use deepnet.ops.split / deepnet.ops.unstack.")

    def __bool__(self):
        raise TypeError("A symbolic KerasTensor has no truth value: its values are unknown until the model runs.")


# torch.Tensor operator (a torch tensor on the left of a KerasTensor) -> (op, arguments reflected)
_TORCH_OPERATORS = {
    **{f"__{n}__": (op, False) for n, op in (
        ("add", "add"), ("sub", "subtract"), ("mul", "multiply"), ("truediv", "divide"), ("floordiv", "floor_divide"),
        ("mod", "mod"), ("pow", "power"), ("matmul", "matmul"), ("and", "logical_and"), ("or", "logical_or"),
        ("xor", "logical_xor"), ("lt", "less"), ("le", "less_equal"), ("gt", "greater"), ("ge", "greater_equal"),
        ("eq", "equal"), ("ne", "not_equal"))},
    **{f"__r{n}__": (op, True) for n, op in (
        ("add", "add"), ("sub", "subtract"), ("mul", "multiply"), ("truediv", "divide"), ("floordiv", "floor_divide"),
        ("mod", "mod"), ("pow", "power"), ("matmul", "matmul"), ("and", "logical_and"), ("or", "logical_or"),
        ("xor", "logical_xor"))},
}


class Node:
    """One call of a layer in a functional graph: the layer, its arguments and its outputs.

    >>> y = dn.layers.Dense(2)(dn.layers.Input(shape=(3,)))
    >>> y.node.layer.name, [t.shape for t in y.node.input_tensors]
    ('dense', [(None, 3)])
    """

    # A plain class (a dataclass costs `import deepnet` time); compared by identity.
    def __init__(self, layer: Layer, call_args: tuple, call_kwargs: dict, outputs: Any):
        self.layer = layer
        self.call_args = call_args
        self.call_kwargs = call_kwargs
        self.outputs = outputs

    def __repr__(self) -> str:
        return f"Node(layer={self.layer.name!r}, outputs={self.outputs!r})"

    @property
    def input_tensors(self) -> list[KerasTensor]:
        return [t for t in nest.flatten((self.call_args, self.call_kwargs)) if isinstance(t, KerasTensor)]

    @property
    def output_tensors(self) -> list[KerasTensor]:
        return [t for t in nest.flatten(self.outputs) if isinstance(t, KerasTensor)]

    @property
    def index(self) -> int:
        return self.layer._inbound_nodes.index(self)


def _any_symbolic(args: tuple, kwargs: dict) -> bool:
    if args:
        a0 = args[0]
        if type(a0) is KerasTensor:
            return True
        if isinstance(a0, (list, tuple, dict)):
            return any(type(t) is KerasTensor for t in nest.flatten(a0))
        if type(a0) is torch.Tensor and not kwargs and len(args) == 1:
            return False
    return any(type(t) is KerasTensor for t in nest.flatten((args[1:], kwargs)))


def as_layer_input(layer, x):
    """The first input of an eager layer call: a NumPy array becomes a tensor (floats in the
    layer's dtype), as Keras converts them; None, strings and non-numeric arrays get an error
    naming the layer; other objects are left to the layer's own ``call``."""
    if isinstance(x, (np.ndarray, np.generic)):
        if x.dtype.kind == "f":
            return torch.as_tensor(x, dtype=layer.dtype if layer.dtype.is_floating_point else None)
        if x.dtype.kind in "biu":
            return torch.as_tensor(x)
        raise TypeError(f"{type(layer).__name__} {layer.name!r} received a NumPy array of dtype {x.dtype}; "
                        "expected numbers (floats, ints or bools).")
    if x is not None and not isinstance(x, (str, bytes)):
        return x
    raise TypeError(f"{type(layer).__name__} {layer.name!r} expects a tensor (torch.Tensor, NumPy array or a "
                    f"deepnet.Input) as its input; received {type(x).__name__}: {x!r:.60}.")


@functools.cache
def accepted_kwargs(fn) -> tuple[frozenset, bool]:
    params = inspect.signature(fn).parameters
    has_var = any(p.kind is p.VAR_KEYWORD for p in params.values())
    return frozenset(params), has_var


def filter_kwargs(fn, kwargs: dict) -> dict:
    names, has_var = accepted_kwargs(fn)
    if has_var:
        return kwargs
    return {k: v for k, v in kwargs.items() if k in names}


def _shapes_of(outputs):
    return nest.map_structure(lambda t: t.shape if isinstance(t, KerasTensor) else t, outputs)


def _get_mask(x):
    if isinstance(x, torch.Tensor):
        return getattr(x, "_keras_mask", None)
    if isinstance(x, (list, tuple)):
        masks = [getattr(t, "_keras_mask", None) for t in x]
        return None if all(m is None for m in masks) else masks
    return None


def _set_mask(outputs, mask) -> None:
    """Attach ``compute_mask``'s result to the outputs as Keras does: the flattened masks pair with
    the flattened outputs (a layer returning a list of tensors may return a list of masks; one mask
    for several outputs goes to the first)."""
    for tensor, m in zip(nest.flatten(outputs), nest.flatten(mask)):
        if m is not None and isinstance(tensor, torch.Tensor):
            tensor._keras_mask = m


_UNSET = object()


def symbolic_mask(tensor: KerasTensor) -> KerasTensor | None:
    """The mask ``Layer.forward`` will attach to ``tensor`` (same rules), or ``None``: the producing
    layer's ``compute_mask`` runs on zeros of two stand-in sizes for the unknown dimensions, with
    the input masks found the same way upstream; a dimension that follows the stand-ins is ``None``."""
    node = tensor.node
    if node is None or not node.call_args:
        return None
    layer, first = node.layer, node.call_args[0]
    overrides = layer._overrides_compute_mask()
    mask = node.call_kwargs.get("mask")
    if mask is None and ((layer._fwd_info or layer._forward_info())[0] or layer.supports_masking or overrides):
        mask = input_mask(first)
    if mask is None and not overrides:
        return None
    shapes = []
    for batch, other in ((2, 3), (5, 7)):
        def realize(t, batch=batch, other=other):
            if not isinstance(t, KerasTensor):
                return t
            return torch.zeros(tuple((batch if i == 0 else other) if d is None else d for i, d in enumerate(t.shape)),
                               dtype=t.dtype)

        with torch.no_grad():
            masks = nest.flatten(layer.compute_mask(nest.map_structure(realize, first), nest.map_structure(realize, mask)))
        found = masks[tensor.index] if tensor.index < len(masks) else None
        if not isinstance(found, torch.Tensor):
            return None
        shapes.append(tuple(found.shape))
    return KerasTensor(tuple(a if a == b else None for a, b in zip(*shapes)), torch.bool)


def input_mask(inputs):
    """The symbolic masks of the KerasTensors in ``inputs`` (same structure), or ``None`` if none."""
    mask = nest.map_structure(lambda t: t._keras_mask if isinstance(t, KerasTensor) else None, inputs)
    return None if all(m is None for m in nest.flatten(mask)) else mask


def _materialize(shape, batch: int = 2):
    return tuple(batch if d is None else d for d in shape)


@contextlib.contextmanager
def _inference_mode(module):
    """``module`` and its sublayers in inference mode (a symbolic call is not training, as in
    Keras: no moving statistics updated), each one's own mode restored afterwards. Buffers that
    are Keras Variables (a tensor subclass, which FakeTensorMode refuses) are seen as plain views
    of the same storage meanwhile; fake mode never writes to them."""
    mods = list(module.modules()) if isinstance(module, nn.Module) else []
    modes = [(m, m.training) for m in mods]
    swapped = [(m, k, t) for m in mods for k, t in m._buffers.items()
               if t is not None and type(t) is not torch.Tensor]
    for m, _ in modes:
        m.training = False
    for m, k, t in swapped:
        m._buffers[k] = t.as_subclass(torch.Tensor)
    try:
        yield
    finally:
        for m, mode in modes:
            m.training = mode
        for m, k, t in swapped:
            m._buffers[k] = t


def infer_output_shape(module: nn.Module, shapes: tuple, kwargs: dict, call: Callable | None = None):
    """Output shape(s) of ``call(*inputs)`` found by running it on fake tensors (no compute).

    Unknown (``None``) dimensions are given stand-in sizes; an output dimension that changes
    when the stand-ins change is reported as ``None``."""
    from torch._subclasses.fake_tensor import FakeTensorMode

    call = call or getattr(module, "call", module)  # a deepnet Layer computes in `call`
    all_shapes = collect_shapes(shapes) + collect_shapes(kwargs)
    batch_unknown = any(s and s[0] is None for s in all_shapes)
    other_unknown = any(d is None for s in all_shapes for d in s[1:])

    def run(batch: int, other: int):
        def realize(s, dtype=torch.float32):
            if not is_shape(s):
                return s
            full = tuple((batch if i == 0 else other) if d is None else d for i, d in enumerate(s))
            return torch.zeros(full, dtype=dtype)

        with FakeTensorMode(allow_non_fake_inputs=True), torch.no_grad(), symbolic.shape_inference(), \
                _inference_mode(module):
            args = map_shapes(realize, shapes)
            kw = {k: map_shapes(lambda s, k=k: realize(s, torch.bool if k == "mask" else torch.float32), v)
                  for k, v in kwargs.items()}
            out = call(*args, **filter_kwargs(call, kw))
        return nest.map_structure(lambda t: tuple(int(d) for d in t.shape) if isinstance(t, torch.Tensor) else t, out)

    first = run(2, 3)
    second = run(5, 7) if (batch_unknown or other_unknown) else first

    def merge(a, b):
        if is_shape(a) and is_shape(b) and len(a) == len(b):
            return tuple(x if x == y else None for x, y in zip(a, b))
        if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
            return type(a)(merge(x, y) for x, y in zip(a, b))
        return a

    return merge(first, second)
