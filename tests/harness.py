"""The shared layer-test harness: one table (tests/test_layer_harness.py) drives every layer
through :func:`run_layer_test` (STYLE.md #6; the idea of Keras' ``run_layer_test``).

For one layer configuration ``run_layer_test`` checks, in order:
  * building from symbolic ``Input``s and the output shape it reports,
  * a real forward pass (batch of 2, train mode) has the symbolic output shape, and the
    regularization losses (``layer.losses``) are finite scalars, present when asked for,
  * trainable / non-trainable parameter counts (when given),
  * ``backward``: gradients reach every trainable weight and are finite,
  * ``config``: ``get_config`` -> ``from_config`` gives an equal config and, after
    ``set_weights(get_weights())``, identical outputs,
  * ``json``: a model holding the layer survives ``to_json`` -> ``model_from_json`` (same layer
    config through JSON, identical outputs with the same weights),
  * ``file``: ... and a ``.deepnet`` file save/load (weights and outputs identical),
  * ``fit``: one ``fit`` step of the layer under a ``Dense(1)`` head gives a finite loss,
  * ``mask``: a layer that handles masks takes a masked input, and the output mask equals
    ``compute_mask``; a (steps, features) layer also runs in a Model after
    ``Embedding(mask_zero=True)``; an Embedding's own mask marks its non-zero ids,
  * ``dtype``: float32 weights and outputs by default,
  * ``float64``: float64 weights and outputs with ``dtype="float64"`` (float64 inputs),
  * ``mixed_bfloat16``: under that policy (forward in ``torch.autocast`` as in ``fit``) the
    weights and their gradients stay float32, the outputs are bfloat16 or float32, all finite.

The first three steps (build, forward, parameter counts) always run; any other check a case
may skip only by naming it with a reason (``skip={"fit": "why"}``).
"""

from __future__ import annotations

import inspect
import json
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

import deepnet as dn
from deepnet.layers import Layer

CHECKS = ("backward", "config", "json", "file", "fit", "mask", "dtype", "float64", "mixed_bfloat16")


@dataclass
class LayerCase:
    """One row of the layer table. ``input_shape`` excludes the batch axis (a list of shapes for
    layers with several inputs); ``call(layer, inputs)`` overrides how inputs are passed (by
    default one tensor, or one list of tensors)."""

    cls: type
    kwargs: dict = field(default_factory=dict)
    input_shape: Any = ()
    output_shape: Any = None
    trainable: int | None = None
    non_trainable: int | None = None
    input_dtype: str = "float32"
    int_high: int = 10
    call: Callable | None = None
    call_kwargs: dict = field(default_factory=dict)
    skip: dict = field(default_factory=dict)
    check: Callable | None = None

    def run(self):
        layer = run_layer_test(
            self.cls, self.kwargs, self.input_shape, self.output_shape, expected_trainable=self.trainable,
            expected_non_trainable=self.non_trainable, input_dtype=self.input_dtype,
            call_kwargs=self.call_kwargs, int_high=self.int_high, call=self.call, skip=self.skip)
        if self.check is not None:
            self.check(layer)
        return layer


def _random_input(shape, dtype, high=10):
    shape = tuple(2 if d is None else d for d in shape)
    dtype = getattr(torch, dtype) if isinstance(dtype, str) else dtype
    if not dtype.is_floating_point:
        return torch.randint(0, high, shape, dtype=dtype)
    return torch.randn(shape, dtype=dtype)


def _as_list(out) -> list:
    return list(out) if isinstance(out, (list, tuple)) else [out]


def _assert_same_weights(ref: list, got: list, what: str) -> None:
    assert len(ref) == len(got), f"{what}: {len(got)} weights instead of {len(ref)}"
    for a, b in zip(ref, got):
        np.testing.assert_array_equal(b, a, err_msg=f"{what}: weights differ")


def _assert_same(refs, gots, what: str) -> None:
    refs, gots = _as_list(refs), _as_list(gots)
    assert len(refs) == len(gots), f"{what}: {len(gots)} outputs instead of {len(refs)}"
    for a, b in zip(refs, gots):
        torch.testing.assert_close(b, a, rtol=0, atol=0, msg=lambda m: f"{what}: outputs differ. {m}")


