"""Real Keras 3 files in both directions: ``.keras`` archives saved by Keras load into deepnet
with the same predictions, ``.keras`` files saved by deepnet load in Keras, ``.weights.h5``
either way; code (Lambda) and unregistered classes are refused with a clear error."""

from __future__ import annotations

import json
import zipfile

import numpy as np
import pytest
import torch

import deepnet as dn
from parity import keras

pytest.importorskip("h5py")
K = keras.layers
RNG = np.random.default_rng(0)


def _tokens(n=4, t=7, vocab=20):
    x = RNG.integers(1, vocab, (n, t)).astype("int64")
    for i in range(n):  # right padding of varied length (masked by Embedding(mask_zero=True))
        x[i, t - i:] = 0
    return x


def _mlp():
    return keras.Sequential([K.Input((5,)), K.Dense(8, activation="relu"), K.BatchNormalization(), K.Dense(2)]), \
        RNG.normal(size=(4, 5)).astype("float32")


def _cnn():
    return keras.Sequential([
        K.Input((12, 12, 3)), K.Conv2D(4, 3, activation="relu"), K.BatchNormalization(), K.MaxPooling2D(),
        K.Conv2D(5, 3, padding="same"), K.GlobalAveragePooling2D(), K.Dropout(0.2), K.Dense(3, activation="softmax"),
    ]), RNG.normal(size=(2, 12, 12, 3)).astype("float32")


def _gru():
    return keras.Sequential([K.Input((7,), dtype="int64"), K.Embedding(20, 6, mask_zero=True), K.GRU(5),
                             K.Dense(3)]), _tokens()


def _bilstm():
    return keras.Sequential([
        K.Input((7,), dtype="int64"), K.Embedding(20, 6, mask_zero=True),
        K.Bidirectional(K.LSTM(4, return_sequences=True)), K.SimpleRNN(3, return_sequences=True), K.LSTM(3),
        K.Dense(2),
    ]), _tokens()


def _two_inputs_two_outputs():
    a, b = K.Input((5,)), K.Input((3,))
    x = K.Concatenate()([K.Dense(4, activation="relu")(a), K.Dense(2)(b)])
    model = keras.Model([a, b], [K.Dense(2, activation="softmax")(x), K.Dense(1)(x)])
    return model, [RNG.normal(size=(4, 5)).astype("float32"), RNG.normal(size=(4, 3)).astype("float32")]


def _transformer():
    inp = K.Input((6, 8))
    att = K.MultiHeadAttention(num_heads=2, key_dim=4)(inp, inp)
    x = K.LayerNormalization()(K.Add()([inp, att]))
    ff = K.Dense(8)(K.Dense(16, activation="relu")(x))
    return keras.Model(inp, K.LayerNormalization()(K.Add()([x, ff]))), RNG.normal(size=(3, 6, 8)).astype("float32")


def _residual():
    inp = K.Input((4,))
    x = K.Dense(8)(inp)
    for _ in range(4):
        x = K.Add()([x, K.Dense(8, activation="tanh")(x)])
    return keras.Model(inp, K.Dense(3)(x)), RNG.normal(size=(5, 4)).astype("float32")


def _shared_and_nested():
    shared = K.Dense(3)
    i1, i2 = K.Input((4,)), K.Input((4,))
    inner = keras.Sequential([K.Input((3,)), K.Dense(2), K.BatchNormalization()])
    model = keras.Model([i1, i2], inner(K.Add()([shared(i1), shared(i2)])))
    return model, [RNG.normal(size=(4, 4)).astype("float32"), RNG.normal(size=(4, 4)).astype("float32")]


ARCHITECTURES = {
    "mlp_bn": _mlp, "cnn": _cnn, "embedding_gru": _gru, "bidirectional_lstm": _bilstm,
    "two_inputs_two_outputs": _two_inputs_two_outputs, "transformer_block": _transformer,
    "residual_mlp": _residual, "shared_layer_nested_model": _shared_and_nested,
}


