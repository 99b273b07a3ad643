"""Keras parity of the recurrent layers, fused-kernel vs step-loop agreement, gradchecks and
training-mode (dropout) behaviour."""

import numpy as np
import pytest
import torch

import deepnet as dn
from deepnet.layers import Dense
from deepnet.layers.recurrent import GRU, LSTM, Bidirectional, SimpleRNN
from parity import assert_parity, keras

T, F_, U = 6, 3, 4
RNG = np.random.default_rng(0)
X = RNG.standard_normal((3, T, F_)).astype("float32")


def _both(name, **kwargs):
    dn_cls = {"SimpleRNN": SimpleRNN, "LSTM": LSTM, "GRU": GRU}[name]
    return dn_cls(**kwargs), getattr(keras.layers, name)(**kwargs)


def _models(specs, input_shape=(T, F_)):
    """``specs``: list of (name, kwargs) -> (deepnet Sequential, Keras Sequential)."""
    d_layers, k_layers = [], []
    for name, kwargs in specs:
        if name == "Bidirectional":
            inner_name, inner_kwargs, merge = kwargs
            d_inner, k_inner = _both(inner_name, **inner_kwargs)
            d_layers.append(Bidirectional(d_inner, merge_mode=merge))
            k_layers.append(keras.layers.Bidirectional(k_inner, merge_mode=merge))
        elif name == "Dense":
            d_layers.append(Dense(**kwargs))
            k_layers.append(keras.layers.Dense(**kwargs))
        else:
            d, k = _both(name, **kwargs)
            d_layers.append(d)
            k_layers.append(k)
    return (dn.Sequential([dn.Input(shape=input_shape), *d_layers]),
            keras.Sequential([keras.Input(shape=input_shape), *k_layers]))


SEQUENTIAL_CASES = {
    "simple_rnn": [("SimpleRNN", {"units": U})],
    "simple_rnn_relu_seq": [("SimpleRNN", {"units": U, "activation": "relu", "return_sequences": True})],
    "simple_rnn_backwards": [("SimpleRNN", {"units": U, "go_backwards": True, "return_sequences": True})],
    "simple_rnn_selu_loop": [("SimpleRNN", {"units": U, "activation": "selu", "use_bias": False})],
    "lstm": [("LSTM", {"units": U})],
    "lstm_seq_backwards": [("LSTM", {"units": U, "return_sequences": True, "go_backwards": True})],
    "lstm_no_bias": [("LSTM", {"units": U, "use_bias": False, "unit_forget_bias": False})],
    "lstm_relu_hard_sigmoid_loop": [("LSTM", {"units": U, "activation": "relu", "recurrent_activation": "hard_sigmoid"})],
    "gru": [("GRU", {"units": U})],
    "gru_seq_backwards": [("GRU", {"units": U, "return_sequences": True, "go_backwards": True})],
    "gru_reset_before": [("GRU", {"units": U, "reset_after": False, "return_sequences": True})],
    "gru_reset_before_backwards": [("GRU", {"units": U, "reset_after": False, "go_backwards": True})],
    "gru_no_bias": [("GRU", {"units": U, "use_bias": False})],
    "stacked_lstm_gru": [("LSTM", {"units": 5, "return_sequences": True}), ("GRU", {"units": U}), ("Dense", {"units": 2})],
    "stacked_gru_rnn": [("GRU", {"units": 5, "return_sequences": True, "reset_after": False}),
                        ("SimpleRNN", {"units": U, "return_sequences": True}), ("LSTM", {"units": 2})],
}
for _merge in ("concat", "sum", "mul", "ave"):
    SEQUENTIAL_CASES[f"bidirectional_lstm_{_merge}"] = [("Bidirectional", ("LSTM", {"units": U}, _merge))]
    SEQUENTIAL_CASES[f"bidirectional_gru_seq_{_merge}"] = [
        ("Bidirectional", ("GRU", {"units": U, "return_sequences": True}, _merge)), ("Dense", {"units": 2})]
SEQUENTIAL_CASES["bidirectional_rnn_stacked"] = [
    ("Bidirectional", ("SimpleRNN", {"units": U, "return_sequences": True}, "concat")),
    ("Bidirectional", ("GRU", {"units": U, "reset_after": False}, "sum"))]


@pytest.mark.parametrize("case", list(SEQUENTIAL_CASES))
def test_sequential_parity(case):
    d_model, k_model = _models(SEQUENTIAL_CASES[case])
    assert_parity(d_model, k_model, X)


@pytest.mark.parametrize("name", ["SimpleRNN", "LSTM", "GRU"])
@pytest.mark.parametrize("go_backwards", [False, True])
def test_return_state_parity(name, go_backwards):
    kwargs = {"units": U, "return_sequences": True, "return_state": True, "go_backwards": go_backwards}
    d_layer, k_layer = _both(name, **kwargs)
    d_in, k_in = dn.Input(shape=(T, F_)), keras.Input(shape=(T, F_))
    d_model = dn.Model(d_in, list(d_layer(d_in)))
    k_model = keras.Model(k_in, list(k_layer(k_in)))
    assert_parity(d_model, k_model, X)