@dataclass
class _Run:
    """State shared by the checks of one case."""

    layer_cls: type
    init_kwargs: dict
    shapes: list
    multi: bool
    input_dtype: str
    call_kwargs: dict
    call: Callable | None
    int_high: int
    layer: Any = None
    inputs: list = field(default_factory=list)
    sym_out: Any = None
    xs: list = field(default_factory=list)
    real_out: Any = None

    def apply(self, layer, xs):
        if self.call is not None:
            return self.call(layer, list(xs), **self.call_kwargs)
        return layer(list(xs) if self.multi else xs[0], **self.call_kwargs)

    def fresh_inputs(self, dtype=None):
        return [dn.Input(shape=s, dtype=dtype or self.input_dtype) for s in self.shapes]

    def model_input(self, xs):
        return list(xs) if len(xs) > 1 else xs[0]

    def eval_outputs(self, fn):
        """Outputs of ``fn`` (a model, or a function of the model input) on the real inputs."""
        with torch.no_grad():
            return _as_list(fn(self.model_input(self.xs)))


def _check_symbolic(run: _Run, expected_output_shape) -> None:
    run.inputs = run.fresh_inputs()
    run.layer = run.layer_cls(**run.init_kwargs)
    run.sym_out = run.apply(run.layer, run.inputs)
    sym_shape = [t.shape for t in run.sym_out] if isinstance(run.sym_out, (list, tuple)) else run.sym_out.shape
    if expected_output_shape is not None:
        assert sym_shape == expected_output_shape, f"symbolic shape {sym_shape} != {expected_output_shape}"


def _check_forward(run: _Run) -> None:
    run.xs = [_random_input((None, *s), run.input_dtype, high=run.int_high) for s in run.shapes]
    for x in run.xs:
        if x.is_floating_point():
            x.requires_grad_(True)
    run.layer.train()
    run.real_out = _as_list(run.apply(run.layer, run.xs))
    assert len(run.real_out) == len(_as_list(run.sym_out)), "real and symbolic calls give different output counts"
    for o, s in zip(run.real_out, _as_list(run.sym_out)):
        real, sym = tuple(o.shape), s.shape
        assert len(real) == len(sym) and all(e is None or e == r for e, r in zip(sym, real)), (
            f"real output shape {real} does not match symbolic {sym}")
    losses = run.layer.losses
    if any(k.endswith("regularizer") and v is not None for k, v in run.init_kwargs.items()):
        assert losses, "regularizers were given but layer.losses is empty"
    for loss in losses:
        assert loss.ndim == 0 and torch.isfinite(loss), f"regularization loss {loss} is not a finite scalar"


def _check_params(run: _Run, expected_trainable, expected_non_trainable) -> None:
    layer = run.layer
    trainable = sum(w.numel() for w in layer.trainable_weights)
    non_trainable = sum(w.numel() for w in layer.non_trainable_weights)
    if expected_trainable is not None:
        assert trainable == expected_trainable, f"trainable params {trainable} != {expected_trainable}"
    if expected_non_trainable is not None:
        assert non_trainable == expected_non_trainable, (
            f"non-trainable params {non_trainable} != {expected_non_trainable}")
    assert layer.count_params() == trainable + non_trainable


def _check_backward(run: _Run) -> None:
    loss = sum(o.float().square().mean() for o in run.real_out if o.is_floating_point())
    if not run.layer.trainable_weights and not getattr(loss, "requires_grad", False):
        return  # integer inputs into a layer without weights: nothing to differentiate
    loss.backward()
    for w in run.layer.trainable_weights:
        assert w.grad is not None, f"no gradient reached a weight of shape {tuple(w.shape)}"
        assert torch.isfinite(w.grad).all(), f"non-finite gradient for a weight of shape {tuple(w.shape)}"


def _check_config(run: _Run) -> None:
    config = run.layer.get_config()
    clone = run.layer_cls.from_config(config)
    assert clone.get_config() == config, "from_config(get_config()) gives a different config"
    run.apply(clone, run.fresh_inputs())
    clone.set_weights(run.layer.get_weights())
    _assert_same_weights(run.layer.get_weights(), clone.get_weights(), "config round trip")
    run.layer.eval()
    clone.eval()
    _assert_same(run.eval_outputs(lambda x: run.apply(run.layer, _as_list(x))),
                 run.eval_outputs(lambda x: run.apply(clone, _as_list(x))), "config round trip")


def _model(run: _Run):
    return dn.Model(run.model_input(run.inputs), run.sym_out)


