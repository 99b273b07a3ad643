"""Keras 3 parity of the attention layers: outputs and attention scores after copying weights."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import deepnet as dn
from deepnet.layers.attention import AdditiveAttention, Attention, MultiHeadAttention
from deepnet.layers.core import Dense
from parity import assert_parity, keras

L = keras.layers
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")  # Keras' NumPy 2 notices
RNG = np.random.default_rng(0)


def _rand(*shape):
    return RNG.standard_normal(shape).astype("float32")


def _with_mask(x, mask):
    t = torch.as_tensor(x).clone()
    if mask is not None:
        t._keras_mask = torch.as_tensor(mask)
    return t


def _perturbed(weights):
    """Keras' weights plus noise so that zero-initialised biases matter in the comparison."""
    return [w + 0.2 * RNG.standard_normal(w.shape).astype(w.dtype) for w in weights]


def _layer_parity(k_layer, d_layer, args, kwargs=None, masks=None, atol=1e-5):
    """Call both layers on the same tensors (``masks`` become the inputs' ``_keras_mask``)
    with the same weights; compare every output (attention scores included)."""
    kwargs = kwargs or {}
    masks = masks or [None] * len(args)
    k_layer(*[torch.as_tensor(a) for a in args])
    d_layer(*[torch.as_tensor(a) for a in args])
    weights = _perturbed([np.asarray(w) for w in k_layer.get_weights()])
    k_layer.set_weights(weights)
    d_layer.set_weights(weights)
    d_layer.eval()
    k_kw = {k: (np.asarray(v) if isinstance(v, np.ndarray) else v) for k, v in kwargs.items()}
    d_kw = {k: (torch.as_tensor(v) if isinstance(v, np.ndarray) else v) for k, v in kwargs.items()}
    k_out = k_layer(*[_with_mask(a, m) for a, m in zip(args, masks)], training=False, **k_kw)
    with torch.no_grad():
        d_out = d_layer(*[_with_mask(a, m) for a, m in zip(args, masks)], **d_kw)
    k_out = k_out if isinstance(k_out, tuple) else (k_out,)
    d_out = d_out if isinstance(d_out, tuple) else (d_out,)
    assert len(k_out) == len(d_out)
    for k, d in zip(k_out, d_out):
        np.testing.assert_allclose(d.numpy(), np.asarray(k.detach()), atol=atol, rtol=1e-5)
    assert d_layer.count_params() == k_layer.count_params()
    return d_out


# --------------------------------------------------------------------------- functional models

def _mha_models(kwargs, shapes, scores=False):
    k_in = [keras.Input(s) for s in shapes]
    d_in = [dn.Input(s) for s in shapes]
    k_args = k_in * 2 if len(shapes) == 1 else k_in  # one input: self-attention
    d_args = d_in * 2 if len(shapes) == 1 else d_in
    k_out = L.MultiHeadAttention(**kwargs)(*k_args, return_attention_scores=scores)
    d_out = MultiHeadAttention(**kwargs)(*d_args, return_attention_scores=scores)
    if scores:
        k_out, d_out = list(k_out), list(d_out)
    return keras.Model(k_in, k_out), dn.Model(d_in, d_out)


@pytest.mark.parametrize("kwargs, shapes, scores", [
    ({"num_heads": 2, "key_dim": 3}, [(5, 4)], False),                       # self-attention
    ({"num_heads": 2, "key_dim": 3}, [(5, 4)], True),
    ({"num_heads": 2, "key_dim": 3}, [(5, 4), (6, 7)], True),                # cross-attention
    ({"num_heads": 2, "key_dim": 3}, [(5, 4), (6, 7), (6, 3)], True),        # key != value
    ({"num_heads": 3, "key_dim": 2, "value_dim": 5, "output_shape": (2, 3)}, [(5, 4), (6, 7)], False),
    ({"num_heads": 2, "key_dim": 3, "use_bias": False, "output_shape": 6}, [(5, 4), (6, 7)], False),
    ({"num_heads": 2, "key_dim": 3, "use_gate": True}, [(5, 4), (6, 7)], False),
    ({"num_heads": 2, "key_dim": 3, "dropout": 0.3}, [(5, 4), (6, 7)], False),  # inference: no dropout
])
def test_mha_functional_parity(kwargs, shapes, scores):
    k_model, d_model = _mha_models(kwargs, shapes, scores)
    # biases are zeros after Keras' init: perturb them so their layout is checked too
    k_model.set_weights(_perturbed(k_model.get_weights()))
    assert_parity(d_model, k_model, [_rand(2, *s) for s in shapes])


# --------------------------------------------------------------------------- masks

