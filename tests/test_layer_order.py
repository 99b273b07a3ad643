"""Functional models list their layers in Keras' order (by graph depth from the inputs, then by
traversal order), so ``model.layers[i]``, ``summary()`` rows and Keras ``.weights.h5`` layer
paths agree with Keras for branched graphs; and the truncated-normal initializer on meta tensors."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
import torch

import deepnet as dn
from parity import keras


def _residual(lib):
    L = lib.layers
    x = L.Input((4,), name="x_in")
    h = L.Dense(4, name="d_first")(x)
    skip = L.Dense(4, name="d_skip")(x)
    h = L.Dense(4, name="d_second")(L.Activation("relu", name="act")(h))
    return lib.Model(x, L.Dense(2, name="d_out")(L.Add(name="add")([h, skip])))


def _two_branches(lib):
    L = lib.layers
    x = L.Input((8,), name="x_in")
    a = L.Dense(3, name="a1")(x)
    b = L.Dense(5, name="b1")(L.Dense(4, name="b0")(x))
    c = L.Dense(2, name="c1")(L.Dense(2, name="c0")(L.Dense(2, name="cm")(x)))
    return lib.Model(x, L.Concatenate(name="cat")([a, b, c]))


def _shared(lib):
    L = lib.layers
    i1, i2 = L.Input((3,), name="i_one"), L.Input((3,), name="i_two")
    shared = L.Dense(3, name="shared")
    h = shared(L.Dense(3, name="pre")(i1))
    s2 = shared(i2)
    return lib.Model([i1, i2], L.Dense(1, name="head")(L.Add(name="add")([h, s2])))


def _multi_io(lib):
    L = lib.layers
    i1, i2 = L.Input((4,), name="i_one"), L.Input((2,), name="i_two")
    x = L.Concatenate(name="cat")([L.Dense(3, name="left")(i1), i2])
    y1 = L.Dense(2, activation="softmax", name="cls")(L.Dense(5, name="deep")(x))
    y2 = L.Dense(1, name="reg")(x)
    return lib.Model([i1, i2], [y1, y2])


def _nested(lib):
    L = lib.layers
    inner_in = L.Input((3,), name="inner_in")
    inner = lib.Model(inner_in, L.Dense(2, name="inner_d")(inner_in), name="inner")
    x = L.Input((3,), name="x_in")
    branch = L.Dense(2, name="branch")(x)
    return lib.Model(x, L.Add(name="add")([inner(L.Dense(3, name="pre")(x)), branch]))


GRAPHS = [_residual, _two_branches, _shared, _multi_io, _nested]


@pytest.mark.parametrize("build", GRAPHS, ids=lambda f: f.__name__.strip("_"))
def test_layers_in_keras_order(build):
    dm, km = build(dn), build(keras)
    assert [lay.name for lay in dm.layers] == [lay.name for lay in km.layers]
    assert all(dm.get_layer(lay.name).name == lay.name for lay in dm.layers)


def _row_order(text: str, names: list[str]) -> list[str]:
    found = {name: text.find(f"{name} (") for name in names}
    assert all(pos >= 0 for pos in found.values()), found
    return sorted(names, key=found.get)


@pytest.mark.parametrize("build", GRAPHS, ids=lambda f: f.__name__.strip("_"))
def test_summary_rows_in_keras_order(build):
    dm, km = build(dn), build(keras)
    d_lines, k_lines = [], []
    dm.summary(print_fn=d_lines.append)
    km.summary(print_fn=lambda line, **_: k_lines.append(line))
    names = [lay.name for lay in km.layers]
    assert _row_order("\n".join(d_lines), names) == _row_order("\n".join(k_lines), names) == names


@pytest.mark.parametrize("build", GRAPHS, ids=lambda f: f.__name__.strip("_"))
def test_config_lists_layers_in_order_and_order_does_not_matter_on_load(build):
    dm = build(dn)
    config = dm.get_config()
    assert [entry["name"] for entry in config["layers"]] == [lay.name for lay in dm.layers]
    shuffled = json.loads(json.dumps(config))
    shuffled["layers"].reverse()  # a config written in another order (older deepnet) still loads
    rebuilt = dn.Model.from_config(shuffled)
    assert [lay.name for lay in rebuilt.layers] == [lay.name for lay in dm.layers]
    assert rebuilt.count_params() == dm.count_params()


def test_keras_weights_h5_load_into_deepnet_resnet50v2(tmp_path):
    km = keras.applications.ResNet50V2(weights=None, input_shape=(32, 32, 3), include_top=False)
    path = str(tmp_path / "resnet.weights.h5")
    km.save_weights(path)
    dm = dn.applications.ResNet50V2(weights=None, input_shape=(32, 32, 3), include_top=False)
    # automatic names (the input, the unnamed pooling) carry counters left by earlier tests
    def base(name):
        return re.sub(r"_\d+$", "", name)

    assert [base(lay.name) for lay in dm.layers] == [base(lay.name) for lay in km.layers]
    dm.load_weights(path)
    x = np.random.default_rng(0).normal(size=(2, 32, 32, 3)).astype("float32")
    expected = np.asarray(km.predict(x, verbose=0))
    got = dm.predict(x, verbose=0)
    np.testing.assert_allclose(np.asarray(got), expected, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("init", ["truncated_normal", "he_normal", "glorot_normal", "lecun_normal"])
def test_truncated_normal_initializers_on_meta_tensors(init):
    """Shape-only (meta) tensors have no values to redraw: the initializer returns them."""
    initializer = dn.initializers.get(init)
    with torch.device("meta"):
        weight = initializer((5, 7))
    assert weight.is_meta and tuple(weight.shape) == (5, 7)
    assert not initializer((5, 7)).is_meta


def test_get_weights_follow_keras_order_on_a_branched_graph():
    import keras

    def build(L, inp, model_cls):
        a = inp((8,))
        h1 = L.Dense(4, name="d1")(a)
        h2 = L.Dense(3, name="d2")(a)  # created before d1b, listed after it by Keras
        h1b = L.Dense(5, name="d1b")(h1)
        return model_cls(a, L.Dense(2, name="out")(L.Concatenate()([h1b, h2])))

    k = build(keras.layers, keras.Input, keras.Model)
    d = build(dn.layers, dn.Input, dn.Model)
    assert [w.shape for w in d.get_weights()] == [w.shape for w in k.get_weights()]
    d.set_weights(k.get_weights())
    x = np.random.default_rng(0).random((3, 8), dtype="float32")
    np.testing.assert_allclose(d.predict(x, verbose=0), k.predict(x, verbose=0), atol=1e-5)