def _as_list(out):
    return [np.asarray(o.detach().cpu() if isinstance(o, torch.Tensor) else o)
            for o in (out if isinstance(out, (list, tuple)) else [out])]


def _dn_predict(model, x):
    model.eval()
    with torch.no_grad():
        return _as_list(model([torch.as_tensor(a) for a in x] if isinstance(x, list) else torch.as_tensor(x)))


def _keras_predict(model, x):
    return _as_list(model.predict(x, verbose=0))


def _assert_close(a, b, atol=1e-5):
    assert len(a) == len(b)
    for u, v in zip(a, b):
        assert u.shape == v.shape
        np.testing.assert_allclose(u, v, atol=atol, rtol=1e-5)


def _trained(km, x):
    """Non-trivial weights and BatchNormalization statistics (one epoch of fit)."""
    outs = _as_list(km(x if not isinstance(x, list) else [np.asarray(a) for a in x]))
    targets = [np.ones(o.shape, "float32") for o in outs]
    km.compile(optimizer="adam", loss=["mse"] * len(targets) if len(targets) > 1 else "mse")
    km.fit(x, targets if len(targets) > 1 else targets[0], epochs=1, verbose=0)
    return km


@pytest.mark.parametrize("arch", sorted(ARCHITECTURES))
def test_keras_saved_file_loads_with_equal_predictions_and_saves_back(arch, tmp_path):
    km, x = ARCHITECTURES[arch]()
    km = _trained(km, x)
    km.save(tmp_path / "k.keras")
    dm = dn.load_model(str(tmp_path / "k.keras"))
    expected = _keras_predict(km, x)
    _assert_close(_dn_predict(dm, x), expected)
    assert dm.count_params() == km.count_params()
    # and back: deepnet writes a .keras file that Keras 3 loads with the same predictions
    dm.save(str(tmp_path / "d.keras"))
    _assert_close(_keras_predict(keras.saving.load_model(tmp_path / "d.keras", compile=False), x), expected)


def test_deepnet_built_model_loads_in_keras(tmp_path):
    L = dn.layers
    model = dn.Sequential([L.Input((6,)), L.Dense(5, activation="relu"), L.BatchNormalization(), L.Dense(2)])
    x = RNG.normal(size=(8, 6)).astype("float32")
    model.compile(optimizer="sgd", loss="mse")
    model.fit(x, np.ones((8, 2), "float32"), epochs=2, verbose=0)
    model.save(str(tmp_path / "m.keras"))
    km = keras.saving.load_model(tmp_path / "m.keras")
    _assert_close(_keras_predict(km, x), _dn_predict(model, x))
    assert type(km.optimizer).__name__ == "SGD" and km.loss == "mse"
    with zipfile.ZipFile(tmp_path / "m.keras") as z:
        assert sorted(z.namelist()) == ["config.json", "metadata.json", "model.weights.h5"]


def test_compile_config_is_restored(tmp_path):
    km, x = _mlp()
    km.compile(optimizer=keras.optimizers.Adam(learning_rate=0.01), loss="mae", metrics=["mse"])
    km.save(tmp_path / "k.keras")
    dm = dn.load_model(str(tmp_path / "k.keras"))
    assert type(dm.optimizer).__name__ == "Adam"
    assert float(dm.optimizer.learning_rate) == pytest.approx(0.01)
    history = dm.fit(x, np.zeros((4, 2), "float32"), epochs=2, verbose=0)
    assert "mse" in history.history
    assert dn.load_model(str(tmp_path / "k.keras"), compile=False).optimizer is None