@pytest.mark.parametrize("merge", ["concat", None])
def test_bidirectional_return_state_parity(merge):
    d_in, k_in = dn.Input(shape=(T, F_)), keras.Input(shape=(T, F_))
    d_out = Bidirectional(LSTM(U, return_state=True, return_sequences=True), merge_mode=merge)(d_in)
    k_out = keras.layers.Bidirectional(keras.layers.LSTM(U, return_state=True, return_sequences=True),
                                       merge_mode=merge)(k_in)
    assert len(d_out) == len(k_out) == (5 if merge else 6)
    assert_parity(dn.Model(d_in, list(d_out)), keras.Model(k_in, list(k_out)), X)


@pytest.mark.parametrize("name", ["LSTM", "GRU"])
def test_initial_state_parity(name):
    n = 2 if name == "LSTM" else 1
    d_layer, k_layer = _both(name, units=U, return_sequences=True)
    d_ins = [dn.Input(shape=(T, F_))] + [dn.Input(shape=(U,)) for _ in range(n)]
    k_ins = [keras.Input(shape=(T, F_))] + [keras.Input(shape=(U,)) for _ in range(n)]
    d_model = dn.Model(d_ins, d_layer(d_ins[0], initial_state=d_ins[1:]))
    k_model = keras.Model(k_ins, k_layer(k_ins[0], initial_state=k_ins[1:]))
    states = [RNG.standard_normal((3, U)).astype("float32") for _ in range(n)]
    assert_parity(d_model, k_model, [X, *states])


MASK = np.array([[1, 1, 1, 1, 0, 0], [1, 1, 1, 1, 1, 1], [1, 1, 0, 0, 0, 0]], dtype=bool)
HOLES = np.array([[1, 0, 1, 1, 0, 1], [0, 0, 1, 1, 1, 1], [1, 1, 0, 0, 0, 0]], dtype=bool)


@pytest.mark.parametrize("mask", [MASK, HOLES], ids=["right_padded", "holes"])
@pytest.mark.parametrize("merge", ["concat", "ave"])
def test_masked_stacked_bidirectional_parity(mask, merge):
    """Bidirectional(LSTM, seq) -> GRU(seq, go_backwards) -> SimpleRNN with a mask, as after
    Embedding(mask_zero=True): Keras gets the mask explicitly, deepnet via ``_keras_mask``."""
    mask_t = torch.as_tensor(mask)
    k_layers = [keras.layers.Bidirectional(keras.layers.LSTM(U, return_sequences=True), merge_mode=merge),
                keras.layers.GRU(U, return_sequences=True, go_backwards=True), keras.layers.SimpleRNN(3)]
    d_layers = [Bidirectional(LSTM(U, return_sequences=True), merge_mode=merge),
                GRU(U, return_sequences=True, go_backwards=True), SimpleRNN(3)]
    k = X
    for layer in k_layers:
        k = layer(k, mask=mask_t)
    d_model = dn.Sequential([dn.Input(shape=(T, F_)), *d_layers])
    d_model.set_weights([np.asarray(w) for layer in k_layers for w in layer.get_weights()])
    d_model.eval()
    x = torch.as_tensor(X)
    x._keras_mask = mask_t
    with torch.no_grad():
        d = d_model(x)
    np.testing.assert_allclose(d.numpy(), np.asarray(k.detach()), atol=1e-5, rtol=1e-5)


# --------------------------------------------------------------------------- fused vs loop


def _loop_twin(layer):
    """A copy of ``layer`` (same weights) forced onto the step loop."""
    twin = type(layer).from_config(layer.get_config())
    twin(torch.zeros(1, T, F_, dtype=layer.dtype))
    twin.set_weights(layer.get_weights())
    twin._vf = None
    return twin


FUSED = [
    (SimpleRNN, {}), (SimpleRNN, {"activation": "relu"}), (LSTM, {}), (LSTM, {"use_bias": False}),
    (GRU, {}), (GRU, {"use_bias": False}),
]


@pytest.mark.parametrize("cls, kwargs", FUSED)
@pytest.mark.parametrize("go_backwards", [False, True])
@pytest.mark.parametrize("mask, zero_output", [(None, False), (MASK, False), (MASK, True)],
                         ids=["nomask", "right_padded", "right_padded_zero_output"])
