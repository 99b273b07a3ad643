"""Keras 3.15's newer image augmentation layers (issue 14, part 2d): harness rows, Keras parity
of the deterministic pieces, and invariants of the random ones (shape and range kept, seeded
layers repeat, inference behaviour, MixUp/CutMix label sums). ``CASES`` is part of the table
of tests/test_layer_harness.py (its meta-test sees these layers covered)."""

from __future__ import annotations

import inspect

import numpy as np
import pytest
import torch

import deepnet as dn
import deepnet.layers as L
from harness import LayerCase

IMG = (6, 7, 3)
OUT = (None, *IMG)
CF = "channels_first"
VR = {"value_range": (0, 1)}


def case(cls, kwargs, input_shape=IMG, output_shape=OUT, **extra) -> LayerCase:
    return LayerCase(cls, kwargs, input_shape, output_shape, 0, 0, **extra)


CASES = [
    case(L.AutoContrast, VR),
    case(L.AutoContrast, {"data_format": CF, **VR}, (3, 6, 7), (None, 3, 6, 7)),
    case(L.Equalization, VR),
    case(L.Equalization, {"bins": 64, "data_format": CF, **VR}, (3, 6, 7), (None, 3, 6, 7)),
    case(L.ContrastLimitedAdaptiveHistogramEqualization, {"tile_grid_size": (2, 3), **VR}),
    case(L.Solarization, {"addition_factor": 0.1, "threshold_factor": (0.4, 0.6), **VR}),
    case(L.RandomColorDegeneration, {"factor": 0.5, **VR}),
    case(L.RandomColorJitter, {"brightness_factor": 0.2, "contrast_factor": 0.3, "saturation_factor": 0.4,
                               "hue_factor": 0.2, **VR}),
    case(L.RandomGrayscale, {"factor": 0.7}),
    case(L.RandomGrayscale, {"data_format": CF}, (3, 6, 7), (None, 3, 6, 7)),
    case(L.RandomHue, {"factor": 0.5, **VR}),
    case(L.RandomHue, {"factor": (0.1, 0.4), "data_format": CF, **VR}, (3, 6, 7), (None, 3, 6, 7)),
    case(L.RandomInvert, {"factor": 0.5, **VR}),
    case(L.RandomPosterization, {"factor": 4, **VR}),
    case(L.RandomSaturation, {"factor": 0.5, **VR}),
    case(L.RandomSharpness, {"factor": 0.5, **VR}),
    case(L.RandomSharpness, {"factor": (0.1, 0.9), "data_format": CF, **VR}, (3, 6, 7), (None, 3, 6, 7)),
    case(L.RandomShear, {"x_factor": 0.3, "y_factor": 0.2}),
    case(L.RandomShear, {"x_factor": 0.3, "fill_mode": "wrap", "interpolation": "nearest"}),
    case(L.RandomShear, {"y_factor": (0.1, 0.4), "fill_mode": "constant", "fill_value": 1.0, "data_format": CF},
         (3, 6, 7), (None, 3, 6, 7)),
    case(L.RandomPerspective, {"scale": 0.3}),
    case(L.RandomPerspective, {"factor": (0.5, 1.0), "interpolation": "nearest", "data_format": CF},
         (3, 6, 7), (None, 3, 6, 7)),
    case(L.RandomElasticTransform, {"scale": 0.5, **VR}),
    case(L.RandomElasticTransform, {"fill_mode": "mirror", "scale": (0.2, 0.6), **VR}),
    case(L.RandomErasing, VR),
    case(L.RandomErasing, {"fill_value": [0.1, 0.2, 0.3], "scale": 0.5, "data_format": CF, **VR},
         (3, 6, 7), (None, 3, 6, 7)),
    case(L.RandomGaussianBlur, {"kernel_size": (3, 5), "sigma": (0.2, 0.9), **VR}),
    case(L.MixUp, {}),
    case(L.MixUp, {"alpha": 0.5, "data_format": CF, "seed": 1}, (3, 6, 7), (None, 3, 6, 7)),
    case(L.CutMix, {}),
    case(L.CutMix, {"factor": (0.2, 0.8), "data_format": CF, "seed": 1}, (3, 6, 7), (None, 3, 6, 7)),
    case(L.RandAugment, {"num_ops": 3, **VR}),
    case(L.RandAugment, {"factor": (0.1, 0.3), "interpolation": "nearest", "data_format": CF, "seed": 2, **VR},
         (3, 6, 7), (None, 3, 6, 7)),
    case(L.AugMix, VR),
    case(L.AugMix, {"num_chains": 2, "chain_depth": 2, "all_ops": False, "alpha": 0.5, **VR}),
    case(L.MaxNumBoundingBoxes, {"max_number": 4}),
]

