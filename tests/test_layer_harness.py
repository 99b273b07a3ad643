"""Every public layer through the one harness (tests/harness.py), from ONE table.

Each row: layer class, constructor kwargs, input shape(s) without the batch axis, expected
output shape(s), expected trainable / non-trainable parameter counts. A row skips a harness
check only by naming it with a reason. ``test_every_public_layer_has_a_row`` fails, naming the
class, when a layer of ``deepnet.layers.__all__`` has no row.
"""

from __future__ import annotations

import inspect

import pytest
import torch

import deepnet.layers as L
from harness import LayerCase
from test_layers_audio import CASES as AUDIO_CASES
from test_layers_augmentation_breadth import CASES as AUGMENTATION_D_CASES
from test_layers_keras_breadth_a import CASES as BREADTH_A_CASES
from test_layers_keras_breadth_b import CASES as BREADTH_B_CASES
from test_layers_preprocessing_breadth import CASES as PREPROCESSING_C_CASES
from test_layers_preprocessing_breadth import EXEMPT as PREPROCESSING_C_EXEMPT

pytestmark = pytest.mark.filterwarnings("ignore:.*rms_scaling.*:DeprecationWarning")

CF = "channels_first"
CFD = {"data_format": CF}


def case(cls, kwargs, input_shape, output_shape, trainable=None, non_trainable=0, **extra) -> LayerCase:
    return LayerCase(cls, kwargs, input_shape, output_shape, trainable, non_trainable, **extra)


def _args(layer, xs, **kwargs):
    """MultiHeadAttention takes query, value(, key) as separate arguments."""
    return layer(*xs, **kwargs)


def _self_attention(layer, xs, **kwargs):
    return layer(xs[0], xs[0], **kwargs)


def _bidirectional_names(layer):
    assert layer.forward_layer.name.startswith("forward_") and layer.backward_layer.name.startswith("backward_")
    assert layer.backward_layer.go_backwards and not layer.forward_layer.go_backwards


# --------------------------------------------------------------------------- core

CORE = [
    case(L.Dense, {"units": 3}, (4,), (None, 3), 15),
    case(L.Dense, {"units": 3, "use_bias": False, "activation": "relu"}, (5, 4), (None, 5, 3), 12),
    case(L.Activation, {"activation": "tanh"}, (4,), (None, 4), 0),
    case(L.Flatten, {}, (2, 3, 4), (None, 24), 0),
    case(L.Flatten, {"data_format": CF}, (2, 3, 4), (None, 24), 0),
    case(L.Dense, {"units": 2, "kernel_regularizer": "l2", "bias_regularizer": "l1",
                   "activity_regularizer": "l2", "kernel_constraint": "max_norm", "bias_initializer": "ones"},
         (3,), (None, 2), 8),
    case(L.TorchModuleWrapper, {"module": torch.nn.Linear(4, 3)}, (4,), (None, 3), 15, skip={
        "config": "wraps an arbitrary torch module: no data-only config (get_config raises by design)",
        "json": "no data-only config (see config)", "file": "no data-only config (see config)",
        "float64": "the wrapped module keeps the dtype it was created with",
        "mixed_bfloat16": "no data-only config to rebuild it from (see config)"}),
]

# --------------------------------------------------------------------------- attention

