"""Shape, mask, gradient and bad-input tests of the attention layers (their harness rows live
in tests/test_layer_harness.py)."""

import pytest
import torch

import deepnet as dn
from deepnet.layers.attention import AdditiveAttention, Attention, MultiHeadAttention

# --------------------------------------------------------------------------- symbolic use

def test_mha_symbolic_shapes_and_weights():
    q, v, k = dn.Input((5, 4)), dn.Input((6, 7)), dn.Input((6, 3))
    mha = MultiHeadAttention(num_heads=2, key_dim=3, value_dim=5)
    out, scores = mha(q, v, key=k, return_attention_scores=True)
    assert out.shape == (None, 5, 4)
    assert scores.shape == (None, 2, 5, 6)
    assert [w.shape for w in mha.get_weights()] == [
        (4, 2, 3), (2, 3), (3, 2, 3), (2, 3), (7, 2, 5), (2, 5), (2, 5, 4), (4,)]
    assert mha.name == "multi_head_attention"
    model = dn.Model([q, v, k], [out, scores])
    o, s = model([torch.randn(2, 5, 4), torch.randn(2, 6, 7), torch.randn(2, 6, 3)])
    assert o.shape == (2, 5, 4) and s.shape == (2, 2, 5, 6)
    torch.testing.assert_close(s.sum(-1), torch.ones(2, 2, 5))


def test_mha_kwargs_call_and_rank4_scores_shape():
    q = dn.Input((3, 4, 5))
    mha = MultiHeadAttention(num_heads=2, key_dim=3, attention_axes=-2)
    out, scores = mha(query=q, value=q, return_attention_scores=True)
    assert out.shape == (None, 3, 4, 5)
    assert scores.shape == (None, 3, 2, 4, 4)
    o, s = mha(torch.randn(2, 3, 4, 5), torch.randn(2, 3, 4, 5), return_attention_scores=True)
    assert s.shape == (2, 3, 2, 4, 4)


def test_mha_stored_layout_is_matmul_ready():
    mha = MultiHeadAttention(num_heads=2, key_dim=3, value_dim=5)
    mha(torch.randn(2, 5, 4), torch.randn(2, 6, 7))
    assert tuple(mha.query_kernel.shape) == (2, 3, 4) and mha.query_kernel.is_contiguous()
    assert tuple(mha.value_kernel.shape) == (2, 5, 7)
    assert tuple(mha.output_kernel.shape) == (4, 2, 5) and mha.output_kernel.is_contiguous()


def test_mha_output_keeps_query_mask():
    mha = MultiHeadAttention(num_heads=2, key_dim=3)
    q = torch.randn(2, 5, 4)
    q._keras_mask = torch.tensor([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]], dtype=torch.bool)
    out = mha(q, torch.randn(2, 6, 4))
    assert torch.equal(out._keras_mask, q._keras_mask)


def test_attention_output_mask_is_query_mask():
    q, v = torch.randn(2, 5, 4), torch.randn(2, 6, 4)
    qm = torch.tensor([[1, 1, 0, 0, 0], [1, 1, 1, 1, 1]], dtype=torch.bool)
    out = Attention()([q, v], mask=[qm, None])
    assert torch.equal(out._keras_mask, qm)
    assert torch.all(out[0, 2:] == 0)


# --------------------------------------------------------------------------- masks / training

def test_mha_causal_mask_blocks_future():
    mha = MultiHeadAttention(num_heads=2, key_dim=3)
    x = torch.randn(1, 5, 4)
    _, scores = mha(x, x, use_causal_mask=True, return_attention_scores=True)
    assert torch.all(scores.triu(1) == 0)
    mha.eval()
    fused = mha(x, x, use_causal_mask=True)
    explicit, _ = mha(x, x, use_causal_mask=True, return_attention_scores=True)
    torch.testing.assert_close(fused, explicit)
    y = x.clone()
    y[:, -1] += 10.0  # changing the last step cannot affect earlier outputs
    torch.testing.assert_close(mha(y, y, use_causal_mask=True)[:, :-1], fused[:, :-1])


def test_mha_fully_masked_rows_follow_keras():
    """Keras: the fused path averages the values uniformly, the explicit path gives zeros."""
    mha = MultiHeadAttention(num_heads=2, key_dim=3, bias_initializer="ones")
    mha.eval()
    q, v = torch.randn(2, 3, 4), torch.randn(2, 5, 4)
    mask = torch.ones(2, 3, 5, dtype=torch.bool)
    mask[0, 1] = False
    fused = mha(q, v, attention_mask=mask)
    explicit, scores = mha(q, v, attention_mask=mask, return_attention_scores=True)
    assert torch.isfinite(fused).all() and torch.isfinite(explicit).all()
    assert torch.all(scores[0, :, 1] == 0)
    torch.testing.assert_close(explicit[0, 1], mha.output_bias)
    torch.testing.assert_close(fused[1], explicit[1])
    unmasked = mha(q, v)
    assert not torch.allclose(fused[0, 1], explicit[0, 1])
    assert not torch.allclose(fused[0, 1], unmasked[0, 1])
    dropping = MultiHeadAttention(num_heads=2, key_dim=3, dropout=0.5)
    dropping(q, v)
    dropping.set_weights(mha.get_weights())
    dropping.eval()
    torch.testing.assert_close(dropping(q, v, attention_mask=mask), explicit)