NEW = sorted({c.cls.__name__ for c in CASES})


@pytest.mark.parametrize("layer_case", CASES, ids=[f"{c.cls.__name__}-{i}" for i, c in enumerate(CASES)])
def test_harness(layer_case):
    layer_case.run()


# --------------------------------------------------------------------------- Keras parity


@pytest.fixture(scope="module")
def keras():
    return pytest.importorskip("keras")


def _images(shape=(2, 13, 11, 3), scale=255.0, seed=0):
    return (np.random.default_rng(seed).random(shape) * scale).astype("float32")


def _both(keras, name, kwargs, x, training=True):
    ours = getattr(L, name)(**kwargs)(torch.tensor(x), training=training).numpy()
    theirs = np.asarray(getattr(keras.layers, name)(**kwargs)(x, training=training).cpu())
    return ours, theirs


# Deterministic layers and fixed-factor transforms: numerics equal Keras' (torch backend).
PARITY = [
    ("AutoContrast", {}, (2, 13, 11, 3), 255.0),
    ("AutoContrast", {"value_range": (0, 1)}, (2, 13, 11, 3), 1.0),
    ("Equalization", {}, (1, 13, 11, 3), 255.0),  # Keras pools a channel over the batch: one image
    ("Equalization", {"bins": 64, "value_range": (0, 1)}, (1, 9, 9, 3), 1.0),
    ("ContrastLimitedAdaptiveHistogramEqualization", {"clip_limit": 0, "tile_grid_size": (3, 4)},
     (2, 12, 12, 3), 255.0),  # tiles cover the image (see test_clahe_padding_is_symmetric)
    ("ContrastLimitedAdaptiveHistogramEqualization", {"clip_limit": 4.0, "tile_grid_size": (2, 2)},
     (2, 16, 16, 2), 255.0),  # 8x8 tiles: the clip limit is a whole number (see test_clahe_clip_limit)
    ("ContrastLimitedAdaptiveHistogramEqualization", {"tile_grid_size": (2, 2), "value_range": (0, 1),
                                                      "clip_limit": 16.0}, (1, 8, 8, 3), 1.0),
    ("RandomColorDegeneration", {"factor": (0.7, 0.7)}, (2, 5, 6, 3), 255.0),
    ("RandomGrayscale", {"factor": 1.0}, (2, 5, 6, 3), 255.0),
    ("RandomInvert", {"factor": (1.0, 1.0), "value_range": (0, 1)}, (2, 5, 6, 3), 1.0),
    ("RandomPosterization", {"factor": (3, 3)}, (2, 5, 6, 3), 255.0),
    ("RandomSaturation", {"factor": (0.3, 0.3)}, (2, 5, 6, 3), 255.0),
    ("RandomSaturation", {"factor": (0.8, 0.8), "value_range": (0, 1)}, (2, 5, 6, 3), 1.0),
    ("RandomSharpness", {"factor": (0.9, 0.9)}, (2, 5, 6, 3), 255.0),
    ("RandomSharpness", {"factor": (0.1, 0.1), "data_format": CF}, (2, 3, 5, 6), 255.0),
    ("Solarization", {}, (2, 5, 6, 3), 255.0),
    ("Solarization", {"value_range": (0, 1)}, (2, 5, 6, 3), 1.0),
]