def test_fused_and_loop_agree(cls, kwargs, go_backwards, mask, zero_output):
    for return_sequences in (True, False):
        layer = cls(U, return_sequences=return_sequences, return_state=True, go_backwards=go_backwards,
                    zero_output_for_mask=zero_output, bias_initializer="random_normal", **kwargs)
        layer(torch.zeros(1, T, F_))
        assert layer._vf is not None
        twin = _loop_twin(layer)
        outs = []
        for model in (layer, twin):
            x = torch.as_tensor(X).clone().requires_grad_(True)
            h0 = torch.full((3, U), 0.3, requires_grad=True)
            if mask is not None:
                x._keras_mask = torch.as_tensor(mask)
            res = model(x, initial_state=[h0] * model._n_states)
            sum(r.square().sum() for r in res).backward()
            outs.append(([r.detach() for r in res], x.grad, h0.grad, [w.grad for w in model.trainable_weights]))
        (a, ax, ah, aw), (b, bx, bh, bw) = outs
        for u, v in zip(a + [ax, ah] + aw, b + [bx, bh] + bw):
            torch.testing.assert_close(u, v, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("cls", [SimpleRNN, LSTM, GRU])
@pytest.mark.parametrize("mask", [None, MASK], ids=["nomask", "right_padded"])
def test_bidirectional_fused_call_matches_two_layers(cls, mask, monkeypatch):
    layer = Bidirectional(cls(U, return_sequences=True, return_state=True), merge_mode=None)
    x = torch.as_tensor(X)
    if mask is not None:
        x._keras_mask = torch.as_tensor(mask)
    h0 = [torch.randn(3, U) for _ in range(2 * layer.forward_layer._n_states)]
    fused = layer(x, initial_state=h0)
    monkeypatch.setattr(Bidirectional, "_fusable", lambda self, training: False)
    separate = layer(x, initial_state=h0)
    for a, b in zip(fused, separate):
        torch.testing.assert_close(a, b, atol=1e-6, rtol=1e-5)


# --------------------------------------------------------------------------- gradcheck (loop)

GRADCHECK = [
    (SimpleRNN, {"activation": "selu"}),
    (LSTM, {"use_cudnn": False}),
    (LSTM, {"recurrent_activation": "hard_sigmoid", "go_backwards": True}),
    (GRU, {"use_cudnn": False}),
    (GRU, {"reset_after": False, "go_backwards": True}),
]


@pytest.mark.parametrize("cls, kwargs", GRADCHECK)
@pytest.mark.parametrize("masked", [False, True])
def test_loop_gradcheck_float64(cls, kwargs, masked):
    layer = cls(3, dtype="float64", return_sequences=True, return_state=True,
                bias_initializer="random_normal", **kwargs)
    x = torch.randn(2, 4, 2, dtype=torch.float64, requires_grad=True)
    layer(x.detach())
    assert layer._vf is None
    mask = torch.tensor([[1, 0, 1, 1], [0, 1, 1, 0]], dtype=torch.bool) if masked else None
    h0 = torch.randn(2, 3, dtype=torch.float64, requires_grad=True)
    weights = list(layer.trainable_weights)

    def fn(x, h0, *ws):
        return layer.call(x, initial_state=[h0] * layer._n_states, mask=mask)

    assert torch.autograd.gradcheck(fn, (x, h0, *weights), eps=1e-6, atol=1e-5)


# --------------------------------------------------------------------------- training mode


def _identity_relu_rnn(**kwargs):
    """SimpleRNN(relu) with identity kernel and no recurrence: output_t = relu(dropout(x)_t)."""
    layer = SimpleRNN(8, activation="relu", return_sequences=True, **kwargs)
    layer(torch.zeros(1, 5, 8))
    layer.set_weights([np.eye(8, dtype="float32"), np.zeros((8, 8), "float32"), np.zeros(8, "float32")])
    return layer


def test_input_dropout_mask_is_shared_over_time_and_has_the_right_rate():
    layer = _identity_relu_rnn(dropout=0.25)
    x = torch.rand(400, 5, 8) + 0.5
    layer.train()
    ratio = layer(x) / x
    assert torch.allclose(ratio, ratio[:, :1].expand_as(ratio))  # same mask at every step
    kept = ratio[:, 0]
    assert torch.all((kept == 0) | torch.isclose(kept, torch.tensor(1 / 0.75)))
    assert abs((kept == 0).float().mean().item() - 0.25) < 0.03
    layer.eval()
    torch.testing.assert_close(layer(x), x)  # no dropout at inference


def test_seeded_dropout_is_reproducible_and_recurrent_dropout_is_training_only():
    x = torch.rand(4, 5, 8) + 0.5
    a, b = _identity_relu_rnn(dropout=0.5, seed=3), _identity_relu_rnn(dropout=0.5, seed=3)
    torch.testing.assert_close(a(x, training=True), b(x, training=True))
    layer = LSTM(U, recurrent_dropout=0.5, dropout=0.2, return_sequences=True)
    x = torch.randn(4, T, F_)
    layer.eval()
    ref = layer(x)
    torch.testing.assert_close(layer(x), ref)
    assert layer._vf is not None  # eval with recurrent_dropout still runs the fused kernel
    train_out = layer(x, training=True)
    assert not torch.allclose(train_out, ref)
    train_out.sum().backward()
    assert all(w.grad is not None for w in layer.trainable_weights)