@pytest.mark.parametrize("arch", ["mlp_bn", "bidirectional_lstm", "transformer_block"])
def test_weights_h5_both_directions(arch, tmp_path):
    km, x = ARCHITECTURES[arch]()
    km = _trained(km, x)
    km.save_weights(tmp_path / "k.weights.h5")
    dm = dn.load_model(str(_saved(km, tmp_path)), compile=False)
    for w in dm.weights:  # forget the weights, then read them from Keras' weights file
        torch.nn.init.zeros_(w.data) if w.is_floating_point() else None
    dm.load_weights(str(tmp_path / "k.weights.h5"))
    expected = _keras_predict(km, x)
    _assert_close(_dn_predict(dm, x), expected)
    dm.save_weights(str(tmp_path / "d.weights.h5"))
    fresh, _ = ARCHITECTURES[arch]()
    fresh.load_weights(tmp_path / "d.weights.h5")
    _assert_close(_keras_predict(fresh, x), expected)


def _saved(km, tmp_path):
    path = tmp_path / "arch.keras"
    km.save(path)
    return path


def test_lambda_layer_is_refused_naming_the_layer(tmp_path):
    model = keras.Sequential([K.Input((3,)), K.Lambda(lambda t: t * 2, name="double"), K.Dense(1)])
    model.save(tmp_path / "lambda.keras")
    with pytest.raises(dn.saving.ModelFileError, match=r"'double'.*Lambda.*register_keras_serializable"):
        dn.load_model(str(tmp_path / "lambda.keras"))


@keras.saving.register_keras_serializable(package="KerasFilesTest")
class KScale(keras.layers.Layer):
    def __init__(self, factor=1.0, **kwargs):
        super().__init__(**kwargs)
        self.factor = factor

    def build(self, input_shape):
        self.w = self.add_weight(shape=(input_shape[-1],), initializer="ones", name="w")

    def call(self, x):
        return x * self.w * self.factor

    def get_config(self):
        return {**super().get_config(), "factor": self.factor}


def test_unregistered_custom_layer_is_refused_then_loads_once_registered(tmp_path):
    model = keras.Sequential([K.Input((3,)), KScale(2.0, name="scale"), K.Dense(2)])
    model.layers[0].w.assign(np.array([1.0, 2.0, 3.0], "float32"))
    model.save(tmp_path / "custom.keras")
    with pytest.raises(dn.saving.ModelFileError, match=r"'scale'.*KerasFilesTest>KScale.*register_keras_serializable"):
        dn.load_model(str(tmp_path / "custom.keras"))

    class DScale(dn.layers.Layer):
        def __init__(self, factor=1.0, **kwargs):
            super().__init__(**kwargs)
            self.factor = factor

        def build(self, input_shape):
            self.w = self.add_weight(shape=(input_shape[-1],), initializer="ones", name="w")

        def call(self, x):
            return x * self.w * self.factor

        def get_config(self):
            return {**super().get_config(), "factor": self.factor}

    x = RNG.normal(size=(4, 3)).astype("float32")
    loaded = dn.load_model(str(tmp_path / "custom.keras"), custom_objects={"KerasFilesTest>KScale": DScale})
    _assert_close(_dn_predict(loaded, x), _keras_predict(model, x))


def test_files_that_are_not_keras_3_are_refused(tmp_path):
    km, _ = _mlp()
    km.save(tmp_path / "k.keras")
    with zipfile.ZipFile(tmp_path / "k.keras") as z:
        members = {n: z.read(n) for n in z.namelist()}
    members["metadata.json"] = json.dumps({"keras_version": "2.15.0"}).encode()
    with zipfile.ZipFile(tmp_path / "old.keras", "w") as z:
        for name, data in members.items():
            z.writestr(name, data)
    with pytest.raises(dn.saving.ModelFileError, match="Keras 3"):
        dn.load_model(str(tmp_path / "old.keras"))
    other, _ = _cnn()
    other.save_weights(tmp_path / "cnn.weights.h5")
    model = dn.load_model(str(tmp_path / "k.keras"))
    with pytest.raises(dn.saving.ModelFileError, match="weight"):
        model.load_weights(str(tmp_path / "cnn.weights.h5"))
    with pytest.raises(dn.saving.ModelFileError, match="weights file"):
        dn.load_model(str(tmp_path / "cnn.weights.h5"))