@pytest.mark.parametrize("name, kwargs, shape, scale", PARITY, ids=[f"{p[0]}-{i}" for i, p in enumerate(PARITY)])
def test_keras_parity(keras, name, kwargs, shape, scale):
    ours, theirs = _both(keras, name, kwargs, _images(shape, scale))
    np.testing.assert_allclose(ours, theirs, atol=1e-4 * scale, rtol=1e-5)


def test_random_hue_parity_up_to_the_sign(keras):
    x = _images((1, 5, 6, 3))
    ours = [L.RandomHue((0.3, 0.3), seed=s)(torch.tensor(x), training=True).numpy() for s in range(8)]
    theirs = np.asarray(keras.layers.RandomHue((0.3, 0.3))(x, training=True).cpu())
    assert min(np.abs(o - theirs).max() for o in ours) < 1e-2


def test_clahe_padding_is_symmetric(keras):
    """Tiles that overhang the image read NumPy's 'symmetric' padding (rows h-1, h-2, ...);
    Keras' torch backend pads with the edge repeated instead (its ops.pad 'symmetric')."""
    x = _images((1, 13, 11, 1))
    layer = L.ContrastLimitedAdaptiveHistogramEqualization(clip_limit=0, tile_grid_size=(3, 4))
    padded = np.pad(x, [(0, 0), (0, 2), (0, 1), (0, 0)], mode="symmetric")
    whole = L.ContrastLimitedAdaptiveHistogramEqualization(clip_limit=0, tile_grid_size=(3, 4))
    expected = whole(torch.tensor(padded)).numpy()[:, :13, :11]
    np.testing.assert_allclose(layer(torch.tensor(x)).numpy(), expected, atol=1e-3)


def test_clahe_clip_limit_is_not_truncated(keras):
    """Keras' torch backend counts histograms in int64, so its clip limit is truncated to a
    whole number; deepnet keeps the fractional limit (TF/JAX behaviour, the CLAHE definition)."""
    x = _images((1, 8, 8, 1))
    ours, theirs = _both(keras, "ContrastLimitedAdaptiveHistogramEqualization",
                         {"clip_limit": 4.0, "tile_grid_size": (2, 2)}, x)
    assert ours.shape == theirs.shape and np.abs(ours - theirs).max() > 0  # limit 0.25 vs 0


@pytest.mark.parametrize("name, kwargs", [
    ("RandomColorDegeneration", {"factor": 0.5}), ("RandomHue", {"factor": 0.5}),
    ("RandomSaturation", {"factor": 0.5}), ("RandomSharpness", {"factor": 0.5}),
    ("RandomInvert", {}), ("RandomPosterization", {"factor": 4}), ("Solarization", {"addition_factor": 0.3}),
    ("RandomShear", {"x_factor": 0.5}), ("RandomPerspective", {}), ("RandomElasticTransform", {}),
    ("RandomErasing", {}), ("RandomGaussianBlur", {}), ("RandomGrayscale", {}), ("MixUp", {}), ("CutMix", {}),
    ("RandAugment", {}), ("AugMix", {}), ("Equalization", {}), ("RandomColorJitter", {"hue_factor": 0.5}),
])
def test_inference_is_identity_as_in_keras(keras, name, kwargs):
    x = _images((2, 8, 8, 3))
    ours, theirs = _both(keras, name, kwargs, x, training=False)
    np.testing.assert_array_equal(ours, x)
    np.testing.assert_allclose(theirs, x)


@pytest.mark.parametrize("name", ["AutoContrast", "ContrastLimitedAdaptiveHistogramEqualization"])
def test_applied_at_inference_as_in_keras(keras, name):
    kwargs = {"tile_grid_size": (2, 2), "clip_limit": 16.0} if name.startswith("Contrast") else {}
    ours, theirs = _both(keras, name, {"value_range": (0, 1), **kwargs}, _images((1, 8, 8, 3), 1.0), training=False)
    np.testing.assert_allclose(ours, theirs, atol=1e-4)


