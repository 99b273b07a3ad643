"""Image augmentation and preprocessing layers: training-mode statistics, inference identity,
seeding, dtype/device, gradients and bad arguments (their harness rows live in
tests/test_layer_harness.py)."""

import numpy as np
import pytest
import torch

from deepnet.layers.augmentation import (
    RandomBrightness,
    RandomContrast,
    RandomCrop,
    RandomFlip,
    RandomRoll1D,
    RandomRotation,
    RandomTranslation,
    RandomZoom,
)
from deepnet.layers.preprocessing import CenterCrop, Normalization, Rescaling, Resizing
from deepnet.utils import set_random_seed

CF = "channels_first"
RANDOM_LAYERS = [
    (RandomFlip, {}),
    (RandomFlip, {"mode": "horizontal"}),
    (RandomRotation, {"factor": 0.2}),
    (RandomRotation, {"factor": (-0.1, 0.3), "fill_mode": "wrap"}),
    (RandomZoom, {"height_factor": 0.3}),
    (RandomZoom, {"height_factor": (-0.2, 0.4), "width_factor": 0.1, "fill_mode": "constant", "fill_value": 2.0}),
    (RandomTranslation, {"height_factor": 0.2, "width_factor": (-0.3, 0.1)}),
    (RandomTranslation, {"height_factor": 0.2, "width_factor": 0.2, "fill_mode": "nearest", "interpolation": "nearest"}),
    (RandomContrast, {"factor": 0.4}),
    (RandomBrightness, {"factor": 0.3, "value_range": (0, 1)}),
]


# --------------------------------------------------------------------------- inference behaviour

@pytest.mark.parametrize("cls, kwargs", RANDOM_LAYERS, ids=[f"{c.__name__}-{i}" for i, (c, _) in enumerate(RANDOM_LAYERS)])
def test_inference_is_bitwise_identity(cls, kwargs):
    x = torch.rand(3, 6, 7, 3)
    layer = cls(**kwargs)
    layer.eval()
    y = layer(x)
    assert torch.equal(y, x)
    layer.train()
    assert torch.equal(layer(x, training=False), x)
    # integer images come back as float32 with the same values
    xi = torch.randint(0, 255, (2, 5, 5, 3), dtype=torch.uint8)
    yi = layer(xi, training=False)
    assert yi.dtype == torch.float32 and torch.equal(yi, xi.float())


@pytest.mark.parametrize("cls, kwargs", RANDOM_LAYERS, ids=[f"{c.__name__}-{i}" for i, (c, _) in enumerate(RANDOM_LAYERS)])
def test_training_changes_images(cls, kwargs):
    x = torch.rand(16, 8, 8, 3) * 0.5 + 0.25
    y = cls(**kwargs)(x, training=True)
    assert y.shape == x.shape
    assert not torch.equal(y, x)


def test_training_flag_follows_module_mode():
    x = torch.rand(8, 5, 5, 1)
    layer = RandomFlip(seed=1)
    # Keras 3.15: an augmentation layer's call defaults to training=True, so a direct call
    # augments (checked in tests/test_call_modes.py against Keras); predict/eval() infer
    assert not torch.equal(layer(x), x)
    assert torch.equal(layer(x, training=False), x)
    layer.eval()  # torch's contract: an explicit eval() infers
    assert torch.equal(layer(x), x)
    assert not torch.equal(layer(x, training=True), x)
    layer.train()
    assert not torch.equal(layer(x), x)


# --------------------------------------------------------------------------- training statistics

@pytest.mark.parametrize("mode, dims", [("horizontal", (2,)), ("vertical", (1,)), ("horizontal_and_vertical", (1, 2))])
def test_random_flip_flips_about_half_exactly(mode, dims):
    x = torch.rand(1000, 4, 5, 2)
    y = RandomFlip(mode)(x, training=True)
    same = (y == x).flatten(1).all(1)
    flipped = (y == x.flip(dims)).flatten(1).all(1)
    assert bool((same ^ flipped).all())  # each image is exactly one of the two
    assert 0.42 < flipped.float().mean().item() < 0.58


