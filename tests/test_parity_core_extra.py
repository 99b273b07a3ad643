"""Keras 3 parity of the regularization, reshaping and merge layers (and small models using
them): parameter counts, weight shapes and outputs after copying Keras' weights."""

import os

os.environ.setdefault("KERAS_BACKEND", "torch")

import types  # noqa: E402

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

import deepnet as dn  # noqa: E402
from deepnet.layers import merge, regularization, reshaping  # noqa: E402
from deepnet.layers.core import Dense, Flatten  # noqa: E402
from parity import assert_parity  # noqa: E402

keras = pytest.importorskip("keras")  # every test here compares against Keras

CF = "channels_first"

# the same layer names in both libraries
D = types.SimpleNamespace(Dense=Dense, Flatten=Flatten, Input=dn.Input, Model=dn.Model)
for _mod in (merge, regularization, reshaping):
    for _name in _mod.__all__:
        setattr(D, _name, getattr(_mod, _name))
K = types.SimpleNamespace(Input=keras.Input, Model=keras.Model, **{
    n: getattr(keras.layers, n) for n in vars(D) if n not in ("Input", "Model")
})


def _rand(shape, seed=0):
    return np.random.default_rng(seed).standard_normal((2, *shape)).astype("float32")


def _both(build):
    """Build the same model with Keras and deepnet layers."""
    return build(D), build(K)


def _check(build, inputs, atol=1e-5):
    dn_model, k_model = _both(build)
    assert_parity(dn_model, k_model, inputs, atol=atol)


# --------------------------------------------------------------------------- single-input stacks

SINGLE = [
    # (id, input shape, layers factory: ns -> list of layers)
    ("dropout", (6,), lambda L: [L.Dense(5), L.Dropout(0.5), L.Dense(3)]),
    ("dropout-noise-shape", (4, 6), lambda L: [L.Dropout(0.3, noise_shape=(None, 1, 6), seed=1), L.Dense(2)]),
    ("gaussian-noise", (6,), lambda L: [L.Dense(4), L.GaussianNoise(0.2), L.Dense(2)]),
    ("gaussian-dropout", (6,), lambda L: [L.Dense(4), L.GaussianDropout(0.2), L.Dense(2)]),
    ("spatial-dropout1d", (5, 4), lambda L: [L.SpatialDropout1D(0.5), L.Flatten(), L.Dense(2)]),
    ("spatial-dropout2d", (3, 3, 2), lambda L: [L.SpatialDropout2D(0.5), L.Flatten()]),
    ("spatial-dropout2d-cf", (2, 3, 3), lambda L: [L.SpatialDropout2D(0.5, data_format=CF), L.Flatten()]),
    ("reshape", (12,), lambda L: [L.Dense(12), L.Reshape((3, 4)), L.Dense(2)]),
    ("reshape-infer", (3, 4), lambda L: [L.Reshape((-1, 2)), L.Dense(3), L.Flatten()]),
    ("permute", (3, 4), lambda L: [L.Permute((2, 1)), L.Dense(2)]),
    ("permute-3d", (2, 3, 4), lambda L: [L.Permute((3, 1, 2)), L.Dense(2)]),
    ("repeat-vector", (4,), lambda L: [L.Dense(3), L.RepeatVector(3), L.Dense(2)]),
    ("zero-padding1d", (3, 2), lambda L: [L.ZeroPadding1D((1, 2)), L.Dense(2)]),
    ("zero-padding1d-cf", (2, 3), lambda L: [L.ZeroPadding1D(2, data_format=CF), L.Flatten()]),
    ("zero-padding2d", (3, 3, 2), lambda L: [L.ZeroPadding2D(((1, 0), (2, 1))), L.Dense(2)]),
    ("zero-padding2d-cf", (2, 3, 3), lambda L: [L.ZeroPadding2D((1, 2), data_format=CF), L.Flatten()]),
    ("upsampling1d", (3, 2), lambda L: [L.UpSampling1D(3), L.Dense(2)]),
    ("upsampling2d", (2, 3, 2), lambda L: [L.UpSampling2D((2, 3)), L.Dense(2)]),
    ("upsampling2d-cf", (2, 2, 3), lambda L: [L.UpSampling2D((3, 2), data_format=CF), L.Flatten()]),
    ("upsampling2d-bilinear", (3, 4, 2), lambda L: [L.UpSampling2D(2, interpolation="bilinear"), L.Dense(2)]),
    ("upsampling2d-bilinear-cf", (2, 3, 4),
     lambda L: [L.UpSampling2D((3, 2), data_format=CF, interpolation="bilinear"), L.Flatten()]),
    ("cropping1d", (6, 2), lambda L: [L.Cropping1D((2, 1)), L.Dense(2)]),
    ("cropping2d", (5, 6, 2), lambda L: [L.Cropping2D(((1, 2), (0, 3))), L.Dense(2)]),
    ("cropping2d-cf", (2, 5, 6), lambda L: [L.Cropping2D((1, 2), data_format=CF), L.Flatten()]),
]


