"""Keras 3 parity of the preprocessing and augmentation layers: Rescaling, Normalization
(adapt, fixed statistics, invert), CenterCrop and Resizing outputs; random layers at
inference; the deterministic transforms of the random layers in training (degenerate
factor ranges fix the random draw); parameter counts of Sequential pipelines.

Tolerances: Rescaling, Normalization, CenterCrop and Resizing use 1e-5. Keras' PyTorch
backend resizes with the same ``F.interpolate`` call, so Resizing is in fact exact. The
affine layers (rotation, zoom, translation) use ``atol=2e-3`` on pixel values in
``[0, 255]``: deepnet computes the sampling coordinates in normalised space, Keras in pixel
space, and the float32 rounding of the two differs by about 1e-6 of a pixel.
"""

import os

os.environ.setdefault("KERAS_BACKEND", "torch")

import types  # noqa: E402

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

import deepnet as dn  # noqa: E402
from deepnet.layers import augmentation, preprocessing  # noqa: E402
from deepnet.layers.core import Dense, Flatten  # noqa: E402
from parity import assert_parity  # noqa: E402

keras = pytest.importorskip("keras")  # every test here compares against Keras

CF = "channels_first"

D = types.SimpleNamespace(Dense=Dense, Flatten=Flatten, Input=dn.Input, Model=dn.Model, Sequential=dn.Sequential)
for _mod in (augmentation, preprocessing):
    for _name in _mod.__all__:
        setattr(D, _name, getattr(_mod, _name))
K = types.SimpleNamespace(Input=keras.Input, Model=keras.Model, Sequential=keras.Sequential, **{
    n: getattr(keras.layers, n) for n in vars(D)
    if n not in ("Input", "Model", "Sequential") and hasattr(keras.layers, n)  # deepnet-only layers (RandomRoll1D) have no twin
})


def _images(shape, seed=0, high=255.0):
    return np.random.default_rng(seed).uniform(0, high, (2, *shape)).astype("float32")


def _np(t):
    return np.asarray(t.detach().cpu() if isinstance(t, torch.Tensor) else t)


def _model(L, shape, layers):
    inp = L.Input(shape=shape)
    x = inp
    for layer in layers(L):
        x = layer(x)
    return L.Model(inp, x)


# --------------------------------------------------------------------------- deterministic layers

STACKS = [
    ("rescaling", (5, 6, 3), lambda L: [L.Rescaling(1 / 255)]),
    ("rescaling-offset", (5, 6, 3), lambda L: [L.Rescaling(1 / 127.5, offset=-1.0)]),
    ("rescaling-per-channel", (5, 6, 3), lambda L: [L.Rescaling([0.5, 1.0, 2.0], offset=[0.0, 1.0, -1.0])]),
    ("normalization-fixed-scalar", (4, 3), lambda L: [L.Normalization(mean=2.0, variance=9.0)]),
    ("normalization-fixed-features", (4, 3), lambda L: [L.Normalization(mean=[1.0, 2.0, 3.0], variance=[1.0, 4.0, 0.25])]),
    ("normalization-fixed-axis1", (4, 3), lambda L: [L.Normalization(axis=1, mean=[1.0, 2.0, 3.0, 4.0],
                                                                     variance=[1.0, 2.0, 3.0, 4.0])]),
    ("normalization-fixed-invert", (4, 3), lambda L: [L.Normalization(mean=[1.0, 2.0, 3.0], variance=[1.0, 4.0, 0.0],
                                                                      invert=True)]),
    ("normalization-weights", (4, 3), lambda L: [L.Normalization()]),
    ("normalization-weights-axes", (4, 3), lambda L: [L.Normalization(axis=(1, 2))]),
    ("center-crop", (7, 8, 3), lambda L: [L.CenterCrop(4, 5)]),
    ("center-crop-odd", (7, 8, 3), lambda L: [L.CenterCrop(6, 3)]),
    ("center-crop-larger", (7, 8, 3), lambda L: [L.CenterCrop(9, 5)]),
    ("center-crop-cf", (3, 7, 8), lambda L: [L.CenterCrop(4, 5, data_format=CF)]),
    ("center-crop-larger-cf", (3, 7, 8), lambda L: [L.CenterCrop(10, 12, data_format=CF)]),
    ("resizing-down", (7, 8, 3), lambda L: [L.Resizing(4, 5)]),
    ("resizing-up", (7, 8, 3), lambda L: [L.Resizing(11, 13)]),
    ("resizing-nearest", (7, 8, 3), lambda L: [L.Resizing(5, 11, interpolation="nearest")]),
    ("resizing-bicubic", (7, 8, 3), lambda L: [L.Resizing(5, 11, interpolation="bicubic")]),
    ("resizing-crop-aspect", (7, 8, 3), lambda L: [L.Resizing(3, 9, crop_to_aspect_ratio=True)]),
    ("resizing-pad-aspect", (7, 8, 3), lambda L: [L.Resizing(3, 9, pad_to_aspect_ratio=True, fill_value=7.0)]),
    ("resizing-antialias", (7, 8, 3), lambda L: [L.Resizing(3, 4, antialias=True)]),
    ("resizing-cf", (3, 7, 8), lambda L: [L.Resizing(4, 9, data_format=CF)]),
    ("pipeline", (8, 8, 3), lambda L: [L.Resizing(6, 6), L.CenterCrop(4, 4), L.Rescaling(1 / 255), L.Flatten(),
                                       L.Dense(3)]),
]


