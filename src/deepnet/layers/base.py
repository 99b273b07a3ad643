"""The :class:`Layer` base class, symbolic tensors and graph nodes.

Contract for a layer (see STYLE.md):

* ``__init__`` validates and stores configuration only (keyword arguments equal attributes).
* ``build(input_shape)`` creates the weights from the first input's shape with
  :meth:`Layer.add_weight`. ``input_shape`` is a tuple with ``None`` for the batch axis (a list
  of tuples for layers that take a list of tensors; one argument per tensor argument for
  layers such as ``MultiHeadAttention(query, value, key)``).
* ``call(inputs, ...)`` is the computation on ``torch.Tensor`` s (the ``nn.Module`` ``forward``
  builds the layer on first use, threads Keras masks and then calls ``call``).
* ``compute_output_shape(input_shape)`` returns the output shape without computing anything.
  Layers that do not implement it fall back to running ``call`` on fake tensors.
* ``get_config()`` returns ``{**super().get_config(), ...}`` with every constructor argument.

Weights are registered with a *Keras shape* and an optional ``layout`` permutation so that
initializers see Keras' fan-in/fan-out and ``get_weights``/``set_weights`` exchange NumPy
arrays in Keras' layout, while the tensor the layer computes with has PyTorch's layout.
"""

from __future__ import annotations

import inspect

import numpy as np
import torch
from torch import nn
from torch._subclasses.fake_tensor import FakeTensor

from .. import constraints as _constraints
from .. import initializers as _initializers
from .. import regularizers as _regularizers
from ..utils import nest, symbolic
from ..utils.naming import to_snake_case, unique_name
from ..utils.registry import register_kind
from ..utils.tensors import train_mode
from ..utils.validation import InstanceOf, NoneOr, validate_params
from ..utils.variables import as_variable
from ._build import marking_built
from ._checks import BOOL, DTYPE, NAME, POSITIVE_INT, REGULARIZER, SHAPE
from ._layer_weights import LayerWeights
from ._tensors import (  # noqa: F401  (re-exported: layers.base is the public home of these names)
    KerasTensor,
    Node,
    _any_symbolic,
    _get_mask,
    _materialize,
    _set_mask,
    _shapes_of,
    accepted_kwargs,
    as_layer_input,
    collect_shapes,
    dtype_name,
    filter_kwargs,
    format_shape,
    infer_output_shape,
    input_mask,
    is_shape,
    map_shapes,
    standardize_dtype,
)
from ._weights import WeightSpec, bind_add_weight

__all__ = ["Input", "InputLayer", "KerasTensor", "Layer", "Node", "TorchModuleWrapper"]

# --------------------------------------------------------------------------- Layer


def _holds_array(a) -> bool:
    return isinstance(a, np.ndarray) or (isinstance(a, (list, tuple)) and any(isinstance(t, np.ndarray) for t in a))


def _arrays_as_tensors(layer, a):
    """Numeric NumPy arrays in any call argument (a list of merge inputs, attention's ``value``,
    a mask) become tensors as the first input does, as Keras converts every array argument."""
    if isinstance(a, np.ndarray):
        return as_layer_input(layer, a) if a.dtype.kind in "fbiu" else a
    if isinstance(a, (list, tuple)):
        return type(a)(_arrays_as_tensors(layer, t) for t in a)
    return a


_CALL_DEPTH = [0]  # nesting of Layer.forward calls: 0 outside any layer's call