MHA = L.MultiHeadAttention
ATTENTION = [
    # self-attention, cross-attention (query/value feature dims may differ, as in Keras)
    case(MHA, {"num_heads": 2, "key_dim": 3}, [(5, 4)], (None, 5, 4), 118, call=_self_attention),
    case(MHA, {"num_heads": 2, "key_dim": 3}, [(5, 4), (6, 7)], (None, 5, 4), 154, call=_args),
    case(MHA, {"num_heads": 2, "key_dim": 3, "value_dim": 5, "output_shape": (2, 3)}, [(5, 4), (6, 7)],
         (None, 5, 2, 3), 224, call=_args),
    case(MHA, {"num_heads": 2, "key_dim": 3, "use_bias": False}, [(5, 4)], (None, 5, 4), 96, call=_self_attention),
    case(MHA, {"num_heads": 2, "key_dim": 3}, [(5, 4), (6, 7), (6, 3)], (None, 5, 4), 130, call=_args),
    case(MHA, {"num_heads": 2, "key_dim": 3, "use_gate": True}, [(5, 4)], (None, 5, 4), 148, call=_self_attention),
    case(MHA, {"num_heads": 2, "key_dim": 3, "output_shape": 9}, [(5, 4)], (None, 5, 9), 153, call=_self_attention),
    case(MHA, {"num_heads": 1, "key_dim": 8, "dropout": 0.2, "seed": 3}, [(5, 4)], (None, 5, 4), 156,
         call=_self_attention),
    case(MHA, {"num_heads": 2, "key_dim": 3, "attention_axes": (2,)}, [(3, 4, 5)], (None, 3, 4, 5), 143,
         call=_self_attention, skip={"mask": "masks need 3D inputs (the layer says so and asks for attention_mask)"}),
    case(MHA, {"num_heads": 2, "key_dim": 3, "sliding_window": 2, "kernel_regularizer": "l2"}, [(5, 4)],
         (None, 5, 4), 118, call=_self_attention),
    case(MHA, {"num_heads": 2, "key_dim": 3}, [(5, 4), (6, 7)], [(None, 5, 4), (None, 2, 5, 6)], 154, call=_args,
         call_kwargs={"return_attention_scores": True}),
    case(MHA, {"num_heads": 2, "key_dim": 3}, [(5, 4)], (None, 5, 4), 118, call=_self_attention,
         call_kwargs={"use_causal_mask": True}),
    case(L.Attention, {}, [(5, 4), (6, 4)], (None, 5, 4), 0),
    case(L.Attention, {}, [(5, 4), (5, 4)], [(None, 5, 4), (None, 5, 5)], 0,
         call_kwargs={"return_attention_scores": True, "use_causal_mask": True}),
    case(L.Attention, {"use_scale": True}, [(5, 4), (6, 3), (6, 4)], (None, 5, 3), 1),
    case(L.Attention, {"use_scale": True, "score_mode": "concat", "dropout": 0.1}, [(5, 4), (6, 3), (6, 4)],
         (None, 5, 3), 2),
    case(L.AdditiveAttention, {}, [(5, 4), (6, 3), (6, 4)], (None, 5, 3), 4),
    case(L.AdditiveAttention, {"use_scale": False}, [(5, 4), (6, 4)], (None, 5, 4), 0),
]

# --------------------------------------------------------------------------- augmentation, preprocessing

IMG, IMG_OUT = (6, 7, 3), (None, 6, 7, 3)
AUGMENTATION = [
    case(L.RandomFlip, {}, IMG, IMG_OUT, 0),
    case(L.RandomFlip, {"mode": "horizontal"}, IMG, IMG_OUT, 0),
    case(L.RandomRotation, {"factor": 0.2}, IMG, IMG_OUT, 0),
    case(L.RandomRotation, {"factor": (-0.1, 0.3), "fill_mode": "wrap"}, IMG, IMG_OUT, 0),
    case(L.RandomZoom, {"height_factor": 0.3}, IMG, IMG_OUT, 0),
    case(L.RandomZoom, {"height_factor": (-0.2, 0.4), "width_factor": 0.1, "fill_mode": "constant",
                        "fill_value": 2.0}, IMG, IMG_OUT, 0),
    case(L.RandomTranslation, {"height_factor": 0.2, "width_factor": (-0.3, 0.1)}, IMG, IMG_OUT, 0),
    case(L.RandomTranslation, {"height_factor": 0.2, "width_factor": 0.2, "fill_mode": "nearest",
                               "interpolation": "nearest"}, IMG, IMG_OUT, 0),
    case(L.RandomContrast, {"factor": 0.4}, IMG, IMG_OUT, 0),
    case(L.RandomBrightness, {"factor": 0.3, "value_range": (0, 1)}, IMG, IMG_OUT, 0),
    case(L.RandomRotation, {"factor": 0.5, "data_format": CF, "seed": 3}, (3, 6, 7), (None, 3, 6, 7), 0),
    case(L.RandomContrast, {"factor": (0.1, 0.5), "data_format": CF}, (2, 5, 5), (None, 2, 5, 5), 0),
    case(L.RandomCrop, {"height": 4, "width": 5}, IMG, (None, 4, 5, 3), 0),
    case(L.RandomCrop, {"height": 4, "width": 5, "data_format": CF, "seed": 1}, (3, 6, 7), (None, 3, 4, 5), 0),
    case(L.RandomCrop, {"height": 8, "width": 8}, IMG, (None, 8, 8, 3), 0),
    case(L.RandomRoll1D, {"max_shift": 3}, (10, 2), (None, 10, 2), 0),
    case(L.RandomRoll1D, {"max_shift": 0.25, "seed": 2}, (40,), (None, 40), 0),
    case(L.RandomRoll1D, {"max_shift": 2, "data_format": CF}, (3, 9), (None, 3, 9), 0),
    case(L.Rescaling, {"scale": 1 / 255}, IMG, IMG_OUT, 0),
    case(L.Rescaling, {"scale": [1.0, 2.0, 3.0], "offset": -1.0}, (4, 3), (None, 4, 3), 0),
    case(L.Rescaling, {"scale": 1 / 255}, IMG, IMG_OUT, 0, input_dtype="uint8", int_high=256),
    case(L.Normalization, {}, (5, 3), (None, 5, 3), 0, 7),
    case(L.Normalization, {"axis": None}, (5, 3), (None, 5, 3), 0, 3),
    case(L.Normalization, {"axis": (1, 2)}, (5, 3), (None, 5, 3), 0, 31),
    case(L.Normalization, {"mean": [1.0, 2.0, 3.0], "variance": [1.0, 4.0, 9.0], "invert": True}, (5, 3),
         (None, 5, 3), 0, 0),
    case(L.CenterCrop, {"height": 4, "width": 5}, IMG, (None, 4, 5, 3), 0),
    case(L.CenterCrop, {"height": 9, "width": 5, "data_format": CF}, (3, 6, 7), (None, 3, 9, 5), 0),
    case(L.Resizing, {"height": 3, "width": 9}, IMG, (None, 3, 9, 3), 0),
    case(L.Resizing, {"height": 3, "width": 9, "crop_to_aspect_ratio": True, "interpolation": "nearest"}, IMG,
         (None, 3, 9, 3), 0),
    case(L.Resizing, {"height": 4, "width": 4, "pad_to_aspect_ratio": True, "interpolation": "bicubic",
                      "data_format": CF}, (2, 6, 3), (None, 2, 4, 4), 0),
]