def test_random_flip_channels_first():
    x = torch.rand(200, 2, 4, 5)
    y = RandomFlip("horizontal", data_format=CF)(x, training=True)
    flipped = (y == x.flip(3)).flatten(1).all(1)
    assert bool(((y == x).flatten(1).all(1) ^ flipped).all()) and 0.3 < flipped.float().mean() < 0.7


@pytest.mark.parametrize("factor, k", [((0.25, 0.25), 1), ((-0.25, -0.25), -1), ((0.5, 0.5), 2)])
@pytest.mark.parametrize("fill_mode", ["reflect", "constant", "wrap", "nearest"])
def test_rotation_by_quarter_turns_equals_rot90(factor, k, fill_mode):
    x = torch.rand(3, 6, 6, 2)
    y = RandomRotation(factor, fill_mode=fill_mode)(x, training=True)
    torch.testing.assert_close(y, torch.rot90(x, k, dims=(1, 2)), atol=1e-4, rtol=0)


def test_rotation_non_square_channels_first_and_unbatched():
    x = torch.rand(2, 4, 8)  # unbatched channels_first image
    y = RandomRotation((0.5, 0.5), data_format=CF)(x, training=True)
    torch.testing.assert_close(y, x.flip((1, 2)), atol=1e-4, rtol=0)


@pytest.mark.parametrize("interpolation", ["bilinear", "nearest"])
def test_translation_moves_one_hot_pixel_by_whole_pixels(interpolation):
    x = torch.zeros(2, 8, 10, 1)
    x[:, 2, 3, 0] = 1.0
    layer = RandomTranslation((0.25, 0.25), (-0.2, -0.2), fill_mode="constant", interpolation=interpolation)
    y = layer(x, training=True)
    expected = torch.zeros_like(x)
    expected[:, 2 + 2, 3 - 2, 0] = 1.0  # 0.25 * 8 = 2 rows down, 0.2 * 10 = 2 columns left
    torch.testing.assert_close(y, expected, atol=1e-5, rtol=0)


def test_translation_fill_value_and_wrap():
    x = torch.rand(1, 4, 4, 1)
    y = RandomTranslation((0.5, 0.5), (0, 0), fill_mode="constant", fill_value=-3.0)(x, training=True)
    torch.testing.assert_close(y[0, :2], torch.full((2, 4, 1), -3.0), atol=1e-5, rtol=0)
    torch.testing.assert_close(y[0, 2:], x[0, :2], atol=1e-5, rtol=0)
    w = RandomTranslation((0.25, 0.25), (-0.5, -0.5), fill_mode="wrap")(x, training=True)
    torch.testing.assert_close(w, torch.roll(x, shifts=(1, -2), dims=(1, 2)), atol=1e-5, rtol=0)


def test_zoom_keeps_centre_pixel():
    x = torch.rand(64, 9, 11, 3)
    y = RandomZoom(0.5, width_factor=(-0.4, 0.9))(x, training=True)
    torch.testing.assert_close(y[:, 4, 5], x[:, 4, 5], atol=1e-5, rtol=0)
    assert not torch.allclose(y, x)


def test_zoom_in_by_half_samples_the_centre():
    x = torch.arange(5.0).view(1, 1, 5, 1).expand(1, 5, 5, 1).contiguous()
    y = RandomZoom((-0.5, -0.5))(x, training=True)  # zoom 0.5: x_in = 2 + 0.5 * (x_out - 2)
    torch.testing.assert_close(y[0, 0, :, 0], torch.tensor([1.0, 1.5, 2.0, 2.5, 3.0]), atol=1e-5, rtol=0)