@pytest.mark.parametrize("name, kwargs", [
    ("RandomColorDegeneration", {"factor": (0.0, 0.0)}), ("RandomSaturation", {"factor": (0.5, 0.5)}),
    ("RandomSharpness", {"factor": (0.5, 0.5)}), ("RandomHue", {"factor": 0.0}),
    ("RandomShear", {}), ("RandomPerspective", {"scale": 0.0}), ("RandomElasticTransform", {"scale": 0.0}),
    ("RandomErasing", {"factor": 0.0}), ("RandomGaussianBlur", {"factor": 0.0}),
    ("RandomGrayscale", {"factor": 0.0}), ("RandomInvert", {"factor": 0.0}),
    ("RandAugment", {"num_ops": 0}),
])
def test_neutral_factors_keep_the_images(name, kwargs):
    x = torch.tensor(_images((2, 8, 8, 3)))
    out = getattr(L, name)(**kwargs)(x, training=True)
    torch.testing.assert_close(out, x, atol=2e-3, rtol=1e-4)


# --------------------------------------------------------------------------- invariants


RANDOM = [(c.cls, c.kwargs) for c in CASES if "seed" not in c.kwargs and c.cls is not L.MaxNumBoundingBoxes]


@pytest.mark.parametrize("cls, kwargs", RANDOM, ids=[f"{c.__name__}-{i}" for i, (c, _) in enumerate(RANDOM)])
def test_shape_range_and_seed(cls, kwargs):
    fmt_first = kwargs.get("data_format") == CF
    x = torch.rand(4, 3, 12, 10) if fmt_first else torch.rand(4, 12, 10, 3)
    low, high = kwargs.get("value_range", (0, 1))
    if "value_range" in kwargs or cls in (L.MixUp, L.CutMix, L.RandomGrayscale):
        out = cls(**kwargs)(x, training=True)
        assert out.shape == x.shape and out.dtype == x.dtype
        assert float(out.min()) >= low - 1e-5 and float(out.max()) <= high + 1e-5, cls.__name__
    seeded = {"seed": 7} if "seed" in inspect.signature(cls).parameters else {}
    a = cls(**kwargs, **seeded)(x, training=True)
    b = cls(**kwargs, **seeded)(x, training=True)
    torch.testing.assert_close(a, b)
    single = cls(**kwargs, **seeded)(x[0], training=True)  # an unbatched image
    assert single.shape == x[0].shape


@pytest.mark.parametrize("cls", [L.MixUp, L.CutMix])
def test_mixing_layers_mix_labels_summing_to_one(cls):
    images, labels = torch.rand(8, 10, 10, 3), torch.eye(4)[torch.arange(8) % 4]
    out = cls(seed=3)({"images": images, "labels": labels}, training=True)
    assert set(out) == {"images", "labels"} and out["images"].shape == images.shape
    torch.testing.assert_close(out["labels"].sum(1), torch.ones(8))
    assert bool((out["labels"] != labels).any())
    same = cls(seed=3)({"images": images, "labels": labels}, training=False)
    assert same["images"] is not None and torch.equal(same["labels"], labels)


def test_cutmix_label_weight_is_the_kept_area():
    images = torch.stack([torch.zeros(16, 16, 1), torch.ones(16, 16, 1)])
    labels = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    for seed in range(5):
        out = L.CutMix(seed=seed)({"images": images, "labels": labels}, training=True)
        pasted = out["images"][0].mean()  # image 0 is zeros: its ones come from image 1
        if float(out["labels"][0, 1]) > 0:
            assert abs(float(pasted) - float(out["labels"][0, 1])) < 0.15


def test_mixup_is_a_convex_combination():
    images = torch.stack([torch.zeros(4, 4, 1), torch.ones(4, 4, 1)])
    labels = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    out = L.MixUp(alpha=1.0, seed=0)({"images": images, "labels": labels}, training=True)
    torch.testing.assert_close(out["images"][:, 0, 0, 0], out["labels"][:, 1])


