"""Regularization, reshaping and merge layers: bad inputs, training behaviour, masks and
gradchecks (their harness rows, with the JSON config round trip, live in
tests/test_layer_harness.py; Keras parity lives in test_parity_core_extra.py)."""

import math

import pytest
import torch

import deepnet as dn
from deepnet.layers.merge import (
    Add,
    Average,
    Concatenate,
    Dot,
    Maximum,
    Minimum,
    Multiply,
    Subtract,
)
from deepnet.layers.regularization import (
    Dropout,
    GaussianDropout,
    GaussianNoise,
    SpatialDropout1D,
    SpatialDropout2D,
)
from deepnet.layers.reshaping import (
    Cropping1D,
    Cropping2D,
    Permute,
    RepeatVector,
    Reshape,
    UpSampling1D,
    UpSampling2D,
    ZeroPadding1D,
    ZeroPadding2D,
)

CF = "channels_first"

# --------------------------------------------------------------------------- bad inputs

BAD_CONFIG = [
    (Dropout, {"rate": 1.5}, ValueError, r"`rate` of Dropout, expected a float in \[0, 1\]. Received: rate=1.5"),
    (Dropout, {"rate": -0.1}, ValueError, r"`rate` of Dropout"),
    (Dropout, {"rate": "0.5"}, ValueError, r"`rate` of Dropout"),
    (Dropout, {"rate": 0.5, "noise_shape": "abc"}, TypeError, r"`noise_shape` of Dropout"),
    (Dropout, {"rate": 0.5, "noise_shape": (None, 0)}, ValueError, r"`noise_shape` of Dropout"),
    (Dropout, {"rate": 0.5, "seed": -1}, ValueError, r"`seed` of Dropout"),
    (Dropout, {"rate": 0.5, "seed": 1.5}, ValueError, r"`seed` of Dropout"),
    (Dropout, {"rate": 0.5, "bogus": 1}, TypeError, r"Dropout got unexpected keyword argument"),
    (SpatialDropout1D, {"rate": 2}, ValueError, r"`rate` of SpatialDropout1D"),
    (SpatialDropout2D, {"rate": 0.1, "data_format": "NHWC"}, ValueError, r"`data_format` of SpatialDropout2D"),
    (GaussianNoise, {"stddev": -1.0}, ValueError, r"`stddev` of GaussianNoise"),
    (GaussianNoise, {"stddev": 2.0}, ValueError, r"`stddev` of GaussianNoise, expected a float in \[0, 1\]"),
    (GaussianDropout, {"rate": 1.0}, ValueError, r"`rate` of GaussianDropout, expected a float in \[0, 1\)"),
    (Reshape, {"target_shape": (2, -1, -1)}, ValueError, r"at most one -1"),
    (Reshape, {"target_shape": (0, 3)}, ValueError, r"`target_shape` of Reshape"),
    (Reshape, {"target_shape": "abc"}, TypeError, r"`target_shape` of Reshape"),
    (Permute, {"dims": (0, 1)}, ValueError, r"`dims` of Permute.*1-based"),
    (Permute, {"dims": (1, 3)}, ValueError, r"`dims` of Permute"),
    (RepeatVector, {"n": 0}, ValueError, r"`n` of RepeatVector"),
    (RepeatVector, {"n": 2.0}, TypeError, r"`n` of RepeatVector"),
    (ZeroPadding1D, {"padding": -1}, ValueError, r"`padding` of ZeroPadding1D"),
    (ZeroPadding1D, {"padding": (1, 2, 3)}, ValueError, r"`padding` of ZeroPadding1D"),
    (ZeroPadding1D, {"data_format": "x"}, ValueError, r"`data_format` of ZeroPadding1D"),
    (ZeroPadding2D, {"padding": (1, 2, 3)}, ValueError, r"`padding` of ZeroPadding2D"),
    (ZeroPadding2D, {"padding": ((1, 2), (3, -1))}, ValueError, r"`padding` of ZeroPadding2D"),
    (UpSampling1D, {"size": 0}, ValueError, r"`size` of UpSampling1D"),
    (UpSampling1D, {"size": (2,)}, TypeError, r"`size` of UpSampling1D"),
    (UpSampling2D, {"size": (2, 0)}, ValueError, r"`size` of UpSampling2D, expected positive"),
    (UpSampling2D, {"interpolation": "cubic"}, ValueError, r"`interpolation` of UpSampling2D.*'nearest', 'bilinear'"),
    (Cropping1D, {"cropping": (1, -1)}, ValueError, r"`cropping` of Cropping1D"),
    (Cropping2D, {"cropping": "a"}, ValueError, r"`cropping` of Cropping2D"),
    (Cropping2D, {"cropping": 1, "data_format": "nchw"}, ValueError, r"`data_format` of Cropping2D"),
    (Concatenate, {"axis": 1.0}, TypeError, r"`axis` of Concatenate"),
    (Dot, {"axes": (1, 2, 3)}, ValueError, r"`axes` of Dot"),
    (Dot, {"axes": "1"}, TypeError, r"`axes` of Dot"),
]