def test_contrast_preserves_channel_means():
    x = torch.rand(32, 6, 6, 3) * 50 + 100
    y = RandomContrast(0.5)(x, training=True)
    torch.testing.assert_close(y.mean((1, 2)), x.mean((1, 2)), atol=1e-3, rtol=0)
    ratio = (y - y.mean((1, 2), keepdim=True)).std((1, 2)) / (x - x.mean((1, 2), keepdim=True)).std((1, 2))
    assert float(ratio.min()) >= 0.5 - 1e-4 and float(ratio.max()) <= 1.5 + 1e-4
    torch.testing.assert_close(ratio, ratio[:, :1].expand_as(ratio), atol=1e-4, rtol=0)  # one factor per image
    assert float(ratio.max() - ratio.min()) > 0.3


def test_contrast_clips_to_value_range():
    x = torch.cat([torch.zeros(4, 2, 4, 1), torch.ones(4, 2, 4, 1)], 1)
    y = RandomContrast((0.0, 1.0), value_range=(0, 1))(x, training=True)
    assert float(y.min()) >= 0 and float(y.max()) <= 1


def test_brightness_shifts_within_range_and_clips():
    x = torch.rand(64, 4, 4, 3) * 100 + 100
    y = RandomBrightness(0.2)(x, training=True)
    delta = (y - x).flatten(1)
    torch.testing.assert_close(delta, delta[:, :1].expand_as(delta), atol=1e-3, rtol=0)  # one shift per image
    assert float(delta.abs().max()) <= 0.2 * 255 + 1e-3
    assert float(delta[:, 0].min()) < -10 and float(delta[:, 0].max()) > 10
    edges = torch.tensor([0.0, 100.0, 255.0]).view(1, 1, 3, 1)
    bright = RandomBrightness((0.5, 0.5))(edges, training=True)
    torch.testing.assert_close(bright.flatten(), torch.tensor([127.5, 227.5, 255.0]))
    dark = RandomBrightness((-1.0, -1.0), value_range=(-1, 1))(torch.rand(2, 3, 3, 1), training=True)
    assert torch.equal(dark, torch.full_like(dark, -1.0))


def test_random_crop_training_window_is_shared_by_the_batch():
    x = torch.arange(3 * 8 * 9 * 2, dtype=torch.float32).view(3, 8, 9, 2)
    seen = set()
    for _ in range(20):
        y = RandomCrop(5, 4)(x, training=True)
        assert y.shape == (3, 5, 4, 2)
        top = int(y[0, 0, 0, 0] - x[0, 0, 0, 0]) // (9 * 2)
        left = int(y[0, 0, 0, 0] - x[0, 0, 0, 0]) % (9 * 2) // 2
        assert torch.equal(y, x[:, top:top + 5, left:left + 4])
        seen.add((top, left))
    assert len(seen) > 3


def test_random_crop_inference_is_aspect_crop_and_resize():
    x = torch.rand(2, 8, 9, 3)
    layer = RandomCrop(4, 5)
    layer.eval()
    expected = Resizing(4, 5, crop_to_aspect_ratio=True)(x)
    torch.testing.assert_close(layer(x), expected)
    torch.testing.assert_close(RandomCrop(4, 5)(x, training=False), expected)
    # an equal-aspect target is a plain resize, an exact-size target the identity
    assert torch.equal(RandomCrop(8, 9)(x, training=False), x)
    # same-size crop in training is the identity too (no larger window to pick from)
    assert torch.equal(RandomCrop(8, 9)(x, training=True), x)


# --------------------------------------------------------------------------- seeding, dtype, device, layout

@pytest.mark.parametrize("cls, kwargs", RANDOM_LAYERS, ids=[f"{c.__name__}-{i}" for i, (c, _) in enumerate(RANDOM_LAYERS)])
def test_seeded_layers_are_reproducible(cls, kwargs):
    x = torch.rand(8, 6, 6, 2)
    a, b = cls(**kwargs, seed=7), cls(**kwargs, seed=7)
    ya1, ya2 = a(x, training=True), a(x, training=True)
    assert torch.equal(ya1, b(x, training=True)) and torch.equal(ya2, b(x, training=True))
    assert not torch.equal(ya1, ya2)  # the generator advances between calls


