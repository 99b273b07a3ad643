"""``Sequential``: a plain stack of layers, one input and one output."""

from __future__ import annotations

import torch
from torch import nn

from ..layers.base import (
    InputLayer,
    KerasTensor,
    Layer,
    TorchModuleWrapper,
    accepted_kwargs,
    is_shape,
)
from ..utils.lazy import lazy_import
from ..utils.naming import unique_name
from ..utils.registry import register_builtin
from .model import Model, _to_tensor, adjust_input_rank

# layer (de)serialisation loads with the first get_config/from_config: `import deepnet` stays fast.
_serialization = lazy_import("deepnet.utils.serialization")

__all__ = ["Sequential"]


class Sequential(Model):
    """A linear stack of layers.

    ``Sequential([Input(shape=(784,)), Dense(64, activation="relu"), Dense(10)])`` or
    ``model = Sequential(); model.add(...)``. Plain ``torch.nn.Module`` s are accepted and
    wrapped in :class:`~deepnet.layers.TorchModuleWrapper`. Without an ``Input`` the model
    builds on its first call (or ``model.build(input_shape)``).

    >>> model = dn.Sequential([dn.Input((3,)), dn.layers.Dense(2)])
    >>> model.add(dn.layers.Dense(1))
    >>> model.count_params()
    11
    """

    def __init__(self, layers=None, trainable: bool = True, name: str | None = None, **kwargs):
        super().__init__(name=name or unique_name("sequential"), trainable=trainable, **kwargs)
        self._stack: list[Layer] = []
        self._input_layer: InputLayer | None = None
        self._last_output: KerasTensor | None = None
        self._training_flags: list[bool] = []
        if isinstance(layers, (str, bytes, nn.Module, KerasTensor)) or not hasattr(layers or [], "__iter__"):
            raise TypeError(f"Sequential: `layers` must be a list of layers; received {type(layers).__name__}. "
                            "help: Sequential([deepnet.Input(shape=...), layers.Dense(...)]).")
        for layer in layers or []:
            self.add(layer)

    # ------------------------------------------------------------------ building
    def add(self, layer, rebuild: bool = True) -> None:
        """Append a layer (or an ``Input(...)`` tensor / ``InputLayer`` as the first item)."""
        if isinstance(layer, KerasTensor):
            if not isinstance(layer.node.layer, InputLayer):
                raise TypeError(
                    "Sequential.add() accepts a symbolic tensor only when it comes from deepnet.Input(); "
                    f"received {layer!r}. help: use the functional Model(inputs, outputs) for graphs."
                )
            layer = layer.node.layer
        if isinstance(layer, InputLayer):
            if self._stack or self._input_layer is not None:
                raise ValueError(
                    f"Sequential {self.name!r}: an Input can only be the first item; the model already has "
                    f"{'an input' if self._input_layer is not None else f'{len(self._stack)} layer(s)'}."
                )
            self._input_layer = layer
            self._last_output = layer.output_tensor
            self.built = True
            return
        if not isinstance(layer, Layer):
            if isinstance(layer, nn.Module):
                layer = TorchModuleWrapper(layer)
            else:
                raise TypeError(
                    f"Sequential.add() expects a deepnet Layer or a torch.nn.Module; received "
                    f"{type(layer).__name__}: {layer!r}."
                )
        if not self._stack and self._input_layer is None and layer._batch_input_shape is not None:
            self._input_layer = InputLayer(batch_shape=layer._batch_input_shape, dtype=layer.dtype)
            self._last_output = self._input_layer.output_tensor
        self._add_layer_module(layer)
        self._stack.append(layer)
        names, has_var = accepted_kwargs(type(layer).call)
        self._training_flags.append("training" in names or has_var)
        if self._last_output is not None:
            self._last_output = layer(self._last_output)
            self.built = True

    def pop(self) -> Layer:
        """Remove and return the last layer."""
        if not self._stack:
            raise TypeError(f"Sequential {self.name!r} has no layers to pop.")  # TypeError as in Keras
        layer = self._stack.pop()
        self._training_flags.pop()
        del self._modules[next(k for k, m in self._modules.items() if m is layer)]
        if self._input_layer is not None:
            self._last_output = self._input_layer.output_tensor
            for lyr in self._stack:
                self._last_output = lyr(self._last_output)
        return layer

    def build(self, input_shape=None, *more) -> None:
        """Build all layers for inputs of ``input_shape`` (batch axis included, may be None)."""
        if self._input_layer is not None:
            return
        if input_shape is None:
            raise ValueError(f"Sequential {self.name!r}.build() needs an input_shape, e.g. build((None, 784)).")
        if not is_shape(tuple(input_shape)):
            raise ValueError(f"Sequential {self.name!r}.build(): input_shape must be a tuple of ints/None; received {input_shape!r}.")
        self._input_layer = InputLayer(batch_shape=(None, *tuple(input_shape)[1:]), dtype=self.dtype)
        out = self._input_layer.output_tensor
        for layer in self._stack:
            out = layer(out)
        self._last_output = out
        self.built = True

    # ------------------------------------------------------------------ running
    def call(self, inputs, training=None, mask=None):
        x = inputs
        if training is None:
            for layer in self._stack:
                x = layer(x)
        else:
            for layer, takes in zip(self._stack, self._training_flags):
                x = layer(x, training=training) if takes else layer(x)
        return x

    def _runs_graph(self) -> bool:
        return type(self).call is Sequential.call

    def forward(self, *args, **kwargs):
        if args and not isinstance(args[0], torch.Tensor):
            args = (_to_tensor(args[0], self.dtype), *args[1:])
        inp = self._modules.get("_input_layer")  # (a registered submodule: skip Module.__getattr__)
        if inp is not None and args and isinstance(args[0], torch.Tensor) and args[0].dim() != len(inp.batch_shape):
            args = (adjust_input_rank(args[0], inp.batch_shape), *args[1:])
        return Layer.forward(self, *args, **kwargs)

    def compute_output_shape(self, input_shape, **kwargs):
        shape = input_shape
        for layer in self._stack:
            shape = layer.compute_output_shape(shape)
        return shape

    # ------------------------------------------------------------------ introspection
    @property
    def layers(self) -> list[Layer]:
        """The layers, without the input layer (as in Keras)."""
        return list(self._stack)

    @property
    def inputs(self):
        return [self._input_layer.output_tensor] if self._input_layer is not None else []

    @property
    def outputs(self):
        return [self._last_output] if self._last_output is not None else []

    @property
    def input(self):
        if self._input_layer is None:
            raise AttributeError(f"Sequential {self.name!r} has no input yet: add an Input or build it.")
        return self._input_layer.output_tensor

    @property
    def output(self):
        if self._last_output is None:
            raise AttributeError(f"Sequential {self.name!r} has no output yet: add an Input or build it.")
        return self._last_output

    @property
    def output_shape(self):
        return self.output.shape

    def get_config(self) -> dict:
        layers = [_serialization.serialize_layer(layer) for layer in self._stack]
        if self._input_layer is not None:
            layers.insert(0, _serialization.serialize_layer(self._input_layer))
        return {"name": self.name, "trainable": self.trainable, "layers": layers}

    @classmethod
    def from_config(cls, config: dict, custom_objects: dict | None = None):
        model = cls(name=config.get("name"), trainable=config.get("trainable", True))
        for entry in config.get("layers", []):
            model.add(_serialization.deserialize_layer(entry, custom_objects))
        return model


register_builtin(Sequential)
