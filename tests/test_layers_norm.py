"""Normalization layers and Embedding: bad inputs, training-vs-inference behaviour, masks and
float64 gradchecks (their harness rows live in tests/test_layer_harness.py; Keras parity lives
in test_parity_norm.py)."""

import warnings

import numpy as np
import pytest
import torch

import deepnet as dn
from deepnet.layers.core import Dense
from deepnet.layers.embedding import Embedding
from deepnet.layers.normalization import (
    BatchNormalization,
    GroupNormalization,
    LayerNormalization,
    RMSNormalization,
    UnitNormalization,
)

pytestmark = pytest.mark.filterwarnings("ignore:.*rms_scaling.*:DeprecationWarning")

# --------------------------------------------------------------------------- bad inputs

BAD = [
    # cls, kwargs, input shape (None: the constructor raises), exception, message regex
    (BatchNormalization, {"axis": 1.5}, None, TypeError, r"`axis` of BatchNormalization, expected an int"),
    (BatchNormalization, {"momentum": 1.5}, None, ValueError, r"`momentum` of BatchNormalization.*\[0, 1\].*momentum=1.5"),
    (BatchNormalization, {"epsilon": -1e-3}, None, ValueError, r"`epsilon` of BatchNormalization.*>= 0"),
    (BatchNormalization, {"center": "yes"}, None, TypeError, r"`center` of BatchNormalization, expected a bool"),
    (BatchNormalization, {"synchronized": "yes"}, None, TypeError, r"`synchronized` of BatchNormalization"),
    (BatchNormalization, {"renorm": True, "renorm_clipping": {"rmax": 0.5, "rmin": 1.0}}, None, ValueError, r"rmax >= rmin"),
    (BatchNormalization, {"renorm_clipping": {"foo": 1.0}}, None, ValueError, r"renorm_clipping.*'rmax'"),
    (BatchNormalization, {"renorm_clipping": {"dmax": -1.0}}, None, ValueError, r"dmax >= 0"),
    (BatchNormalization, {"gamma_initializer": "onez"}, None, ValueError, r"Unknown initializer 'onez'"),
    (BatchNormalization, {"mommentum": 0.9}, None, TypeError, r"unexpected keyword.*mommentum"),
    (BatchNormalization, {}, (None,), ValueError, r"BatchNormalization 'batch_normalization' expects input of rank >= 2"),
    (BatchNormalization, {"axis": 3}, (None, 4, 3), ValueError, r"axis=3 is out of bounds for input of rank 3"),
    (BatchNormalization, {"axis": 0}, (None, 4), ValueError, r"batch axis"),
    (BatchNormalization, {}, (None, 5, None), ValueError, r"needs the normalised axis \(axis 2\).*defined"),
    (LayerNormalization, {"axis": "last"}, None, TypeError, r"`axis` of LayerNormalization, expected an int or a non-empty list"),
    (LayerNormalization, {"axis": []}, None, TypeError, r"`axis` of LayerNormalization"),
    (LayerNormalization, {"epsilon": "small"}, None, ValueError, r"`epsilon` of LayerNormalization"),
    (LayerNormalization, {"scale": None}, None, TypeError, r"`scale` of LayerNormalization"),
    (LayerNormalization, {"axis": [1, -1]}, (None, 3), ValueError, r"names the same axis twice"),
    (LayerNormalization, {"axis": -3}, (None, 3), ValueError, r"out of bounds"),
    (GroupNormalization, {"groups": 0}, None, ValueError, r"`groups` of GroupNormalization, expected a positive integer \(or -1"),
    (GroupNormalization, {"groups": 2.0}, None, ValueError, r"`groups` of GroupNormalization"),
    (GroupNormalization, {"groups": 4}, (None, 6), ValueError, r"channels \(6.*multiple of `groups`.*groups=4"),
    (GroupNormalization, {"groups": 8}, (None, 5, 4), ValueError, r"multiple of `groups` and at least as large"),
    (GroupNormalization, {"groups": 2, "axis": [1, 2]}, None, TypeError, r"`axis` of GroupNormalization, expected an int"),
    (UnitNormalization, {"axis": None}, None, TypeError, r"`axis` of UnitNormalization"),
    (UnitNormalization, {"axis": 2}, (None, 4), ValueError, r"out of bounds"),
    (RMSNormalization, {"epsilon": float("nan")}, None, ValueError, r"`epsilon` of RMSNormalization"),
    (RMSNormalization, {}, (None, None), ValueError, r"needs the normalised axis"),
    (Embedding, {"input_dim": 0, "output_dim": 3}, None, ValueError, r"`input_dim` of Embedding, expected a positive integer. Received: input_dim=0"),
    (Embedding, {"input_dim": 5, "output_dim": 2.5}, None, ValueError, r"`output_dim` of Embedding"),
    (Embedding, {"input_dim": 5, "output_dim": 2, "mask_zero": 1}, None, TypeError, r"`mask_zero` of Embedding, expected a bool"),
    (Embedding, {"input_dim": 5, "output_dim": 2, "embeddings_initializer": "unifrom"}, None, ValueError, r"Unknown initializer 'unifrom'"),
    (Embedding, {"input_dim": 5, "output_dim": 2, "lora_rank": 4}, None, NotImplementedError, r"`lora_rank`.*not supported"),
    (Embedding, {"input_dim": 5, "output_dim": 2, "weights": np.zeros((5, 3))}, None, ValueError, r"embeddings \(5, 2\).*\(5, 3\)"),
]