def test_mha_dropout_only_in_training():
    mha = MultiHeadAttention(num_heads=2, key_dim=4, dropout=0.5)
    x = torch.randn(2, 6, 8)
    mha.eval()
    ref = mha(x, x)
    torch.testing.assert_close(mha(x, x, training=False), ref)
    assert not torch.allclose(mha(x, x, training=True), ref)
    _, scores = mha(x, x, training=True, return_attention_scores=True)  # scores are pre-dropout
    torch.testing.assert_close(scores.sum(-1), torch.ones(2, 2, 6))


def test_mha_seeded_dropout_is_reproducible():
    x = torch.randn(2, 6, 8)
    a = MultiHeadAttention(num_heads=2, key_dim=4, dropout=0.5, seed=7)
    b = MultiHeadAttention(num_heads=2, key_dim=4, dropout=0.5, seed=7)
    a(x, x)
    b(x, x)
    b.set_weights(a.get_weights())
    torch.testing.assert_close(a(x, x, training=True), b(x, x, training=True))


def test_mha_regularization_losses():
    mha = MultiHeadAttention(num_heads=2, key_dim=3, kernel_regularizer="l2", activity_regularizer="l1")
    x = torch.randn(2, 5, 4)
    mha(x, x)
    assert len(mha.losses) == 4 + 1  # one per kernel, plus the activity penalty
    expected = sum(0.01 * w.square().sum() for w in (mha.query_kernel, mha.key_kernel, mha.value_kernel,
                                                     mha.output_kernel))
    torch.testing.assert_close(sum(mha.losses[:4]), expected)


def test_mha_float64_gradcheck():
    torch.manual_seed(0)
    mha = MultiHeadAttention(num_heads=2, key_dim=2, dtype="float64", bias_initializer="random_normal")
    q = torch.randn(2, 3, 4, dtype=torch.float64, requires_grad=True)
    v = torch.randn(2, 4, 3, dtype=torch.float64, requires_grad=True)
    mask = torch.ones(2, 3, 4, dtype=torch.bool)
    mask[0, 0, 1:] = False
    fully_masked = mask.clone()
    fully_masked[1, 2] = False
    mha(q, v)
    mha.eval()
    assert mha.query_kernel.dtype == torch.float64
    check = lambda f, inputs: torch.autograd.gradcheck(f, inputs, fast_mode=True)  # noqa: E731
    # the fused path, with a partially masked row (a fully masked row is numerically constant
    # there: the huge additive mask absorbs the logits, but autograd still differentiates them)
    assert check(lambda a, b: mha(a, b, attention_mask=mask), (q, v))
    assert check(lambda a, b: mha(a, b, attention_mask=fully_masked, return_attention_scores=True), (q, v))
    assert check(lambda a, b: mha(a, b, use_causal_mask=True, return_attention_scores=True), (q, v))


@pytest.mark.parametrize("cls, kwargs", [
    (Attention, {"use_scale": True}),
    (Attention, {"use_scale": True, "score_mode": "concat"}),
    (AdditiveAttention, {}),
])
def test_attention_float64_gradcheck(cls, kwargs):
    layer = cls(dtype="float64", **kwargs)
    q = torch.randn(2, 3, 4, dtype=torch.float64, requires_grad=True)
    v = torch.randn(2, 4, 2, dtype=torch.float64, requires_grad=True)
    k = torch.randn(2, 4, 4, dtype=torch.float64, requires_grad=True)
    vm = torch.tensor([[1, 1, 0, 1], [1, 0, 0, 0]], dtype=torch.bool)
    layer([q, v, k])
    layer.eval()
    check = lambda f, inputs: torch.autograd.gradcheck(f, inputs, fast_mode=True)  # noqa: E731
    assert check(lambda a, b, c: layer([a, b, c], mask=[None, vm], use_causal_mask=True), (q, v, k))
    assert check(lambda a, b, c: layer([a, b, c], return_attention_scores=True), (q, v, k))


# --------------------------------------------------------------------------- bad inputs