@pytest.mark.parametrize("shape, layers", [s[1:] for s in STACKS], ids=[s[0] for s in STACKS])
def test_deterministic_layer_parity(shape, layers):
    dn_model, k_model = _model(D, shape, layers), _model(K, shape, layers)
    x = _images(shape)
    if any(isinstance(layer, keras.layers.Normalization) and layer.input_mean is None for layer in k_model.layers):
        for layer in k_model.layers:
            if isinstance(layer, keras.layers.Normalization):
                layer.adapt(_images(shape, seed=5, high=3.0))
    assert_parity(dn_model, k_model, x, atol=1e-5)


def test_rescaling_uint8_input():
    x = np.random.default_rng(0).integers(0, 256, (2, 4, 4, 3)).astype("uint8")
    k = _np(keras.layers.Rescaling(1 / 255)(x))
    d = D.Rescaling(1 / 255)(torch.as_tensor(x))
    assert d.dtype == torch.float32
    np.testing.assert_allclose(d.numpy(), k, atol=1e-6)


def test_resizing_uint8_keeps_dtype_like_keras():
    x = np.random.default_rng(0).integers(0, 256, (2, 5, 7, 3)).astype("uint8")
    k = _np(keras.layers.Resizing(3, 4)(x))
    d = D.Resizing(3, 4)(torch.as_tensor(x)).numpy()
    assert d.dtype == k.dtype == np.uint8
    np.testing.assert_array_equal(d, k)


# --------------------------------------------------------------------------- Normalization.adapt

@pytest.mark.parametrize("axis, shape", [(-1, (4, 3)), (None, (4, 3)), ((1, 2), (4, 3)), (1, (4, 3)), (-1, (5,)),
                                         ((-3, -1), (2, 3, 4))])
@pytest.mark.parametrize("invert", [False, True])
def test_normalization_adapt_parity(axis, shape, invert):
    data = np.random.default_rng(1).normal(2.0, 3.0, (40, *shape)).astype("float32")
    k = keras.layers.Normalization(axis=axis, invert=invert)
    d = D.Normalization(axis=axis, invert=invert)
    k.adapt(data)
    d.adapt(data)
    k_w, d_w = [np.asarray(w) for w in k.get_weights()], d.get_weights()
    assert [w.shape for w in d_w] == [w.shape for w in k_w] and [w.dtype for w in d_w] == [w.dtype for w in k_w]
    for a, b in zip(d_w, k_w):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    x = data[:5]
    np.testing.assert_allclose(d(torch.as_tensor(x)).numpy(), _np(k(x)), rtol=1e-5, atol=1e-5)


def test_normalization_adapt_from_batches_matches_keras():
    data = np.random.default_rng(2).normal(-1.0, 0.5, (33, 6)).astype("float32")
    k = keras.layers.Normalization()
    k.adapt(data)
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(torch.as_tensor(data)), batch_size=8)
    d = D.Normalization()
    d.adapt(loader)
    for a, b in zip(d.get_weights(), k.get_weights()):
        np.testing.assert_allclose(a, np.asarray(b), rtol=1e-5, atol=1e-6)


def test_normalization_config_and_counts_match_keras():
    for kwargs in [{}, {"axis": None}, {"axis": (1, 2), "invert": True}, {"mean": [1.0, 2.0], "variance": [3.0, 4.0]}]:
        ours, theirs = D.Normalization(**kwargs).get_config(), keras.layers.Normalization(**kwargs).get_config()
        for key in ("axis", "invert", "mean", "variance"):
            assert ours[key] == theirs[key], key