class Layer(LayerWeights, nn.Module):
    """Base class of every deepnet layer; a real ``torch.nn.Module``.

    Args:
        name: unique name; auto-numbered from the class name (``dense``, ``dense_1``...).
        trainable: whether the weights are updated by training.
        dtype: dtype of the weights (default ``"float32"``).
        input_shape: optional shape (without batch axis) of the first input; in a
            ``Sequential`` model this plays the role of an ``Input`` layer.
        activity_regularizer: optional penalty on the layer's outputs (divided by the batch
            size), added to the training loss and listed in ``losses``.

    >>> class Scale(dn.layers.Layer):
    ...     def build(self, input_shape):
    ...         self.w = self.add_weight(shape=(input_shape[-1],), initializer="ones")
    ...     def call(self, inputs):
    ...         return inputs * self.w
    >>> layer = Scale()
    >>> layer(torch.ones(2, 3)).shape, layer.count_params()
    (torch.Size([2, 3]), 3)
    """

    supports_masking = False
    # The mode a new layer starts in: Keras' default of `call(training=...)` outside fit/predict
    # (None: inference; the augmentation layers say True: a direct call augments).
    _TRAINING_BY_DEFAULT = False

    @validate_params({"name": NAME, "trainable": BOOL, "dtype": DTYPE, "input_shape": SHAPE,
                      "batch_input_shape": NoneOr(InstanceOf(tuple, list, description="a shape tuple")),
                      "activity_regularizer": REGULARIZER})
    def __init__(self, *, name: str | None = None, trainable: bool = True, dtype=None,
                 input_shape=None, batch_input_shape=None, activity_regularizer=None, **kwargs):
        super().__init__()
        # Keras semantics: a layer called directly infers; fit() (or training=True) trains.
        self.training = self._TRAINING_BY_DEFAULT
        if kwargs:
            raise TypeError(
                f"{type(self).__name__} got unexpected keyword argument(s) {sorted(kwargs)}. "
                f"Check the spelling against the documented arguments of {type(self).__name__}."
            )
        self.name = name or unique_name(to_snake_case(type(self).__name__))
        self._trainable = trainable
        self.dtype = dtype
        if input_shape is not None:
            batch_input_shape = (None, *input_shape)
        self._batch_input_shape = tuple(batch_input_shape) if batch_input_shape is not None else None
        # Keras semantics: the penalty of every output, divided by the batch size, collected by
        # `losses` and by the training engine (which reads `_activity_loss`).
        self.activity_regularizer = activity_regularizer
        self.built = False
        self._build_args = None
        self._weight_specs: list[WeightSpec] = []
        self._inbound_nodes: list[Node] = []
        self._activity_loss = None
        self._added_losses: list = []  # add_loss() values of the latest call
        self._fwd_info = None

    def __setattr__(self, name, value) -> None:
        # A torch module attached to a layer takes the layer's train/eval mode (it starts in
        # training mode; inside a deepnet layer it follows the layer: inference by default).
        if (isinstance(value, nn.Module) and not isinstance(value, Layer)
                and value.training != self.__dict__.get("training", value.training)):
            value.train(self.training)
        super().__setattr__(name, value)

    # -- identity ---------------------------------------------------------------------------
    def extra_repr(self) -> str:
        return f"name={self.name!r}"

    @property
    def trainable(self) -> bool:
        return self._trainable

    @trainable.setter
    def trainable(self, value: bool) -> None:
        value = bool(value)
        self._trainable = value
        for spec in self._weight_specs:
            t = getattr(self, spec.attr)
            if isinstance(t, nn.Parameter):
                t.requires_grad_(value and spec.trainable)
        for child in self.children():
            if isinstance(child, Layer):
                child.trainable = value
            else:
                for p in child.parameters():
                    p.requires_grad_(value)

    # -- building ---------------------------------------------------------------------------
    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "build" in vars(cls):  # a direct build(shape) call marks the layer built, as in Keras
            cls.build = marking_built(vars(cls)["build"])

    @marking_built
    def build(self, input_shape) -> None:
        """Create the weights. Override in layers that own weights (a direct call marks the
        layer built, as in Keras)."""

    def add_weight(self, *args, **kwargs) -> torch.Tensor:
        """Create a weight and register it on the module; returns it.

        Keras 3 signature: ``add_weight(shape=None, initializer=None, dtype=None, trainable=True,
        autocast=True, regularizer=None, constraint=None, aggregation="none",
        overwrite_with_gradient=False, name=None)``. A call whose first positional argument is
        a string uses the name-first order of tf.keras 2 and earlier deepnet code:
        ``add_weight(name, shape, initializer, regularizer, constraint, trainable)``.

        ``initializer`` defaults to ``"glorot_uniform"`` for floating-point weights and
        ``"zeros"`` otherwise; ``name`` to ``"variable"``, ``"variable_1"``, ... Trainable
        weights become ``nn.Parameter`` s, non-trainable ones persistent buffers (both in
        ``state_dict``). deepnet's keyword-only extras: ``layout`` (the permutation from the
        Keras layout to the stored PyTorch layout, e.g. ``(1, 0)`` for a Dense kernel stored as
        ``(out, in)``) and ``attr`` (the module attribute, default: the name).
        """
        legacy = bool(args) and isinstance(args[0], str)
        bound = bind_add_weight(self, legacy, args, kwargs)
        name, shape, initializer, dtype = bound["name"], bound["shape"], bound["initializer"], bound.get("dtype")
        return self._add_weight(name, shape, initializer, bound.get("regularizer"), bound.get("constraint"),
                                bound.get("trainable", True), layout=bound.get("layout"), attr=bound.get("attr"),
                                dtype=dtype)

    def _add_weight(self, name: str, shape, initializer="glorot_uniform", regularizer=None,
                    constraint=None, trainable: bool = True, layout: tuple | None = None,
                    attr: str | None = None, dtype=None) -> torch.Tensor:
        """add_weight for deepnet's own layers: name first, Keras shape, optional ``layout``."""
        if trainable is None:
            trainable = True
        init = _initializers.get(initializer, f"{name}_initializer")
        dtype = self.dtype if dtype is None else standardize_dtype(dtype)
        shape = tuple(int(d) for d in shape)
        with torch.no_grad():
            value = init(shape, dtype=dtype) if isinstance(init, _initializers.Initializer) else torch.as_tensor(init(shape, dtype=dtype), dtype=dtype)
        if tuple(value.shape) != shape:
            raise ValueError(f"{self.name}: initializer for {name!r} returned shape {tuple(value.shape)}; expected {shape}.")
        if layout is not None:
            value = value.permute(layout)
        value = value.contiguous()
        attr = attr or name
        # Keras Variable semantics (assign, numpy, path...) on a parameter / buffer
        constraint = _constraints.get(constraint, f"{name}_constraint")
        variable = as_variable(value, trainable, name=name, path=f"{self.name}/{name}", layout=layout,
                               requires_grad=self._trainable, constraint=constraint)
        if trainable:
            self.register_parameter(attr, variable)
        else:
            self.register_buffer(attr, variable)
        self._weight_specs.append(WeightSpec(
            attr=attr, keras_name=name, keras_shape=shape, layout=layout,
            regularizer=_regularizers.get(regularizer, f"{name}_regularizer"),
            constraint=constraint, trainable=trainable,
        ))
        return getattr(self, attr)

    def _build_from_shapes(self, shape_args: tuple) -> None:
        if self._batch_input_shape is not None and shape_args and is_shape(shape_args[0]):
            self._check_input_shape_matches(shape_args[0])
        self.build(*shape_args)
        self._build_args = shape_args
        self.built = True

    def _check_input_shape_matches(self, shape) -> None:
        expected = self._batch_input_shape
        ok = len(expected) == len(shape) and all(e is None or s is None or e == s for e, s in zip(expected, shape))
        if not ok:
            raise ValueError(
                f"{type(self).__name__} {self.name!r} was declared with input_shape="
                f"{format_shape(expected[1:])} but received input of shape {format_shape(shape)}."
            )

    def _build_shapes(self, args: tuple, kwargs: dict) -> tuple:
        """Shapes passed to ``build``: one per build parameter. ``build(input_shape)`` gets the
        first call argument's shape; ``build(query_shape, value_shape, key_shape=None)`` gets
        the shapes of the call arguments ``query``, ``value``, ``key`` (by name, Keras' rule)."""

        def shape_of(a):
            if isinstance(a, (torch.Tensor, KerasTensor)):
                return (None, *tuple(a.shape[1:]))
            if isinstance(a, (list, tuple)) and a and all(isinstance(t, (torch.Tensor, KerasTensor)) for t in a):
                return [(None, *tuple(t.shape[1:])) for t in a]
            return None

        build_params = [p for p in inspect.signature(self.build).parameters.values()
                        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
        if len(build_params) <= 1 or not all(p.name.endswith("_shape") for p in build_params):
            first = args[0] if args else next(iter(kwargs.values()), None)
            return (shape_of(first),)
        try:
            bound = inspect.signature(self.call).bind_partial(*args, **kwargs).arguments
        except TypeError:
            bound = dict(zip([p.name[:-6] for p in build_params], args))
        shapes = []
        for p in build_params:
            value = bound.get(p.name[: -len("_shape")])
            if value is None and p.default is not inspect.Parameter.empty:
                break
            shapes.append(shape_of(value))
        return tuple(shapes)

    # -- forward ----------------------------------------------------------------------------
    def call(self, inputs, *args, **kwargs):
        raise NotImplementedError(f"{type(self).__name__} must implement call().")

    def __call__(self, *args, **kwargs):
        if len(args) == 1 and not kwargs and type(args[0]) is torch.Tensor:
            return super().__call__(args[0])  # the training loop's case: one plain tensor
        if _any_symbolic(args, kwargs):
            return self._symbolic_call(args, kwargs)
        if args and not isinstance(args[0], (torch.Tensor, list, tuple, dict)):
            args = (as_layer_input(self, args[0]), *args[1:])
        if any(_holds_array(a) for a in args) or any(_holds_array(v) for v in kwargs.values()):
            args = tuple(_arrays_as_tensors(self, a) for a in args)
            kwargs = {k: _arrays_as_tensors(self, v) for k, v in kwargs.items()}
        return super().__call__(*args, **kwargs)

    def _forward_info(self):
        call = type(self).call
        sig_names, has_var = accepted_kwargs(call)
        # Where `training` sits among the positional arguments (after `self`), so forward() can
        # pass the module's train/eval flag the way Keras' fit/evaluate pass training=True/False
        # to a call(self, inputs, training=None), without clashing with a positional value.
        slot = None
        if "training" in sig_names:
            params = list(inspect.signature(call).parameters.values())[1:]
            param = next(p for p in params if p.name == "training")
            slot = params.index(param) if param.kind is param.POSITIONAL_OR_KEYWORD else (
                1 << 30 if param.kind is param.KEYWORD_ONLY else None)
        info = ("mask" in sig_names or has_var, "training" in sig_names or has_var, slot)
        self._fwd_info = info
        return info

    def _build_on_first_call(self, args: tuple, kwargs: dict) -> None:
        self._build_from_shapes(self._build_shapes(args, kwargs))
        ref = next((t for t in nest.flatten(args) if isinstance(t, torch.Tensor)), None)
        if ref is not None and ref.device.type != "cpu":
            self.to(ref.device)

    def forward(self, *args, **kwargs):
        training = kwargs.get("training")
        if training is not None and bool(training) != self.training:
            # an explicit training=True/False holds for this call and every layer inside it
            # (Keras' call context), plain torch modules included; each mode restored afterwards
            with train_mode(self, bool(training)):
                return self.forward(*args, **kwargs)  # now the modes agree: runs the body below
        if not self.built:
            self._build_on_first_call(args, kwargs)
        if _CALL_DEPTH[0] == 0 and Layer._add_loss_used:  # add_loss() terms belong to one outermost call
            for m in self.modules():  # (a layer called twice inside it keeps both, as in Keras)
                if isinstance(m, Layer) and m._added_losses:
                    m._added_losses = []
        accepts_mask, accepts_training, training_slot = self._fwd_info or self._forward_info()
        if "training" in kwargs and not accepts_training:
            kwargs.pop("training")
        elif training_slot is not None and kwargs.get("training") is None and len(args) <= training_slot:
            kwargs["training"] = self.training
        mask = kwargs.get("mask")
        if mask is None and args and (accepts_mask or self.supports_masking
                                      or self._overrides_compute_mask()):  # Keras: that implies masking
            mask = _get_mask(args[0])
            if mask is not None and accepts_mask:
                kwargs["mask"] = mask
        elif "mask" in kwargs and not accepts_mask:
            kwargs.pop("mask")
        if Layer._add_loss_used:  # the nesting depth matters only once add_loss() is in use
            _CALL_DEPTH[0] += 1
            try:
                outputs = self.call(*args, **kwargs)
            finally:
                _CALL_DEPTH[0] -= 1
        else:
            outputs = self.call(*args, **kwargs)
        if self.activity_regularizer is not None:
            self._activity_loss = self._activity_penalty(outputs)
        if mask is not None or self._overrides_compute_mask():
            out_mask = self.compute_mask(args[0] if args else None, mask)
            if out_mask is not None:
                _set_mask(outputs, out_mask)
        return outputs

    def _activity_penalty(self, outputs) -> torch.Tensor:
        """``activity_regularizer`` of every output tensor, divided by its batch size (Keras);
        layers whose penalty covers other tensors override this (MultiHeadAttention)."""
        tensors = [t for t in nest.flatten(outputs) if isinstance(t, torch.Tensor)]
        return sum(self.activity_regularizer(t) / t.shape[0] for t in tensors)

    def _overrides_compute_mask(self) -> bool:
        return type(self).compute_mask is not Layer.compute_mask

    def compute_mask(self, inputs, mask=None):
        """Mask of the output (Keras semantics): pass it through when ``supports_masking``."""
        return mask if self.supports_masking else None

    # -- symbolic graph construction ----------------------------------------------------------
    def _symbolic_call(self, args: tuple, kwargs: dict):
        to_shape = lambda t: t.shape if isinstance(t, KerasTensor) else t  # noqa: E731
        shape_args = nest.map_structure(to_shape, args)
        shape_kwargs = nest.map_structure(to_shape, kwargs)
        if kwargs.get("mask") is None and args and (self._fwd_info or self._forward_info())[0]:
            mask = input_mask(args[0])  # call sees the inputs' masks, as it will when the model runs
            if mask is not None:
                shape_kwargs["mask"] = nest.map_structure(to_shape, mask)
        if not self.built:
            self._build_from_shapes(self._build_shapes(args, kwargs))
        out_shapes = self.compute_output_shape(*shape_args, **filter_kwargs(self.compute_output_shape, shape_kwargs))
        dtype = self._output_dtype(args, kwargs)
        # copy the containers: later edits of the caller's lists must not rewire the graph
        node = Node(layer=self, call_args=nest.map_structure(lambda t: t, args),
                    call_kwargs=nest.map_structure(lambda t: t, kwargs), outputs=None)
        counter = iter(range(1 << 30))
        outputs = map_shapes(lambda s: KerasTensor(s, dtype, node, next(counter)), out_shapes)
        node.outputs = outputs
        self._inbound_nodes.append(node)
        return outputs

    def _output_dtype(self, args, kwargs) -> torch.dtype:
        return self.dtype if self.dtype.is_floating_point else torch.float32

    def compute_output_shape(self, *shapes, **kwargs):
        """Default: run ``call`` on fake tensors (no computation) and read the shapes.

        Sublayers that are not built yet (created in ``__init__`` or ``build`` and built on
        first use, the usual Keras pattern) are first built by one real call on zeros, so that
        their weights are real tensors, never fakes of the shape inference."""
        if any(isinstance(m, Layer) and not m.built for m in self.modules() if m is not self):
            self._build_sublayers(shapes, kwargs)
        out = infer_output_shape(self, shapes, kwargs)
        fake = next((n for n, t in [*self.named_parameters(), *self.named_buffers()] if isinstance(t, FakeTensor)), None)
        if fake is not None:
            raise RuntimeError(
                f"{type(self).__name__} {self.name!r} created the weight {fake!r} while its output shape was being "
                "inferred, so it holds no value. help: create sublayers in __init__() or build() (not inside "
                "call()), or implement compute_output_shape()."
            )
        return out

    def _build_sublayers(self, shapes: tuple, kwargs: dict) -> None:
        """One real call of ``call`` on zeros (inference mode, no gradients): builds sublayers."""
        def realize(s):
            return torch.zeros(_materialize(s), dtype=torch.float32) if is_shape(s) else s

        args = map_shapes(realize, shapes)
        kw = {k: map_shapes(realize, v) for k, v in kwargs.items()}
        was_training = self.training
        self.eval()
        try:
            with torch.no_grad(), symbolic.shape_inference(self):  # no state changes
                self.call(*args, **filter_kwargs(type(self).call, kw))
        finally:
            self.train(was_training)

    # -- functional-API introspection -------------------------------------------------------------
    def _first_node(self, what: str) -> Node:
        if not self._inbound_nodes:
            raise AttributeError(
                f"Layer {self.name!r} has no defined {what} yet: it has not been called on a symbolic "
                "input (deepnet.Input)."
            )
        return self._inbound_nodes[0]

    @property
    def input(self):
        node = self._first_node("input")
        return node.call_args[0] if node.call_args else next(iter(node.call_kwargs.values()))

    @property
    def output(self):
        return self._first_node("output").outputs

    @property
    def output_shape(self):
        """Output shape(s) with ``None`` for the batch axis (first call of the layer)."""
        if self._inbound_nodes:
            return _shapes_of(self._inbound_nodes[0].outputs)
        if self.built and self._build_args is not None:
            return self.compute_output_shape(*self._build_args)
        raise AttributeError(f"Layer {self.name!r} has no output shape yet: build it or call it on an input first.")

    # -- config -----------------------------------------------------------------------------------
    def get_config(self) -> dict:
        config = {"name": self.name, "trainable": self.trainable, "dtype": dtype_name(self.dtype)}
        if self._batch_input_shape is not None:
            config["batch_input_shape"] = list(self._batch_input_shape)
        if self.activity_regularizer is not None:
            config["activity_regularizer"] = _regularizers.serialize(self.activity_regularizer)
        return config

    @classmethod
    def from_config(cls, config: dict):
        return cls(**config)

    # -- helpers for subclasses -------------------------------------------------------------------
    def _check_rank(self, input_shape, ranks, layout: str, hint: str = "") -> None:
        """Raise the standard rank error: ``Conv2D 'conv2d' expects input of rank 4 (batch,
        height, width, channels); received shape (None, 784). <hint>``."""
        ranks = (ranks,) if isinstance(ranks, int) else tuple(ranks)
        if not is_shape(input_shape) or len(input_shape) not in ranks:
            expected = " or ".join(str(r) for r in ranks)
            raise ValueError(
                f"{type(self).__name__} {self.name!r} expects input of rank {expected} ({layout}); "
                f"received shape {format_shape(input_shape)}." + (f" {hint}" if hint else "")
            )

    def _check_defined_dim(self, input_shape, axis: int, what: str) -> int:
        dim = input_shape[axis]
        if dim is None:
            raise ValueError(
                f"{type(self).__name__} {self.name!r} needs the {what} axis (axis {axis}) of its input "
                f"to be defined; received shape {format_shape(input_shape)}. help: give Input a full shape."
            )
        return int(dim)


register_kind("layer", Layer)  # registry queries by kind ("layer") see Layer and its subclasses


# --------------------------------------------------------------------------- Input


class InputLayer(Layer):
    """The entry point of a functional graph; created by :func:`Input`.

    >>> layer = dn.layers.InputLayer(shape=(3,))
    >>> layer.output.shape
    (None, 3)
    """

    @validate_params({"shape": SHAPE, "batch_size": NoneOr(POSITIVE_INT), "dtype": DTYPE,
                      "batch_shape": NoneOr(InstanceOf(tuple, list, description="a shape tuple")), "name": NAME})
    def __init__(self, shape=None, batch_size=None, dtype=None, batch_shape=None, name=None, **kwargs):
        super().__init__(name=name or unique_name("input_layer"), dtype=dtype, **kwargs)
        if batch_shape is None:
            if shape is None:
                raise ValueError("Input needs a `shape` (without the batch axis), e.g. Input(shape=(28, 28, 1)).")
            batch_shape = (batch_size, *shape)
        batch_shape = tuple(None if d is None else int(d) for d in batch_shape)
        for d in batch_shape[1:]:
            if d is not None and d <= 0:
                raise ValueError(f"Input: every dimension of `shape` must be positive or None; received shape={batch_shape[1:]}.")
        self.batch_shape = batch_shape
        self.built = True
        node = Node(layer=self, call_args=(), call_kwargs={}, outputs=None)
        node.outputs = KerasTensor(batch_shape, self.dtype, node, 0, name=self.name)
        self._inbound_nodes.append(node)

    @property
    def output_tensor(self) -> KerasTensor:
        return self._inbound_nodes[0].outputs

    def call(self, inputs):
        return inputs

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {"batch_shape": list(self.batch_shape), "dtype": dtype_name(self.dtype), "name": self.name}


def Input(shape=None, batch_size=None, dtype=None, name=None, batch_shape=None) -> KerasTensor:
    """A symbolic input of a functional model: ``Input(shape=(28, 28, 1))`` (no batch axis).

    >>> dn.layers.Input(shape=(28, 28, 1))
    <KerasTensor shape=(None, 28, 28, 1), dtype=float32, produced by 'input_layer'>
    """
    layer = InputLayer(shape=shape, batch_size=batch_size, dtype=dtype, name=name, batch_shape=batch_shape)
    return layer.output_tensor


# --------------------------------------------------------------------------- wrapper


class TorchModuleWrapper(Layer):
    """Use any ``torch.nn.Module`` as a deepnet layer (in ``Sequential`` this happens
    automatically). Its parameters count as trainable weights, its floating-point buffers as
    non-trainable ones; ``get_weights`` returns them in PyTorch layout.

    >>> layer = dn.layers.TorchModuleWrapper(torch.nn.Linear(3, 2))
    >>> layer(torch.ones(4, 3)).shape
    torch.Size([4, 2])
    """

    @validate_params({"module": InstanceOf(nn.Module, description="a torch.nn.Module"), "name": NAME})
    def __init__(self, module: nn.Module, name=None, **kwargs):
        super().__init__(name=name or unique_name(to_snake_case(type(module).__name__)), **kwargs)
        self.module = module

    def build(self, input_shape):
        # Lazy torch modules (nn.LazyLinear...) materialise on a real call.
        if any(isinstance(p, nn.parameter.UninitializedParameter) for p in self.module.parameters()):
            shapes = input_shape if isinstance(input_shape, list) else [input_shape]
            with torch.no_grad():
                self.module(*[torch.zeros(_materialize(s)) for s in shapes])

    def call(self, *args, **kwargs):
        if "training" in kwargs:  # deepnet passes the train/eval flag; most torch modules take none
            names, has_var = accepted_kwargs(type(self.module).forward)
            if "training" not in names and not has_var:
                del kwargs["training"]
        return self.module(*args, **kwargs)

    def compute_output_shape(self, *shapes, **kwargs):
        return infer_output_shape(self.module, shapes, kwargs, call=self.module)

    def get_config(self):
        raise NotImplementedError(
            f"TorchModuleWrapper {self.name!r} wraps arbitrary PyTorch code ({type(self.module).__name__}) "
            "and has no data-only config. help: write a deepnet Layer subclass with get_config()."
        )