@pytest.mark.parametrize("shape, layers", [s[1:] for s in SINGLE], ids=[s[0] for s in SINGLE])
def test_single_input_parity(shape, layers):
    def build(L):
        inp = L.Input(shape=shape)
        x = inp
        for layer in layers(L):
            x = layer(x)
        return L.Model(inp, x)

    _check(build, _rand(shape))


# --------------------------------------------------------------------------- merge layers

MERGES = [
    ("add", [(4,), (4,)], lambda L: L.Add()),
    ("add-3", [(2, 4), (2, 4), (2, 4)], lambda L: L.Add()),
    ("add-broadcast-rank", [(3, 4), (4,)], lambda L: L.Add()),
    ("add-broadcast-ones", [(3, 1), (1, 4)], lambda L: L.Add()),
    ("subtract", [(4,), (4,)], lambda L: L.Subtract()),
    ("multiply", [(2, 4), (2, 4), (2, 4)], lambda L: L.Multiply()),
    ("average", [(4,), (4,), (4,)], lambda L: L.Average()),
    ("maximum", [(3, 4), (4,)], lambda L: L.Maximum()),
    ("minimum", [(4,), (4,)], lambda L: L.Minimum()),
    ("concatenate", [(4,), (3,)], lambda L: L.Concatenate()),
    ("concatenate-axis1", [(2, 3), (4, 3)], lambda L: L.Concatenate(axis=1)),
    ("concatenate-3", [(2, 2), (2, 3), (2, 1)], lambda L: L.Concatenate(axis=-1)),
    ("dot-2d", [(4,), (4,)], lambda L: L.Dot(axes=1)),
    ("dot-normalize", [(4,), (4,)], lambda L: L.Dot(axes=-1, normalize=True)),
    ("dot-3d", [(3, 4), (5, 4)], lambda L: L.Dot(axes=(2, 2))),
    ("dot-3d-axes1", [(3, 4), (3, 2)], lambda L: L.Dot(axes=1, normalize=True)),
    ("dot-2d-3d", [(4,), (3, 4)], lambda L: L.Dot(axes=(1, 2))),
    ("dot-3d-2d", [(3, 4), (4,)], lambda L: L.Dot(axes=(2, 1))),
    ("dot-3d-4d", [(4, 3), (3, 5, 2)], lambda L: L.Dot(axes=(2, 1))),
]


@pytest.mark.parametrize("shapes, make", [m[1:] for m in MERGES], ids=[m[0] for m in MERGES])
def test_merge_parity(shapes, make):
    def build(L):
        inputs = [L.Input(shape=s) for s in shapes]
        return L.Model(inputs, make(L)(inputs))

    _check(build, [_rand(s, seed=i) for i, s in enumerate(shapes)])


def test_two_branch_concatenate_model():
    def build(L):
        a, b = L.Input(shape=(4,)), L.Input(shape=(3,))
        x = L.Dense(5, activation="relu")(a)
        y = L.Dense(2, activation="tanh")(b)
        z = L.Concatenate()([x, y])
        return L.Model([a, b], L.Dense(3)(z))

    _check(build, [_rand((4,), 1), _rand((3,), 2)])


def test_add_skip_connection_model():
    def build(L):
        inp = L.Input(shape=(6,))
        h = L.Dense(4, activation="relu")(inp)
        r = L.Dense(4)(h)
        x = L.Add()([h, r])
        x = L.Dropout(0.3)(x)
        return L.Model(inp, L.Dense(2)(x))

    _check(build, _rand((6,)))


def test_conv_like_pipeline_channels_first():
    def build(L):
        inp = L.Input(shape=(2, 4, 4))
        x = L.ZeroPadding2D(1, data_format=CF)(inp)
        x = L.Cropping2D(((1, 0), (0, 1)), data_format=CF)(x)
        x = L.UpSampling2D(2, data_format=CF)(x)
        x = L.SpatialDropout2D(0.2, data_format=CF)(x)
        x = L.Permute((2, 3, 1))(x)
        x = L.Reshape((-1, 2))(x)
        return L.Model(inp, L.Dense(3)(x))

    _check(build, _rand((2, 4, 4)))


