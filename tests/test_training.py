"""compile / fit / evaluate / predict from the public API."""

import numpy as np
import pytest
import torch

import deepnet as dn
from deepnet import layers as L


def _blobs(n=256, d=8, classes=3, seed=0):
    rng = np.random.default_rng(seed)
    centers = rng.normal(0, 3, (classes, d))
    y = rng.integers(0, classes, n)
    x = (centers[y] + rng.normal(0, 1, (n, d))).astype("float32")
    return x, y.astype("int64")


def _mlp(d=8, classes=3, **kwargs):
    """A small MLP; the output layer takes ``kwargs`` (e.g. activation="softmax")."""
    return dn.Sequential([L.Input((d,)), L.Dense(16, activation="relu"), L.Dense(classes, **kwargs)])


def test_fit_returns_history_and_learns():
    x, y = _blobs()
    model = _mlp(activation="softmax")
    model.compile(optimizer=dn.optimizers.Adam(0.02), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(x, y, epochs=8, batch_size=32, validation_split=0.25, verbose=0)
    assert set(history.history) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert len(history.history["loss"]) == 8
    assert history.history["loss"][-1] < history.history["loss"][0]
    loss, acc = model.evaluate(x, y, verbose=0)
    assert acc > 0.8
    probs = model.predict(x[:5], verbose=0)
    assert isinstance(probs, np.ndarray) and probs.shape == (5, 3)
    np.testing.assert_allclose(probs.sum(1), 1.0, rtol=1e-5)


def test_evaluate_return_forms_and_train_test_on_batch():
    x, y = _blobs(64)
    model = _mlp()
    model.compile(optimizer="sgd", loss=dn.losses.SparseCategoricalCrossentropy(from_logits=True))
    assert isinstance(model.evaluate(x, y, verbose=0), float)
    model.compile(optimizer="sgd", loss=dn.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"])
    d = model.evaluate(x, y, verbose=0, return_dict=True)
    assert set(d) == {"loss", "accuracy"}
    before = model.test_on_batch(x, y)[0]
    for _ in range(20):
        model.train_on_batch(x, y)
    assert model.test_on_batch(x, y)[0] < before
    assert model.predict_on_batch(x[:3]).shape == (3, 3)


def test_fit_before_compile_and_bad_arguments():
    x, y = _blobs(32)
    model = _mlp()
    with pytest.raises(RuntimeError, match=r"compile\(\) before fit"):
        model.fit(x, y)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    with pytest.raises(ValueError, match="validation_split"):
        model.fit(x, y, validation_split=1.5, verbose=0)
    with pytest.raises(ValueError, match="epochs"):
        model.fit(x, y, epochs=0, verbose=0)
    with pytest.raises(ValueError, match="same number of samples"):
        model.fit(x, y[:10], verbose=0)
    with pytest.raises(ValueError, match="empty"):
        model.fit(x[:0], y[:0], verbose=0)
    bad = x.copy()
    bad[3, 1] = np.nan
    with pytest.raises(ValueError, match="NaN or infinite.*sample 3"):
        model.fit(bad, y, verbose=0)
    with pytest.raises(ValueError, match=r"expects input of shape \(None, 8\)"):
        model.fit(np.zeros((32, 5), "float32"), y, verbose=0)


@pytest.mark.parametrize(
    "name, match",
    [("adamm", "Did you mean 'adam'"), ("sparse_categorical_crossentropi", "sparse_categorical_crossentropy")],
)
def test_unknown_names_list_valid_ones(name, match):
    model = _mlp()
    with pytest.raises(ValueError, match=match):
        if "entrop" in name:
            model.compile(optimizer="adam", loss=name)
        else:
            model.compile(optimizer=name, loss="mse")


def test_label_errors_name_the_right_loss():
    x, y = _blobs(64)
    model = _mlp()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    onehot = np.eye(3, dtype="float32")[y]
    with pytest.raises(ValueError, match="CategoricalCrossentropy"):
        model.fit(x, onehot, verbose=0)
    with pytest.raises(ValueError, match="range"):
        model.fit(x, y + 5, verbose=0)


def test_nan_loss_stops_and_keeps_last_good_weights():
    x, y = _blobs(64)
    model = _mlp()
    model.compile(optimizer=dn.optimizers.SGD(learning_rate=1e6), loss=dn.losses.SparseCategoricalCrossentropy(from_logits=True))
    with pytest.warns(RuntimeWarning, match=r"epoch \d+, batch \d+"):
        history = model.fit(x * 1e3, y, epochs=20, batch_size=16, verbose=0)
    assert len(history.history["loss"]) < 20
    for w in model.get_weights():
        assert np.isfinite(w).all()


def test_seeded_runs_are_bitwise_identical():
    x, y = _blobs()

    def run():
        dn.utils.set_random_seed(123)
        model = dn.Sequential([L.Input((8,)), L.Dense(16, activation="relu"), L.Dropout(0.3), L.Dense(3)])
        model.compile(optimizer="adam", loss=dn.losses.SparseCategoricalCrossentropy(from_logits=True))
        model.fit(x, y, epochs=3, batch_size=32, verbose=0)
        return model.get_weights()

    for a, b in zip(run(), run()):
        np.testing.assert_array_equal(a, b)


def test_inputs_as_tensors_lists_dicts_datasets_and_generators():
    x, y = _blobs(96)
    a = L.Input((4,), name="a")
    b = L.Input((4,), name="b")
    out = L.Dense(3)(L.Concatenate()([L.Dense(4)(a), L.Dense(4)(b)]))
    model = dn.Model([a, b], out)
    model.compile(optimizer="adam", loss=dn.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"])
    model.fit([x[:, :4], x[:, 4:]], y, epochs=1, verbose=0)
    model.fit({"a": torch.from_numpy(x[:, :4]), "b": torch.from_numpy(x[:, 4:])}, torch.from_numpy(y), epochs=1, verbose=0)

    single = _mlp()
    single.compile(optimizer="adam", loss=dn.losses.SparseCategoricalCrossentropy(from_logits=True))
    ds = torch.utils.data.TensorDataset(torch.from_numpy(x), torch.from_numpy(y))
    h1 = single.fit(ds, epochs=2, batch_size=16, verbose=0)
    h2 = single.fit(torch.utils.data.DataLoader(ds, batch_size=32), epochs=1, verbose=0)

    def gen():
        while True:
            for i in range(0, 96, 32):
                yield x[i:i + 32], y[i:i + 32]

    h3 = single.fit(gen(), steps_per_epoch=3, epochs=2, verbose=0)
    assert len(h1.history["loss"]) == 2 and len(h2.history["loss"]) == 1 and len(h3.history["loss"]) == 2
    assert single.evaluate(ds, verbose=0) > 0


def test_multi_output_losses_weights_and_names():
    x, y = _blobs(64)
    inp = L.Input((8,))
    h = L.Dense(8, activation="relu")(inp)
    cls = L.Dense(3, name="cls")(h)
    reg = L.Dense(1, name="reg")(h)
    model = dn.Model(inp, [cls, reg])
    model.compile(optimizer="adam",
                  loss={"cls": dn.losses.SparseCategoricalCrossentropy(from_logits=True), "reg": "mse"},
                  loss_weights={"cls": 1.0, "reg": 0.5}, metrics={"cls": ["accuracy"], "reg": ["mae"]})
    target = x[:, :1]
    history = model.fit(x, [y, target], epochs=2, verbose=0)
    assert {"loss", "cls_accuracy", "reg_mae"} <= set(history.history)
    out = model.predict(x[:2], verbose=0)
    assert out[0].shape == (2, 3) and out[1].shape == (2, 1)


def test_class_weight_and_sample_weight_change_the_loss():
    x, y = _blobs(64)
    model = _mlp()
    model.compile(optimizer="sgd", loss=dn.losses.SparseCategoricalCrossentropy(from_logits=True))
    base = model.evaluate(x, y, verbose=0)
    weighted = model.evaluate(x, y, sample_weight=np.where(y == 0, 2.0, 0.0).astype("float32"), verbose=0)
    assert weighted != pytest.approx(base)
    model.fit(x, y, class_weight={0: 1.0, 1: 2.0, 2: 0.5}, epochs=1, verbose=0)
    with pytest.raises(ValueError, match="no weight for classes"):
        model.fit(x, y, class_weight={0: 1.0}, epochs=1, verbose=0)


def test_regularization_penalty_is_added_to_the_loss():
    x, y = _blobs(32)
    model = dn.Sequential([L.Input((8,)), L.Dense(3, kernel_regularizer=dn.regularizers.L2(0.5))])
    model.compile(optimizer="sgd", loss=dn.losses.SparseCategoricalCrossentropy(from_logits=True))
    plain = dn.losses.SparseCategoricalCrossentropy(from_logits=True)(torch.from_numpy(y), model(torch.from_numpy(x)))
    penalty = 0.5 * (model.layers[0].kernel.detach() ** 2).sum()
    assert model.evaluate(x, y, verbose=0) == pytest.approx(float((plain + penalty).detach()), rel=1e-5)
    assert len(model.losses) == 1


def test_training_flag_dropout_and_batchnorm_modes():
    x, y = _blobs(64)
    model = dn.Sequential([L.Input((8,)), L.Dense(16), L.BatchNormalization(), L.Dropout(0.5), L.Dense(3)])
    model.compile(optimizer="adam", loss=dn.losses.SparseCategoricalCrossentropy(from_logits=True))
    model.fit(x, y, epochs=1, verbose=0)
    p1 = model.predict(x, verbose=0)
    p2 = model.predict(x, verbose=0)
    np.testing.assert_array_equal(p1, p2)  # inference: no dropout, moving statistics
    moving_mean = model.layers[1].moving_mean.clone()
    model.evaluate(x, y, verbose=0)
    torch.testing.assert_close(model.layers[1].moving_mean, moving_mean)


@pytest.mark.parametrize("family", ["dense", "conv1d", "conv2d", "gru", "lstm", "simple_rnn", "attention", "embedding"])
def test_loss_goes_down_for_every_layer_family(family):
    rng = np.random.default_rng(0)
    n = 128
    y = rng.integers(0, 2, n).astype("int64")
    if family in ("dense",):
        x = (rng.normal(0, 1, (n, 6)) + y[:, None]).astype("float32")
        body = [L.Input((6,)), L.Dense(8, activation="relu")]
    elif family == "conv1d":
        x = (rng.normal(0, 1, (n, 12, 2)) + y[:, None, None]).astype("float32")
        body = [L.Input((12, 2)), L.Conv1D(4, 3, activation="relu"), L.MaxPooling1D(2), L.Flatten()]
    elif family == "conv2d":
        x = (rng.normal(0, 1, (n, 8, 8, 1)) + y[:, None, None, None]).astype("float32")
        body = [L.Input((8, 8, 1)), L.Conv2D(4, 3, padding="same", activation="relu"), L.BatchNormalization(),
                L.MaxPooling2D(2), L.GlobalAveragePooling2D()]
    elif family in ("gru", "lstm", "simple_rnn"):
        x = (rng.normal(0, 1, (n, 6, 2)) + y[:, None, None]).astype("float32")
        rnn = {"gru": L.GRU, "lstm": L.LSTM, "simple_rnn": L.SimpleRNN}[family]
        body = [L.Input((6, 2)), rnn(8)]
    elif family == "attention":
        x = (rng.normal(0, 1, (n, 5, 4)) + y[:, None, None]).astype("float32")
        inp = L.Input((5, 4))
        att = L.MultiHeadAttention(num_heads=2, key_dim=4)(inp, inp)
        h = L.LayerNormalization()(L.Add()([inp, att]))
        model = dn.Model(inp, L.Dense(2)(L.GlobalAveragePooling1D()(h)))
    else:  # embedding
        x = rng.integers(1, 10, (n, 5)).astype("int64")
        x[:, -1] = 1 + y * 5  # the label token comes last: the GRU output sees it directly
        x[:, :2] *= (rng.random((n, 1)) > 0.5)  # some sequences start with padding (masked)
        body = [L.Input((5,), dtype="int64"), L.Embedding(12, 4, mask_zero=True), L.GRU(4)]
    if family != "attention":
        model = dn.Sequential([*body, L.Dense(2)])
    model.compile(optimizer=dn.optimizers.Adam(learning_rate=0.01),
                  loss=dn.losses.SparseCategoricalCrossentropy(from_logits=True))
    history = model.fit(x, y, epochs=6, batch_size=32, verbose=0)
    assert history.history["loss"][-1] < 0.9 * history.history["loss"][0]


def test_jit_compile_trains_or_falls_back_with_warning():
    x, y = _blobs(64)
    model = _mlp()
    model.compile(optimizer="adam", loss=dn.losses.SparseCategoricalCrossentropy(from_logits=True), jit_compile=True)
    import warnings

    with warnings.catch_warnings(record=True):
        warnings.simplefilter("always")
        history = model.fit(x, y, epochs=2, batch_size=32, verbose=0)
    assert np.isfinite(history.history["loss"]).all()


def test_progress_output_plain_lines_when_not_a_terminal(capsys):
    x, y = _blobs(64)
    model = _mlp()
    model.compile(optimizer="adam", loss=dn.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"])
    model.fit(x, y, epochs=2, batch_size=32, validation_split=0.25)
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 2
    assert out[0].startswith("Epoch 1/2 - 2/2 - ") and "loss: " in out[0] and "val_accuracy: " in out[0]
    model.fit(x, y, epochs=1, verbose=0)
    assert capsys.readouterr().out == ""


def test_mixed_precision_bfloat16_trains():
    x, y = _blobs(64)
    dn.mixed_precision.set_global_policy("mixed_bfloat16")
    try:
        model = _mlp()
        model.compile(optimizer="adam", loss=dn.losses.SparseCategoricalCrossentropy(from_logits=True))
        history = model.fit(x, y, epochs=3, batch_size=32, verbose=0)
    finally:
        dn.mixed_precision.set_global_policy("float32")
    assert model.layers[0].kernel.dtype == torch.float32
    assert history.history["loss"][-1] < history.history["loss"][0]


def test_mixed_float16_uses_loss_scaling_and_trains():
    x, y = _blobs(64)
    dn.mixed_precision.set_global_policy("mixed_float16")
    try:
        model = _mlp()
        model.compile(optimizer="adam", loss=dn.losses.SparseCategoricalCrossentropy(from_logits=True))
        history = model.fit(x, y, epochs=3, batch_size=32, verbose=0)
    finally:
        dn.mixed_precision.set_global_policy("float32")
    assert model._trainer._scaler is not None
    assert model.optimizer.iterations > 0
    assert history.history["loss"][-1] < history.history["loss"][0]


class _RecordsTraining(dn.layers.Layer):
    """A custom layer written the Keras way: it reads its `training` argument."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.seen = []

    def call(self, inputs, training=None):
        self.seen.append(training)
        return inputs * 2.0 if training else inputs


@pytest.mark.parametrize("functional", [False, True])
def test_custom_layers_receive_training_like_keras(functional):
    """fit passes training=True to call(self, x, training=None); evaluate/predict pass False."""
    x, y = _blobs(32)
    record = _RecordsTraining()
    if functional:
        inputs = dn.Input(shape=(x.shape[1],))
        outputs = dn.layers.Dense(3)(record(inputs))
        model = dn.Model(inputs, outputs)
    else:
        model = dn.Sequential([dn.Input(shape=(x.shape[1],)), record, dn.layers.Dense(3)])
    model.compile(optimizer="sgd", loss=dn.losses.SparseCategoricalCrossentropy(from_logits=True))
    record.seen.clear()
    model.fit(x, y, epochs=1, batch_size=16, verbose=0)
    assert record.seen.count(True) == 2 and None not in record.seen  # (+ one pre-training check in eval mode)
    record.seen.clear()
    model.evaluate(x, y, batch_size=32, verbose=0)
    model.predict(x, batch_size=32, verbose=0)
    assert record.seen and set(record.seen) == {False}
    record.seen.clear()
    model(torch.as_tensor(x[:2]), training=True)  # an explicit value always wins
    assert record.seen == [True]


@pytest.mark.parametrize("masked", [False, True])
def test_recurrent_layers_train_under_mixed_bfloat16_on_cpu(masked):
    """oneDNN has no bf16 LSTM primitive on many CPUs: the fused kernels run in float32 there."""
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 32)
    dn.mixed_precision.set_global_policy("mixed_bfloat16")
    try:
        if masked:
            x = rng.integers(1, 20, size=(32, 10))
            x[:, 7:] = 0  # right padding -> the packed-sequence path
            stem = [dn.Input(shape=(10,), dtype="int64"), L.Embedding(20, 4, mask_zero=True)]
        else:
            x = rng.normal(size=(32, 10, 4)).astype("float32")
            stem = [dn.Input(shape=(10, 4))]
        model = dn.Sequential([*stem, L.Bidirectional(L.LSTM(8, return_sequences=True)), L.GRU(8), L.Dense(2)])
        model.compile(optimizer="adam", loss=dn.losses.SparseCategoricalCrossentropy(from_logits=True))
        history = model.fit(x, y, epochs=3, batch_size=16, verbose=0)
    finally:
        dn.mixed_precision.set_global_policy("float32")
    assert np.all(np.isfinite(history.history["loss"]))
    assert history.history["loss"][-1] < history.history["loss"][0]