# --------------------------------------------------------------------------- convolution, pooling

CONV = [
    case(L.Conv1D, {"filters": 4, "kernel_size": 3}, (10, 6), (None, 8, 4), 76),
    case(L.Conv1D, {"filters": 4, "kernel_size": 3, "padding": "causal", "dilation_rate": 2, "groups": 2,
                    "use_bias": False}, (10, 6), (None, 10, 4), 36),
    case(L.Conv1D, {"filters": 5, "kernel_size": 2, "strides": 2, "padding": "same", "activation": "relu"},
         (9, 3), (None, 5, 5), 35),
    case(L.Conv1D, {"filters": 4, "kernel_size": 3, **CFD}, (6, 10), (None, 4, 8), 76),
    case(L.Conv1D, {"filters": 4, "kernel_size": 3, "padding": "causal", **CFD}, (6, 10), (None, 4, 10), 76),
    case(L.Conv2D, {"filters": 8, "kernel_size": 3}, (7, 7, 3), (None, 5, 5, 8), 224),
    case(L.Conv2D, {"filters": 8, "kernel_size": (3, 2), "strides": 2, "padding": "same"}, (7, 6, 3),
         (None, 4, 3, 8), 152),
    case(L.Conv2D, {"filters": 6, "kernel_size": 3, "groups": 3, "dilation_rate": 2, "padding": "same",
                    "use_bias": False, "activation": "relu"}, (8, 8, 6), (None, 8, 8, 6), 108),
    case(L.Conv2D, {"filters": 8, "kernel_size": 3, **CFD}, (3, 7, 7), (None, 8, 5, 5), 224),
    case(L.Conv2D, {"filters": 4, "kernel_size": 2, "strides": (2, 1), "padding": "same", **CFD}, (3, 5, 5),
         (None, 4, 3, 5), 52),
    case(L.Conv2D, {"filters": 4, "kernel_size": 3, "padding": "same"}, (None, None, 3), (None, None, None, 4),
         112),
    case(L.Conv2D, {"filters": 2, "kernel_size": 2, "activity_regularizer": "l2", "kernel_regularizer": "l1",
                    "kernel_constraint": "non_neg"}, (3, 3, 1), (None, 2, 2, 2), 10),
    case(L.Conv1DTranspose, {"filters": 4, "kernel_size": 3, "strides": 2}, (5, 6), (None, 11, 4), 76),
    case(L.Conv1DTranspose, {"filters": 4, "kernel_size": 3, "strides": 2, "padding": "same", **CFD}, (6, 5),
         (None, 4, 10), 76),
    case(L.Conv2DTranspose, {"filters": 4, "kernel_size": 3, "strides": 2, "padding": "same"}, (5, 5, 6),
         (None, 10, 10, 4), 220),
    case(L.Conv2DTranspose, {"filters": 4, "kernel_size": (2, 3), "strides": (2, 1), "output_padding": (1, 0),
                             **CFD}, (6, 5, 5), (None, 4, 11, 7), 148),
    case(L.Conv2DTranspose, {"filters": 3, "kernel_size": 4, "strides": 3}, (4, 4, 2), (None, 13, 13, 3), 99),
    case(L.Conv2DTranspose, {"filters": 3, "kernel_size": 3, "dilation_rate": 2, "use_bias": False}, (4, 4, 2),
         (None, 8, 8, 3), 54),
    case(L.DepthwiseConv1D, {"kernel_size": 3, "depth_multiplier": 2}, (8, 3), (None, 6, 6), 24),
    case(L.DepthwiseConv2D, {"kernel_size": 3}, (6, 6, 4), (None, 4, 4, 4), 40),
    case(L.DepthwiseConv2D, {"kernel_size": 3, "depth_multiplier": 2, "strides": 2, "padding": "same",
                             "use_bias": False}, (7, 7, 3), (None, 4, 4, 6), 54),
    case(L.DepthwiseConv2D, {"kernel_size": 3, **CFD}, (3, 6, 6), (None, 3, 4, 4), 30),
    case(L.SeparableConv1D, {"filters": 6, "kernel_size": 3}, (10, 4), (None, 8, 6), 42),
    case(L.SeparableConv2D, {"filters": 8, "kernel_size": 3}, (6, 6, 4), (None, 4, 4, 8), 76),
    case(L.SeparableConv2D, {"filters": 5, "kernel_size": 3, "depth_multiplier": 2, "strides": 2,
                             "padding": "same"}, (7, 7, 3), (None, 4, 4, 5), 89),
    case(L.SeparableConv2D, {"filters": 8, "kernel_size": 3, **CFD}, (4, 6, 6), (None, 8, 4, 4), 76),
    case(L.MaxPooling1D, {}, (9, 3), (None, 4, 3), 0),
    case(L.MaxPooling1D, {"pool_size": 3, "strides": 1, "padding": "same"}, (9, 3), (None, 9, 3), 0),
    case(L.MaxPooling2D, {}, (6, 6, 3), (None, 3, 3, 3), 0),
    case(L.MaxPooling2D, {"pool_size": 3, "strides": 2, "padding": "same"}, (7, 7, 2), (None, 4, 4, 2), 0),
    case(L.MaxPooling2D, {"pool_size": (2, 3), **CFD}, (2, 6, 6), (None, 2, 3, 2), 0),
    case(L.AveragePooling1D, {"pool_size": 4, "strides": 2, "padding": "same"}, (9, 3), (None, 5, 3), 0),
    case(L.AveragePooling2D, {"pool_size": 2}, (5, 5, 3), (None, 2, 2, 3), 0),
    case(L.AveragePooling2D, {"pool_size": 3, "strides": 2, "padding": "same"}, (7, 8, 2), (None, 4, 4, 2), 0),
    case(L.AveragePooling2D, {"pool_size": 2, "strides": 1, "padding": "same", **CFD}, (2, 5, 5),
         (None, 2, 5, 5), 0),
    case(L.GlobalAveragePooling1D, {}, (6, 3), (None, 3), 0),
    case(L.GlobalAveragePooling1D, {"keepdims": True, **CFD}, (3, 6), (None, 3, 1), 0,
         skip={"mask": "channels_first: the (batch, steps) mask is not the harness' (batch, ..., features) one"}),
    case(L.GlobalAveragePooling2D, {}, (4, 5, 3), (None, 3), 0),
    case(L.GlobalAveragePooling2D, {"keepdims": True}, (4, 5, 3), (None, 1, 1, 3), 0),
    case(L.GlobalAveragePooling2D, CFD, (3, 4, 5), (None, 3), 0),
    case(L.GlobalMaxPooling1D, {}, (6, 3), (None, 3), 0),
    case(L.GlobalMaxPooling2D, {}, (4, 5, 3), (None, 3), 0),
    case(L.GlobalMaxPooling2D, {"keepdims": True, **CFD}, (3, 4, 5), (None, 3, 1, 1), 0),
]