def test_missing_h5py_names_the_extra(tmp_path, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "h5py", None)
    model = dn.Sequential([dn.Input((3,)), dn.layers.Dense(2)])
    with pytest.raises(ImportError, match=r"deepnet\[keras-files\]"):
        model.save(str(tmp_path / "m.keras"))


def _layer_zoo():
    seq = RNG.normal(size=(2, 6, 4)).astype("float32")
    img = RNG.normal(size=(2, 8, 8, 3)).astype("float32")
    return {
        "wrappers_and_cells": ((6, 4), [
            K.TimeDistributed(K.Dense(3)), K.Bidirectional(K.GRU(2, reset_after=False, return_sequences=True),
                                                           merge_mode="sum"),
            K.RNN([K.GRUCell(3), K.SimpleRNNCell(2)], return_sequences=True), K.RNN(K.LSTMCell(2)),
            K.SpectralNormalization(K.Dense(3)),
        ], seq),
        "convolutions": ((8, 8, 3), [
            K.SeparableConv2D(4, 3), K.DepthwiseConv2D(3, depth_multiplier=2), K.Conv2DTranspose(2, 3, strides=2),
            K.GroupNormalization(2), K.PReLU(), K.GlobalMaxPooling2D(),
        ], img),
        "einsum_identity_attention": ((6, 4), [
            K.EinsumDense("abc,cd->abd", output_shape=(None, 5), bias_axes="d"), K.Identity(),
            K.LayerNormalization(rms_scaling=True), K.Dense(3, use_bias=False,
                                                            kernel_regularizer=keras.regularizers.L1L2(0.01, 0.02)),
        ], seq),
    }


@pytest.mark.parametrize("case", ["wrappers_and_cells", "convolutions", "einsum_identity_attention"])
def test_layer_zoo_round_trips(case, tmp_path):
    shape, layers, x = _layer_zoo()[case]
    km = keras.Sequential([K.Input(shape), *layers])
    km.save(tmp_path / "k.keras")
    dm = dn.load_model(str(tmp_path / "k.keras"))
    expected = _keras_predict(km, x)
    _assert_close(_dn_predict(dm, x), expected)
    dm.save(str(tmp_path / "d.keras"))
    _assert_close(_keras_predict(keras.saving.load_model(tmp_path / "d.keras"), x), expected)


@keras.saving.register_keras_serializable(package="KerasFilesTest")
class KNet(keras.Model):
    def __init__(self, units=3, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.hidden = K.Dense(8, activation="relu")
        self.out = K.Dense(units)  # sorts after Keras' `layers`: saved as layers/dense_1

    def call(self, x):
        return self.out(self.hidden(x))

    def get_config(self):
        return {**super().get_config(), "units": self.units}


@dn.saving.register_keras_serializable(package="KerasFilesTest", name="KNet")
class DNet(dn.Model):
    def __init__(self, units=3, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.hidden = dn.layers.Dense(8, activation="relu")
        self.out = dn.layers.Dense(units)

    def call(self, x):
        return self.out(self.hidden(x))

    def get_config(self):
        return {**super().get_config(), "units": self.units}


def test_registered_subclassed_model_both_directions(tmp_path):
    x = RNG.normal(size=(4, 5)).astype("float32")
    km = KNet(units=2)
    expected = _as_list(km(x))
    km.save(tmp_path / "k.keras")
    dm = dn.load_model(str(tmp_path / "k.keras"))
    assert isinstance(dm, DNet) and dm.units == 2
    _assert_close(_dn_predict(dm, x), expected)
    dm.save(str(tmp_path / "d.keras"))
    _assert_close(_keras_predict(keras.saving.load_model(tmp_path / "d.keras"), x), expected)