# --------------------------------------------------------------------------- random layers

RANDOM = [
    ("RandomFlip", {}),
    ("RandomFlip", {"mode": "vertical"}),
    ("RandomRotation", {"factor": 0.3}),
    ("RandomZoom", {"height_factor": 0.3, "width_factor": (-0.2, 0.5)}),
    ("RandomTranslation", {"height_factor": 0.2, "width_factor": 0.3, "fill_mode": "constant"}),
    ("RandomContrast", {"factor": 0.5}),
    ("RandomBrightness", {"factor": 0.4}),
]


@pytest.mark.parametrize("name, kwargs", RANDOM, ids=[f"{n}-{i}" for i, (n, _) in enumerate(RANDOM)])
def test_random_layers_are_identity_at_inference_in_both(name, kwargs):
    x = _images((6, 7, 3))
    k = _np(getattr(K, name)(**kwargs)(x, training=False))
    layer = getattr(D, name)(**kwargs)
    layer.eval()
    d = layer(torch.as_tensor(x)).numpy()
    np.testing.assert_array_equal(k, x)
    np.testing.assert_array_equal(d, x)


def test_random_crop_inference_follows_keras_documentation():
    """Keras documents an aspect-preserving centre crop + resize at inference; Keras 3.15's code
    returns the input uncropped (keras-team/keras#21868). deepnet follows the documentation,
    which equals Keras' Resizing(..., crop_to_aspect_ratio=True) and keeps the shape that
    compute_output_shape promises."""
    x = _images((8, 11, 3))
    layer = D.RandomCrop(4, 6)
    layer.eval()
    d = layer(torch.as_tensor(x)).numpy()
    k_layer = keras.layers.RandomCrop(4, 6)
    assert d.shape[1:] == tuple(k_layer.compute_output_shape((None, 8, 11, 3)))[1:]
    expected = _np(keras.layers.Resizing(4, 6, crop_to_aspect_ratio=True)(x))
    np.testing.assert_allclose(d, expected, atol=1e-5)
    # in training, an image of exactly the target height is centre-cropped in both libraries
    np.testing.assert_allclose(D.RandomCrop(8, 5)(torch.as_tensor(x), training=True).numpy(),
                               _np(k_layer.__class__(8, 5)(x, training=True)), atol=1e-6)


AFFINE = [
    ("RandomRotation", {"factor": (0.1, 0.1)}),
    ("RandomRotation", {"factor": (-0.37, -0.37)}),
    ("RandomZoom", {"height_factor": (0.6, 0.6), "width_factor": (-0.3, -0.3)}),
    ("RandomZoom", {"height_factor": (1.0, 1.0)}),
    ("RandomTranslation", {"height_factor": (0.33, 0.33), "width_factor": (-0.61, -0.61)}),
    ("RandomTranslation", {"height_factor": (1.0, 1.0), "width_factor": (-0.9, -0.9)}),
]


@pytest.mark.parametrize("fill_mode", ["reflect", "wrap", "constant", "nearest"])
@pytest.mark.parametrize("interpolation", ["bilinear", "nearest"])
@pytest.mark.parametrize("name, kwargs", AFFINE, ids=[f"{n}-{i}" for i, (n, _) in enumerate(AFFINE)])
def test_affine_transforms_match_keras_in_training(name, kwargs, fill_mode, interpolation):
    """A factor range of zero width fixes the random draw, so both libraries apply the same
    transform: this checks the geometry and every fill mode against Keras."""
    x = _images((7, 9, 2))
    kw = dict(kwargs, fill_mode=fill_mode, interpolation=interpolation, fill_value=3.0)
    k = _np(getattr(K, name)(**kw)(x, training=True))
    d = getattr(D, name)(**kw)(torch.as_tensor(x), training=True).numpy()
    np.testing.assert_allclose(d, k, atol=2e-3, rtol=0)


@pytest.mark.parametrize("name, kwargs, shape", [
    ("RandomRotation", {"factor": (0.2, 0.2), "data_format": CF}, (2, 6, 5)),
    ("RandomZoom", {"height_factor": (0.3, 0.3), "fill_mode": "constant", "data_format": CF}, (2, 6, 5)),
    ("RandomBrightness", {"factor": (0.2, 0.2)}, (4, 4, 3)),
    ("RandomBrightness", {"factor": (-0.6, -0.6), "value_range": (0, 200)}, (4, 4, 3)),
])
def test_fixed_transforms_match_keras_channels_first_and_brightness(name, kwargs, shape):
    x = _images(shape)
    k = _np(getattr(K, name)(**kwargs)(x, training=True))
    d = getattr(D, name)(**kwargs)(torch.as_tensor(x), training=True).numpy()
    np.testing.assert_allclose(d, k, atol=2e-3, rtol=0)
    unbatched = getattr(D, name)(**kwargs)(torch.as_tensor(x[0]), training=True).numpy()
    np.testing.assert_allclose(unbatched, _np(getattr(K, name)(**kwargs)(x[0], training=True)), atol=2e-3, rtol=0)