@pytest.mark.parametrize("cls, kwargs, input_shape, exc, pattern", BAD)
def test_bad_inputs(cls, kwargs, input_shape, exc, pattern):
    with pytest.raises(exc, match=pattern):
        layer = cls(**kwargs)
        layer(dn.Input(batch_shape=input_shape))


def test_bad_mask_rank():
    layer = BatchNormalization()
    with pytest.raises(ValueError, match=r"mask must have one dimension less"):
        layer(torch.randn(4, 3, 2), mask=torch.ones(4, 3, 2, dtype=torch.bool), training=True)


def test_embedding_index_out_of_range():
    layer = Embedding(5, 2)
    with pytest.raises(ValueError, match=r"outside \[0, input_dim\) = \[0, 5\).*largest index 7"):
        layer(torch.tensor([[1, 7]]))


# --------------------------------------------------------------------------- BatchNormalization behaviour


def _bn_reference(x, gamma, beta, mean, var, eps, axis=-1):
    shape = [1] * x.ndim
    shape[axis] = -1
    return (x - mean.reshape(shape)) / np.sqrt(var.reshape(shape) + eps) * gamma.reshape(shape) + beta.reshape(shape)


def test_bn_training_step_updates_moving_stats_like_keras():
    keras = pytest.importorskip("keras")
    x = (np.random.default_rng(0).normal(size=(16, 3, 5)) * 2 + 1).astype("float32")
    k = keras.layers.BatchNormalization(momentum=0.9)
    d = BatchNormalization(momentum=0.9)
    k.build(x.shape)
    d(dn.Input(shape=x.shape[1:]))
    d.set_weights(k.get_weights())
    k_out = keras.ops.convert_to_numpy(k(x, training=True))
    d_out = d(torch.as_tensor(x), training=True).detach().numpy()
    np.testing.assert_allclose(d_out, k_out, atol=1e-5)
    for a, b in zip(d.get_weights(), k.get_weights()):
        np.testing.assert_allclose(a, np.asarray(b), rtol=1e-6, atol=1e-7)
    # Keras semantics: biased batch variance, moving = moving * momentum + batch * (1 - momentum)
    flat = x.reshape(-1, 5)
    np.testing.assert_allclose(d.moving_mean.numpy(), 0.1 * flat.mean(0), rtol=1e-5)
    np.testing.assert_allclose(d.moving_variance.numpy(), 0.9 + 0.1 * flat.var(0), rtol=1e-5)