# --------------------------------------------------------------------------- regularization, reshaping, merge

REGULARIZATION_RESHAPING = [
    case(L.Dropout, {"rate": 0.5}, (4,), (None, 4), 0),
    case(L.Dropout, {"rate": 0.2, "noise_shape": (None, 1, 3), "seed": 3}, (5, 3), (None, 5, 3), 0),
    case(L.Dropout, {"rate": 0.0}, (2, 3), (None, 2, 3), 0),
    case(L.SpatialDropout1D, {"rate": 0.3}, (5, 4), (None, 5, 4), 0),
    case(L.SpatialDropout1D, {"rate": 0.3, "seed": 1}, (5, 4), (None, 5, 4), 0),
    case(L.SpatialDropout2D, {"rate": 0.4}, (3, 3, 2), (None, 3, 3, 2), 0),
    case(L.SpatialDropout2D, {"rate": 0.4, "data_format": CF}, (2, 3, 3), (None, 2, 3, 3), 0),
    case(L.SpatialDropout2D, {"rate": 0.4, "data_format": CF, "seed": 7}, (2, 3, 3), (None, 2, 3, 3), 0),
    case(L.GaussianNoise, {"stddev": 0.1}, (4,), (None, 4), 0),
    case(L.GaussianNoise, {"stddev": 0.5, "seed": 2}, (2, 3), (None, 2, 3), 0),
    case(L.GaussianDropout, {"rate": 0.3}, (4,), (None, 4), 0),
    case(L.GaussianDropout, {"rate": 0.3, "seed": 5}, (3, 2), (None, 3, 2), 0),
    case(L.Reshape, {"target_shape": (2, 6)}, (12,), (None, 2, 6), 0),
    case(L.Reshape, {"target_shape": (-1, 3)}, (2, 6), (None, 4, 3), 0),
    case(L.Reshape, {"target_shape": (12,)}, (3, 2, 2), (None, 12), 0),
    case(L.Permute, {"dims": (2, 1)}, (3, 4), (None, 4, 3), 0),
    case(L.Permute, {"dims": (3, 1, 2)}, (2, 3, 4), (None, 4, 2, 3), 0),
    case(L.RepeatVector, {"n": 3}, (4,), (None, 3, 4), 0),
    case(L.ZeroPadding1D, {}, (3, 2), (None, 5, 2), 0),
    case(L.ZeroPadding1D, {"padding": (1, 2), "data_format": CF}, (2, 3), (None, 2, 6), 0),
    case(L.ZeroPadding2D, {}, (3, 3, 2), (None, 5, 5, 2), 0),
    case(L.ZeroPadding2D, {"padding": 2}, (3, 3, 1), (None, 7, 7, 1), 0),
    case(L.ZeroPadding2D, {"padding": ((1, 0), (2, 3)), "data_format": CF}, (2, 3, 3), (None, 2, 4, 8), 0),
    case(L.UpSampling1D, {}, (3, 2), (None, 6, 2), 0),
    case(L.UpSampling1D, {"size": 3}, (2, 4), (None, 6, 4), 0),
    case(L.UpSampling2D, {}, (2, 3, 2), (None, 4, 6, 2), 0),
    case(L.UpSampling2D, {"size": (2, 3), "data_format": CF}, (2, 2, 3), (None, 2, 4, 9), 0),
    case(L.UpSampling2D, {"size": 2, "interpolation": "bilinear"}, (2, 3, 2), (None, 4, 6, 2), 0),
    case(L.UpSampling2D, {"size": (3, 2), "interpolation": "bilinear", "data_format": CF}, (2, 2, 3),
         (None, 2, 6, 6), 0),
    case(L.Cropping1D, {}, (5, 2), (None, 3, 2), 0),
    case(L.Cropping1D, {"cropping": (2, 0)}, (5, 2), (None, 3, 2), 0),
    case(L.Cropping2D, {"cropping": 1}, (4, 5, 2), (None, 2, 3, 2), 0),
    case(L.Cropping2D, {"cropping": ((1, 0), (0, 2)), "data_format": CF}, (2, 4, 5), (None, 2, 3, 3), 0),
    case(L.Cropping2D, {}, (3, 3, 1), (None, 3, 3, 1), 0),
]

