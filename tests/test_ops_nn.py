"""deepnet.ops.nn against keras.ops.nn (torch backend): one row per Keras name."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import deepnet.ops.nn as nn
from ops_parity import Row, check_row, coverage, keras, keras_names, rand


def x_(*shape):
    return lambda rng: (rand(rng, *shape, low=-3, high=3),)


def probs(rng, *shape):
    p = rand(rng, *shape, low=0.05, high=1.0)
    return p / p.sum(-1, keepdims=True)


def labels(rng, n, classes):
    return rng.integers(0, classes, size=n).astype("int32")


ACTIVATIONS = ["celu", "elu", "gelu", "glu", "hard_shrink", "hard_sigmoid", "hard_silu",
               "hard_swish", "hard_tanh", "leaky_relu", "log_sigmoid", "log_softmax", "relu",
               "relu6", "selu", "sigmoid", "silu", "soft_shrink", "softmax", "softplus", "softsign",
               "sparse_plus", "sparse_sigmoid", "squareplus", "swish", "tanh_shrink"]

ROWS = [Row(n, x_(3, 8)) for n in ACTIVATIONS] + [
    Row("sparsemax", excluded="Keras 3.15's torch sparsemax is wrong (its threshold sums every "
        "cumulative sum of the support, so rows do not sum to 1); test_sparsemax_is_a_projection "
        "checks ours against the definition"),
    Row("softmax", x_(2, 3, 4), {"axis": (1, 2)}),
    Row("gelu", x_(3, 8), {"approximate": False}),
    Row("threshold", x_(3, 8), {"threshold": 0.5, "default_value": -1.0}),
    Row("conv", lambda r: (rand(r, 2, 9, 9, 4), rand(r, 3, 3, 4, 5)), {"padding": "same", "strides": 2}),
    Row("conv", lambda r: (rand(r, 2, 9, 4), rand(r, 3, 2, 6)), {"dilation_rate": 2}),
    Row("conv", lambda r: (rand(r, 2, 4, 6, 6, 2), rand(r, 2, 2, 2, 2, 6)),
        {"data_format": "channels_first"}),
    Row("depthwise_conv", lambda r: (rand(r, 2, 8, 8, 3), rand(r, 3, 3, 3, 2)),
        {"padding": "same", "strides": 2}),
    Row("separable_conv", lambda r: (rand(r, 2, 8, 8, 3), rand(r, 3, 3, 3, 2), rand(r, 1, 1, 6, 4)),
        {"padding": "same"}),
    Row("conv_transpose", lambda r: (rand(r, 2, 5, 5, 3), rand(r, 3, 3, 4, 3)),
        {"strides": 2, "padding": "same"}),
    Row("conv_transpose", lambda r: (rand(r, 2, 5, 3), rand(r, 4, 2, 3)), {"strides": 3}),
    Row("conv_transpose", lambda r: (rand(r, 2, 5, 5, 3), rand(r, 3, 3, 4, 3)),
        {"strides": 2, "padding": "same", "output_padding": 0}),
    Row("max_pool", lambda r: (rand(r, 2, 7, 7, 3),), {"pool_size": 3, "strides": 2, "padding": "same"}),
    Row("max_pool", lambda r: (rand(r, 2, 8, 3),), {"pool_size": 2}),
    Row("average_pool", lambda r: (rand(r, 2, 8, 8, 3),), {"pool_size": 2}),
    Row("average_pool", lambda r: (rand(r, 2, 7, 7, 3),), {"pool_size": 3, "strides": 1,
                                                            "padding": "same"}),
    Row("adaptive_average_pool", lambda r: (rand(r, 2, 8, 8, 3),), {"output_size": (3, 2)}),
    Row("adaptive_max_pool", lambda r: (rand(r, 2, 9, 3),), {"output_size": 4}),
    Row("depth_to_space", lambda r: (rand(r, 2, 3, 3, 8),), {"block_size": 2}),
    Row("depth_to_space", lambda r: (rand(r, 2, 8, 3, 3),), {"block_size": 2,
                                                              "data_format": "channels_first"}),
    Row("space_to_depth", lambda r: (rand(r, 2, 4, 6, 3),), {"block_size": 2}),
    Row("unfold", lambda r: (rand(r, 2, 3, 6, 6),), {"kernel_size": 3, "stride": 2, "padding": 1}),
    Row("fold", lambda r: (rand(r, 2, 12, 9),), {"output_size": (4, 4), "kernel_size": 2}),
    Row("one_hot", lambda r: (np.array([0, 3, -1, 2], "int32"),), {"num_classes": 4}),
    Row("one_hot", lambda r: (np.array([[0, 3], [1, 2]], "int32"),), {"num_classes": 4, "axis": 0}),
    Row("multi_hot", lambda r: (np.array([[0, 3], [1, 1]], "int32"),), {"num_classes": 4}),
    Row("binary_crossentropy", lambda r: (rand(r, 4, 3, low=0, high=1), rand(r, 4, 3, low=0, high=1))),
    Row("binary_crossentropy", lambda r: (rand(r, 4, 3, low=0, high=1), rand(r, 4, 3)),
        {"from_logits": True}),
    Row("categorical_crossentropy", lambda r: (probs(r, 4, 5), probs(r, 4, 5))),
    Row("categorical_crossentropy", lambda r: (probs(r, 4, 5), rand(r, 4, 5)), {"from_logits": True}),
    Row("sparse_categorical_crossentropy", lambda r: (labels(r, 4, 5), probs(r, 4, 5))),
    Row("sparse_categorical_crossentropy", lambda r: (labels(r, 4, 5), rand(r, 4, 5)),
        {"from_logits": True}),
    Row("moments", x_(4, 5, 3), {"axes": [0, 1]}),
    Row("moments", x_(4, 5), {"axes": [1], "keepdims": True}),
    Row("batch_normalization", lambda r: (rand(r, 4, 3, 5), rand(r, 3), rand(r, 3, low=0.5, high=2),
                                          1, rand(r, 3), rand(r, 3))),
    Row("layer_normalization", lambda r: (rand(r, 4, 6), rand(r, 6), rand(r, 6))),
    Row("layer_normalization", lambda r: (rand(r, 4, 6, 3), rand(r, 6, 3)), {"axis": [1, 2]}),
    Row("layer_normalization", lambda r: (rand(r, 4, 6), rand(r, 6)), {"rms_scaling": True}),
    Row("rms_normalization", lambda r: (rand(r, 4, 6), rand(r, 6))),
    Row("normalize", x_(4, 6)),
    Row("normalize", x_(4, 6), {"order": 1, "axis": 0}),
    Row("psnr", lambda r: (rand(r, 2, 8, 8, 1), rand(r, 2, 8, 8, 1), 1.0)),
    Row("polar", lambda r: (rand(r, 5, low=0, high=2), rand(r, 5, low=-3, high=3))),
    Row("dot_product_attention", lambda r: (rand(r, 2, 5, 4, 8), rand(r, 2, 6, 2, 8), rand(r, 2, 6, 2, 8))),
    Row("dot_product_attention", lambda r: (rand(r, 2, 5, 2, 8), rand(r, 2, 5, 2, 8), rand(r, 2, 5, 2, 8)),
        {"is_causal": True, "scale": 0.3}),
    Row("dot_product_attention", lambda r: (rand(r, 2, 5, 2, 8), rand(r, 2, 5, 2, 8), rand(r, 2, 5, 2, 8),
                                            None, r.uniform(size=(2, 2, 5, 5)) > 0.3)),
    Row("ctc_loss", lambda r: (np.array([[1, 2, 0], [3, 3, 1]], "int32"), rand(r, 2, 8, 5),
                               np.array([2, 3], "int32"), np.array([8, 7], "int32"))),
    Row("ctc_decode", lambda r: (rand(r, 2, 8, 5), np.array([8, 6], "int32"))),
    Row("ctc_decode", lambda r: (rand(r, 2, 6, 4, low=-2, high=2), np.array([6, 5], "int32")),
        {"strategy": "beam_search", "beam_width": 8, "top_paths": 1}, atol=1e-4),
]


@pytest.mark.parametrize("row", ROWS, ids=[f"{r.name}-{i}" for i, r in enumerate(ROWS)])
def test_op_matches_keras(row):
    if row.excluded:
        pytest.skip(row.excluded)
    check_row(row, nn, keras.ops.nn)


def test_table_covers_keras_ops_nn():
    problems, implemented = coverage(ROWS, keras_names(keras.ops.nn), nn)
    assert not problems, problems
    assert implemented >= 0.95


def test_gradients_flow_through_conv():
    x = torch.randn(1, 5, 5, 2, requires_grad=True)
    nn.conv(x, torch.randn(3, 3, 2, 4), padding="same").sum().backward()
    assert x.grad.shape == x.shape


@pytest.mark.parametrize("call, match", [
    (lambda: nn.conv(torch.ones(1, 4, 4, 3), torch.ones(2, 2, 3, 1), padding="full"), "padding"),
    (lambda: nn.max_pool(torch.ones(1, 4, 4, 3), 2, data_format="NHWC"), "data_format"),
    (lambda: nn.one_hot(torch.tensor([1]), 3, sparse=True), "sparse"),
    (lambda: nn.normalize(torch.ones(3), order=0), "order"),
    (lambda: nn.ctc_decode(torch.ones(1, 2, 3), torch.tensor([2]), strategy="best"), "strategy"),
    (lambda: nn.binary_crossentropy(torch.ones(2), torch.ones(3)), "same shape"),
])
def test_bad_arguments_raise(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_sparsemax_is_a_projection():
    """Sparsemax is the Euclidean projection onto the simplex: rows sum to 1, and the kept
    entries are ``x - tau`` with one threshold tau per row."""
    x = torch.randn(6, 7) * 2
    p = nn.sparsemax(x)
    torch.testing.assert_close(p.sum(-1), torch.ones(6))
    tau = (x - p)[p > 0]
    rows = torch.nonzero(p > 0)[:, 0]
    for r in range(6):
        kept = tau[rows == r]
        torch.testing.assert_close(kept, kept[:1].expand_as(kept))
        assert (x[r][p[r] == 0] <= kept[0] + 1e-6).all()
