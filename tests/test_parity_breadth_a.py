"""Keras 3 parity of the part-A breadth layers (activations, core extras, wrappers, EinsumDense,
ReversibleEmbedding, GroupedQueryAttention, merge functions): parameter counts, weight shapes and
outputs after copying Keras' weights (tests/parity.py)."""

import os

os.environ.setdefault("KERAS_BACKEND", "torch")

import types  # noqa: E402

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

import deepnet as dn  # noqa: E402
from parity import assert_parity  # noqa: E402

keras = pytest.importorskip("keras")  # every test here compares against Keras

D = types.SimpleNamespace(L=dn.layers, Input=dn.Input, Model=dn.Model)
K = types.SimpleNamespace(L=keras.layers, Input=keras.Input, Model=keras.Model)


def _rand(shape, seed=0):
    return np.random.default_rng(seed).standard_normal((2, *shape)).astype("float32")


def _single(shape, layers):
    def build(ns):
        x = inputs = ns.Input(shape)
        for make in layers(ns.L):
            x = make(x)
        return ns.Model(inputs, x)
    return build


SINGLE = [
    ("relu", (6,), lambda L: [L.Dense(5), L.ReLU()]),
    ("relu-options", (6,), lambda L: [L.Dense(5), L.ReLU(max_value=0.5, negative_slope=0.2, threshold=0.1)]),
    ("leaky-relu", (6,), lambda L: [L.Dense(5), L.LeakyReLU()]),
    ("leaky-relu-slope", (6,), lambda L: [L.Dense(5), L.LeakyReLU(negative_slope=0.01)]),
    ("elu", (6,), lambda L: [L.Dense(5), L.ELU(alpha=0.7)]),
    ("prelu", (4, 3), lambda L: [L.PReLU(alpha_initializer="random_normal"), L.Dense(2)]),
    ("prelu-shared", (4, 3, 2), lambda L: [L.PReLU(shared_axes=[1, 2], alpha_initializer="random_normal")]),
    ("softmax", (4, 3), lambda L: [L.Dense(5), L.Softmax()]),
    ("softmax-axis", (4, 3), lambda L: [L.Softmax(axis=1)]),
    ("softmax-axes", (4, 3), lambda L: [L.Softmax(axis=(1, 2))]),
    ("identity", (4,), lambda L: [L.Identity(), L.Dense(2)]),
    ("activity-regularization", (4,), lambda L: [L.ActivityRegularization(l1=0.1), L.Dense(2)]),
    ("alpha-dropout", (4,), lambda L: [L.Dense(3), L.AlphaDropout(0.3), L.Dense(2)]),
    ("time-distributed-dense", (5, 4), lambda L: [L.TimeDistributed(L.Dense(3))]),
    ("time-distributed-conv", (3, 6, 6, 2), lambda L: [L.TimeDistributed(L.Conv2D(2, 3)),
                                                       L.TimeDistributed(L.Flatten())]),
    ("spectral-normalization", (4,), lambda L: [L.SpectralNormalization(L.Dense(3))]),
    ("spectral-normalization-conv", (6, 6, 2), lambda L: [L.SpectralNormalization(L.Conv2D(3, 2))]),
    ("einsum-dense", (4,), lambda L: [L.EinsumDense("ab,bc->ac", output_shape=3, bias_axes="c")]),
    ("einsum-dense-3d", (5, 4), lambda L: [L.EinsumDense("abc,cde->abde", output_shape=(None, 2, 3),
                                                         bias_axes="de", activation="tanh")]),
    ("einsum-dense-left-ellipsis", (2, 5, 4), lambda L: [L.EinsumDense("...b,bc->...c", output_shape=3,
                                                                       bias_axes="c")]),
    ("einsum-dense-right-ellipsis", (4, 5), lambda L: [L.EinsumDense("ab...,bc->ac...", output_shape=3,
                                                                     bias_axes="c")]),
    ("einsum-dense-partial-bias", (5, 4), lambda L: [L.EinsumDense("abc,cde->abde", output_shape=(5, 2, 3),
                                                                   bias_axes="e")]),
]