def test_dict_inputs_pass_masks_and_refuse_boxes():
    images = torch.rand(2, 6, 6, 3)
    masks = torch.ones(2, 6, 6, 1)
    out = L.RandomInvert(value_range=(0, 1))({"images": images, "segmentation_masks": masks}, training=True)
    assert out["segmentation_masks"] is masks
    with pytest.raises(NotImplementedError, match="RandomShear.*segmentation masks"):
        L.RandomShear(x_factor=0.2)({"images": images, "segmentation_masks": masks}, training=True)
    boxes = {"boxes": torch.zeros(2, 1, 4), "labels": torch.zeros(2, 1)}
    with pytest.raises(NotImplementedError, match="RandomInvert.*bounding boxes"):
        L.RandomInvert()({"images": images, "bounding_boxes": boxes}, training=True)
    with pytest.raises(ValueError, match="'images'"):
        L.MixUp()({"pictures": images})


def test_max_num_bounding_boxes_as_keras(keras):
    boxes = np.arange(2 * 5 * 4, dtype="float32").reshape(2, 5, 4)
    labels = np.arange(10, dtype="float32").reshape(2, 5)
    for number in (3, 7):
        ours = L.MaxNumBoundingBoxes(number, fill_value=-2)(
            {"images": torch.zeros(2, 4, 4, 3), "bounding_boxes": {"boxes": torch.tensor(boxes),
                                                                   "labels": torch.tensor(labels)}})
        theirs = keras.layers.MaxNumBoundingBoxes(number, fill_value=-2, bounding_box_format="xyxy")(
            {"images": np.zeros((2, 4, 4, 3), "float32"), "bounding_boxes": {"boxes": boxes, "labels": labels}})
        for key in ("boxes", "labels"):
            np.testing.assert_array_equal(ours["bounding_boxes"][key].numpy(),
                                          np.asarray(theirs["bounding_boxes"][key].cpu()))


def test_grayscale_and_degeneration_make_gray_images():
    x = torch.rand(3, 5, 5, 3)
    gray = L.RandomGrayscale(factor=1.0)(x, training=True)
    assert float((gray - gray[..., :1]).abs().max()) == 0.0
    torch.testing.assert_close(L.RandomColorDegeneration((1.0, 1.0), value_range=(0, 1))(x, training=True), gray)


def test_policies_are_reproducible_and_use_their_ops():
    x = torch.rand(2, 12, 12, 3)
    a = L.RandAugment(value_range=(0, 1), num_ops=4, seed=5)(x, training=True)
    b = L.RandAugment(value_range=(0, 1), num_ops=4, seed=5)(x, training=True)
    torch.testing.assert_close(a, b)
    assert not torch.equal(a, x)
    assert len(L.AugMix(all_ops=False)._ops) == 7 and len(L.AugMix()._ops) == 11


def test_keras_argument_names_and_defaults(keras):
    for name in NEW:
        ours = inspect.signature(getattr(L, name).__init__).parameters
        theirs = inspect.signature(getattr(keras.layers, name).__init__).parameters
        for arg, param in theirs.items():
            if arg in ("self", "kwargs"):
                continue
            assert arg in ours, f"{name}: missing argument {arg}"
            default = param.default
            assert ours[arg].default == default, f"{name}.{arg}: {ours[arg].default!r} != {default!r}"


def test_sequential_model_with_augmentation_fits():
    model = dn.Sequential([dn.Input((8, 8, 3)), L.RandAugment(value_range=(0, 1), seed=0),
                           L.RandomErasing(value_range=(0, 1)), L.Flatten(), L.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    history = model.fit(torch.rand(8, 8, 8, 3), torch.rand(8, 1), epochs=1, batch_size=4, verbose=0)
    assert np.isfinite(history.history["loss"][0])
    assert model.predict(torch.rand(2, 8, 8, 3), verbose=0).shape == (2, 1)