def _mha_pair(**kwargs):
    kwargs = {"num_heads": 2, "key_dim": 3, **kwargs}
    return L.MultiHeadAttention(**kwargs), MultiHeadAttention(**kwargs)


def _random_mask(*shape, p=0.35):
    mask = RNG.random(shape) > p
    mask[..., 0] = True
    return mask


@pytest.mark.parametrize("scores", [False, True])
@pytest.mark.parametrize("call_kwargs", [
    {"attention_mask": "random"},
    {"attention_mask": "fully_masked_row"},
    {"use_causal_mask": True},
    {"use_causal_mask": True, "attention_mask": "random"},
])
def test_mha_mask_parity(call_kwargs, scores):
    q, v = _rand(2, 5, 4), _rand(2, 6, 7)
    call_kwargs = dict(call_kwargs)
    if call_kwargs.get("attention_mask") == "random":
        call_kwargs["attention_mask"] = _random_mask(2, 5, 6)
    elif call_kwargs.get("attention_mask") == "fully_masked_row":
        mask = _random_mask(2, 5, 6)
        mask[0, 2] = False  # Keras: uniform weights (fused path) or zeros (scores path)
        call_kwargs["attention_mask"] = mask
    _layer_parity(*_mha_pair(), [q, v], {**call_kwargs, "return_attention_scores": scores})


@pytest.mark.parametrize("dropout", [0.0, 0.25])
@pytest.mark.parametrize("scores", [False, True])
def test_mha_padding_mask_parity(scores, dropout):
    """query/value/key Keras masks (padded queries make fully masked rows)."""
    q, v, k = _rand(2, 5, 4), _rand(2, 6, 7), _rand(2, 6, 3)
    qm = np.array([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]], bool)
    vm = np.array([[1, 1, 0, 1, 0, 0], [1, 1, 1, 1, 1, 0]], bool)
    km = np.array([[1, 0, 1, 1, 1, 1], [1, 1, 1, 0, 1, 1]], bool)
    (out, *_) = _layer_parity(*_mha_pair(dropout=dropout), [q, v, k], {"return_attention_scores": scores},
                              masks=[qm, vm, km])
    assert torch.equal(out._keras_mask, torch.as_tensor(qm))


def test_mha_explicit_mask_arguments_match_keras_masks():
    q, v = _rand(2, 5, 4), _rand(2, 6, 4)
    vm = np.array([[1, 1, 0, 1, 0, 0], [1, 1, 1, 1, 1, 0]], bool)
    k_layer, d_layer = _mha_pair()
    expected = _layer_parity(k_layer, d_layer, [q, v], masks=[None, vm])[0]
    with torch.no_grad():
        got = d_layer(torch.as_tensor(q), torch.as_tensor(v), value_mask=torch.as_tensor(vm))
    torch.testing.assert_close(got, expected)


def test_mha_sliding_window_parity():
    q = _rand(2, 6, 4)
    _layer_parity(*_mha_pair(sliding_window=2), [q, q], {"use_causal_mask": True})
    _layer_parity(*_mha_pair(sliding_window=3), [q, q], {"return_attention_scores": True})


@pytest.mark.parametrize("axes, q_shape, v_shape, mask_shape", [
    (None, (3, 4, 5), (3, 2, 6), None),            # default: attend over both inner axes
    (None, (3, 4, 5), (3, 2, 6), (3, 4, 3, 2)),
    ((2,), (3, 4, 5), (3, 6, 5), None),            # attend over axis 2 only, axis 1 is a batch axis
    ((2,), (3, 4, 5), (3, 6, 5), (3, 4, 6)),
    ((-3,), (3, 4, 5), (6, 4, 5), None),
])
@pytest.mark.parametrize("scores", [False, True])
def test_mha_attention_axes_parity(axes, q_shape, v_shape, mask_shape, scores):
    call_kwargs = {"return_attention_scores": scores}
    if mask_shape is not None:
        call_kwargs["attention_mask"] = _random_mask(2, *mask_shape)
    _layer_parity(*_mha_pair(attention_axes=axes), [_rand(2, *q_shape), _rand(2, *v_shape)], call_kwargs)


# --------------------------------------------------------------------------- transformer block