def test_bn_inference_uses_moving_stats():
    d = BatchNormalization(epsilon=1e-3)
    x = np.random.default_rng(1).normal(size=(6, 4)).astype("float32")
    d(dn.Input(shape=(4,)))
    rng = np.random.default_rng(2)
    gamma, beta, mean = (rng.normal(size=4).astype("float32") for _ in range(3))
    var = rng.uniform(0.5, 2, size=4).astype("float32")
    d.set_weights([gamma, beta, mean, var])
    d.eval()
    out = d(torch.as_tensor(x)).detach().numpy()
    np.testing.assert_allclose(out, _bn_reference(x, gamma, beta, mean, var, 1e-3), rtol=1e-5, atol=1e-5)
    out_kw = d(torch.as_tensor(x), training=False).detach().numpy()
    np.testing.assert_allclose(out_kw, out)
    np.testing.assert_allclose(d.moving_mean.numpy(), mean)  # untouched at inference


def test_bn_training_mode_uses_batch_stats_and_train_flag():
    d = BatchNormalization(center=False, scale=False)
    x = torch.randn(32, 3) * 4 + 2
    d.train()
    y = d(x)
    torch.testing.assert_close(y.mean(0), torch.zeros(3), atol=1e-5, rtol=0)
    torch.testing.assert_close(y.var(0, correction=0), torch.ones(3) * (x.var(0, correction=0) / (x.var(0, correction=0) + 1e-3)), atol=1e-4, rtol=0)
    assert not torch.allclose(d.moving_mean, torch.zeros(3))
    d.eval()
    before = d.moving_mean.clone()
    d(x, training=True)  # explicit training=True wins over eval()
    assert not torch.equal(before, d.moving_mean)


@pytest.mark.parametrize("set_after", [False, True])
def test_bn_not_trainable_runs_in_inference_mode(set_after):
    d = BatchNormalization(trainable=set_after)
    x = torch.randn(8, 3) * 3 + 5
    d(x[:1], training=False)  # build
    if set_after:
        d.trainable = False
    d.train()
    y = d(x, training=True)
    torch.testing.assert_close(d.moving_mean, torch.zeros(3))
    torch.testing.assert_close(d.moving_variance, torch.ones(3))
    torch.testing.assert_close(y, x / np.sqrt(1 + 1e-3))
    assert d.trainable_weights == [] and len(d.non_trainable_weights) == 4


def test_bn_non_trainable_weights_are_buffers():
    d = BatchNormalization()
    d(dn.Input(shape=(3,)))
    assert [n for n, _ in d.named_parameters()] == ["gamma", "beta"]
    assert [n for n, _ in d.named_buffers()] == ["moving_mean", "moving_variance"]
    assert sum(w.numel() for w in d.non_trainable_weights) == 6
    assert d.count_params() == 12


def test_bn_channels_last_uses_views():
    d = BatchNormalization()
    x = torch.randn(2, 3, 3, 4)
    d(x)
    assert d._to_kernel(x).data_ptr() == x.data_ptr() and d._to_kernel(x).shape == (18, 4)