BROADCAST_MASKS = "inputs of different ranks have masks of different shapes, which Keras cannot merge either"
MERGE = [
    case(L.Add, {}, [(4,), (4,)], (None, 4), 0),
    case(L.Add, {}, [(3, 4), (3, 4), (3, 4)], (None, 3, 4), 0),
    case(L.Add, {}, [(3, 4), (4,)], (None, 3, 4), 0, skip={"mask": BROADCAST_MASKS}),
    case(L.Add, {}, [(3, 1), (1, 4)], (None, 3, 4), 0),
    case(L.Subtract, {}, [(4,), (4,)], (None, 4), 0),
    case(L.Multiply, {}, [(2, 3), (2, 3)], (None, 2, 3), 0),
    case(L.Average, {}, [(4,), (4,), (4,)], (None, 4), 0),
    case(L.Maximum, {}, [(4,), (4,)], (None, 4), 0),
    case(L.Minimum, {}, [(2, 4), (4,)], (None, 2, 4), 0, skip={"mask": BROADCAST_MASKS}),
    case(L.Concatenate, {}, [(4,), (3,)], (None, 7), 0),
    case(L.Concatenate, {"axis": 1}, [(2, 3), (4, 3)], (None, 6, 3), 0),
    case(L.Concatenate, {"axis": -2}, [(2, 3), (1, 3), (3, 3)], (None, 6, 3), 0),
    case(L.Dot, {"axes": 1}, [(4,), (4,)], (None, 1), 0),
    case(L.Dot, {"axes": (2, 2)}, [(3, 4), (5, 4)], (None, 3, 5), 0),
    case(L.Dot, {"axes": (1, 1), "normalize": True}, [(3, 4), (3, 2)], (None, 4, 2), 0),
    case(L.Dot, {"axes": -1}, [(4,), (3, 4)], (None, 3), 0),
    case(L.Dot, {"axes": (2, 1)}, [(4, 3), (3, 5, 2)], (None, 4, 5, 2), 0),
]

