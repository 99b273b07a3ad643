"""Whole-model Keras parity across layer families (each family also has its own parity file)."""

import numpy as np
import pytest

import deepnet as dn
from deepnet import layers as L
from parity import assert_parity, keras

K = keras.layers


def _tokens(n=4, t=7, vocab=20, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.integers(1, vocab, (n, t)).astype("int64")
    for i in range(n):  # right padding of varied length
        x[i, t - i:] = 0
    return x


def test_embedding_masked_gru_parity():
    km = keras.Sequential([K.Input((7,), dtype="int64"), K.Embedding(20, 6, mask_zero=True), K.GRU(5), K.Dense(3)])
    dm = dn.Sequential([L.Input((7,), dtype="int64"), L.Embedding(20, 6, mask_zero=True), L.GRU(5), L.Dense(3)])
    assert_parity(dm, km, _tokens())


def test_embedding_bidirectional_lstm_stack_parity():
    km = keras.Sequential([
        K.Input((7,), dtype="int64"), K.Embedding(20, 6, mask_zero=True),
        K.Bidirectional(K.LSTM(4, return_sequences=True)), K.LSTM(3), K.Dense(2),
    ])
    dm = dn.Sequential([
        L.Input((7,), dtype="int64"), L.Embedding(20, 6, mask_zero=True),
        L.Bidirectional(L.LSTM(4, return_sequences=True)), L.LSTM(3), L.Dense(2),
    ])
    assert_parity(dm, km, _tokens())


def test_two_input_concatenate_model_parity():
    def build(layers, model_cls):
        a = layers.Input((5,))
        b = layers.Input((3,))
        x = layers.Concatenate()([layers.Dense(4, activation="relu")(a), layers.Dense(2)(b)])
        return model_cls([a, b], layers.Dense(2, activation="softmax")(x))

    rng = np.random.default_rng(0)
    inputs = [rng.normal(size=(4, 5)).astype("float32"), rng.normal(size=(4, 3)).astype("float32")]
    assert_parity(build(L, dn.Model), build(K, keras.Model), inputs)


def test_transformer_block_parity():
    def block(layers, model_cls):
        inp = layers.Input((6, 8))
        att = layers.MultiHeadAttention(num_heads=2, key_dim=4)(inp, inp)
        x = layers.LayerNormalization()(layers.Add()([inp, att]))
        ff = layers.Dense(8)(layers.Dense(16, activation="relu")(x))
        out = layers.LayerNormalization()(layers.Add()([x, ff]))
        return model_cls(inp, out)

    x = np.random.default_rng(1).normal(size=(3, 6, 8)).astype("float32")
    assert_parity(block(L, dn.Model), block(K, keras.Model), x, atol=1e-5)


@pytest.mark.parametrize("units", [1, 7])
def test_deep_residual_mlp_parity(units):
    def build(layers, model_cls):
        inp = layers.Input((4,))
        x = layers.Dense(8)(inp)
        for _ in range(10):
            x = layers.Add()([x, layers.Dense(8, activation="tanh")(x)])
        return model_cls(inp, layers.Dense(units)(x))

    x = np.random.default_rng(2).normal(size=(5, 4)).astype("float32")
    assert_parity(build(L, dn.Model), build(K, keras.Model), x, atol=1e-5)


def test_residual_net_hundreds_of_layers_deep_builds_and_runs():
    import torch

    inp = L.Input((16,))
    x = inp
    for _ in range(150):
        x = L.Add()([x, L.Dense(16, activation="relu", kernel_initializer="zeros")(x)])
    model = dn.Model(inp, L.Dense(2)(x))
    assert len(model.layers) == 1 + 150 * 2 + 1
    out = model(torch.ones(3, 16))
    assert out.shape == (3, 2)
    out.sum().backward()
    clone = dn.Model.from_config(model.get_config())
    assert clone.count_params() == model.count_params()
