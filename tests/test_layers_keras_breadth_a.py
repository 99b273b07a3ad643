"""Harness rows (tests/harness.py) and behaviour tests for the Keras-breadth layers of part A:
activation layers, Identity/Masking/ActivityRegularization/AlphaDropout/Lambda, the wrappers
(Wrapper, TimeDistributed, SpectralNormalization), EinsumDense, GroupQueryAttention,
ReversibleEmbedding, the merge functions and the aliases. ``CASES`` is also part of the table
of tests/test_layer_harness.py (its meta-test sees these layers covered)."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

import deepnet as dn
import deepnet.layers as L
from harness import LayerCase


def case(cls, kwargs, input_shape, output_shape, trainable=None, non_trainable=0, **extra) -> LayerCase:
    return LayerCase(cls, kwargs, input_shape, output_shape, trainable, non_trainable, **extra)


SEQ = (5, 4)
LAMBDA_SKIP = {name: "Lambda holds code: its config cannot be loaded, by design (see test_lambda_refuses_to_load)"
               for name in ("config", "json", "file", "float64", "mixed_bfloat16")}
INNER_DTYPE = {"float64": "the wrapped layer keeps its own dtype (set it on the inner layer, as in Keras)"}

ACTIVATIONS = [
    case(L.ReLU, {}, (4,), (None, 4), 0),
    case(L.ReLU, {"max_value": 6.0, "negative_slope": 0.1, "threshold": 0.5}, SEQ, (None, *SEQ), 0),
    case(L.LeakyReLU, {}, (4,), (None, 4), 0),
    case(L.LeakyReLU, {"negative_slope": 0.05}, SEQ, (None, *SEQ), 0),
    case(L.ELU, {"alpha": 0.5}, SEQ, (None, *SEQ), 0),
    case(L.PReLU, {}, SEQ, (None, *SEQ), 20),
    case(L.PReLU, {"shared_axes": [1], "alpha_initializer": "ones", "alpha_regularizer": "l2",
                   "alpha_constraint": "non_neg"}, SEQ, (None, *SEQ), 4),
    case(L.PReLU, {"shared_axes": (1, 2)}, (3, 4, 2), (None, 3, 4, 2), 2),
    case(L.Softmax, {}, SEQ, (None, *SEQ), 0),
    case(L.Softmax, {"axis": (1, 2)}, SEQ, (None, *SEQ), 0),
    case(L.Softmax, {"axis": 1}, SEQ, (None, *SEQ), 0),
]

CORE_EXTRAS = [
    case(L.Identity, {}, SEQ, (None, *SEQ), 0),
    case(L.Masking, {}, SEQ, (None, *SEQ), 0),
    case(L.Masking, {"mask_value": -1.0}, (4,), (None, 4), 0),
    case(L.ActivityRegularization, {"l1": 0.01, "l2": 0.02}, SEQ, (None, *SEQ), 0),
    case(L.AlphaDropout, {"rate": 0.2}, SEQ, (None, *SEQ), 0),
    case(L.AlphaDropout, {"rate": 0.5, "noise_shape": (None, 1, 4), "seed": 3}, SEQ, (None, *SEQ), 0),
    case(L.Lambda, {"function": lambda x: x * 2.0}, SEQ, (None, *SEQ), 0, skip=LAMBDA_SKIP),
    case(L.Lambda, {"function": lambda x, k: x[:, :, :k], "arguments": {"k": 2}, "output_shape": (5, 2)},
         SEQ, (None, 5, 2), 0, skip=LAMBDA_SKIP),
]

WRAPPERS = [
    case(L.Wrapper, {"layer": L.Dense(3)}, (4,), (None, 3), 15, skip=INNER_DTYPE),
    case(L.TimeDistributed, {"layer": L.Dense(3)}, SEQ, (None, 5, 3), 15, skip=INNER_DTYPE),
    case(L.TimeDistributed, {"layer": L.Conv2D(2, 3)}, (3, 6, 6, 2), (None, 3, 4, 4, 2), 38, skip=INNER_DTYPE),
    case(L.TimeDistributed, {"layer": L.Dropout(0.5)}, SEQ, (None, *SEQ), 0, skip=INNER_DTYPE),
    case(L.SpectralNormalization, {"layer": L.Dense(3)}, (4,), (None, 3), 15, 3, skip=INNER_DTYPE),
    case(L.SpectralNormalization, {"layer": L.Conv2D(2, 3), "power_iterations": 3}, (6, 6, 2), (None, 4, 4, 2),
         38, 2, skip=INNER_DTYPE),
    case(L.SpectralNormalization, {"layer": L.Embedding(10, 3)}, (4,), (None, 4, 3), 30, 3, input_dtype="int64",
         skip=INNER_DTYPE),
]



UNTIED = "untied weights: each direction uses one of the two tables, so the other gets no gradient"


def _reverse(layer, xs, **kwargs):
    return layer(xs[0], reverse=True, **kwargs)


DENSE_EMBEDDING = [
    case(L.EinsumDense, {"equation": "ab,bc->ac", "output_shape": 3, "bias_axes": "c"}, (4,), (None, 3), 15),
    case(L.EinsumDense, {"equation": "abc,cde->abde", "output_shape": (None, 2, 3), "bias_axes": "de",
                         "activation": "relu", "kernel_regularizer": "l2"}, SEQ, (None, 5, 2, 3), 30),
    case(L.EinsumDense, {"equation": "...b,bc->...c", "output_shape": 3}, (2, 5, 4), (None, 2, 5, 3), 12),
    case(L.EinsumDense, {"equation": "ab...,bc->ac...", "output_shape": 3, "bias_axes": "c"}, (4, 5), (None, 3, 5),
         15),
    case(L.EinsumDense, {"equation": "abc,cd->abd", "output_shape": (5, 2), "bias_axes": "d"}, SEQ, (None, 5, 2), 10),
    case(L.ReversibleEmbedding, {"input_dim": 10, "output_dim": 3}, (4,), (None, 4, 3), 30, input_dtype="int64"),
    case(L.ReversibleEmbedding, {"input_dim": 10, "output_dim": 3, "mask_zero": True, "tie_weights": False}, (4,),
         (None, 4, 3), 60, input_dtype="int64",
         skip={"backward": UNTIED, "mixed_bfloat16": UNTIED}),
    case(L.ReversibleEmbedding, {"input_dim": 10, "output_dim": 3, "logit_soft_cap": 5.0}, (4, 3), (None, 4, 10), 30,
         call=_reverse),
    case(L.ReversibleEmbedding, {"input_dim": 10, "output_dim": 3, "tie_weights": False}, (4, 3), (None, 4, 10), 60,
         call=_reverse, skip={"backward": UNTIED, "mixed_bfloat16": UNTIED}),
]



def _attend(layer, xs, **kwargs):
    return layer(xs[0], xs[-1], **kwargs) if len(xs) < 3 else layer(*xs, **kwargs)


GQA = L.GroupedQueryAttention
GQA_ARGS = {"head_dim": 2, "num_query_heads": 4, "num_key_value_heads": 2}
ATTENTION = [
    case(GQA, GQA_ARGS, [(5, 6)], (None, 5, 6), 166, call=_attend),
    case(GQA, GQA_ARGS, [(5, 6), (7, 6)], (None, 5, 6), 166, call=_attend),
    case(GQA, {**GQA_ARGS, "use_gate": True, "use_bias": False, "kernel_regularizer": "l2"}, [(5, 6)], (None, 5, 6),
         192, call=_attend),
    case(GQA, {**GQA_ARGS, "dropout": 0.2, "seed": 1, "sliding_window": 2}, [(5, 6), (5, 6), (5, 3)], (None, 5, 6),
         154, call=_attend),
    case(GQA, GQA_ARGS, [(5, 6)], [(None, 5, 6), (None, 4, 5, 5)], 166, call=_attend,
         call_kwargs={"return_attention_scores": True, "use_causal_mask": True}),
]

CASES = [*ACTIVATIONS, *CORE_EXTRAS, *WRAPPERS, *DENSE_EMBEDDING, *ATTENTION]


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


def test_relu_options_follow_keras_formula():
    x = torch.tensor([[-2.0, 0.2, 1.0, 8.0]])
    y = L.ReLU(max_value=6.0, negative_slope=0.5, threshold=0.5)(x)
    torch.testing.assert_close(y, torch.tensor([[-1.25, -0.15, 1.0, 6.0]]))


@pytest.mark.parametrize("kwargs, match", [
    ({"max_value": -1.0}, "max_value"), ({"negative_slope": -0.1}, "negative_slope"),
    ({"threshold": None}, "threshold"),
])
def test_relu_rejects_negative_arguments(kwargs, match):
    with pytest.raises((TypeError, ValueError), match=f"`{match}` of ReLU"):
        L.ReLU(**kwargs)


def test_prelu_shared_axes_errors_name_the_axis():
    with pytest.raises(ValueError, match="has no axis 3"):
        L.PReLU(shared_axes=3)(torch.ones(2, 4))
    with pytest.raises(ValueError, match=r"shared_axes=\[1\]"):
        dn.Model(i := dn.Input((None, 3)), L.PReLU()(i))


def test_softmax_mask_zeroes_masked_positions_and_rows():
    x = torch.randn(2, 3)
    mask = torch.tensor([[True, True, False], [False, False, False]])
    y = L.Softmax()(x, mask=mask)
    torch.testing.assert_close(y[0, :2], torch.softmax(x[0, :2], -1))
    assert (y[0, 2] == 0) and (y[1] == 0).all()
    with pytest.raises(ValueError, match="does not broadcast"):
        L.Softmax()(torch.ones(2, 3, 4), mask=torch.ones(2, 5, dtype=torch.bool))


def test_masking_feeds_an_lstm_that_skips_masked_steps():
    x = np.random.default_rng(0).standard_normal((2, 4, 3)).astype("float32")
    x[1, 2:] = 0.0
    inputs = dn.Input((4, 3))
    lstm = L.LSTM(2)
    model = dn.Model(inputs, lstm(L.Masking()(inputs)))
    with torch.no_grad():
        full = model(torch.as_tensor(x))
        short = lstm(torch.as_tensor(x[1:, :2]))
    torch.testing.assert_close(full[1:], short)


def test_activity_regularization_loss_and_config():
    layer = L.ActivityRegularization(l1=0.1, l2=0.2)
    x = torch.tensor([[1.0, -2.0], [3.0, 0.0]])
    layer(x)
    torch.testing.assert_close(layer.losses[0], (0.1 * x.abs().sum() + 0.2 * x.square().sum()) / 2)
    config = layer.get_config()
    assert "activity_regularizer" not in config and (config["l1"], config["l2"]) == (0.1, 0.2)


def test_alpha_dropout_keeps_mean_and_variance_of_selu_activations():
    x = torch.randn(200_000)
    y = L.AlphaDropout(0.3, seed=1)(x, training=True)
    assert abs(float(y.mean())) < 0.02 and abs(float(y.std()) - 1.0) < 0.02
    assert torch.equal(L.AlphaDropout(0.3)(x, training=False), x)


def test_lambda_runs_with_mask_and_training_arguments():
    seen = {}

    def fn(x, mask=None, training=None):
        seen.update(mask=mask, training=training)
        return x + 1

    layer = L.Lambda(fn)
    x = torch.zeros(2, 3, 1)
    x._keras_mask = torch.ones(2, 3, dtype=torch.bool)
    layer(x, training=True)
    assert seen["training"] is True and seen["mask"] is x._keras_mask
    mask_layer = L.Lambda(lambda x: x, mask=lambda inputs, mask: inputs[..., 0] > 0)
    assert torch.equal(mask_layer(torch.tensor([[[1.0], [-1.0]]]))._keras_mask, torch.tensor([[True, False]]))


def test_lambda_refuses_to_load(tmp_path):
    inputs = dn.Input((3,))
    model = dn.Model(inputs, L.Lambda(lambda x: x * 2.0, name="times_two")(L.Dense(2)(inputs)))
    assert model(torch.ones(1, 3)).shape == (1, 2)
    config = json.loads(model.to_json())
    assert "code" not in json.dumps(config)
    path = tmp_path / "m.deepnet"
    model.save(path)
    for load in (lambda: dn.load_model(path), lambda: dn.models.model_from_json(model.to_json())):
        with pytest.raises(ValueError, match=r"Lambda layer 'times_two'.*Layer subclass") as info:
            load()
        assert "load_weights" in str(info.value)


def test_time_distributed_matches_a_loop_over_steps_and_passes_masks():
    inner = L.Dense(3)
    layer = L.TimeDistributed(inner)
    x = torch.randn(2, 4, 5)
    y = layer(x)
    torch.testing.assert_close(y, torch.stack([inner(x[:, t]) for t in range(4)], dim=1))
    x._keras_mask = torch.tensor([[True] * 4, [True, False, False, False]])
    assert torch.equal(layer(x)._keras_mask, x._keras_mask)
    with pytest.raises(ValueError, match="rank >= 3"):
        L.TimeDistributed(L.Dense(2))(torch.ones(2, 3))
    with pytest.raises((TypeError, ValueError), match="`layer` of TimeDistributed"):
        L.TimeDistributed("dense")


def test_spectral_normalization_bounds_the_spectral_norm_in_training():
    layer = L.SpectralNormalization(L.Dense(6, kernel_initializer="ones"), power_iterations=5)
    x = torch.randn(4, 5)
    layer.eval()
    torch.testing.assert_close(layer(x), layer.layer(x))  # inference: the inner layer unchanged
    layer.train()
    for _ in range(3):
        layer(x)
    assert abs(float(torch.linalg.matrix_norm(layer.layer.kernel.detach(), ord=2)) - 1.0) < 1e-4
    with pytest.raises(ValueError, match="no `kernel` or `embeddings`"):
        L.SpectralNormalization(L.Dropout(0.1))(torch.ones(2, 3))


def test_spectral_normalization_weight_order_is_keras():
    layer = L.SpectralNormalization(L.Dense(3))
    layer(torch.ones(1, 4))
    assert [w.shape for w in layer.get_weights()] == [(4, 3), (1, 3), (3,)]


def test_merge_functions_build_graph_nodes():
    a, b = dn.Input((3,)), dn.Input((3,))
    outputs = [L.add([a, b]), L.subtract([a, b]), L.multiply([a, b]), L.average([a, b]), L.maximum([a, b]),
               L.minimum([a, b]), L.concatenate([a, b], axis=1, name="cat"), L.dot([a, b], axes=1)]
    model = dn.Model([a, b], outputs)
    assert model.get_layer("cat").axis == 1
    x, y = torch.randn(2, 3), torch.randn(2, 3)
    got = model([x, y])
    expected = [x + y, x - y, x * y, (x + y) / 2, torch.maximum(x, y), torch.minimum(x, y), torch.cat([x, y], 1),
                (x * y).sum(1, keepdim=True)]
    for g, e in zip(got, expected):
        torch.testing.assert_close(g, e)


def test_einsum_dense_rejects_bad_equations():
    with pytest.raises(ValueError, match="invalid einsum equation"):
        L.EinsumDense("ab->b", output_shape=2)
    with pytest.raises(ValueError, match="bias_axes='x'"):
        L.EinsumDense("ab,bc->ac", output_shape=2, bias_axes="x")(torch.ones(1, 3))
    with pytest.raises(ValueError, match="shared axis 'b'"):
        L.EinsumDense("abc,cd->abd", output_shape=(7, 2))(torch.ones(1, 5, 3))


def test_reversible_embedding_reverse_uses_the_tied_table():
    layer = L.ReversibleEmbedding(6, 3, mask_zero=True)
    ids = torch.tensor([[1, 0, 2]])
    hidden = layer(ids)
    assert torch.equal(hidden._keras_mask, ids != 0)
    logits = layer(hidden, reverse=True)
    torch.testing.assert_close(logits, hidden @ layer.embeddings.T)
    assert getattr(logits, "_keras_mask", None) is None


@pytest.mark.parametrize("alias, name", [
    ("MaxPool1D", "MaxPooling1D"), ("MaxPool2D", "MaxPooling2D"), ("AvgPool1D", "AveragePooling1D"),
    ("AvgPool2D", "AveragePooling2D"), ("GlobalAvgPool1D", "GlobalAveragePooling1D"),
    ("GlobalAvgPool2D", "GlobalAveragePooling2D"), ("GlobalMaxPool1D", "GlobalMaxPooling1D"),
    ("GlobalMaxPool2D", "GlobalMaxPooling2D"), ("Convolution1D", "Conv1D"), ("Convolution2D", "Conv2D"),
    ("Convolution1DTranspose", "Conv1DTranspose"), ("Convolution2DTranspose", "Conv2DTranspose"),
    ("SeparableConvolution1D", "SeparableConv1D"), ("SeparableConvolution2D", "SeparableConv2D"),
    ("MaxPool3D", "MaxPooling3D"), ("AvgPool3D", "AveragePooling3D"), ("GlobalAvgPool3D", "GlobalAveragePooling3D"),
    ("GlobalMaxPool3D", "GlobalMaxPooling3D"), ("Convolution3D", "Conv3D"), ("Convolution3DTranspose", "Conv3DTranspose"),
])
def test_aliases_are_the_keras_classes(alias, name):
    assert getattr(L, alias) is getattr(L, name)
    assert alias in L.__all__