def test_bn_masked_statistics_skip_masked_positions():
    x = torch.randn(4, 5, 3)
    mask = torch.rand(4, 5) > 0.4
    mask[0, 0] = True
    d = BatchNormalization(momentum=0.0, center=False, scale=False)
    d(x, training=True, mask=mask)
    kept = x[mask]
    torch.testing.assert_close(d.moving_mean, kept.mean(0), atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(d.moving_variance, kept.var(0, correction=0), atol=1e-5, rtol=1e-5)


# --------------------------------------------------------------------------- other layers' behaviour


def test_layer_normalization_non_trailing_axis_matches_reference():
    x = np.random.default_rng(3).normal(size=(2, 3, 4)).astype("float32")
    ln = LayerNormalization(axis=1)
    out = ln(torch.as_tensor(x)).detach().numpy()
    ref = (x - x.mean(1, keepdims=True)) / np.sqrt(x.var(1, keepdims=True) + 1e-3)
    np.testing.assert_allclose(out, ref, atol=1e-5)


def test_layer_normalization_rms_scaling_warns_and_skips_centering():
    with pytest.warns(DeprecationWarning, match="RMSNormalization"):
        ln = LayerNormalization(rms_scaling=True)
    x = np.random.default_rng(4).normal(size=(3, 5)).astype("float32") + 2
    out = ln(torch.as_tensor(x)).detach().numpy()
    np.testing.assert_allclose(out, x / np.sqrt(x.var(-1, keepdims=True) + 1e-3), rtol=1e-5)
    assert ln.beta is None


def test_group_normalization_matches_reference():
    x = np.random.default_rng(5).normal(size=(2, 3, 3, 6)).astype("float32")
    gn = GroupNormalization(groups=2)
    out = gn(torch.as_tensor(x)).detach().numpy()
    g = x.reshape(2, 3, 3, 2, 3)
    ref = (g - g.mean((1, 2, 4), keepdims=True)) / np.sqrt(g.var((1, 2, 4), keepdims=True) + 1e-3)
    np.testing.assert_allclose(out, ref.reshape(x.shape), atol=1e-5)


def test_unit_and_rms_normalization_values():
    x = torch.randn(3, 4, 5)
    y = UnitNormalization(axis=[1, 2])(x)
    torch.testing.assert_close(y.square().sum((1, 2)), torch.ones(3))
    z = RMSNormalization(axis=1)(x)
    torch.testing.assert_close(z, x * torch.rsqrt(x.square().mean(1, keepdim=True) + 1e-6))


# --------------------------------------------------------------------------- Embedding behaviour


def test_embedding_mask_propagation():
    x = torch.tensor([[3, 1, 0, 0], [2, 0, 4, 0]])
    emb = Embedding(5, 3, mask_zero=True)
    out = emb(x)
    assert out.dtype == torch.float32 and out.shape == (2, 4, 3)
    torch.testing.assert_close(out._keras_mask, x != 0)
    # normalization layers pass the mask through
    for layer in (LayerNormalization(), BatchNormalization(), GroupNormalization(groups=3), UnitNormalization()):
        y = layer(out)
        torch.testing.assert_close(y._keras_mask, x != 0)
    assert getattr(Embedding(5, 3)(x), "_keras_mask", None) is None


def test_embedding_mask_in_a_model():
    inputs = dn.Input(shape=(4,), dtype="int64")
    h = Embedding(6, 3, mask_zero=True)(inputs)
    outputs = BatchNormalization()(h)
    model = dn.Model(inputs, outputs)
    x = torch.tensor([[1, 2, 0, 0], [5, 0, 0, 0]])
    y = model(x)
    assert y.shape == (2, 4, 3)
    torch.testing.assert_close(y._keras_mask, x != 0)


def test_embedding_lookup_float_input_and_weights_argument():
    table = np.arange(12, dtype="float32").reshape(4, 3)
    emb = Embedding(4, 3, weights=[table])
    assert emb.built
    np.testing.assert_array_equal(emb.get_weights()[0], table)
    out = emb(torch.tensor([[1.0, 3.7]]))  # floats are truncated, as Keras casts them
    np.testing.assert_array_equal(out.detach().numpy(), table[[[1, 3]]])
    out32 = emb(torch.tensor([[2, 0]], dtype=torch.int32))
    np.testing.assert_array_equal(out32.detach().numpy(), table[[[2, 0]]])
    emb2 = Embedding(4, 3, weights=table)
    np.testing.assert_array_equal(emb2.get_weights()[0], table)


def test_embedding_defaults_and_input_length():
    emb = Embedding(50, 8)
    emb(dn.Input(shape=(3,), dtype="int64"))
    w = emb.get_weights()[0]
    assert w.shape == (50, 8) and np.abs(w).max() <= 0.05 and np.abs(w).max() > 0.03
    assert emb.get_config()["embeddings_initializer"]["class_name"] == "RandomUniform"
    with pytest.warns(DeprecationWarning, match="input_length"):
        Embedding(5, 2, input_length=3)


def test_embedding_regularizer_loss():
    emb = Embedding(4, 2, embeddings_regularizer=dn.regularizers.L2(0.1))
    emb(torch.tensor([[1]]))
    (loss,) = emb.losses
    torch.testing.assert_close(loss, 0.1 * emb.embeddings.square().sum())


# --------------------------------------------------------------------------- gradchecks (float64)


def _gradcheck(layer, shape, *, training=None, mask=None, seed=0):
    torch.manual_seed(seed)
    x = torch.randn(shape, dtype=torch.float64) * 2 + 0.5
    layer(x, training=False)  # build
    with torch.no_grad():
        for w in layer.trainable_weights:
            w.add_(torch.randn_like(w) * 0.3)
    params = list(layer.trainable_weights)
    x.requires_grad_(True)

    def fn(inp, *ws):
        kwargs = {} if training is None else {"training": training}
        if mask is not None:
            kwargs["mask"] = mask
        return layer(inp, **kwargs)

    assert torch.autograd.gradcheck(fn, (x, *params), eps=1e-6, atol=1e-5)


GRADCHECK = [
    (lambda: BatchNormalization(dtype="float64"), (6, 3), True),
    (lambda: BatchNormalization(dtype="float64"), (3, 2, 2, 3), True),
    (lambda: BatchNormalization(axis=1, dtype="float64"), (3, 2, 4), True),
    (lambda: BatchNormalization(axis=2, dtype="float64"), (3, 2, 3, 2), True),
    (lambda: BatchNormalization(dtype="float64"), (4, 3), False),
    (lambda: LayerNormalization(dtype="float64"), (3, 4), None),
    (lambda: LayerNormalization(axis=1, dtype="float64"), (2, 3, 4), None),
    (lambda: LayerNormalization(axis=[1, 3], center=False, dtype="float64"), (2, 2, 3, 2), None),
    (lambda: LayerNormalization(rms_scaling=True, dtype="float64"), (3, 4), None),
    (lambda: GroupNormalization(groups=2, dtype="float64"), (2, 3, 4), None),
    (lambda: GroupNormalization(groups=2, dtype="float64"), (2, 2, 2, 2, 4), None),
    (lambda: GroupNormalization(groups=2, axis=1, dtype="float64"), (2, 4, 3), None),
    (lambda: GroupNormalization(groups=3, axis=2, dtype="float64"), (2, 2, 3, 2), None),
    (lambda: UnitNormalization(axis=[1, 2], dtype="float64"), (2, 3, 2), None),
    (lambda: RMSNormalization(axis=1, dtype="float64"), (2, 3, 4), None),
    (lambda: RMSNormalization(dtype="float64"), (2, 3), None),
]


@pytest.mark.parametrize("make, shape, training", GRADCHECK)
def test_gradcheck(make, shape, training):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        layer = make()
    _gradcheck(layer, shape, training=training)


def test_gradcheck_masked_batch_norm():
    mask = torch.tensor([[True, False, True], [True, True, False], [False, True, True]])
    _gradcheck(BatchNormalization(dtype="float64"), (3, 3, 2), training=True, mask=mask)


def test_gradient_reaches_embedding_rows():
    emb = Embedding(5, 2)
    out = Dense(1)(emb(torch.tensor([[1, 1, 3]])))
    out.sum().backward()
    grad = emb.embeddings.grad
    assert grad[1].abs().sum() > 0 and grad[3].abs().sum() > 0
    assert grad[[0, 2, 4]].abs().sum() == 0
