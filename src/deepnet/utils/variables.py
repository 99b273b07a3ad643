"""Keras ``Variable`` semantics on the torch tensors that hold weights and metric state.

A layer's trainable weight is a :class:`TrainableVariable` (a ``torch.nn.Parameter``
subclass: the engine, ``torch.optim`` and ``state_dict`` see an ordinary parameter); a
non-trainable weight or a metric's state is a :class:`StateVariable` (a plain tensor subclass,
registered as a buffer). Both add Keras' ``assign``/``assign_add``/``assign_sub``, ``value``,
``numpy()``, ``trainable``, ``name`` and ``path``. Torch operations on them return plain
tensors and skip ``__torch_function__`` dispatch, so they cost nothing in the training loop.

Layouts: deepnet stores some kernels in PyTorch's axis order (a ``Dense`` kernel as
``(units, input_dim)``). ``numpy()`` returns Keras' order, like ``get_weights``; ``assign``
takes NumPy arrays (and Python values) in Keras' order and torch tensors (the results of
operations on the variable itself) in the stored order. ``shape`` and ``dtype`` are the torch
tensor's.

``Variable(initializer, shape=None, dtype=None, trainable=True, name=None)`` creates one the Keras
way (``keras.Variable``, also ``deepnet.Variable``): ``initializer`` is a value (number, array,
tensor), an initializer name (``"zeros"``, ``"glorot_uniform"``) or a callable
``f(shape, dtype)`` such as an initializer object. ``isinstance(w, Variable)`` holds for every
weight. Difference from Keras: ``dtype`` is a ``torch.dtype`` (``torch.float32``, usable in
every torch call), not the string ``"float32"``; compare through
``deepnet.utils.standardize_dtype(v.dtype) == "float32"``. A Variable set as an attribute of a
layer is tracked only if it is trainable (an ``nn.Parameter``); create non-trainable state with
``self.add_weight(..., trainable=False)`` so it follows the layer across devices.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import numpy as np
import torch
from torch import nn

from . import registry, symbolic
from .dtypes import is_float_dtype, standardize_dtype

__all__ = ["StateVariable", "TrainableVariable", "Variable", "as_parameters", "as_variable", "as_variables",
           "name_scope", "step_weights"]

_SCOPES: list[str] = []


class Variable:
    """What the variables of both kinds add to a torch tensor (Keras' ``Variable`` API).

    >>> layer = dn.layers.Dense(2)
    >>> _ = layer(torch.ones(1, 3))
    >>> kernel = layer.kernel
    >>> isinstance(kernel, dn.utils.variables.Variable), kernel.path, kernel.numpy().shape
    (True, 'dense/kernel', (3, 2))
    >>> _ = kernel.assign(np.ones((3, 2)))
    >>> float(kernel.numpy().sum())
    6.0
    >>> v = dn.Variable("ones", shape=(2,), name="count", trainable=False)
    >>> v.numpy().tolist(), v.name, v.trainable
    ([1.0, 1.0], 'count', False)
    """

    def __new__(cls, initializer=None, shape=None, dtype=None, trainable: bool = True, autocast: bool = True,
                aggregation: str = "none", synchronization: str = "auto", name: str | None = None, **kwargs):
        if cls is not Variable:  # the subclasses construct themselves
            return super().__new__(cls)
        value = _initial_value(initializer, shape, dtype)
        floating = value.is_floating_point() or value.is_complex()
        name = name or "variable"
        out = as_variable(value, trainable=bool(trainable) and floating, name=name,
                          path="/".join([*_SCOPES, name]), requires_grad=bool(trainable) and floating)
        out.__dict__["_dn_aggregation"] = aggregation
        return out

    def __init__(self, *args, **kwargs):  # the value is set up by __new__
        pass

    @property
    def aggregation(self) -> str:
        """How distributed replicas combine updates (Keras' ``aggregation``; ``"none"`` by default)."""
        return self.__dict__.get("_dn_aggregation", "none")

    # --- Keras metadata -------------------------------------------------------------------
    @property
    def name(self) -> str:
        """The weight's name (``"kernel"``)."""
        return self.__dict__.get("_dn_name", "variable")

    @property
    def path(self) -> str:
        """``"<layer name>/<weight name>"``."""
        return self.__dict__.get("_dn_path", self.name)

    @property
    def value(self) -> torch.Tensor:
        """The torch tensor itself (Keras' torch backend: ``variable.value.grad`` is the gradient)."""
        return self

    @property
    def trainable(self) -> bool:
        return bool(self.requires_grad)

    @trainable.setter
    def trainable(self, value: bool) -> None:
        if not isinstance(self, nn.Parameter):
            raise ValueError(
                f"Variable {self.path!r} was created with trainable=False and is stored as a buffer; it "
                "cannot become trainable. help: create it with add_weight(..., trainable=True), or set "
                "`layer.trainable` to freeze or unfreeze a layer."
            )
        self.requires_grad_(bool(value))

    @property
    def _keras_layout(self):
        return self.__dict__.get("_dn_layout")

    def _keras_shape(self) -> tuple:
        keras_shape = self.__dict__.get("_dn_keras_shape")
        if keras_shape is not None:
            return keras_shape
        layout = self._keras_layout
        shape = tuple(self.shape)
        return shape if layout is None else tuple(shape[i] for i in np.argsort(layout))

    def _to_keras(self, t: torch.Tensor) -> torch.Tensor:
        """A tensor stored like this variable in Keras' layout: undo the reshape of a kernel
        stored reshaped (Conv1D, DepthwiseConv2D ...), then the axis permutation."""
        layout = self._keras_layout
        if layout is None:
            return t
        keras_shape = self.__dict__.get("_dn_keras_shape")
        if keras_shape is not None:
            t = t.reshape(tuple(keras_shape[i] for i in layout))
        return t.permute(tuple(int(i) for i in np.argsort(layout)))

    def _from_keras(self, t: torch.Tensor) -> torch.Tensor:
        """Inverse of :meth:`_to_keras`."""
        layout = self._keras_layout
        return t if layout is None else t.permute(layout).reshape(tuple(self.shape))

    # --- values ---------------------------------------------------------------------------
    def numpy(self) -> np.ndarray:
        """The value as a NumPy array in Keras' axis order."""
        return self._to_keras(torch.Tensor.detach(self)).cpu().numpy()

    def __array__(self, dtype=None, copy=None):
        array = self.numpy()
        return array if dtype is None else array.astype(dtype)

    def _coerce(self, value) -> torch.Tensor:
        layout = self._keras_layout
        if isinstance(value, torch.Tensor):
            t = value.detach()
            if layout is not None and tuple(t.shape) != tuple(self.shape) and tuple(t.shape) == self._keras_shape():
                t = self._from_keras(t)
        else:
            t = torch.as_tensor(np.asarray(value))
            if layout is not None and t.dim() == len(layout) and tuple(t.shape) == self._keras_shape():
                t = self._from_keras(t)
        return t.to(device=self.device, dtype=self.dtype)

    def assign(self, value):
        """Set the value in place (a tensor, NumPy array or number broadcast to the shape)."""
        if symbolic.in_shape_inference():  # traced for shapes only: no state change
            return self
        with torch.no_grad():
            self.copy_(self._coerce(value))
        return self

    def assign_add(self, value):
        """Add ``value`` in place."""
        if symbolic.in_shape_inference():  # traced for shapes only: no state change
            return self
        with torch.no_grad():
            self.add_(self._coerce(value))
        return self

    def assign_sub(self, value):
        """Subtract ``value`` in place."""
        if symbolic.in_shape_inference():  # traced for shapes only: no state change
            return self
        with torch.no_grad():
            self.sub_(self._coerce(value))
        return self

    @property
    def constraint(self):
        """The constraint applied after each optimizer update (``add_weight(constraint=...)``)."""
        return self.__dict__.get("_dn_constraint")

    def _apply_constraint(self) -> None:
        """Project the value onto its constraint (in Keras' axis order), if it has one."""
        constraint = self.constraint
        if constraint is None:
            return
        with torch.no_grad():
            self.copy_(self._from_keras(constraint(self._to_keras(torch.Tensor.detach(self)))))

    def _copy_metadata(self, other) -> None:
        for key in ("_dn_name", "_dn_path", "_dn_layout", "_dn_keras_shape", "_dn_constraint"):
            if key in self.__dict__:
                other.__dict__[key] = self.__dict__[key]


@contextlib.contextmanager
def name_scope(name: str, caller=None, deduplicate: bool = True, override_parent=None) -> Iterator[str]:
    """Prefix the ``path`` of the :class:`Variable` objects created inside with ``name`` (Keras'
    ``keras.name_scope``; nested scopes join with ``/``). Layers' weights keep their
    ``"<layer>/<weight>"`` paths.

    >>> with dn.name_scope("block"):
    ...     v = dn.Variable(0.0, name="step")
    >>> v.path
    'block/step'
    """
    if not isinstance(name, str) or not name:
        raise ValueError(f"name_scope expects a non-empty string; received name={name!r}.")
    pushed = name.strip("/").split("/") if override_parent is None else [name.strip("/")]
    saved = list(_SCOPES)
    if override_parent is not None:
        _SCOPES[:] = [p for p in str(override_parent).strip("/").split("/") if p]
    _SCOPES.extend(pushed)
    try:
        yield "/".join(_SCOPES)
    finally:
        _SCOPES[:] = saved


_INITIALIZER_ALIASES = {"uniform": "RandomUniform", "normal": "RandomNormal"}


def _resolve_initializer(name: str):
    """An initializer instance from Keras' snake_case (``"glorot_uniform"``) or class name, through
    the registry (``deepnet.initializers`` registers its classes when ``deepnet`` is imported)."""
    camel = _INITIALIZER_ALIASES.get(name) or "".join(part[:1].upper() + part[1:] for part in name.split("_"))
    cls = registry.get_registered_class(camel, kind="initializer") or \
        registry.get_registered_class(name, kind="initializer")
    if cls is None:
        raise ValueError(f"Variable: unknown initializer {name!r}. help: use an initializer name such as "
                         "'zeros', 'ones' or 'glorot_uniform', a deepnet.initializers object, or a value.")
    return cls()


def _initial_value(initializer, shape, dtype) -> torch.Tensor:
    """The first value of a ``Variable(initializer, shape, dtype)``, as a torch tensor."""
    if isinstance(initializer, str):
        initializer = _resolve_initializer(initializer)
    if callable(initializer) and not isinstance(initializer, torch.Tensor):
        if shape is None:
            raise ValueError("Variable: an initializer needs a `shape`. help: pass shape=(...) or give the "
                             "initial value itself (a number or an array).")
        name = standardize_dtype(dtype)
        value = torch.as_tensor(initializer(tuple(int(d) for d in shape), dtype=getattr(torch, name)))
    else:
        value = initializer.detach().clone() if isinstance(initializer, torch.Tensor) \
            else torch.as_tensor(np.asarray(initializer))
        if dtype is not None or is_float_dtype(value.dtype) or value.dtype == torch.float64:
            value = value.to(getattr(torch, standardize_dtype(dtype)))
        if shape is not None and tuple(value.shape) != tuple(shape):
            raise ValueError(f"Variable: the initial value has shape {tuple(value.shape)} but shape={tuple(shape)} "
                             "was given. help: pass a value of that shape, or drop `shape`.")
    return value


class TrainableVariable(Variable, nn.Parameter):
    """A trainable weight: an ``nn.Parameter`` with :class:`Variable`'s methods.

    >>> v = dn.utils.variables.TrainableVariable(torch.zeros(2))
    >>> _ = v.assign_add(np.array([1.0, 2.0]))
    >>> v.numpy().tolist(), isinstance(v, torch.nn.Parameter), v.trainable
    ([1.0, 2.0], True, True)
    """

    def __new__(cls, data=None, requires_grad=True):
        return nn.Parameter.__new__(cls, data, requires_grad)

    def __deepcopy__(self, memo):
        result = nn.Parameter.__deepcopy__(self, memo)
        self._copy_metadata(result)
        return result

    def __repr__(self) -> str:
        return f"<Variable path={self.path!r} shape={tuple(self.shape)} trainable={self.trainable}>"


class StateVariable(Variable, torch.Tensor):
    """A non-trainable weight or a metric's state: a plain tensor with :class:`Variable`'s methods.

    >>> v = dn.utils.variables.StateVariable(torch.zeros(()))
    >>> float(v.assign(3.0).assign_sub(1.0).numpy()), v.trainable
    (2.0, False)
    """

    __torch_function__ = torch._C._disabled_torch_function_impl

    def __new__(cls, data=None):
        data = torch.empty(0) if data is None else data
        return torch.Tensor._make_subclass(cls, data.detach(), False)

    def __deepcopy__(self, memo):
        if id(self) in memo:
            return memo[id(self)]
        result = StateVariable(torch.Tensor.detach(self).clone())
        self._copy_metadata(result)
        memo[id(self)] = result
        return result

    def __reduce_ex__(self, proto):  # pickles as a plain tensor (torch.load(weights_only=True) reads it)
        return torch.Tensor.__reduce_ex__(torch.Tensor.detach(self), proto)

    def __repr__(self) -> str:
        return f"<Variable path={self.path!r} shape={tuple(self.shape)} trainable=False>"


def as_variable(tensor: torch.Tensor, trainable: bool, name: str | None = None, path: str | None = None,
                layout=None, requires_grad: bool | None = None, constraint=None, keras_shape=None):
    """``tensor`` as a :class:`TrainableVariable` (``trainable``) or :class:`StateVariable`
    sharing its storage, with Keras' name, path and the stored-axis ``layout`` (the Keras value
    permuted by ``layout``, then reshaped to the stored shape when ``keras_shape`` is given).

    >>> v = dn.utils.variables.as_variable(torch.ones(2, 3), trainable=True, name="kernel",
    ...                                    path="dense/kernel", layout=(1, 0))
    >>> v.name, v.numpy().shape
    ('kernel', (3, 2))
    """
    if trainable:
        grad = True if requires_grad is None else requires_grad
        out = TrainableVariable(tensor.detach() if isinstance(tensor, nn.Parameter) else tensor, grad)
    else:
        out = StateVariable(tensor)
    if name is not None:
        out.__dict__["_dn_name"] = name
    if path is not None:
        out.__dict__["_dn_path"] = path
    if layout is not None:
        out.__dict__["_dn_layout"] = tuple(int(i) for i in layout)
        if keras_shape is not None and tuple(keras_shape) != tuple(tensor.shape):
            out.__dict__["_dn_keras_shape"] = tuple(int(n) for n in keras_shape)
    if constraint is not None:
        out.__dict__["_dn_constraint"] = constraint
    return out


# --- the training step's fast path -------------------------------------------------------------
# torch recognises only an exact ``nn.Parameter`` in its C++ fast paths: every torch call that
# receives a Parameter *subclass* looks up ``__torch_function__`` first (+0.2-0.5 us per
# argument, about +7 us per fused Adam step of a small MLP; measured, docs/performance.md).
# ``fit``'s built-in step therefore runs with the trainable Variables of deepnet's own layers
# turned into exact ``nn.Parameter`` objects (the same objects: ``__class__`` is switched,
# tensor, gradient, hooks and metadata stay; 0.03 us each) and turns them back before any
# callback, progress report or user code outside a layer's ``call`` sees them.


def step_weights(modules, optimizer) -> list:
    """The :class:`TrainableVariable` objects ``fit``'s step may run as exact ``nn.Parameter``:
    the direct weights of deepnet's own layer classes (a custom layer's code keeps seeing its
    Variables), none when the optimizer is a user subclass (a Keras ``update_step`` calls
    ``variable.assign_sub``).

    >>> model = dn.Sequential([dn.layers.Input((3,)), dn.layers.Dense(2)])
    >>> [w.path for w in step_weights(model.modules(), dn.optimizers.Adam())]
    ['dense/kernel', 'dense/bias']
    """
    if not registry.is_library_class(type(optimizer)):
        return []
    out = []
    for module in modules:
        if registry.is_library_class(type(module)):
            out.extend(p for p in module._parameters.values() if type(p) is TrainableVariable)
    return out


def as_parameters(weights: list) -> None:
    """Switch each of ``weights`` (from :func:`step_weights`) to an exact ``nn.Parameter``, in place.

    >>> w = as_variable(torch.ones(2), trainable=True, name="bias")
    >>> as_parameters([w]); type(w) is torch.nn.Parameter, w.__dict__["_dn_name"]
    (True, 'bias')
    >>> as_variables([w])
    """
    for w in weights:
        w.__class__ = nn.Parameter


def as_variables(weights: list) -> None:
    """Undo :func:`as_parameters`.

    >>> w = as_variable(torch.zeros(2), trainable=True, name="kernel")
    >>> as_parameters([w]); type(w).__name__
    'Parameter'
    >>> as_variables([w]); type(w).__name__, w.name
    ('TrainableVariable', 'kernel')
    """
    for w in weights:
        w.__class__ = TrainableVariable