@pytest.mark.parametrize("cls, kwargs, exc, match", [
    (MultiHeadAttention, {"num_heads": 0, "key_dim": 2}, ValueError, r"`num_heads` of MultiHeadAttention.*num_heads=0"),
    (MultiHeadAttention, {"num_heads": 2, "key_dim": 0}, ValueError, r"`key_dim`.*positive integer.*key_dim=0"),
    (MultiHeadAttention, {"num_heads": 2, "key_dim": 2.5}, ValueError, r"key_dim=2.5"),
    (MultiHeadAttention, {"num_heads": 2, "key_dim": 2, "value_dim": -1}, ValueError, r"value_dim=-1"),
    (MultiHeadAttention, {"num_heads": 2, "key_dim": 2, "dropout": 1.0}, ValueError, r"`dropout`.*\[0, 1\)"),
    (MultiHeadAttention, {"num_heads": 2, "key_dim": 2, "output_shape": (4, 0)}, ValueError, r"output_shape"),
    (MultiHeadAttention, {"num_heads": 2, "key_dim": 2, "attention_axes": "a"}, ValueError, r"attention_axes='a'"),
    (MultiHeadAttention, {"num_heads": 2, "key_dim": 2, "use_bias": "yes"}, TypeError, r"use_bias"),
    (MultiHeadAttention, {"num_heads": 2, "key_dim": 2, "seed": -1}, ValueError, r"seed=-1"),
    (MultiHeadAttention, {"num_heads": 2, "key_dim": 2, "sliding_window": 0}, ValueError, r"sliding_window"),
    (MultiHeadAttention, {"num_heads": 2, "key_dim": 2, "dropout": 0.1, "flash_attention": True},
     ValueError, r"flash_attention"),
    (MultiHeadAttention, {"num_heads": 2, "key_dim": 2, "kernel_initializer": "nope"}, ValueError, r"nope"),
    (Attention, {"score_mode": "general"}, ValueError, r"`score_mode` of Attention.*'general'"),
    (Attention, {"dropout": -0.1}, ValueError, r"dropout=-0.1"),
    (Attention, {"use_scale": "yes"}, TypeError, r"use_scale"),
    (AdditiveAttention, {"dropout": 2}, ValueError, r"AdditiveAttention"),
])
def test_bad_constructor_arguments(cls, kwargs, exc, match):
    with pytest.raises(exc, match=match):
        cls(**kwargs)


@pytest.mark.parametrize("kwargs, shapes, exc, match", [
    ({}, [(None, 4), (None, 4)], ValueError, r"MultiHeadAttention 'multi_head_attention' expects `query` of rank >= 3"),
    ({}, [(None, 5, 4), (None, 6, 4), (None, 5, 4)], ValueError, r"except the last one"),
    ({}, [(None, 5, 4), (None, 2, 6, 4)], ValueError, r"same rank"),
    ({}, [(None, 5, None), (None, 6, 4)], ValueError, r"last \(features\) of `query`"),
    ({"attention_axes": (0,)}, [(None, 3, 4, 5), (None, 3, 4, 5)], ValueError, r"attention_axes.*inner axes"),
    ({"attention_axes": (3,)}, [(None, 3, 4, 5), (None, 3, 4, 5)], ValueError, r"batch or feature axis"),
])
def test_mha_bad_shapes(kwargs, shapes, exc, match):
    layer = MultiHeadAttention(num_heads=2, key_dim=3, **kwargs)
    with pytest.raises(exc, match=match):
        layer(*[dn.Input(batch_shape=s) for s in shapes])


def test_mha_bad_call_arguments():
    layer = MultiHeadAttention(num_heads=2, key_dim=3)
    q, v = torch.randn(2, 5, 4), torch.randn(2, 6, 4)
    with pytest.raises(ValueError, match=r"`attention_mask` of shape \(2, 5, 5\) does not broadcast"):
        layer(q, v, attention_mask=torch.ones(2, 5, 5, dtype=torch.bool))
    flash = MultiHeadAttention(num_heads=2, key_dim=3, flash_attention=True)
    with pytest.raises(ValueError, match="return_attention_scores"):
        flash(q, v, return_attention_scores=True)
    rank4 = MultiHeadAttention(num_heads=2, key_dim=3)
    x = torch.randn(2, 3, 4, 5)
    with pytest.raises(ValueError, match="need 3D inputs"):
        rank4(x, x, use_causal_mask=True)


@pytest.mark.parametrize("cls, shapes, match", [
    (Attention, [(None, 5, 4)], r"list \[query, value\].*length 1"),
    (Attention, [(None, 5, 4), (None, 6, 3), (None, 6, 3)], r"same last dimension"),
    (Attention, [(None, 4), (None, 4)], r"Attention .attention. expects `query` of rank >= 3"),
    (AdditiveAttention, [(None, 5, 4), (None, 6, 4), (None, 7, 4)], r"same number of steps"),
])
def test_attention_bad_shapes(cls, shapes, match):
    with pytest.raises(ValueError, match=match):
        cls()([dn.Input(batch_shape=s) for s in shapes])


def test_attention_requires_list():
    with pytest.raises(ValueError, match=r"must be called on a list"):
        Attention()(torch.randn(2, 5, 4))