def test_unseeded_layers_follow_set_random_seed():
    x = torch.rand(8, 6, 6, 2)
    outs = []
    for _ in range(2):
        set_random_seed(11)
        outs.append(RandomRotation(0.3)(x, training=True))
    assert torch.equal(*outs)
    set_random_seed(11)
    crops = [RandomCrop(3, 3)(x, training=True) for _ in range(2)]
    set_random_seed(11)
    assert all(torch.equal(c, RandomCrop(3, 3)(x, training=True)) for c in crops)


@pytest.mark.parametrize("cls, kwargs", RANDOM_LAYERS + [(RandomCrop, {"height": 4, "width": 3})],
                         ids=[f"{c.__name__}-{i}" for i, (c, _) in enumerate(RANDOM_LAYERS + [(RandomCrop, {})])])
def test_channels_first_and_unbatched_match_channels_last(cls, kwargs):
    x = torch.rand(4, 6, 6, 2)
    last = cls(**kwargs, seed=3)(x, training=True)
    first = cls(**kwargs, seed=3, data_format=CF)(x.permute(0, 3, 1, 2), training=True)
    torch.testing.assert_close(first, last.permute(0, 3, 1, 2), atol=1e-5, rtol=1e-5)
    single = cls(**kwargs, seed=3)(x[0], training=True)
    torch.testing.assert_close(single, cls(**kwargs, seed=3)(x[:1], training=True)[0], atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("cls, kwargs", RANDOM_LAYERS + [(RandomCrop, {"height": 4, "width": 3})],
                         ids=[f"{c.__name__}-{i}" for i, (c, _) in enumerate(RANDOM_LAYERS + [(RandomCrop, {})])])
def test_output_keeps_input_device_and_dtype(cls, kwargs, dtype):
    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    for device in devices:
        x = torch.rand(4, 6, 6, 2, dtype=dtype, device=device)
        for training in (True, False):
            for layer in (cls(**kwargs), cls(**kwargs, seed=5)):
                y = layer(x, training=training)
                assert y.dtype == dtype and y.device == x.device


def test_integer_images_are_cast_to_float32():
    xi = torch.randint(0, 255, (2, 6, 6, 3), dtype=torch.uint8)
    for layer in [RandomRotation(0.2), RandomCrop(3, 3), RandomContrast(0.2), RandomBrightness(0.2),
                  Rescaling(1 / 255), CenterCrop(3, 3), Normalization(mean=1.0, variance=1.0)]:
        assert layer(xi).dtype == torch.float32
    resized = Resizing(3, 3)(xi)
    assert resized.dtype == torch.uint8  # Keras keeps integer dtypes in Resizing (rounded, saturated)


def test_gradients_flow_to_the_input():
    x = torch.rand(2, 5, 5, 2, requires_grad=True)
    for layer in [RandomRotation(0.2, fill_mode="wrap"), RandomZoom(0.3, fill_mode="constant", fill_value=1.0),
                  RandomContrast(0.5, value_range=(-10, 10)), RandomFlip()]:
        layer(x, training=True).sum().backward()
        assert x.grad is not None and torch.isfinite(x.grad).all()
        x.grad = None


@pytest.mark.parametrize("make", [
    lambda: RandomContrast((0.3, 0.6), value_range=(-100, 100), seed=4, dtype="float64"),
    lambda: RandomRotation(0.2, fill_mode="wrap", seed=4, dtype="float64"),
    lambda: RandomZoom(0.4, fill_mode="constant", fill_value=0.5, seed=4, dtype="float64"),
    lambda: RandomBrightness(0.2, value_range=(-100, 100), seed=4, dtype="float64"),
    lambda: Normalization(mean=[1.0, 2.0], variance=[4.0, 0.5], dtype="float64"),
    lambda: Normalization(mean=[1.0, 2.0], variance=[4.0, 0.5], invert=True, dtype="float64"),
    lambda: Rescaling([2.0, -1.0], offset=0.5, dtype="float64"),
], ids=["contrast", "rotation-wrap", "zoom-constant", "brightness", "normalization", "normalization-invert", "rescaling"])
def test_gradcheck(make):
    x = torch.rand(2, 4, 3, 2, dtype=torch.float64, requires_grad=True)
    # a fresh seeded layer per evaluation, so every call applies the same random transform
    assert torch.autograd.gradcheck(lambda t: make()(t, training=True), (x,), eps=1e-6, atol=1e-5)


# --------------------------------------------------------------------------- Normalization.adapt

def test_normalization_adapt_sources_agree():
    data = np.random.default_rng(0).normal(3.0, 2.0, (50, 4, 3)).astype("float32")
    ref_mean, ref_var = data.mean((0, 1)), data.var((0, 1))
    dataset = torch.utils.data.TensorDataset(torch.as_tensor(data), torch.zeros(50))
    sources = [
        dict(data=data), dict(data=torch.as_tensor(data)), dict(data=data, batch_size=7),
        dict(data=torch.utils.data.DataLoader(dataset, batch_size=8)),
        dict(data=[data[:10], data[10:]]), dict(data=((data[i:i + 5], None) for i in range(0, 50, 5))),
    ]
    for kwargs in sources:
        layer = Normalization()
        layer.adapt(**kwargs)
        mean, var, count = layer.get_weights()
        np.testing.assert_allclose(mean, ref_mean, rtol=1e-5)
        np.testing.assert_allclose(var, ref_var, rtol=1e-5)
        assert count == 0 and count.dtype == np.int32
        out = layer(torch.as_tensor(data)).numpy()
        np.testing.assert_allclose(out.mean((0, 1)), 0, atol=1e-5)
        np.testing.assert_allclose(out.std((0, 1)), 1, atol=1e-4)
    layer = Normalization()
    layer.adapt(data, batch_size=10, steps=2)
    np.testing.assert_allclose(layer.get_weights()[0], data[:20].mean((0, 1)), rtol=1e-5)


def test_normalization_invert_round_trip_and_zero_variance():
    data = np.random.default_rng(1).normal(size=(20, 3)).astype("float32")
    data[:, 2] = 5.0  # constant feature: std floored at 1e-7, output 0
    norm, inv = Normalization(), Normalization(invert=True)
    norm.adapt(data)
    inv.adapt(data)
    y = norm(torch.as_tensor(data))
    assert torch.isfinite(y).all() and torch.equal(y[:, 2], torch.zeros(20))
    torch.testing.assert_close(inv(y), torch.as_tensor(data), atol=1e-5, rtol=1e-5)


# --------------------------------------------------------------------------- bad arguments

BAD_ARGS = [
    (RandomFlip, {"mode": "diagonal"}, ValueError, r"`mode` of RandomFlip.*'horizontal_and_vertical', 'horizontal', 'vertical'"),
    (RandomFlip, {"seed": -1}, ValueError, r"`seed` of RandomFlip"),
    (RandomFlip, {"data_format": "NHWC"}, ValueError, r"`data_format` of RandomFlip"),
    (RandomRotation, {"factor": 1.5}, ValueError, r"`factor` of RandomRotation.*\[-1, 1\].*factor=1.5"),
    (RandomRotation, {"factor": (0.1, 0.2, 0.3)}, ValueError, r"`factor` of RandomRotation"),
    (RandomRotation, {"factor": "big"}, ValueError, r"`factor` of RandomRotation"),
    (RandomRotation, {"factor": 0.1, "fill_mode": "mirror"}, ValueError,
     r"`fill_mode` of RandomRotation.*'reflect', 'wrap', 'constant', 'nearest'.*fill_mode='mirror'"),
    (RandomRotation, {"factor": 0.1, "interpolation": "bicubic"}, ValueError,
     r"`interpolation` of RandomRotation.*'bilinear', 'nearest'"),
    (RandomRotation, {"factor": 0.1, "fill_value": "black"}, ValueError, r"`fill_value` of RandomRotation"),
    (RandomZoom, {"height_factor": -1.0}, ValueError, r"`height_factor` of RandomZoom.*\(-1, 1\]"),
    (RandomZoom, {"height_factor": 0.2, "width_factor": 1.2}, ValueError, r"`width_factor` of RandomZoom"),
    (RandomTranslation, {"height_factor": 0.1, "width_factor": -1.1}, ValueError, r"`width_factor` of RandomTranslation"),
    (RandomTranslation, {"height_factor": True, "width_factor": 0.1}, ValueError, r"`height_factor` of RandomTranslation"),
    (RandomCrop, {"height": -2, "width": 3}, ValueError, r"`height` of RandomCrop, expected a positive integer"),
    (RandomCrop, {"height": 2, "width": 0}, ValueError, r"`width` of RandomCrop"),
    (RandomContrast, {"factor": 1.5}, ValueError, r"`factor` of RandomContrast.*\[0, 1\]"),
    (RandomContrast, {"factor": -0.2}, ValueError, r"`factor` of RandomContrast"),
    (RandomContrast, {"factor": 0.2, "value_range": 255}, ValueError, r"`value_range` of RandomContrast"),
    (RandomBrightness, {"factor": 1.01}, ValueError, r"`factor` of RandomBrightness"),
    (RandomBrightness, {"factor": 0.1, "value_range": (0, 1, 2)}, ValueError, r"`value_range` of RandomBrightness"),
    (Rescaling, {"scale": "1/255"}, ValueError, r"`scale` of Rescaling"),
    (Rescaling, {"scale": 1.0, "offset": float("nan")}, ValueError, r"`offset` of Rescaling"),
    (Normalization, {"axis": "last"}, TypeError, r"`axis` of Normalization"),
    (Normalization, {"mean": 1.0}, ValueError, r"both `mean` and `variance`"),
    (Normalization, {"mean": [1.0, 2.0], "variance": [1.0]}, ValueError, r"same shape"),
    (Normalization, {"mean": [[1.0]], "variance": [[1.0]]}, ValueError, r"rank of `mean`"),
    (Normalization, {"mean": 0.0, "variance": -1.0}, ValueError, r"non-negative"),
    (CenterCrop, {"height": 2.5, "width": 2}, ValueError, r"`height` of CenterCrop"),
    (Resizing, {"height": 4, "width": 4, "interpolation": "lanczos3"}, ValueError,
     r"`interpolation` of Resizing.*'bilinear', 'nearest', 'bicubic'"),
    (Resizing, {"height": 4, "width": 4, "crop_to_aspect_ratio": True, "pad_to_aspect_ratio": True}, ValueError,
     r"only one of"),
    (Resizing, {"height": 4, "width": 4, "fill_mode": "reflect"}, ValueError, r"`fill_mode` of Resizing.*'constant'"),
]


@pytest.mark.parametrize("cls, kwargs, exc, match", BAD_ARGS, ids=[f"{b[0].__name__}-{i}" for i, b in enumerate(BAD_ARGS)])
def test_bad_arguments(cls, kwargs, exc, match):
    with pytest.raises(exc, match=match):
        cls(**kwargs)


@pytest.mark.parametrize("layer, shape, match", [
    (lambda: RandomFlip(), (5,), r"RandomFlip 'random_flip' expects input of rank 3 or 4 \(batch, height, width, channels\); "
                                 r"received shape \(None, 5\)"),
    (lambda: RandomRotation(0.1, data_format=CF), (2, 3, 4, 5), r"rank 3 or 4 \(batch, channels, height, width\)"),
    (lambda: CenterCrop(2, 2), (4,), r"CenterCrop 'center_crop' expects input of rank 3 or 4"),
    (lambda: Normalization(axis=3), (4, 2), r"every `axis` must be in \[-3, 3\)"),
    (lambda: Normalization(axis=0), (4, 2), r"keeps axis 0.*batch axis"),
])
def test_bad_input_shapes(layer, shape, match):
    import deepnet as dn

    with pytest.raises(ValueError, match=match):
        layer()(dn.Input(shape=shape))


def test_bad_adapt_calls():
    with pytest.raises(ValueError, match="fixed `mean` and `variance`"):
        Normalization(mean=0.0, variance=1.0).adapt(np.zeros((3, 2)))
    with pytest.raises(TypeError, match="type str"):
        Normalization().adapt("data")
    with pytest.raises(ValueError, match="`batch_size` of Normalization.adapt"):
        Normalization().adapt(np.zeros((3, 2)), batch_size=0)
    with pytest.raises(ValueError, match="received no data"):
        Normalization().adapt([])
    layer = Normalization()
    layer.adapt(np.zeros((3, 2)))
    with pytest.raises(ValueError, match=r"built for input shape \(None, 2\).*\(3, 4\)"):
        layer.adapt(np.zeros((3, 4)))


# --------------------------------------------------------------------------- RandomRoll1D


def _roll_shifts(x: torch.Tensor, out: torch.Tensor, axis: int) -> list[int]:
    """The circular shift of each sample of ``out`` against ``x`` (asserting there is one)."""
    shifts = []
    for b in range(x.shape[0]):
        found = [s for s in range(x.shape[axis]) if torch.equal(torch.roll(x[b], s, axis - 1), out[b])]
        assert found, f"sample {b} is not a circular shift of its input"
        shifts.append(found[0])
    return shifts


@pytest.mark.parametrize("data_format, shape, axis", [
    (None, (16, 12), 1), (None, (16, 12, 2), 1), (CF, (16, 2, 12), 2),
])
def test_random_roll_1d_is_a_per_sample_circular_shift_within_max_shift(data_format, shape, axis):
    x = torch.randn(*shape)
    out = RandomRoll1D(max_shift=3, seed=0, data_format=data_format)(x, training=True)
    shifts = [s if s <= 6 else s - 12 for s in _roll_shifts(x, out, axis)]
    assert all(-3 <= s <= 3 for s in shifts) and len(set(shifts)) > 1
    assert RandomRoll1D(max_shift=3, data_format=data_format)(x, training=False) is x


def test_random_roll_1d_fraction_seed_and_zero():
    x = torch.randn(200, 40)
    shifts = [s if s <= 20 else s - 40 for s in _roll_shifts(x, RandomRoll1D(0.25, seed=1)(x, training=True), 1)]
    assert min(shifts) == -10 and max(shifts) == 10  # 0.25 of 40 steps
    a, b = RandomRoll1D(5, seed=7), RandomRoll1D(5, seed=7)
    assert torch.equal(a(x, training=True), b(x, training=True))
    assert torch.equal(RandomRoll1D(0)(x, training=True), x)


@pytest.mark.parametrize("kwargs, exc, match", [
    ({"max_shift": -1}, ValueError, r"`max_shift` of RandomRoll1D, expected an int >= 0 \(steps\) or a float"),
    ({"max_shift": 1.5}, ValueError, r"`max_shift` of RandomRoll1D"),
    ({"max_shift": "3"}, TypeError, r"`max_shift` of RandomRoll1D"),
    ({"max_shift": 2, "seed": -1}, ValueError, r"`seed` of RandomRoll1D"),
])
def test_random_roll_1d_bad_arguments(kwargs, exc, match):
    with pytest.raises(exc, match=match):
        RandomRoll1D(**kwargs)


def test_random_roll_1d_bad_rank():
    import deepnet as dn

    with pytest.raises(ValueError, match=r"RandomRoll1D 'random_roll1d' expects input of rank 2 or 3"):
        RandomRoll1D(2)(dn.Input(shape=(4, 4, 3)))