# --------------------------------------------------------------------------- normalization, embedding

NORMALIZATION = [
    case(L.BatchNormalization, {}, (4,), (None, 4), 8, 8),
    case(L.BatchNormalization, {"center": False}, (5, 3), (None, 5, 3), 3, 6),
    case(L.BatchNormalization, {"scale": False, "center": False}, (3, 3, 2), (None, 3, 3, 2), 0, 4),
    case(L.BatchNormalization, {"axis": 1}, (3, 4, 4), (None, 3, 4, 4), 6, 6),
    case(L.BatchNormalization, {"axis": 2, "momentum": 0.5, "epsilon": 1e-5}, (3, 4, 2), (None, 3, 4, 2), 8, 8),
    case(L.BatchNormalization, {"renorm": True}, (4,), (None, 4), 8, 20),
    case(L.BatchNormalization, {"renorm": True, "renorm_clipping": {"rmax": 2.0, "dmax": 1.0}}, (2, 3),
         (None, 2, 3), 6, 15),
    case(L.BatchNormalization, {"gamma_regularizer": "l2", "beta_constraint": "non_neg"}, (3,), (None, 3), 6, 6),
    case(L.LayerNormalization, {}, (4,), (None, 4), 8),
    case(L.LayerNormalization, {"axis": [1, 2]}, (3, 4), (None, 3, 4), 24),
    case(L.LayerNormalization, {"axis": (-2, -1), "center": False}, (2, 3, 4), (None, 2, 3, 4), 12),
    case(L.LayerNormalization, {"axis": 1}, (3, 4), (None, 3, 4), 6),
    case(L.LayerNormalization, {"scale": False, "center": False}, (5,), (None, 5), 0),
    case(L.LayerNormalization, {"rms_scaling": True}, (5,), (None, 5), 5),
    case(L.LayerNormalization, {"axis": [1, 3], "epsilon": 1e-5}, (2, 3, 4), (None, 2, 3, 4), 16),
    case(L.GroupNormalization, {"groups": 2}, (4,), (None, 4), 8),
    case(L.GroupNormalization, {"groups": 2}, (5, 6), (None, 5, 6), 12),
    case(L.GroupNormalization, {"groups": 4}, (3, 3, 8), (None, 3, 3, 8), 16),
    case(L.GroupNormalization, {"groups": -1, "center": False}, (2, 2, 2, 3), (None, 2, 2, 2, 3), 3),
    case(L.GroupNormalization, {"groups": 2, "axis": 1}, (4, 3, 3), (None, 4, 3, 3), 8),
    case(L.GroupNormalization, {"groups": 3, "axis": 2}, (2, 6, 3), (None, 2, 6, 3), 12),
    case(L.UnitNormalization, {}, (4,), (None, 4), 0),
    case(L.UnitNormalization, {"axis": [1, 2]}, (3, 4), (None, 3, 4), 0),
    case(L.RMSNormalization, {}, (6,), (None, 6), 6),
    case(L.RMSNormalization, {"axis": [-2, -1], "epsilon": 1e-5}, (2, 3), (None, 2, 3), 6),
    case(L.RMSNormalization, {"axis": 1}, (3, 4), (None, 3, 4), 3),
]