@pytest.mark.parametrize("cls, kwargs, exc, pattern", BAD_CONFIG,
                         ids=[f"{c.__name__}-{i}" for i, (c, *_rest) in enumerate(BAD_CONFIG)])
def test_bad_config(cls, kwargs, exc, pattern):
    with pytest.raises(exc, match=pattern):
        cls(**kwargs)


BAD_SHAPE = [
    (Dropout, {"rate": 0.5, "noise_shape": (None, 1)}, (3, 4), r"Dropout 'dropout' has noise_shape=.*rank 3"),
    (Dropout, {"rate": 0.5, "noise_shape": (None, 2, 4)}, (3, 4), r"does not broadcast.*axis 1: 2 vs 3"),
    (SpatialDropout1D, {"rate": 0.5}, (4,), r"SpatialDropout1D 'spatial_dropout1d' expects input of rank 3 \(batch, steps, channels\); received shape \(None, 4\)"),
    (SpatialDropout2D, {"rate": 0.5}, (4, 4), r"expects input of rank 4 \(batch, height, width, channels\)"),
    (Reshape, {"target_shape": (28, 27)}, (784,), r"Reshape 'reshape' cannot reshape input of shape \(None, 784\) \(784 elements per sample\) to target_shape=\(28, 27\) \(756 elements\)"),
    (Reshape, {"target_shape": (-1, 5)}, (12,), r"a multiple of 5"),
    (Permute, {"dims": (2, 1)}, (2, 3, 4), r"Permute 'permute' expects input of rank 3"),
    (RepeatVector, {"n": 2}, (3, 4), r"expects input of rank 2 \(batch, features\).*Flatten"),
    (ZeroPadding1D, {}, (4,), r"ZeroPadding1D 'zero_padding1d' expects input of rank 3"),
    (ZeroPadding2D, {"data_format": CF}, (4, 4), r"rank 4 \(batch, channels, height, width\)"),
    (UpSampling1D, {}, (2, 2, 2), r"UpSampling1D 'up_sampling1d' expects input of rank 3"),
    (UpSampling2D, {}, (2, 2), r"UpSampling2D 'up_sampling2d' expects input of rank 4"),
    (Cropping1D, {"cropping": (2, 2)}, (4, 3), r"Cropping1D 'cropping1d' cannot crop 4 steps.*\(None, 4, 3\)"),
    (Cropping1D, {}, (4,), r"expects input of rank 3"),
    (Cropping2D, {"cropping": ((2, 2), (0, 0))}, (4, 5, 1), r"cannot crop 4 rows/columns from the height \(axis 1\)"),
    (Cropping2D, {"cropping": ((0, 0), (1, 1)), "data_format": CF}, (3, 4, 2), r"from the width \(axis 3\)"),
    (Add, {}, (4,), r"Add 'add' should be called on a list of tensors, e.g. Add\(\)\(\[a, b\]\); received a single input of shape \(None, 4\)"),
    (Add, {}, [(4,), (5,)], r"Add 'add' received inputs with incompatible shapes \[\(None, 4\), \(None, 5\)\]"),
    (Multiply, {}, [(3, 4), (2, 4)], r"incompatible shapes.*\(3 vs 2\)"),
    (Subtract, {}, [(4,), (4,), (4,)], r"Subtract 'subtract' expects exactly 2 inputs; received 3"),
    (Subtract, {}, [(4,)], r"expects exactly 2 inputs; received 1"),
    (Concatenate, {}, [(4, 3), (5, 2)], r"Concatenate 'concatenate' requires inputs with matching shapes except on the concatenation axis \(axis=-1\); received shapes \[\(None, 4, 3\), \(None, 5, 2\)\]"),
    (Concatenate, {}, [(4, 3), (3,)], r"requires inputs of the same rank"),
    (Concatenate, {"axis": 3}, [(4, 3), (4, 3)], r"axis=3, out of range"),
    (Dot, {"axes": 1}, [(4,), (5,)], r"Dot 'dot' received incompatible input shapes.*size 4.*size 5"),
    (Dot, {"axes": 0}, [(4,), (4,)], r"cannot contract the batch axis"),
    (Dot, {"axes": 1}, [(4,), (4,), (4,)], r"expects exactly 2 inputs"),
    (Dot, {"axes": 3}, [(4,), (4,)], r"out of range"),
]


