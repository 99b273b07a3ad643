"""Keras 3 (torch backend) as the reference oracle: same shapes, same parameter counts and
the same outputs once the same weights are copied with get_weights / set_weights."""

from __future__ import annotations

import os

os.environ.setdefault("KERAS_BACKEND", "torch")

import numpy as np
import pytest
import torch

keras = pytest.importorskip("keras")


def keras_weights(model) -> list[np.ndarray]:
    return [np.asarray(w) for w in model.get_weights()]


def assert_parity(dn_model, keras_model, inputs, atol: float = 1e-5, rtol: float = 1e-5):
    """Compare parameter counts, output shapes and outputs (after copying Keras' weights)."""
    k_trainable = int(sum(np.prod(w.shape) for w in keras_model.trainable_weights))
    k_non_trainable = int(sum(np.prod(w.shape) for w in keras_model.non_trainable_weights))
    d_trainable = sum(w.numel() for w in dn_model.trainable_weights)
    d_non_trainable = sum(w.numel() for w in dn_model.non_trainable_weights)
    assert (d_trainable, d_non_trainable) == (k_trainable, k_non_trainable), (
        f"params (trainable, non-trainable): deepnet {(d_trainable, d_non_trainable)} "
        f"!= keras {(k_trainable, k_non_trainable)}"
    )
    assert dn_model.count_params() == keras_model.count_params()
    k_w = keras_weights(keras_model)
    d_w = dn_model.get_weights()
    assert [w.shape for w in d_w] == [w.shape for w in k_w], (
        f"weight shapes differ: deepnet {[w.shape for w in d_w]} vs keras {[w.shape for w in k_w]}"
    )
    dn_model.set_weights(k_w)
    k_out = keras_model(inputs if not isinstance(inputs, list) else [np.asarray(x) for x in inputs], training=False)
    dn_model.eval()
    with torch.no_grad():
        d_in = [torch.as_tensor(x) for x in inputs] if isinstance(inputs, list) else torch.as_tensor(inputs)
        d_out = dn_model(d_in)
    k_outs = k_out if isinstance(k_out, (list, tuple)) else [k_out]
    d_outs = d_out if isinstance(d_out, (list, tuple)) else [d_out]
    assert len(k_outs) == len(d_outs)
    for k, d in zip(k_outs, d_outs):
        k = np.asarray(k.detach().cpu() if isinstance(k, torch.Tensor) else k)
        d = d.detach().cpu().numpy()
        assert k.shape == d.shape, f"output shape deepnet {d.shape} != keras {k.shape}"
        np.testing.assert_allclose(d, k, atol=atol, rtol=rtol)
