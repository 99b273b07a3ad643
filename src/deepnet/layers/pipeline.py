"""Pipeline: a list of (preprocessing) layers applied one after the other.

Unlike :class:`~deepnet.Sequential` it is a plain layer, not a model: no ``Input``, no
training API. It runs each layer eagerly on its input, so it may start with data layers
(``TextVectorization``, ``StringLookup``...) that take strings.
"""

from __future__ import annotations

from ..utils.lazy import lazy_import
from ..utils.validation import Constraint, Rejected, validate_params
from ._encoding import DataLayer
from ._tensors import accepted_kwargs
from .base import Layer

_serialization = lazy_import("deepnet.utils.serialization")

__all__ = ["Pipeline"]


class _Layers(Constraint):
    description = "a list of layers"

    def convert(self, value):
        if isinstance(value, (list, tuple)) and all(isinstance(v, (Layer, dict)) for v in value):
            return [v if isinstance(v, Layer) else _serialization.deserialize_layer(v) for v in value]
        raise Rejected(type_error=True)


class Pipeline(DataLayer):
    """Applies ``layers`` in order (Keras' ``keras.layers.Pipeline``).

    Args:
        layers: a list of layers (or their serialized configs).

    Each layer gets ``training`` when its ``call`` takes it (``True`` by default, as in Keras:
    pipelines usually augment training data). Weights: those of its layers.

    >>> pipe = dn.layers.Pipeline([dn.layers.Rescaling(0.5), dn.layers.Rescaling(2.0, offset=1.0)])
    >>> pipe(torch.tensor([[2.0, 4.0]]))
    tensor([[3., 5.]])
    """

    @validate_params({"layers": _Layers()})
    def __init__(self, layers, **kwargs):
        super().__init__(**kwargs)
        self._pipeline_layers = list(layers)
        for i, layer in enumerate(self._pipeline_layers):
            self.add_module(f"layer_{i}", layer)

    @property
    def layers(self) -> list:
        """The layers, in order."""
        return list(self._pipeline_layers)

    def build(self, input_shape):
        if input_shape is None:
            return  # raw data (strings, lists): each layer builds on its first call
        for layer in self._pipeline_layers:
            if not layer.built:
                layer._build_from_shapes((input_shape,))
            input_shape = layer.compute_output_shape(input_shape)

    def call(self, inputs, training=True):
        for layer in self._pipeline_layers:
            names, has_var = accepted_kwargs(type(layer).call)
            kwargs = {"training": training} if "training" in names or has_var else {}
            inputs = layer(inputs, **kwargs)
        return inputs

    def compute_output_shape(self, input_shape):
        for layer in self._pipeline_layers:
            input_shape = layer.compute_output_shape(input_shape)
        return input_shape

    def get_config(self):
        return {**super().get_config(),
                "layers": [_serialization.serialize_layer(layer) for layer in self._pipeline_layers]}