@pytest.mark.parametrize("cls, kwargs, input_shape, pattern", BAD_SHAPE,
                         ids=[f"{c.__name__}-{i}" for i, (c, *_rest) in enumerate(BAD_SHAPE)])
def test_bad_input_shape(cls, kwargs, input_shape, pattern):
    layer = cls(**kwargs)
    if isinstance(input_shape, list):
        inputs = [dn.Input(shape=s) for s in input_shape]
    else:
        inputs = dn.Input(shape=input_shape)
    with pytest.raises(ValueError, match=pattern):
        layer(inputs)


def test_runtime_errors():
    # sizes unknown at build time are checked on the real tensors
    with pytest.raises(ValueError, match=r"Reshape 'reshape' cannot reshape input of shape \(2, 5\)"):
        layer = Reshape((2, 2))
        layer(dn.Input(shape=(None,)))
        layer(torch.zeros(2, 5))
    with pytest.raises(ValueError, match=r"Cropping1D .* cannot crop 2 steps"):
        layer = Cropping1D((1, 1))
        layer(dn.Input(shape=(None, 3)))
        layer(torch.zeros(2, 2, 3))
    with pytest.raises(ValueError, match=r"Add 'add.*' should be called on a list of tensors"):
        layer = Add()
        layer([torch.zeros(2, 3), torch.zeros(2, 3)])
        layer(torch.zeros(2, 3))


def test_unknown_dims_shapes():
    assert Reshape((-1, 4))(dn.Input(shape=(None, 4))).shape == (None, None, 4)
    assert Concatenate(axis=1)([dn.Input(shape=(None, 3)), dn.Input(shape=(2, 3))]).shape == (None, None, 3)
    assert UpSampling2D()(dn.Input(shape=(None, 4, 2))).shape == (None, None, 8, 2)
    assert Cropping2D(1)(dn.Input(shape=(None, None, 2))).shape == (None, None, None, 2)
    assert ZeroPadding1D(2)(dn.Input(shape=(None, 3))).shape == (None, None, 3)


# --------------------------------------------------------------------------- training behaviour

@pytest.mark.parametrize("rate", [0.1, 0.5, 0.8])
@pytest.mark.parametrize("seed", [None, 11])
def test_dropout_training_vs_inference(rate, seed):
    layer = Dropout(rate, seed=seed)
    x = torch.ones(200, 250)
    y = layer(x, training=True)
    zero = (y == 0).float().mean().item()
    assert abs(zero - rate) < 0.02
    kept = y[y != 0]
    torch.testing.assert_close(kept, torch.full_like(kept, 1 / (1 - rate)))
    # inference: identity (same tensor), both with training=False and in eval mode
    assert layer(x, training=False) is x
    layer.eval()
    assert layer(x) is x
    layer.train()
    assert not torch.equal(layer(x), x)


def test_dropout_rate_edges():
    x = torch.randn(4, 5)
    assert Dropout(0.0)(x, training=True) is x
    assert torch.count_nonzero(Dropout(1.0)(x, training=True)) == 0
    assert torch.count_nonzero(Dropout(1.0, seed=1)(x, training=True)) == 0


def test_dropout_seed_reproducible():
    x = torch.ones(8, 16)
    a, b = Dropout(0.5, seed=42), Dropout(0.5, seed=42)
    ya, yb = a(x, training=True), b(x, training=True)
    torch.testing.assert_close(ya, yb)
    # successive calls draw fresh masks
    assert not torch.equal(a(x, training=True), ya)


