"""Every input path of fit/evaluate/predict/*_on_batch goes through one checking pipeline.

The cases come from a new-user probe of bad or unusual inputs: each row is (id, call, error
type, message regex). The regex names the argument (``x``, ``y``, ``sample_weight``,
``validation_data``, ``class_weight``...) so that the error says which input is wrong. A second
table lists unusual inputs that must simply work (integer, bool and uint8 features...).
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader, TensorDataset

import deepnet as dn
from deepnet import layers as L

N, D, C = 20, 4, 3
RNG = np.random.default_rng(0)
X = RNG.random((N, D)).astype("float32")
Y = (np.arange(N) % C).astype("int64")


def _model(units=C, activation="softmax", loss="sparse_categorical_crossentropy"):
    model = dn.Sequential([L.Input((D,)), L.Dense(units, activation=activation)])
    model.compile(optimizer="adam", loss=loss, metrics=["accuracy"])
    return model


def _with_nan(a, index, value=np.nan):
    a = a.astype("float32").copy()
    a.reshape(len(a), -1)[index, 0] = value
    return a


def _loader(x, y, batch_size=5):
    return DataLoader(TensorDataset(torch.as_tensor(x), torch.as_tensor(y)), batch_size=batch_size)


def _generator(x, y, batch_size=5):
    while True:
        for i in range(0, len(x), batch_size):
            yield x[i:i + batch_size], y[i:i + batch_size]


WIDE = np.zeros((N, D + 3), "float32")
BAD_LABELS = np.where(Y == 2, 5, Y)

BAD_INPUTS = [
    # feature shapes, in every entry point
    ("predict-shape", lambda m: m.predict(WIDE, verbose=0), ValueError, r"expects input of shape \(None, 4\); `x` has"),
    ("predict_on_batch-shape", lambda m: m.predict_on_batch(WIDE), ValueError, r"`x` has shape \(20, 7\)"),
    ("evaluate-shape", lambda m: m.evaluate(WIDE, Y, verbose=0), ValueError, r"`x` has shape"),
    ("train_on_batch-shape", lambda m: m.train_on_batch(WIDE, Y), ValueError, r"`x` has shape"),
    ("test_on_batch-shape", lambda m: m.test_on_batch(WIDE, Y), ValueError, r"`x` has shape"),
    ("dataloader-shape", lambda m: m.fit(_loader(WIDE, Y), verbose=0), ValueError,
     r"`x` \(first batch of the DataLoader\) has shape \(5, 7\)"),
    ("generator-shape", lambda m: m.predict(_generator(WIDE, Y), steps=2, verbose=0), ValueError,
     r"`x` \(first batch of the generator\) has shape"),
    ("validation-shape", lambda m: m.fit(X, Y, validation_data=(WIDE, Y), verbose=0), ValueError,
     r"`validation_data` \(x_val\) has shape"),
    ("input-count", lambda m: m.predict([X, X], verbose=0), ValueError, r"expects 1 input\(s\).*`x` holds 2"),
    # labels out of range for the output units, in every entry point
    ("fit-label-range", lambda m: m.fit(X, BAD_LABELS, verbose=0), ValueError,
     r"Invalid labels in `y`.*out of range \[0, 3\).*Give the last layer 6 units"),
    ("test_on_batch-label-range", lambda m: m.test_on_batch(X, BAD_LABELS), ValueError, r"Invalid labels in `y`"),
    ("train_on_batch-label-range", lambda m: m.train_on_batch(X, BAD_LABELS), ValueError, r"Invalid labels in `y`"),
    ("evaluate-label-range", lambda m: m.evaluate(X, BAD_LABELS, verbose=0), ValueError, r"Invalid labels in `y`"),
    ("dataset-label-range", lambda m: m.fit(TensorDataset(torch.tensor(X), torch.tensor(BAD_LABELS)), verbose=0),
     ValueError, r"Invalid labels in `y` \(first batch of the Dataset\)"),
    ("dataloader-label-range", lambda m: m.fit(_loader(X, Y + 5), verbose=0), ValueError,
     r"`y` \(first batch of the DataLoader\)"),
    ("generator-label-range", lambda m: m.fit(_generator(X, Y + 5), steps_per_epoch=2, verbose=0), ValueError,
     r"`y` \(first batch of the generator\)"),
    ("validation-label-range", lambda m: m.fit(X, Y, validation_data=(X, Y + 5), verbose=0), ValueError,
     r"Invalid labels in `validation_data` \(y_val\)"),
    # NaN / inf, with the first bad sample
    ("nan-x", lambda m: m.fit(_with_nan(X, 7), Y, verbose=0), ValueError, r"`x` contains NaN.*sample 7"),
    ("inf-x-predict", lambda m: m.predict(_with_nan(X, 2, np.inf), verbose=0), ValueError, r"`x` contains NaN.*sample 2"),
    ("nan-y", lambda m: m.fit(X, _with_nan(Y, 3), verbose=0), ValueError, r"`y` contains NaN.*sample 3"),
    ("nan-sample_weight", lambda m: m.fit(X, Y, sample_weight=_with_nan(np.ones(N), 4), verbose=0), ValueError,
     r"`sample_weight` contains NaN.*sample 4"),
    ("negative-sample_weight", lambda m: m.fit(X, Y, sample_weight=-np.ones(N), verbose=0), ValueError,
     r"`sample_weight` contains negative weights.*sample 0"),
    ("nan-validation-split", lambda m: m.fit(_with_nan(X, 18), Y, validation_split=0.25, verbose=0), ValueError,
     r"`x` contains NaN.*sample 18"),
    ("nan-validation_data", lambda m: m.fit(X, Y, validation_data=(_with_nan(X, 1), Y), verbose=0), ValueError,
     r"`validation_data` \(x_val\) contains NaN.*sample 1"),
    ("nan-dataloader", lambda m: m.fit(_loader(_with_nan(X, 2), Y), verbose=0), ValueError,
     r"`x` \(first batch of the DataLoader\) contains NaN.*sample 2 \(first batch"),
    # data that is not numbers
    ("string-x", lambda m: m.fit(np.array([["a"] * D] * N), Y, verbose=0), TypeError, r"`x` holds strings"),
    ("complex-x", lambda m: m.predict(X.astype(complex), verbose=0), TypeError, r"`x` holds complex numbers"),
    ("complex-tensor-x", lambda m: m.predict(torch.tensor(X).to(torch.complex64), verbose=0), TypeError,
     r"`x` holds complex"),
    ("string-y", lambda m: m.fit(X, np.array(["cat"] * N), verbose=0), TypeError, r"`y` holds strings"),
    ("object-x", lambda m: m.fit(np.array([None] * N, dtype=object), Y, verbose=0), TypeError,
     r"`x` holds Python objects"),
    ("string-validation", lambda m: m.fit(X, Y, validation_data=(X, np.array(["a"] * N)), verbose=0), TypeError,
     r"`validation_data` \(y_val\) holds strings"),
    # arguments
    ("batch_size-0", lambda m: m.fit(X, Y, batch_size=0, verbose=0), ValueError, r"`batch_size` of fit.*batch_size=0"),
    ("batch_size-negative", lambda m: m.evaluate(X, Y, batch_size=-1, verbose=0), ValueError, r"`batch_size`"),
    ("predict-batch_size-0", lambda m: m.predict(X, batch_size=0, verbose=0), ValueError, r"`batch_size` of predict"),
    ("batch_size-float", lambda m: m.fit(X, Y, batch_size=8.0, verbose=0), TypeError, r"`batch_size`"),
    ("epochs-0", lambda m: m.fit(X, Y, epochs=0, verbose=0), ValueError, r"`epochs`"),
    ("shuffle-string", lambda m: m.fit(X, Y, shuffle="yes", verbose=0), TypeError, r"`shuffle`"),
    ("verbose-3", lambda m: m.fit(X, Y, verbose=3), ValueError, r"`verbose`"),
    ("validation_freq-0", lambda m: m.fit(X, Y, validation_freq=0, verbose=0), ValueError, r"`validation_freq`"),
    ("callbacks-string", lambda m: m.fit(X, Y, callbacks="early", verbose=0), TypeError,
     r"`callbacks`, expected a list"),
    ("callbacks-int", lambda m: m.fit(X, Y, callbacks=3, verbose=0), TypeError, r"`callbacks`"),
    ("class_weight-unknown-class", lambda m: m.fit(X, Y, class_weight={0: 1, 1: 1, 2: 1, 7: 3.0}, verbose=0),
     ValueError, r"`class_weight` has a weight for class 7.*0\.\.2 \(3 output unit"),
    ("class_weight-not-dict", lambda m: m.fit(X, Y, class_weight=[1, 2, 3], verbose=0), TypeError,
     r"`class_weight`"),
    ("class_weight-nan", lambda m: m.fit(X, Y, class_weight={0: 1, 1: np.nan, 2: 1}, verbose=0), ValueError,
     r"`class_weight`.*finite"),
    ("class_weight-train_on_batch", lambda m: m.train_on_batch(X, Y, class_weight={5: 1.0, 0: 1, 1: 1, 2: 1}),
     ValueError, r"class 5"),
    ("validation_data-length", lambda m: m.fit(X, Y, validation_data=(X,), verbose=0), ValueError,
     r"`validation_data` must be"),
    ("steps_per_execution-0", lambda m: m.compile(optimizer="adam", loss="mse", steps_per_execution=0), ValueError,
     r"`steps_per_execution` of compile"),
    ("device-typo", lambda m: m.compile(optimizer="adam", loss="mse", device="cdua"), ValueError, r"`device`"),
    ("empty-generator", lambda m: m.fit(iter([]), verbose=0), ValueError, r"`x` yielded no batches"),
]


@pytest.mark.parametrize("case, call, error, match", BAD_INPUTS, ids=[c[0] for c in BAD_INPUTS])
def test_bad_input_gets_a_clear_error(case, call, error, match):
    with pytest.raises(error, match=match):
        call(_model())


def test_binary_class_weight_accepts_both_classes_of_one_sigmoid_unit():
    model = _model(units=1, activation="sigmoid", loss="binary_crossentropy")
    model.fit(X, (Y > 0).astype("float32"), class_weight={0: 1.0, 1: 2.0}, epochs=1, verbose=0)
    with pytest.raises(ValueError, match="class 2"):
        model.fit(X, (Y > 0).astype("float32"), class_weight={0: 1.0, 1: 2.0, 2: 1.0}, verbose=0)


def _int_model():
    return dn.Sequential([L.Input((5,), dtype="int64"), L.Embedding(10, 3), L.Flatten(), L.Dense(2)])


GOOD_INPUTS = [
    ("int64-x", lambda m: m.fit(X.astype("int64"), Y, verbose=0)),
    ("int32-tensor-x", lambda m: m.evaluate(torch.tensor(X).int(), torch.tensor(Y), verbose=0)),
    ("bool-x", lambda m: m.fit(X > 0.5, Y, verbose=0)),
    ("uint8-x-predict", lambda m: m.predict((X * 255).astype("uint8"), verbose=0)),
    ("int-validation_data", lambda m: m.fit(X, Y, validation_data=(X.astype("int64"), Y), verbose=0)),
    ("int-dataloader", lambda m: m.fit(_loader(X.astype("int64"), Y), verbose=0)),
    ("int-generator", lambda m: m.fit(_generator(X.astype("int32"), Y), steps_per_epoch=2, verbose=0)),
    ("int-train_on_batch", lambda m: m.train_on_batch(X.astype("int16"), Y)),
    ("int-test_on_batch", lambda m: m.test_on_batch(X.astype("uint8"), Y)),
    ("single-callback", lambda m: m.fit(X, Y, epochs=2, callbacks=dn.callbacks.EarlyStopping(monitor="loss"),
                                        verbose=0)),
    ("float-labels", lambda m: m.fit(X, Y.astype("float32"), verbose=0)),
]


@pytest.mark.parametrize("case, call", GOOD_INPUTS, ids=[c[0] for c in GOOD_INPUTS])
def test_unusual_input_works(case, call):
    call(_model())


def test_integer_inputs_stay_integer_for_an_int_input():
    model = _int_model()
    model.compile(optimizer="adam", loss=dn.losses.SparseCategoricalCrossentropy(from_logits=True))
    ids = np.random.default_rng(1).integers(0, 10, (8, 5))
    model.fit(ids, np.arange(8) % 2, verbose=0)
    model.fit(ids.astype("float32"), np.arange(8) % 2, verbose=0)  # cast to the Input's int64
    assert model.predict(ids.astype("int32"), verbose=0).shape == (8, 2)


def test_first_batch_of_an_iterable_is_checked_and_still_trained_on():
    seen = []

    def gen():
        for i in range(0, N, 5):
            seen.append(i)
            yield X[i:i + 5], Y[i:i + 5]

    model = _model()
    history = model.fit(gen(), epochs=1, verbose=0)
    assert seen == [0, 5, 10, 15]  # the checked first batch is not pulled twice
    assert len(history.history["loss"]) == 1


def test_checks_run_once_per_fit_not_per_step(monkeypatch):
    from deepnet.training import _checks

    calls = []
    real = _checks.check_labels
    monkeypatch.setattr(_checks, "TARGET_CHECKS", (lambda view, env: (calls.append(1), real(view, env)),))
    _model().fit(X, Y, batch_size=2, epochs=3, verbose=0)
    assert len(calls) == 1


def test_steps_per_execution_groups_batch_hooks_like_keras():
    begins, ends = [], []
    cb = dn.callbacks.LambdaCallback(on_train_batch_begin=lambda b, logs: begins.append(b),
                                     on_train_batch_end=lambda b, logs: ends.append(b))
    model = dn.Sequential([L.Input((D,)), L.Dense(C)])
    model.compile(optimizer="sgd", loss="mse", steps_per_execution=3)
    model.fit(X, np.zeros((N, C), "float32"), batch_size=2, epochs=1, callbacks=[cb], verbose=0)
    assert begins == [0, 3, 6, 9]
    assert ends == [2, 5, 8, 9]  # the last group is partial: 10 steps


# ------------------------------------------------------------------ tables generated from the declarations

from deepnet.training import api  # noqa: E402
from deepnet.utils.validation import constraints_of  # noqa: E402

_METHOD_TABLES = {
    "compile": (api.COMPILE_CONSTRAINTS, lambda m, kw: m.compile(optimizer="adam", loss="mse", **kw)),
    "fit": (api.FIT_CONSTRAINTS, lambda m, kw: m.fit(X, Y, **{"verbose": 0, **kw})),
    "evaluate": (api.EVALUATE_CONSTRAINTS, lambda m, kw: m.evaluate(X, Y, **{"verbose": 0, **kw})),
    "predict": (api.PREDICT_CONSTRAINTS, lambda m, kw: m.predict(X, **{"verbose": 0, **kw})),
}
GENERATED = [
    (method, arg, bad)
    for method, (table, _) in _METHOD_TABLES.items()
    for arg, constraint in table.items()
    for bad in constraint.invalid_examples()
]


@pytest.mark.parametrize("method, arg, bad", GENERATED,
                         ids=[f"{m}-{a}-{b!r:.12}" for m, a, b in GENERATED])
def test_declared_argument_rejects_its_invalid_examples(method, arg, bad):
    call = _METHOD_TABLES[method][1]
    with pytest.raises((ValueError, TypeError), match=rf"`{arg}` of {method}"):
        call(_model(), {arg: bad})


_REQUIRED = {
    "CSVLogger": {"filename": "log.csv"}, "ModelCheckpoint": {"filepath": "m.deepnet"},
    "LearningRateScheduler": {"schedule": lambda epoch, lr: lr}, "BackupAndRestore": {"backup_dir": "backup"},
}
CALLBACK_CASES = [
    (cls, arg, bad)
    for cls in (getattr(dn.callbacks, name) for name in dn.callbacks.__all__)
    for arg, constraint in constraints_of(cls).items() if constraint is not None
    for bad in constraint.invalid_examples()
]


@pytest.mark.parametrize("cls, arg, bad", CALLBACK_CASES,
                         ids=[f"{c.__name__}-{a}-{b!r:.12}" for c, a, b in CALLBACK_CASES])
def test_callback_arguments_reject_their_invalid_examples(cls, arg, bad):
    with pytest.raises((ValueError, TypeError), match=rf"`{arg}` of {cls.__name__}"):
        cls(**{**_REQUIRED.get(cls.__name__, {}), arg: bad})


def test_every_callback_argument_is_declared():
    import inspect

    missing = []
    for name in dn.callbacks.__all__:
        cls = getattr(dn.callbacks, name)
        params = [p for p in inspect.signature(cls.__init__).parameters.values()
                  if p.name != "self" and p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL)]
        if not params or cls.__name__ in ("CallbackList", "LazyLogs", "History", "Callback", "TerminateOnNaN"):
            continue
        declared = constraints_of(cls)
        missing += [f"{name}.{p.name}" for p in params if p.name not in declared]
    assert not missing, f"callback arguments without a declared constraint: {missing}"
