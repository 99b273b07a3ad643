"""Harness rows (tests/harness.py) for the Keras-breadth layers of part B: 3-D convolutions,
pooling, padding, cropping, upsampling and spatial dropout, adaptive pooling, the generic RNN
with its cells, and ConvLSTM1D/2D/3D. ``CASES`` is also part of the table of
tests/test_layer_harness.py (its meta-test sees these layers covered)."""

from __future__ import annotations

import pytest
import torch

import deepnet.layers as L
from harness import LayerCase

CF = {"data_format": "channels_first"}


def case(cls, kwargs, input_shape, output_shape, trainable=None, non_trainable=0, **extra) -> LayerCase:
    return LayerCase(cls, kwargs, input_shape, output_shape, trainable, non_trainable, **extra)


# --------------------------------------------------------------------------- 3-D layers

VOL = (4, 5, 6, 2)  # depth, height, width, channels
VOL_CF = (2, 4, 5, 6)

THREE_D = [
    case(L.Conv3D, {"filters": 3, "kernel_size": 2}, VOL, (None, 3, 4, 5, 3), 2 * 2 * 2 * 2 * 3 + 3),
    case(L.Conv3D, {"filters": 4, "kernel_size": (1, 2, 3), "strides": 2, "padding": "same", "groups": 2,
                    "activation": "relu", "kernel_regularizer": "l2"}, VOL, (None, 2, 3, 3, 4), 1 * 2 * 3 * 1 * 4 + 4),
    case(L.Conv3D, {"filters": 3, "kernel_size": 2, "dilation_rate": 2, "use_bias": False, **CF}, VOL_CF,
         (None, 3, 2, 3, 4), 2 * 2 * 2 * 2 * 3),
    case(L.Conv3DTranspose, {"filters": 3, "kernel_size": 2, "strides": 2}, VOL, (None, 8, 10, 12, 3),
         2 * 2 * 2 * 3 * 2 + 3),
    case(L.Conv3DTranspose, {"filters": 2, "kernel_size": 3, "strides": (1, 2, 2), "padding": "same",
                             "output_padding": (0, 1, 1), **CF}, VOL_CF, (None, 2, 4, 10, 12), 27 * 2 * 2 + 2),
    case(L.MaxPooling3D, {}, VOL, (None, 2, 2, 3, 2), 0),
    case(L.MaxPooling3D, {"pool_size": 3, "strides": 2, "padding": "same", **CF}, VOL_CF, (None, 2, 2, 3, 3), 0),
    case(L.AveragePooling3D, {"pool_size": (2, 2, 3), "padding": "same"}, VOL, (None, 2, 3, 2, 2), 0),
    case(L.AveragePooling3D, {"pool_size": 2, "strides": 1, **CF}, VOL_CF, (None, 2, 3, 4, 5), 0),
    case(L.GlobalMaxPooling3D, {}, VOL, (None, 2), 0),
    case(L.GlobalMaxPooling3D, {"keepdims": True, **CF}, VOL_CF, (None, 2, 1, 1, 1), 0),
    case(L.GlobalAveragePooling3D, {}, VOL, (None, 2), 0),
    case(L.GlobalAveragePooling3D, {"keepdims": True}, VOL, (None, 1, 1, 1, 2), 0),
    case(L.ZeroPadding3D, {}, VOL, (None, 6, 7, 8, 2), 0),
    case(L.ZeroPadding3D, {"padding": ((0, 1), (2, 0), (1, 1)), **CF}, VOL_CF, (None, 2, 5, 7, 8), 0),
    case(L.Cropping3D, {}, VOL, (None, 2, 3, 4, 2), 0),
    case(L.Cropping3D, {"cropping": (0, 1, 2), **CF}, VOL_CF, (None, 2, 4, 3, 2), 0),
    case(L.UpSampling3D, {}, VOL, (None, 8, 10, 12, 2), 0),
    case(L.UpSampling3D, {"size": (1, 2, 3), **CF}, VOL_CF, (None, 2, 4, 10, 18), 0),
    case(L.SpatialDropout3D, {"rate": 0.5, "seed": 1}, VOL, (None, *VOL), 0),
    case(L.SpatialDropout3D, {"rate": 0.3, **CF}, VOL_CF, (None, *VOL_CF), 0),
]

# --------------------------------------------------------------------------- adaptive pooling

ADAPTIVE = [
    case(L.AdaptiveAveragePooling1D, {"output_size": 3}, (7, 2), (None, 3, 2), 0),
    case(L.AdaptiveMaxPooling1D, {"output_size": 2, **CF}, (2, 7), (None, 2, 2), 0),
    case(L.AdaptiveAveragePooling2D, {"output_size": (2, 3)}, (5, 7, 2), (None, 2, 3, 2), 0),
    case(L.AdaptiveMaxPooling2D, {"output_size": 2, **CF}, (2, 5, 7), (None, 2, 2, 2), 0),
    case(L.AdaptiveAveragePooling3D, {"output_size": 2}, VOL, (None, 2, 2, 2, 2), 0),
    case(L.AdaptiveMaxPooling3D, {"output_size": (1, 2, 3), **CF}, VOL_CF, (None, 2, 1, 2, 3), 0),
]

CASES = [*THREE_D, *ADAPTIVE]


def _ids(cases):
    seen: dict[str, int] = {}
    out = []
    for c in cases:
        n = c.cls.__name__
        out.append(f"{n}-{seen.get(n, 0)}")
        seen[n] = seen.get(n, 0) + 1
    return out


@pytest.mark.parametrize("layer_case", CASES, ids=_ids(CASES))
def test_layer(layer_case):
    layer_case.run()


# --------------------------------------------------------------------------- behaviour


def test_spatial_dropout3d_drops_whole_channels():
    layer = L.SpatialDropout3D(0.5, seed=3)
    y = layer(torch.ones(4, 2, 3, 2, 8), training=True)
    per_channel = y.reshape(4, -1, 8)
    assert torch.all(per_channel == per_channel[:, :1])  # one value per sample and channel
    assert set(per_channel.unique().tolist()) <= {0.0, 2.0}
    assert torch.equal(layer(torch.ones(1, 2, 2, 2, 3), training=False), torch.ones(1, 2, 2, 2, 3))


def test_volume_layers_reject_wrong_ranks_and_sizes():
    with pytest.raises(ValueError, match=r"Conv3D .* expects input of rank 5 \(batch, depth, height, width, "
                                         r"channels\).*Reshape\(\(8, 8, 8, 1\)\)"):
        L.Conv3D(2, 3)(torch.ones(2, 8, 8, 8))
    with pytest.raises(ValueError, match=r"Cropping3D .* cannot crop 4 slices from the depth"):
        L.Cropping3D(2)(torch.ones(1, 4, 6, 6, 1))
    with pytest.raises(ValueError, match="`cropping`"):
        L.Cropping3D(((1, 2), (3, 4)))
    with pytest.raises(ValueError, match="`output_size`"):
        L.AdaptiveMaxPooling2D((2, 0))
