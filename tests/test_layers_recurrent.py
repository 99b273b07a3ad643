"""Recurrent layers: bad inputs, masks, weights and config details (their harness rows live in
tests/test_layer_harness.py)."""

import os

os.environ.setdefault("KERAS_BACKEND", "torch")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

import deepnet as dn  # noqa: E402
from deepnet.layers.recurrent import GRU, LSTM, Bidirectional, SimpleRNN  # noqa: E402
from harness import run_layer_test  # noqa: E402

T, F_, U = 5, 3, 4  # timesteps, features, units
P_LSTM = 4 * (F_ * U + U * U + U)  # 128
P_GRU = 3 * (F_ * U + U * U + 2 * U)  # 108 (reset_after=True: two bias rows)


def test_bidirectional_custom_backward_layer_and_weights():
    fwd = LSTM(U, return_sequences=True)
    bwd = GRU(U, return_sequences=True, go_backwards=True)
    layer = run_layer_test(Bidirectional, {"layer": fwd, "backward_layer": bwd}, (T, F_), (None, T, 2 * U),
                           expected_trainable=P_LSTM + P_GRU,
                           skip={"float64": "the wrapped layers keep their own dtype, as in Keras"})
    assert layer.backward_layer is bwd
    weights = layer.get_weights()
    assert [w.shape for w in weights] == [(F_, 4 * U), (U, 4 * U), (4 * U,), (F_, 3 * U), (U, 3 * U), (2, 3 * U)]
    # `weights=` sets them at build time (forward first, then backward)
    clone = Bidirectional(LSTM(U, return_sequences=True), backward_layer=GRU(U, return_sequences=True, go_backwards=True),
                          weights=weights)
    clone(dn.Input(shape=(T, F_)))
    for a, b in zip(weights, clone.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_bidirectional_from_config_via_deserialize_layer():
    from deepnet.models.graph import deserialize_layer, serialize_layer

    layer = Bidirectional(GRU(U, return_sequences=True), merge_mode="sum")
    layer(dn.Input(shape=(T, F_)))
    config = serialize_layer(layer)
    assert config["config"]["layer"]["class_name"] == "GRU"
    clone = Bidirectional.from_config(config["config"])
    assert clone.get_config() == layer.get_config()
    try:
        rebuilt = deserialize_layer(config)  # works once Bidirectional is registered
    except ValueError:
        return
    assert rebuilt.get_config() == layer.get_config()


# --------------------------------------------------------------------------- weights


def test_lstm_unit_forget_bias_and_gru_gate_order():
    lstm = LSTM(U)
    lstm(dn.Input(shape=(T, F_)))
    bias = lstm.get_weights()[2]
    np.testing.assert_array_equal(bias, np.r_[np.zeros(U), np.ones(U), np.zeros(2 * U)])

    gru = GRU(2, bias_initializer="zeros")
    gru(dn.Input(shape=(T, 1)))
    # Keras order z, r, h in get_weights; PyTorch order r, z, n in the stored tensor
    kernel = np.arange(6, dtype="float32").reshape(1, 6)
    gru.set_weights([kernel, np.zeros((2, 6), "float32"), np.zeros((2, 6), "float32")])
    np.testing.assert_array_equal(gru.kernel.detach().numpy()[:, 0], [2, 3, 0, 1, 4, 5])
    np.testing.assert_array_equal(gru.get_weights()[0], kernel)


def test_constraints_and_regularizers_see_keras_layout():
    gru = GRU(U, kernel_constraint="non_neg", bias_regularizer="l2", recurrent_regularizer="l1")
    gru(dn.Input(shape=(T, F_)))
    gru.apply_constraints()
    assert (gru.get_weights()[0] >= 0).all()
    assert len(gru.losses) == 2
    lstm = LSTM(U, activity_regularizer="l2", return_state=True)
    lstm(torch.randn(2, T, F_))
    assert len(lstm.losses) == 1 and lstm.losses[0] > 0


def test_float64_and_initial_state():
    layer = LSTM(U, dtype="float64", return_state=True)
    h0, c0 = torch.randn(2, U, dtype=torch.float64), torch.randn(2, U, dtype=torch.float64)
    out, h, c = layer(torch.randn(2, T, F_, dtype=torch.float64), initial_state=[h0, c0])
    assert out.dtype == torch.float64 and torch.equal(out, h)
    gru = GRU(U)
    x = torch.randn(2, T, F_)
    a = gru(x, initial_state=torch.zeros(2, U))
    b = gru(x)
    torch.testing.assert_close(a, b)


# --------------------------------------------------------------------------- bad inputs

BAD_KWARGS = [
    (SimpleRNN, {"units": 0}, ValueError, r"`units` of SimpleRNN, expected a positive integer.*units=0"),
    (LSTM, {"units": 2.5}, ValueError, r"`units` of LSTM"),
    (LSTM, {"units": 4, "dropout": 1.5}, ValueError, r"`dropout` of LSTM, expected a float in \[0, 1\).*dropout=1.5"),
    (GRU, {"units": 4, "recurrent_dropout": -0.1}, ValueError, r"`recurrent_dropout` of GRU"),
    (LSTM, {"units": 4, "stateful": "yes"}, TypeError, r"`stateful` of LSTM, expected a bool"),
    (SimpleRNN, {"units": 4, "activation": "tanhh"}, ValueError, r"Unknown activation 'tanhh'.*Did you mean 'tanh'"),
    (GRU, {"units": 4, "recurrent_activation": "sigmod"}, ValueError, r"recurrent_activation"),
    (GRU, {"units": 4, "reset_after": False, "use_cudnn": True}, ValueError, r"use_cudnn=True.*reset_after=True"),
    (LSTM, {"units": 4, "use_cudnn": "yes"}, ValueError, r"`use_cudnn` of LSTM"),
    (SimpleRNN, {"units": 4, "seed": -1}, ValueError, r"`seed` of SimpleRNN"),
    (LSTM, {"units": 4, "return_sequences": "yes"}, TypeError, r"`return_sequences` of LSTM, expected a bool"),
    (LSTM, {"units": 4, "kernel_initializer": "glorot"}, ValueError, r"Unknown initializer 'glorot'"),
    (LSTM, {"units": 4, "unitz": 3}, TypeError, r"unexpected keyword argument.*unitz"),
    (Bidirectional, {"layer": dn.layers.Dense(3)}, ValueError, r"`layer` of Bidirectional, expected a recurrent"),
    (Bidirectional, {"layer": LSTM(3), "merge_mode": "avg"}, ValueError, r"`merge_mode` of Bidirectional.*'avg'"),
    (Bidirectional, {"layer": LSTM(3), "backward_layer": LSTM(3)}, ValueError, r"different `go_backwards`"),
    (Bidirectional, {"layer": LSTM(3), "backward_layer": LSTM(3, go_backwards=True, return_sequences=True)},
     ValueError, r"same `return_sequences`"),
]


@pytest.mark.parametrize("cls, kwargs, exc, match", BAD_KWARGS)
def test_bad_arguments(cls, kwargs, exc, match):
    with pytest.raises(exc, match=match):
        cls(**kwargs)


BAD_SHAPES = [
    (LSTM, (8,), r"LSTM 'lstm' expects input of rank 3 \(batch, timesteps, features\); received shape "
                 r"\(None, 8\)\. Add Reshape\(\(timesteps, features\)\) or an Embedding before it\."),
    (GRU, (2, 3, 4), r"GRU 'gru' expects input of rank 3 .*received shape \(None, 2, 3, 4\)"),
    (SimpleRNN, (5, None), r"SimpleRNN 'simple_rnn' needs the features axis"),
]


@pytest.mark.parametrize("cls, shape, match", BAD_SHAPES)
def test_bad_input_shapes(cls, shape, match):
    with pytest.raises(ValueError, match=match):
        cls(4)(dn.Input(shape=shape))


def test_bad_initial_state():
    layer = LSTM(U)
    with pytest.raises(ValueError, match=r"LSTM 'lstm' expects `initial_state` to be a list of 2 tensor"):
        layer(torch.randn(2, T, F_), initial_state=[torch.zeros(2, U)])
    with pytest.raises(ValueError, match=r"each initial state must have shape \(2, 4\); received \(2, 3\)"):
        layer(torch.randn(2, T, F_), initial_state=[torch.zeros(2, 3), torch.zeros(2, 3)])


# --------------------------------------------------------------------------- masks vs Keras

MASKS = {
    "right": [[1, 1, 1, 0, 0], [1, 1, 1, 1, 1], [1, 0, 0, 0, 0]],   # packed fused kernel
    "full": [[1] * 5] * 3,                                          # plain fused kernel
    "holes": [[1, 0, 1, 0, 1], [0, 1, 1, 1, 1], [1, 1, 0, 0, 0]],   # step loop
    "left": [[0, 0, 1, 1, 1], [1, 1, 1, 1, 1], [0, 0, 0, 0, 0]],    # step loop (one fully masked)
}


def _keras_layer(name, kwargs):
    keras = pytest.importorskip("keras")
    return getattr(keras.layers, name)(**kwargs)


@pytest.mark.parametrize("cls", [SimpleRNN, LSTM, GRU])
@pytest.mark.parametrize("mask_kind", list(MASKS))
@pytest.mark.parametrize("return_sequences, go_backwards", [(True, False), (False, False), (True, True)])
def test_masked_inputs_match_keras(cls, mask_kind, return_sequences, go_backwards):
    kwargs = {"units": U, "return_sequences": return_sequences, "go_backwards": go_backwards, "return_state": True}
    x = np.random.default_rng(1).standard_normal((3, T, F_)).astype("float32")
    mask = torch.as_tensor(np.array(MASKS[mask_kind], dtype=bool))
    k_layer = _keras_layer(cls.__name__, kwargs)
    k_out = k_layer(x, mask=mask)
    layer = cls(**kwargs)
    xt = torch.as_tensor(x)
    xt._keras_mask = mask  # what Embedding(mask_zero=True) attaches
    layer(xt)
    layer.set_weights([np.asarray(w) for w in k_layer.get_weights()])
    layer.eval()
    with torch.no_grad():
        out = layer(xt)
    assert len(out) == len(k_out)
    for d, k in zip(out, k_out):
        np.testing.assert_allclose(d.numpy(), np.asarray(k.detach()), atol=1e-5, rtol=1e-5)
    # output mask (first output): the input mask with return_sequences, else none
    if return_sequences:
        assert torch.equal(out[0]._keras_mask, mask)
    else:
        assert getattr(out[0], "_keras_mask", None) is None


def test_right_padded_mask_runs_the_fused_kernel(monkeypatch):
    from deepnet.layers import recurrent

    def no_loop(*args, **kwargs):
        raise AssertionError("the step loop should not run for a right-padded mask")

    monkeypatch.setattr(recurrent._RNN, "_run_loop", no_loop)
    x = torch.randn(3, T, F_)
    x._keras_mask = torch.as_tensor(np.array(MASKS["right"], dtype=bool))
    for layer in (LSTM(U, return_sequences=True), GRU(U, go_backwards=True), SimpleRNN(U),
                  Bidirectional(LSTM(U, return_sequences=True))):
        layer(x)
    with pytest.raises(AssertionError, match="step loop"):
        GRU(U, reset_after=False)(x)


def test_mask_propagates_through_stacked_layers():
    x = torch.randn(3, T, F_)
    mask = torch.as_tensor(np.array(MASKS["right"], dtype=bool))
    x._keras_mask = mask
    model = dn.Sequential([Bidirectional(LSTM(U, return_sequences=True)), GRU(U, return_sequences=True), LSTM(2)])
    y = model(x)
    assert y.shape == (3, 2)
    seq = model.layers[1](model.layers[0](x))
    assert torch.equal(seq._keras_mask, mask)