@pytest.mark.parametrize("name, kwargs", [
    ("RandomFlip", {"mode": "horizontal", "seed": 1}),
    ("RandomRotation", {"factor": 0.2, "fill_mode": "wrap", "seed": 2}),
    ("RandomZoom", {"height_factor": 0.2, "width_factor": 0.1}),
    ("RandomTranslation", {"height_factor": 0.2, "width_factor": 0.1, "interpolation": "nearest"}),
    ("RandomCrop", {"height": 3, "width": 4, "seed": 5}),
    ("RandomContrast", {"factor": 0.2, "value_range": (0, 1)}),
    ("RandomBrightness", {"factor": 0.2, "value_range": [0, 1]}),
    ("Rescaling", {"scale": 0.5, "offset": 1.0}),
    ("CenterCrop", {"height": 3, "width": 4, "data_format": CF}),
    ("Resizing", {"height": 3, "width": 4, "interpolation": "nearest", "crop_to_aspect_ratio": True}),
])
def test_config_keys_match_keras(name, kwargs):
    ours = getattr(D, name)(**kwargs).get_config()
    theirs = getattr(K, name)(**kwargs).get_config()
    assert set(theirs) <= set(ours), f"missing config keys: {set(theirs) - set(ours)}"
    for key in ("seed", "data_format", "mode", "fill_mode", "interpolation", "height", "width", "scale", "offset",
                "crop_to_aspect_ratio"):
        if key in theirs:
            assert ours[key] == theirs[key], key


# --------------------------------------------------------------------------- parameter counts

def test_sequential_pipeline_parameter_counts_match_keras():
    def build(L):
        model = L.Sequential([
            L.Input(shape=(8, 8, 3)),
            L.Rescaling(1 / 255),
            L.RandomFlip("horizontal"),
            L.RandomRotation(0.1),
            L.RandomZoom(0.1),
            L.RandomTranslation(0.1, 0.1),
            L.RandomContrast(0.1, value_range=(0, 1)),
            L.RandomBrightness(0.1, value_range=(0, 1)),
            L.RandomCrop(6, 6),
            L.CenterCrop(6, 6),
            L.Resizing(4, 4),
            L.Normalization(),
            L.Flatten(),
            L.Dense(2),
        ])
        return model

    dn_model, k_model = build(D), build(K)
    adapt_data = np.random.default_rng(0).uniform(size=(10, 4, 4, 3)).astype("float32")
    k_model.layers[-3].adapt(adapt_data)
    dn_model.layers[-3].adapt(adapt_data)
    assert dn_model.count_params() == k_model.count_params() == 7 + 4 * 4 * 3 * 2 + 2
    assert len(dn_model.layers) == len(k_model.layers)
    for dn_layer, k_layer in zip(dn_model.layers, k_model.layers):
        assert dn_layer.count_params() == k_layer.count_params(), type(k_layer).__name__
    k_trainable = sum(int(np.prod(w.shape)) for w in k_model.trainable_weights)
    k_non_trainable = sum(int(np.prod(w.shape)) for w in k_model.non_trainable_weights)
    assert sum(w.numel() for w in dn_model.trainable_weights) == k_trainable
    assert sum(w.numel() for w in dn_model.non_trainable_weights) == k_non_trainable == 7


def test_augmentation_model_parity_at_inference():
    """Random layers are the identity at inference in both libraries, so a whole augmentation +
    classifier model gives the same predictions after copying Keras' weights."""
    def build(L):
        return _model(L, (6, 6, 3), lambda L: [
            L.RandomFlip(), L.RandomRotation(0.2), L.RandomZoom(0.2), L.RandomTranslation(0.1, 0.1),
            L.RandomContrast(0.2), L.RandomBrightness(0.2), L.Rescaling(1 / 255), L.Normalization(mean=0.5, variance=0.1),
            L.Flatten(), L.Dense(4),
        ])

    assert_parity(build(D), build(K), _images((6, 6, 3)), atol=1e-5)