def _keras_encoder(T, D, heads, ff):
    x = keras.Input((T, D))
    a = L.MultiHeadAttention(heads, D // heads)(x, x)
    h = L.LayerNormalization(epsilon=1e-3)(L.Add()([x, a]))
    f = L.Dense(D)(L.Dense(ff, activation="relu")(h))
    out = L.LayerNormalization(epsilon=1e-3)(L.Add()([h, f]))
    return keras.Model(x, out)


def test_transformer_encoder_block_functional_parity():
    from deepnet.layers.merge import Add
    from deepnet.layers.normalization import LayerNormalization

    T, D, heads, ff = 6, 8, 2, 16
    x = dn.Input((T, D))
    a = MultiHeadAttention(heads, D // heads)(x, x)
    h = LayerNormalization(epsilon=1e-3)(Add()([x, a]))
    f = Dense(D)(Dense(ff, activation="relu")(h))
    out = LayerNormalization(epsilon=1e-3)(Add()([h, f]))
    d_model = dn.Model(x, out)
    k_model = _keras_encoder(T, D, heads, ff)
    k_model.set_weights(_perturbed(k_model.get_weights()))
    assert_parity(d_model, k_model, _rand(3, T, D), atol=2e-5)


class _Norm(dn.layers.Layer):
    """A minimal layer norm (torch op) for the subclassed encoder block."""

    def build(self, input_shape):
        self.add_weight("gamma", input_shape[-1:], "ones")
        self.add_weight("beta", input_shape[-1:], "zeros")

    def call(self, x):
        return F.layer_norm(x, x.shape[-1:], self.gamma, self.beta, eps=1e-3)


class _Encoder(dn.Model):
    def __init__(self, D, heads, ff):
        super().__init__()
        self.attn = MultiHeadAttention(heads, D // heads)
        self.norm1 = _Norm()
        self.ff1 = Dense(ff, activation="relu")
        self.ff2 = Dense(D)
        self.norm2 = _Norm()

    def call(self, x, training=None):
        h = self.norm1(x + self.attn(x, x, training=training))
        return self.norm2(h + self.ff2(self.ff1(h)))


def test_transformer_encoder_block_subclassed_parity():
    T, D, heads, ff = 6, 8, 2, 16
    d_model = _Encoder(D, heads, ff)
    d_model(torch.zeros(1, T, D))
    k_model = _keras_encoder(T, D, heads, ff)
    k_model.set_weights(_perturbed(k_model.get_weights()))
    assert_parity(d_model, k_model, _rand(3, T, D), atol=2e-5)


# --------------------------------------------------------------------------- Attention layers

@pytest.mark.parametrize("name, kwargs", [
    ("Attention", {}),
    ("Attention", {"use_scale": True}),
    ("Attention", {"use_scale": True, "score_mode": "concat"}),
    ("Attention", {"score_mode": "concat", "dropout": 0.2}),
    ("AdditiveAttention", {}),
    ("AdditiveAttention", {"use_scale": False}),
])
@pytest.mark.parametrize("with_key", [False, True])
def test_attention_functional_parity(name, kwargs, with_key):
    shapes = [(5, 4), (6, 4)] + ([(6, 4)] if with_key else [])
    k_in = [keras.Input(s) for s in shapes]
    d_in = [dn.Input(s) for s in shapes]
    d_cls = {"Attention": Attention, "AdditiveAttention": AdditiveAttention}[name]
    k_model = keras.Model(k_in, getattr(L, name)(**kwargs)(k_in))
    d_model = dn.Model(d_in, d_cls(**kwargs)(d_in))
    if k_model.get_weights():
        k_model.set_weights(_perturbed(k_model.get_weights()))
    assert_parity(d_model, k_model, [_rand(2, *s) for s in shapes])


class _ListCall:
    """Adapts a list-input layer to ``_layer_parity``'s positional call."""

    def __init__(self, layer):
        self.layer = layer

    def __call__(self, *args, **kwargs):
        return self.layer(list(args), **kwargs)

    def __getattr__(self, name):
        return getattr(self.layer, name)


@pytest.mark.parametrize("name, kwargs", [
    ("Attention", {}),
    ("Attention", {"use_scale": True}),
    ("Attention", {"use_scale": True, "score_mode": "concat"}),
    ("AdditiveAttention", {}),
])
@pytest.mark.parametrize("call_kwargs", [
    {"return_attention_scores": True},
    {"use_causal_mask": True},
    {"masks": True, "use_causal_mask": True},
    {"masks": True, "return_attention_scores": True},
])
def test_attention_mask_parity(name, kwargs, call_kwargs):
    call_kwargs = dict(call_kwargs)
    masks = None
    if call_kwargs.pop("masks", False):
        masks = [np.array([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]], bool),
                 np.array([[0, 0, 0, 0, 0, 0], [1, 1, 1, 1, 1, 0]], bool),  # a fully masked value row
                 None]
    d_cls = {"Attention": Attention, "AdditiveAttention": AdditiveAttention}[name]
    k_layer, d_layer = _ListCall(getattr(L, name)(**kwargs)), _ListCall(d_cls(**kwargs))
    _layer_parity(k_layer, d_layer, [_rand(2, 5, 4), _rand(2, 6, 3), _rand(2, 6, 4)], call_kwargs, masks=masks)