def test_dropout_noise_shape_broadcasts():
    layer = Dropout(0.5, noise_shape=(None, 1, 6))
    y = layer(torch.ones(40, 5, 6), training=True)
    # the same features are dropped at every timestep
    assert torch.equal(y, y[:, :1, :].expand_as(y))
    assert 0.35 < (y[:, 0] == 0).float().mean().item() < 0.65


def test_spatial_dropout_drops_whole_channels():
    y = SpatialDropout1D(0.5)(torch.ones(50, 7, 8), training=True)
    assert torch.equal(y, y[:, :1, :].expand_as(y))
    assert 0.35 < (y[:, 0] == 0).float().mean().item() < 0.65
    y = SpatialDropout2D(0.5)(torch.ones(40, 3, 3, 8), training=True)
    assert torch.equal(y, y[:, :1, :1, :].expand_as(y))
    for seed in (None, 3):
        y = SpatialDropout2D(0.5, data_format=CF, seed=seed)(torch.ones(40, 8, 3, 3), training=True)
        assert torch.equal(y, y[:, :, :1, :1].expand_as(y))
        assert set(y.unique().tolist()) <= {0.0, 2.0}
    x = torch.ones(2, 3, 4)
    assert SpatialDropout1D(0.5)(x, training=False) is x


def test_gaussian_noise_std():
    layer = GaussianNoise(0.3)
    x = torch.zeros(200, 300)
    noise = layer(x, training=True)
    assert abs(noise.std().item() - 0.3) < 0.01
    assert abs(noise.mean().item()) < 0.01
    assert layer(x, training=False) is x
    seeded = GaussianNoise(0.3, seed=4)(x, training=True)
    torch.testing.assert_close(seeded, GaussianNoise(0.3, seed=4)(x, training=True))


def test_gaussian_dropout_statistics():
    rate = 0.3
    layer = GaussianDropout(rate)
    y = layer(torch.ones(200, 300), training=True)
    assert abs(y.mean().item() - 1.0) < 0.01
    assert abs(y.std().item() - math.sqrt(rate / (1 - rate))) < 0.01
    x = torch.ones(3, 3)
    assert layer(x, training=False) is x


def test_dropout_in_model_follows_train_eval():
    inp = dn.Input(shape=(50,))
    model = dn.Model(inp, Dropout(0.5)(inp))
    x = torch.ones(20, 50)
    model.eval()
    torch.testing.assert_close(model(x), x)
    model.train()
    assert (model(x) == 0).any()
    torch.testing.assert_close(model(x, training=False), x)


# --------------------------------------------------------------------------- values and masks

def test_reshaping_values():
    x = torch.arange(24.0).reshape(2, 3, 4)
    torch.testing.assert_close(Permute((2, 1))(x), x.transpose(1, 2))
    torch.testing.assert_close(Reshape((4, 3))(x), x.reshape(2, 4, 3))
    v = torch.arange(6.0).reshape(2, 3)
    torch.testing.assert_close(RepeatVector(2)(v), torch.stack([v, v], 1))
    torch.testing.assert_close(UpSampling1D(2)(x), x.repeat_interleave(2, dim=1))
    img = torch.arange(12.0).reshape(1, 2, 3, 2)
    expect = img.repeat_interleave(2, 1).repeat_interleave(3, 2)
    torch.testing.assert_close(UpSampling2D((2, 3))(img), expect)
    torch.testing.assert_close(Cropping1D((1, 0))(x), x[:, 1:])
    torch.testing.assert_close(ZeroPadding1D((1, 2))(x)[:, 1:4], x)
    assert ZeroPadding1D((1, 2))(x)[:, [0, 4, 5]].abs().sum() == 0