def _check_json(run: _Run) -> None:
    model = _model(run)
    clone = dn.models.model_from_json(model.to_json())
    assert [type(x).__name__ for x in clone.layers] == [type(x).__name__ for x in model.layers]
    config = json.dumps(run.layer.get_config(), sort_keys=True)
    assert json.dumps(clone.get_layer(run.layer.name).get_config(), sort_keys=True) == config, (
        "the layer config changed through JSON")
    clone.set_weights(model.get_weights())
    model.eval()
    clone.eval()
    _assert_same(run.eval_outputs(model), run.eval_outputs(clone), "JSON round trip")


def _check_file(run: _Run) -> None:
    model = _model(run)
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "model.deepnet")
        model.save(path)
        loaded = dn.load_model(path)
    _assert_same_weights(model.get_weights(), loaded.get_weights(), ".deepnet save/load")
    model.eval()
    loaded.eval()
    _assert_same(run.eval_outputs(model), run.eval_outputs(loaded), ".deepnet save/load")


def _check_fit(run: _Run) -> None:
    """One fit step through the layer: a Dense(1) head makes every layer trainable end to end."""
    index = next(i for i, o in enumerate(run.real_out) if o.is_floating_point())
    head = dn.layers.Dense(1)(_as_list(run.sym_out)[index])
    model = dn.Model(run.model_input(run.inputs), head)
    trained = {id(w) for w in model.trainable_weights}
    assert all(id(w) in trained for w in run.layer.trainable_weights), "a trainable weight is not the model's"
    model.compile(optimizer="sgd", loss="mse")
    x = [t.detach().numpy() for t in run.xs]
    y = np.zeros((*run.real_out[index].shape[:-1], 1), dtype="float32")
    history = model.fit(run.model_input(x), y, epochs=1, batch_size=len(y), verbose=0)
    loss = history.history["loss"][0]
    assert np.isfinite(loss), f"fit gave a non-finite loss {loss}"


def _takes_mask(layer_cls) -> bool:
    accepts = "mask" in inspect.signature(layer_cls.call).parameters
    return layer_cls.supports_masking or accepts or layer_cls.compute_mask is not Layer.compute_mask


def _right_padded_mask(x: torch.Tensor) -> torch.Tensor:
    """A (batch, ...) mask over all axes but the last (what Embedding(mask_zero=True) gives):
    sample 0 unmasked, sample 1 masked after the first position of axis 1."""
    shape = tuple(x.shape[:-1])
    mask = torch.ones(shape, dtype=torch.bool)
    if len(shape) > 1 and shape[1] > 1:
        mask[1, 1:] = False
    return mask


def _assert_mask_agrees(run: _Run, xs: list, out) -> None:
    """The output mask equals ``compute_mask`` of the masked inputs (forward reads the mask of
    its first argument: the list of inputs for list-input layers)."""
    as_list = run.multi and run.call is None
    masks = [getattr(t, "_keras_mask", None) for t in xs]
    expected = run.layer.compute_mask(xs if as_list else xs[0], masks if as_list else masks[0])
    got = getattr(_as_list(out)[0], "_keras_mask", None)
    if expected is None:
        assert got is None, f"output carries a mask although compute_mask gives None: {got}"
    else:
        assert got is not None and torch.equal(got, expected), f"output mask {got} != compute_mask {expected}"


def _check_own_mask(run: _Run) -> None:
    """Embedding: the mask comes from the ids (mask_zero=True) or there is none."""
    x = run.xs[0].detach().clone()
    x[1, ...] = 0
    out = run.apply(run.layer, [x])
    expected = run.layer.compute_mask(x)
    got = getattr(out, "_keras_mask", None)
    assert (got is None) == (expected is None), f"output mask {got} but compute_mask gives {expected}"
    if expected is not None:
        assert torch.equal(got, expected) and torch.equal(expected, x != 0)