INT = {"input_dtype": "int64", "int_high": 10}
EMBEDDING = [
    case(L.Embedding, {"input_dim": 10, "output_dim": 3}, (5,), (None, 5, 3), 30, **INT),
    case(L.Embedding, {"input_dim": 12, "output_dim": 4, "mask_zero": True}, (2, 3), (None, 2, 3, 4), 48, **INT),
    case(L.Embedding, {"input_dim": 10, "output_dim": 2, "embeddings_initializer": "glorot_uniform",
                       "embeddings_regularizer": "l2", "embeddings_constraint": "unit_norm"}, (4,), (None, 4, 2),
         20, **INT),
    case(L.Embedding, {"input_dim": 10, "output_dim": 2, "embeddings_initializer": "normal"}, (), (None, 2), 20,
         **INT),
]

# --------------------------------------------------------------------------- recurrent

T, F_, U = 5, 3, 4  # timesteps, features, units
P_RNN = F_ * U + U * U + U  # 32
P_LSTM = 4 * P_RNN  # 128
P_GRU = 3 * (F_ * U + U * U + 2 * U)  # 108 (reset_after=True: two bias rows)
P_GRU_RB = 3 * P_RNN  # 96 (reset_after=False)
SEQ, LAST, STATE = (None, T, U), (None, U), (None, U)

RECURRENT = [
    case(L.SimpleRNN, {"units": U}, (T, F_), LAST, P_RNN),
    case(L.SimpleRNN, {"units": U, "return_sequences": True}, (T, F_), SEQ, P_RNN),
    case(L.SimpleRNN, {"units": U, "activation": "relu", "go_backwards": True, "return_sequences": True}, (T, F_),
         SEQ, P_RNN),
    case(L.SimpleRNN, {"units": U, "activation": "selu"}, (T, F_), LAST, P_RNN),  # loop fallback
    case(L.SimpleRNN, {"units": U, "return_state": True}, (T, F_), [LAST, STATE], P_RNN),
    case(L.SimpleRNN, {"units": U, "use_bias": False, "recurrent_dropout": 0.2}, (T, F_), LAST, P_RNN - U),
    case(L.SimpleRNN, {"units": U, "return_sequences": True}, (None, F_), (None, None, U), P_RNN),
    case(L.LSTM, {"units": U}, (T, F_), LAST, P_LSTM),
    case(L.LSTM, {"units": U, "return_sequences": True, "return_state": True}, (T, F_), [SEQ, STATE, STATE],
         P_LSTM),
    case(L.LSTM, {"units": U, "go_backwards": True, "return_state": True}, (T, F_), [LAST, STATE, STATE], P_LSTM),
    case(L.LSTM, {"units": U, "activation": "relu", "return_sequences": True}, (T, F_), SEQ, P_LSTM),
    case(L.LSTM, {"units": U, "recurrent_dropout": 0.2, "dropout": 0.2}, (T, F_), LAST, P_LSTM),
    case(L.LSTM, {"units": U, "use_bias": False, "dropout": 0.3, "unit_forget_bias": False}, (T, F_), LAST,
         P_LSTM - 4 * U),
    case(L.LSTM, {"units": U, "use_cudnn": False, "kernel_regularizer": "l2"}, (T, F_), LAST, P_LSTM),
    case(L.GRU, {"units": U}, (T, F_), LAST, P_GRU),
    case(L.GRU, {"units": U, "return_sequences": True, "return_state": True, "go_backwards": True}, (T, F_),
         [SEQ, STATE], P_GRU),
    case(L.GRU, {"units": U, "reset_after": False}, (T, F_), LAST, P_GRU_RB),
    case(L.GRU, {"units": U, "reset_after": False, "recurrent_dropout": 0.2, "dropout": 0.2,
                 "return_sequences": True}, (T, F_), SEQ, P_GRU_RB),
    case(L.GRU, {"units": U, "recurrent_activation": "hard_sigmoid", "use_bias": False}, (T, F_), LAST,
         P_GRU - 6 * U),
    case(L.GRU, {"units": 128}, (7, 1), (None, 128), 50_304),  # Keras: GRU(128) on 1 feature
]


def bidirectional(inner, inner_kwargs, kwargs, output_shape, trainable) -> LayerCase:
    return case(L.Bidirectional, {"layer": inner(U, **inner_kwargs), **kwargs}, (T, F_), output_shape, trainable,
                check=_bidirectional_names,
                skip={"float64": "the wrapped layers keep their own dtype (set it on the inner layer, as in Keras)"})