def test_merge_values():
    a, b, c = torch.randn(3, 2, 4).unbind(0)
    torch.testing.assert_close(Add()([a, b, c]), a + b + c)
    torch.testing.assert_close(Subtract()([a, b]), a - b)
    torch.testing.assert_close(Multiply()([a, b, c]), a * b * c)
    torch.testing.assert_close(Average()([a, b, c]), (a + b + c) / 3)
    torch.testing.assert_close(Maximum()([a, b, c]), torch.maximum(torch.maximum(a, b), c))
    torch.testing.assert_close(Minimum()([a, b]), torch.minimum(a, b))
    torch.testing.assert_close(Concatenate()([a, b]), torch.cat([a, b], -1))
    torch.testing.assert_close(Dot(axes=1)([a, b]), (a * b).sum(1, keepdim=True))
    cos = torch.nn.functional.cosine_similarity(a, b, dim=1).unsqueeze(1)
    torch.testing.assert_close(Dot(axes=1, normalize=True)([a, b]), cos)
    seq = torch.randn(2, 5, 4)
    torch.testing.assert_close(Add()([seq, a]), seq + a[:, None, :])


def _masked(x, mask):
    x._keras_mask = mask
    return x


def test_merge_masks():
    m1 = torch.tensor([[True, True, False], [True, False, False]])
    m2 = torch.tensor([[True, False, False], [True, True, False]])
    a = _masked(torch.randn(2, 3, 4), m1)
    b = _masked(torch.randn(2, 3, 4), m2)
    assert torch.equal(Add()([a, b])._keras_mask, m1 | m2)
    torch.testing.assert_close(Add()([a, b]), a + b)
    # one unmasked input: no output mask (Keras)
    assert getattr(Add()([a, torch.randn(2, 3, 4)]), "_keras_mask", None) is None
    # Concatenate on features: OR of masks, unmasked input counts as all-true
    assert torch.equal(Concatenate()([a, b])._keras_mask, m1 | m2)
    assert Concatenate()([a, torch.randn(2, 3, 4)])._keras_mask.all()
    # Concatenate on time: masks are concatenated
    assert torch.equal(Concatenate(axis=1)([a, b])._keras_mask, torch.cat([m1, m2], 1))
    assert getattr(Dot(axes=2)([a, b]), "_keras_mask", None) is None
    # Maximum ignores masked-out entries of an input; Multiply treats them as 1
    e1, e2 = m1[..., None], m2[..., None]
    expect = torch.where(e1 & e2, torch.maximum(a, b), torch.where(e2, b, a))
    torch.testing.assert_close(Maximum()([a, b]), expect)
    prod = torch.where(e1, a, 1.0) * torch.where(e2, b, 1.0)
    torch.testing.assert_close(Multiply()([a, b]), torch.where(e1 | e2, prod, 0.0))
    # Dropout passes the mask through
    assert torch.equal(Dropout(0.5)(a, training=True)._keras_mask, m1)


# --------------------------------------------------------------------------- gradchecks (float64)

def _gradcheck(layer, *shapes):
    xs = [torch.randn(*s, dtype=torch.float64, requires_grad=True) for s in shapes]
    fn = (lambda *t: layer(list(t))) if len(shapes) > 1 else layer
    assert torch.autograd.gradcheck(fn, tuple(xs))


@pytest.mark.parametrize("layer, shapes", [
    (lambda: Dot(axes=(2, 1), normalize=True, dtype="float64"), [(2, 3, 4), (2, 4, 2, 2)]),
    (lambda: Dot(axes=1, dtype="float64"), [(2, 4), (2, 4)]),
    (lambda: Average(dtype="float64"), [(2, 3), (2, 3), (2, 3)]),
    (lambda: Multiply(dtype="float64"), [(2, 3, 2), (2, 2)]),
    (lambda: UpSampling1D(3, dtype="float64"), [(2, 2, 3)]),
    (lambda: UpSampling2D((2, 3), dtype="float64"), [(1, 2, 2, 2)]),
    (lambda: UpSampling2D((2, 2), data_format=CF, dtype="float64"), [(1, 2, 2, 2)]),
    (lambda: RepeatVector(3, dtype="float64"), [(2, 3)]),
    (lambda: Cropping2D(((1, 0), (0, 1)), dtype="float64"), [(1, 3, 3, 2)]),
])
def test_gradcheck(layer, shapes):
    _gradcheck(layer(), *shapes)


def test_gradcheck_seeded_dropout():
    # with a fixed generator state the mask is a constant, so the map is linear
    x = torch.randn(3, 4, dtype=torch.float64, requires_grad=True)

    def fn(t):
        return Dropout(0.4, noise_shape=(None, 4), seed=9, dtype="float64")(t, training=True)

    assert torch.autograd.gradcheck(fn, (x,))