@pytest.mark.parametrize("shape, layers", [s[1:] for s in SINGLE], ids=[s[0] for s in SINGLE])
def test_single_input_parity(shape, layers):
    build = _single(shape, layers)
    assert_parity(build(D), build(K), _rand(shape))


def test_masking_then_lstm_parity():
    x = _rand((5, 3))
    x[1, 3:] = 0.0
    build = _single((5, 3), lambda L: [L.Masking(), L.LSTM(4, return_sequences=True), L.GlobalAveragePooling1D()])
    assert_parity(build(D), build(K), x)


def test_softmax_mask_parity():
    x, m = _rand((3, 4)), np.array([[True, False, True, True]] * 3)
    k_out = keras.layers.Softmax()(x, mask=m)
    d_out = dn.layers.Softmax()(torch.as_tensor(x), mask=torch.as_tensor(m))
    np.testing.assert_allclose(d_out.numpy(), np.asarray(k_out), atol=1e-6)


def test_reversible_embedding_parity():
    ids = np.random.default_rng(0).integers(0, 10, (2, 4))
    for kwargs in ({}, {"tie_weights": False, "logit_soft_cap": 2.0}):
        def build(ns, kwargs=kwargs):
            inputs = ns.Input((4,), dtype="int32")
            layer = ns.L.ReversibleEmbedding(10, 3, **kwargs)
            return ns.Model(inputs, layer(layer(inputs), reverse=True))
        assert_parity(build(D), build(K), ids)


def test_merge_function_parity():
    def build(ns):
        a, b = ns.Input((4,)), ns.Input((4,))
        L = ns.L
        outs = [L.add([a, b]), L.subtract([a, b]), L.multiply([a, b]), L.average([a, b]), L.maximum([a, b]),
                L.minimum([a, b]), L.concatenate([a, b]), L.dot([a, b], axes=1)]
        return ns.Model([a, b], L.concatenate(outs))
    assert_parity(build(D), build(K), [_rand((4,)), _rand((4,), 1)])


def test_spectral_normalization_training_step_parity():
    x = _rand((4,))
    k = keras.layers.SpectralNormalization(keras.layers.Dense(3), power_iterations=2)
    d = dn.layers.SpectralNormalization(dn.layers.Dense(3), power_iterations=2)
    k(x)
    d(torch.as_tensor(x))
    d.set_weights([np.asarray(w) for w in k.get_weights()])
    k_out = k(x, training=True)
    d_out = d(torch.as_tensor(x), training=True)
    np.testing.assert_allclose(d_out.detach().numpy(), np.asarray(k_out.detach().cpu()), atol=1e-5)
    for a, b in zip(d.get_weights(), k.get_weights()):
        np.testing.assert_allclose(a, np.asarray(b), atol=1e-5)


@pytest.mark.parametrize("kwargs, call_kwargs", [
    ({}, {}),
    ({"use_gate": True}, {"use_causal_mask": True}),
    ({"use_bias": False, "sliding_window": 2}, {}),
    ({}, {"return_attention_scores": True}),
], ids=["plain", "gate-causal", "no-bias-window", "scores"])
def test_grouped_query_attention_parity(kwargs, call_kwargs):
    def build(ns):
        q, v = ns.Input((5, 6)), ns.Input((7, 6))
        layer = ns.L.GroupQueryAttention(head_dim=3, num_query_heads=4, num_key_value_heads=2, **kwargs)
        return ns.Model([q, v], layer(q, v, **call_kwargs))
    assert_parity(build(D), build(K), [_rand((5, 6)), _rand((7, 6), 1)])


def test_grouped_query_attention_mask_parity():
    x = _rand((5, 6))
    x[1, 3:] = 0.0
    def build(ns):
        inputs = ns.Input((5, 6))
        masked = ns.L.Masking()(inputs)
        layer = ns.L.GroupQueryAttention(head_dim=2, num_query_heads=2, num_key_value_heads=1)
        return ns.Model(inputs, layer(masked, masked))
    assert_parity(build(D), build(K), x)