BIDIRECTIONAL = [
    bidirectional(L.LSTM, {}, {}, (None, 2 * U), 2 * P_LSTM),
    bidirectional(L.LSTM, {"return_sequences": True}, {"merge_mode": "sum"}, SEQ, 2 * P_LSTM),
    bidirectional(L.GRU, {"return_sequences": True}, {"merge_mode": "ave"}, SEQ, 2 * P_GRU),
    bidirectional(L.GRU, {"reset_after": False}, {"merge_mode": "mul"}, LAST, 2 * P_GRU_RB),
    bidirectional(L.SimpleRNN, {}, {"merge_mode": None}, [LAST, LAST], 2 * P_RNN),
    bidirectional(L.LSTM, {"return_state": True}, {}, [(None, 2 * U)] + [STATE] * 4, 2 * P_LSTM),
    bidirectional(L.GRU, {"return_state": True, "return_sequences": True}, {"merge_mode": None},
                  [SEQ, SEQ, STATE, STATE], 2 * P_GRU),
]

# --------------------------------------------------------------------------- the table

CASES = [*CORE, *ATTENTION, *AUGMENTATION, *CONV, *REGULARIZATION_RESHAPING, *MERGE, *NORMALIZATION,
         *EMBEDDING, *RECURRENT, *BIDIRECTIONAL]
# Rows kept (and run) in other files, counted by the meta-test below.
COVERED_ELSEWHERE = [*BREADTH_B_CASES, *PREPROCESSING_C_CASES]  # issue 14 parts B and C (their own test files)
COVERED_ELSEWHERE += BREADTH_A_CASES  # part A of issue 14: tests/test_layers_keras_breadth_a.py
COVERED_ELSEWHERE += AUGMENTATION_D_CASES  # part D of issue 14: tests/test_layers_augmentation_breadth.py
COVERED_ELSEWHERE += AUDIO_CASES  # STFTSpectrogram, MelSpectrogram: tests/test_layers_audio.py

# Public layer classes that cannot go through the harness, each with the reason.
EXEMPT = {
    L.Layer: "the abstract base class; every row exercises it",
    L.InputLayer: "the graph's entry point, not called on tensors; every row builds from Input()",
    **PREPROCESSING_C_EXEMPT,  # part C of issue 14: string layers, with the reasons
}


def _ids(cases):
    seen: dict[str, int] = {}
    ids = []
    for c in cases:
        n = c.cls.__name__
        ids.append(f"{n}-{seen.get(n, 0)}")
        seen[n] = seen.get(n, 0) + 1
    return ids


@pytest.mark.parametrize("layer_case", CASES, ids=_ids(CASES))
def test_layer(layer_case):
    layer_case.run()


def _rowless(cases) -> list[str]:
    """Names of the public layer classes (not EXEMPT) that no case covers."""
    covered = {c.cls for c in cases}
    public = [getattr(L, n) for n in L.__all__]
    classes = [c for c in public if inspect.isclass(c) and issubclass(c, L.Layer) and c not in EXEMPT]
    return sorted(c.__name__ for c in classes if c not in covered)


def test_every_public_layer_has_a_row():
    missing = _rowless([*CASES, *COVERED_ELSEWHERE])
    assert not missing, (
        f"public layer class(es) {missing} have no row in tests/test_layer_harness.py: add one "
        "(or an EXEMPT entry with the reason)")


# --------------------------------------------------------------------------- the harness checks itself

class _ForgetsActivation(L.Dense):
    """get_config loses `activation`: the clone computes something else."""

    def get_config(self):
        config = super().get_config()
        config.pop("activation")
        return config


class _DetachedKernel(L.Dense):
    """No gradient reaches the kernel."""

    def call(self, inputs):
        return torch.nn.functional.linear(inputs, self.kernel.detach(), self.bias)


@pytest.mark.parametrize("layer_case, match", [
    (case(_ForgetsActivation, {"units": 3, "activation": "relu"}, (4,), (None, 3), 15), "config round trip"),
    (case(_DetachedKernel, {"units": 3}, (4,), (None, 3), 15), "no gradient reached a weight"),
    (case(L.Dense, {"units": 3}, (4,), (None, 4), 15), "symbolic shape"),
    (case(L.Dense, {"units": 3}, (4,), (None, 3), 12), "trainable params 15 != 12"),
    (case(L.Dense, {"units": 3}, (4,), (None, 3), skip={"fit": ""}), "needs a reason"),
    (case(L.Dense, {"units": 3}, (4,), (None, 3), skip={"fitt": "typo"}), "unknown check 'fitt'"),
], ids=["config", "gradient", "shape", "params", "empty-reason", "unknown-check"])
def test_harness_fails_on_broken_layers(layer_case, match):
    with pytest.raises(AssertionError, match=match):
        layer_case.run()


def test_meta_test_names_the_missing_class():
    assert _rowless([c for c in [*CASES, *COVERED_ELSEWHERE] if c.cls is not L.Dense]) == ["Dense"]