# --------------------------------------------------------------------------- config and training mode

def _as_lists(v):
    return [_as_lists(e) for e in v] if isinstance(v, (list, tuple)) else v


@pytest.mark.parametrize("name, kwargs", [
    ("Dropout", {"rate": 0.3, "noise_shape": [None, 1, 4], "seed": 2}),
    ("SpatialDropout2D", {"rate": 0.3, "data_format": CF, "seed": 1}),
    ("GaussianNoise", {"stddev": 0.1, "seed": 3}),
    ("GaussianDropout", {"rate": 0.2}),
    ("Reshape", {"target_shape": (2, -1)}),
    ("Permute", {"dims": (2, 1)}),
    ("RepeatVector", {"n": 3}),
    ("ZeroPadding1D", {"padding": 2}),
    ("ZeroPadding2D", {"padding": (1, 2), "data_format": CF}),
    ("UpSampling1D", {"size": 3}),
    ("UpSampling2D", {"size": 3, "interpolation": "BILINEAR"}),
    ("Cropping1D", {"cropping": 2}),
    ("Cropping2D", {"cropping": 1}),
    ("Concatenate", {"axis": 1}),
    ("Dot", {"axes": (1, 2), "normalize": True}),
])
def test_config_matches_keras(name, kwargs):
    ours = getattr(D, name)(**kwargs).get_config()
    theirs = getattr(K, name)(**kwargs).get_config()
    for key, value in theirs.items():
        if key in ("name", "dtype", "trainable"):
            continue
        got = ours[key]
        assert _as_lists(got) == _as_lists(value), f"{name}.{key}: deepnet {got!r} != keras {value!r}"


@pytest.mark.parametrize("rate", [0.25, 0.6])
def test_dropout_training_statistics_match_keras(rate):
    x = np.ones((100, 200), dtype="float32")
    k = np.asarray(keras.layers.Dropout(rate)(x, training=True).detach().cpu())
    d = D.Dropout(rate)(torch.as_tensor(x), training=True).numpy()
    for y in (k, d):
        assert abs((y == 0).mean() - rate) < 0.02
        np.testing.assert_allclose(y[y != 0], 1 / (1 - rate), rtol=1e-6)
    # inference: both identity
    np.testing.assert_array_equal(np.asarray(keras.layers.Dropout(rate)(x, training=False).detach().cpu()), x)
    np.testing.assert_array_equal(D.Dropout(rate)(torch.as_tensor(x), training=False).numpy(), x)


def test_gaussian_layers_training_statistics_match_keras():
    x = np.ones((100, 200), dtype="float32")
    for name, kwargs, mean, std in [("GaussianNoise", {"stddev": 0.4}, 1.0, 0.4),
                                    ("GaussianDropout", {"rate": 0.2}, 1.0, 0.5)]:
        k = np.asarray(getattr(K, name)(**kwargs)(x, training=True).detach().cpu())
        d = getattr(D, name)(**kwargs)(torch.as_tensor(x), training=True).numpy()
        for y in (k, d):
            assert abs(y.mean() - mean) < 0.01 and abs(y.std() - std) < 0.01


def test_masked_merges_match_keras():
    from keras.src import backend as kb

    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((2, 2, 3, 4)).astype("float32")
    m1 = np.array([[1, 1, 0], [1, 0, 0]], dtype=bool)
    m2 = np.array([[1, 0, 0], [1, 1, 0]], dtype=bool)
    for name in ("Add", "Multiply", "Maximum", "Minimum", "Concatenate"):
        ka, kb_ = torch.tensor(a), torch.tensor(b)
        kb.set_keras_mask(ka, torch.tensor(m1))
        kb.set_keras_mask(kb_, torch.tensor(m2))
        k_out = getattr(K, name)()([ka, kb_])
        da, db = torch.tensor(a), torch.tensor(b)
        da._keras_mask, db._keras_mask = torch.tensor(m1), torch.tensor(m2)
        d_out = getattr(D, name)()([da, db])
        np.testing.assert_allclose(d_out.numpy(), k_out.detach().numpy(), atol=1e-6, err_msg=name)
        np.testing.assert_array_equal(d_out._keras_mask.numpy(), kb.get_keras_mask(k_out).numpy(), err_msg=name)
