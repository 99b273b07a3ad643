"""The shared layer-test harness (one table drives every layer, see STYLE.md #6).

``run_layer_test`` checks, for one layer configuration:
  * building from a symbolic ``Input`` and the output shape it reports,
  * the output shape of a real forward pass equals the symbolic one,
  * trainable / non-trainable parameter counts (when given),
  * a backward pass reaches every trainable weight with finite gradients,
  * ``get_config`` -> ``from_config`` round trip gives an equal config and, after
    ``set_weights(get_weights())``, identical outputs,
  * ``get_weights`` / ``set_weights`` round trip.
"""

from __future__ import annotations

import numpy as np
import torch

import deepnet as dn


def _random_input(shape, dtype, low=0, high=10):
    shape = tuple(2 if d is None else d for d in shape)
    if dtype in ("int32", "int64", torch.int64, torch.int32):
        return torch.randint(low, high, shape)
    return torch.randn(shape)


def run_layer_test(layer_cls, init_kwargs: dict, input_shape, expected_output_shape=None,
                   expected_trainable=None, expected_non_trainable=None, input_dtype="float32",
                   call_kwargs: dict | None = None, supports_backward: bool = True,
                   int_high: int = 10):
    """Run the harness; ``input_shape`` excludes the batch axis (a list for multi-input layers)."""
    call_kwargs = call_kwargs or {}
    multi = isinstance(input_shape, list)
    shapes = input_shape if multi else [input_shape]
    inputs = [dn.Input(shape=s, dtype=input_dtype) for s in shapes]
    layer = layer_cls(**init_kwargs)
    sym_out = layer(inputs if multi else inputs[0], **call_kwargs)
    sym_shape = sym_out.shape if not isinstance(sym_out, (list, tuple)) else [t.shape for t in sym_out]
    if expected_output_shape is not None:
        assert sym_shape == expected_output_shape, f"symbolic shape {sym_shape} != {expected_output_shape}"

    # real forward: shapes agree with the symbolic pass (batch of 2)
    xs = [_random_input((None, *s), input_dtype, high=int_high) for s in shapes]
    for x in xs:
        if x.is_floating_point():
            x.requires_grad_(True)
    layer.train()
    out = layer(xs if multi else xs[0], **call_kwargs)
    outs = list(out) if isinstance(out, (list, tuple)) else [out]
    sym_shapes = sym_shape if isinstance(sym_shape, list) else [sym_shape]
    for o, s in zip(outs, sym_shapes):
        real = tuple(o.shape)
        assert len(real) == len(s) and all(e is None or e == r for e, r in zip(s, real)), (
            f"real output shape {real} does not match symbolic {s}"
        )

    trainable = sum(w.numel() for w in layer.trainable_weights)
    non_trainable = sum(w.numel() for w in layer.non_trainable_weights)
    if expected_trainable is not None:
        assert trainable == expected_trainable, f"trainable params {trainable} != {expected_trainable}"
    if expected_non_trainable is not None:
        assert non_trainable == expected_non_trainable, f"non-trainable {non_trainable} != {expected_non_trainable}"
    assert layer.count_params() == trainable + non_trainable

    if supports_backward:
        loss = sum(o.float().square().mean() for o in outs if o.is_floating_point())
        loss.backward()
        for w in layer.trainable_weights:
            assert w.grad is not None, f"no gradient reached a weight of shape {tuple(w.shape)}"
            assert torch.isfinite(w.grad).all()

    # config round trip
    config = layer.get_config()
    clone = layer_cls.from_config(config)
    assert clone.get_config() == config
    clone_inputs = [dn.Input(shape=s, dtype=input_dtype) for s in shapes]
    clone(clone_inputs if multi else clone_inputs[0], **call_kwargs)
    clone.set_weights(layer.get_weights())
    for a, b in zip(layer.get_weights(), clone.get_weights()):
        np.testing.assert_array_equal(a, b)
    layer.eval()
    clone.eval()
    with torch.no_grad():
        ref = layer(xs if multi else xs[0], **call_kwargs)
        got = clone(xs if multi else xs[0], **call_kwargs)
    refs = list(ref) if isinstance(ref, (list, tuple)) else [ref]
    gots = list(got) if isinstance(got, (list, tuple)) else [got]
    for a, b in zip(refs, gots):
        torch.testing.assert_close(a, b)
    return layer
