"""The two small layers of Keras' architectures that are not in ``keras.layers``: InceptionResNetV2's
``CustomScaleLayer`` (``x + scale * residual``) and ConvNeXt's ``LayerScale`` (a learned
per-channel scale). Registered under their Keras class names so saved models load."""

from __future__ import annotations

from numbers import Integral, Real

from .. import layers
from ..initializers import Constant
from ..utils.registry import register_serializable
from ..utils.validation import Interval, validate_params

__all__ = ["CustomScaleLayer", "LayerScale"]


@register_serializable(package="applications")
class CustomScaleLayer(layers.Layer):
    """``inputs[0] + inputs[1] * scale``: the scaled residual sum of InceptionResNetV2's blocks."""

    @validate_params({"scale": Interval(Real, None, None)})
    def __init__(self, scale, **kwargs):
        super().__init__(**kwargs)
        self.scale = scale

    def call(self, inputs):
        return inputs[0] + inputs[1] * self.scale

    def compute_output_shape(self, input_shape):
        return input_shape[0]

    def get_config(self):
        return {**super().get_config(), "scale": self.scale}


@register_serializable(package="applications")
class LayerScale(layers.Layer):
    """Multiply the last axis by a learned vector ``gamma`` of ``projection_dim`` values that
    starts at ``init_values`` (ConvNeXt's layer scale, Touvron et al., 2021)."""

    @validate_params({"init_values": Interval(Real, None, None), "projection_dim": Interval(Integral, 1, None)})
    def __init__(self, init_values, projection_dim, **kwargs):
        super().__init__(**kwargs)
        self.init_values = init_values
        self.projection_dim = projection_dim

    def build(self, input_shape):
        self.gamma = self.add_weight(shape=(self.projection_dim,), initializer=Constant(self.init_values),
                                     trainable=True, name="gamma")

    def call(self, x):
        return x * self.gamma

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "init_values": self.init_values, "projection_dim": self.projection_dim}