def _check_mask_from_embedding(run: _Run) -> None:
    """Masks as models make them: ids -> Embedding(mask_zero=True) -> the layer, in a Model."""
    steps, features = run.shapes[0]
    ids = dn.Input(shape=(steps,), dtype="int64")
    embedding = dn.layers.Embedding(10, features, mask_zero=True)
    model = dn.Model(ids, run.apply(run.layer, [embedding(ids)] * len(run.shapes)))
    x = torch.randint(1, 10, (2, steps))
    x[1, max(1, steps // 2):] = 0
    model.eval()
    with torch.no_grad():
        out = model(x)
        embedded = embedding(x)
    _assert_mask_agrees(run, [embedded] * len(run.shapes), out)


def _check_mask(run: _Run) -> None:
    run.layer.eval()
    if not run.xs[0].is_floating_point():
        _check_own_mask(run)
        return
    xs = [t.detach().clone() for t in run.xs]
    for t in xs:
        t._keras_mask = _right_padded_mask(t)
    with torch.no_grad():
        out = run.apply(run.layer, xs)
    _assert_mask_agrees(run, xs, out)
    sequences = all(s == run.shapes[0] for s in run.shapes) and len(run.shapes[0]) == 2
    if sequences and None not in run.shapes[0]:
        _check_mask_from_embedding(run)


def _check_dtype(run: _Run) -> None:
    for o in run.real_out:
        assert o.dtype == torch.float32, f"output dtype {o.dtype}, expected float32 by default"
    for w in run.layer.weights:
        assert not w.is_floating_point() or w.dtype == torch.float32, f"weight dtype {w.dtype} by default"


def _check_float64(run: _Run) -> None:
    floats = run.input_dtype.startswith("float")
    layer = run.layer_cls.from_config({**run.layer.get_config(), "dtype": "float64"})
    xs = [t.detach().to(torch.float64) if floats else t for t in run.xs]
    run.apply(layer, run.fresh_inputs("float64" if floats else run.input_dtype))
    for w in layer.weights:
        assert not w.is_floating_point() or w.dtype == torch.float64, f"weight dtype {w.dtype} with dtype='float64'"
    with torch.no_grad():
        for o in _as_list(run.apply(layer, xs)):
            assert o.dtype == torch.float64, f"output dtype {o.dtype} with dtype='float64'"


def _check_mixed_bfloat16(run: _Run) -> None:
    """Under mixed_bfloat16 the engine runs forward passes in torch.autocast: weights stay
    float32, outputs are bfloat16 or float32 and finite, and so are the weights' gradients."""
    dn.mixed_precision.set_global_policy("mixed_bfloat16")
    try:
        layer = run.layer_cls.from_config(run.layer.get_config())
        run.apply(layer, run.fresh_inputs())
        with torch.autocast("cpu", dtype=torch.bfloat16):
            outs = _as_list(run.apply(layer, [t.detach() for t in run.xs]))
    finally:
        dn.mixed_precision.set_global_policy("float32")
    for w in layer.weights:
        assert not w.is_floating_point() or w.dtype == torch.float32, f"weight dtype {w.dtype} under mixed_bfloat16"
    for o in outs:
        assert o.dtype in (torch.float32, torch.bfloat16), f"output dtype {o.dtype} under mixed_bfloat16"
        assert torch.isfinite(o.float()).all(), "non-finite output under mixed_bfloat16"
    if layer.trainable_weights:
        sum(o.float().square().mean() for o in outs).backward()
        for w in layer.trainable_weights:
            assert w.grad is not None and w.grad.dtype == torch.float32 and torch.isfinite(w.grad).all(), (
                f"gradient of a weight of shape {tuple(w.shape)} under mixed_bfloat16: {w.grad}")


def _check_skips(skip: dict) -> None:
    for name, reason in skip.items():
        assert name in CHECKS, f"unknown check {name!r} in skip; checks are {CHECKS}"
        assert isinstance(reason, str) and reason.strip(), f"skipping {name!r} needs a reason"


def run_layer_test(layer_cls, init_kwargs: dict, input_shape, expected_output_shape=None,
                   expected_trainable=None, expected_non_trainable=None, input_dtype="float32",
                   call_kwargs: dict | None = None, supports_backward: bool = True,
                   int_high: int = 10, call: Callable | None = None, skip: dict | None = None):
    """Run every check of the module docstring (except those named in ``skip``, each with a
    reason) and return the tested layer. ``input_shape`` excludes the batch axis (a list for
    multi-input layers)."""
    skip = dict(skip or {})
    if not supports_backward:
        skip.setdefault("backward", "supports_backward=False")
    _check_skips(skip)
    multi = isinstance(input_shape, list)
    run = _Run(layer_cls, init_kwargs, list(input_shape) if multi else [input_shape], multi, input_dtype,
               call_kwargs or {}, call, int_high)
    _check_symbolic(run, expected_output_shape)
    _check_forward(run)
    _check_params(run, expected_trainable, expected_non_trainable)
    optional = [("backward", _check_backward), ("config", _check_config), ("json", _check_json),
                ("file", _check_file), ("fit", _check_fit), ("dtype", _check_dtype), ("float64", _check_float64),
                ("mixed_bfloat16", _check_mixed_bfloat16)]
    if _takes_mask(layer_cls):
        optional.append(("mask", _check_mask))
    for name, check in optional:
        if name not in skip:
            check(run)
    return run.layer
