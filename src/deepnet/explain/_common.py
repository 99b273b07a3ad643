"""Input handling shared by every explanation method: the model as a torch module, inputs as
tensors on the model's device, targets, baselines, embedding models and layer look-up.

Attribution methods see a :class:`Prepared`: ``forward(inputs, tokens)`` returns the model's
scores ``(N, C)`` for attribution inputs (``x`` itself, or the embedding output of token
models, in which case ``tokens`` are the token ids fed alongside).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import nn

from ..layers import Embedding, Layer
from ..utils.lookup import did_you_mean
from ..utils.tensors import as_tensor, device_and_dtype, eval_mode
from ..utils.validation import ArgumentTypeError, invalid_value

__all__ = ["Prepared", "all_layer_names", "batches", "check_options", "eval_mode", "prepare", "resolve_baseline",
           "resolve_target", "scores_of", "spatial_layers", "to_numpy", "to_tensor"]


def to_tensor(owner: str, name: str, value, device, dtype=None) -> torch.Tensor:
    """``value`` (array-like or tensor) as a detached numeric, non-boolean tensor on ``device``."""
    return as_tensor(owner, name, value, device, dtype, allow_bool=False)


def to_numpy(t: torch.Tensor) -> np.ndarray:
    return t.detach().float().cpu().numpy()


def _first_embedding(module: nn.Module):
    return next((m for m in module.modules() if isinstance(m, (Embedding, nn.Embedding))), None)


class Prepared:
    """The checked inputs of one explanation call (see :func:`prepare`).

    ``inputs``: what attributions are computed on (``x`` as floats, or the embeddings of token
    ids); ``tokens``: the token ids (``None`` for float inputs); ``embedding``: the embedding layer
    whose output is replaced by ``inputs`` during ``forward``.
    """

    def __init__(self, module, x, inputs, tokens, embedding, device, n_classes):
        self.module, self.x, self.inputs, self.tokens = module, x, inputs, tokens
        self.embedding, self.device, self.n_classes = embedding, device, n_classes

    def forward(self, inputs: torch.Tensor, tokens: torch.Tensor | None = None) -> torch.Tensor:
        """The model's scores ``(N, C)`` at attribution inputs ``inputs``."""
        if self.embedding is None:
            return scores_of(self.module(inputs))
        handle = self.embedding.register_forward_hook(lambda _m, _i, _o: inputs)
        try:
            return scores_of(self.module(tokens))
        finally:
            handle.remove()

    def scores(self, inputs: torch.Tensor | None = None, tokens=None) -> torch.Tensor:
        """Scores without gradients (defaults: the prepared inputs)."""
        with torch.no_grad():
            if inputs is None:
                return self.forward(self.inputs, self.tokens)
            return self.forward(inputs, self.tokens if tokens is None else tokens)

    def reduce(self, attributions: torch.Tensor) -> torch.Tensor:
        """Attributions of ``inputs`` back to ``x``'s shape (embeddings: summed per token)."""
        return attributions.sum(-1) if self.embedding is not None else attributions

    @property
    def forward_args(self):
        """Captum's ``additional_forward_args`` (the token ids, expanded along with the inputs)."""
        return None if self.tokens is None else (self.tokens,)


def scores_of(out) -> torch.Tensor:
    if isinstance(out, (list, tuple, dict)):
        raise ValueError("The model has several outputs; explanations need one output of class scores.\n"
                         "help: wrap the output you want to explain in a one-output model, "
                         "e.g. dn.Model(model.inputs, model.outputs[0]).")
    return out.reshape(out.shape[0], -1)


def prepare(owner: str, model, x) -> Prepared:
    """Check ``model`` and ``x``; the tensors explanations work on (model in eval mode by caller)."""
    if not isinstance(model, nn.Module):
        raise invalid_value(owner, "model", type(model).__name__, "a deepnet model or a torch.nn.Module",
                            error=ArgumentTypeError)
    device, dtype = device_and_dtype(model)
    x_t = to_tensor(owner, "x", x, device)
    if x_t.ndim < 2 or len(x_t) == 0:
        raise invalid_value(owner, "x", f"array of shape {tuple(x_t.shape)}",
                            "a non-empty batch (N, ...) shaped as the model takes it",
                            help="add the batch axis, e.g. x[None] for one sample.")
    embedding = None if x_t.is_floating_point() else _first_embedding(model)
    if embedding is None:
        x_t = x_t.to(dtype)
        inputs, tokens = x_t, None
    else:
        tokens = x_t.long()
        with torch.no_grad():
            inputs = embedding(tokens).detach().to(dtype)
    prep = Prepared(model, x_t, inputs, tokens, embedding, device, 0)
    with eval_mode(model):  # a probe in training mode would move BatchNormalization's statistics
        prep.n_classes = prep.scores(inputs[:1], None if tokens is None else tokens[:1]).shape[1]
    return prep


def resolve_target(owner: str, prep: Prepared, target) -> torch.Tensor:
    """Per-sample class indices: the predicted class by default, an int, or one per sample."""
    n, c = len(prep.inputs), prep.n_classes
    if target is None:
        if c == 1:
            return torch.zeros(n, dtype=torch.long, device=prep.device)
        return torch.cat([prep.scores(xb, tb).argmax(1) for xb, tb in _chunks(prep)])
    t = to_tensor(owner, "target", target, prep.device)
    if t.is_floating_point() and not bool(torch.all(t == t.round())):
        raise invalid_value(owner, "target", target, "an integer class index or one per sample")
    t = t.long().reshape(-1)
    if t.numel() == 1:
        t = t.expand(n)
    if t.numel() != n:
        raise invalid_value(owner, "target", f"{t.numel()} targets", f"one class index or one per sample ({n})")
    if bool(torch.any((t < 0) | (t >= c))):
        bad = int(t[(t < 0) | (t >= c)][0])
        raise invalid_value(owner, "target", bad, f"a class index in [0, {c - 1}] (the model has {c} outputs)",
                            help="target=None explains the predicted class.")
    return t


def _chunks(prep: Prepared, size: int = 256):
    for start in range(0, len(prep.inputs), size):
        sl = slice(start, start + size)
        yield prep.inputs[sl], None if prep.tokens is None else prep.tokens[sl]


def resolve_baseline(owner: str, prep: Prepared, baseline, distribution: bool = False) -> torch.Tensor:
    """The baseline as a tensor: zeros by default, a number, one sample, one per sample, or (with
    ``distribution``) ``K`` reference samples ``(K, *sample_shape)``."""
    inputs = prep.inputs
    sample = tuple(inputs.shape[1:])
    if baseline is None:
        return torch.zeros((1, *sample) if distribution else inputs.shape, dtype=inputs.dtype, device=inputs.device)
    b = to_tensor(owner, "baseline", baseline, inputs.device, inputs.dtype)
    if prep.embedding is not None and not b.is_floating_point():  # token ids: embed them
        b = prep.embedding(b.long()).detach()
    if b.ndim == 0:
        return torch.full((1, *sample) if distribution else inputs.shape, float(b), dtype=inputs.dtype,
                          device=inputs.device)
    if tuple(b.shape) == sample:
        return b[None] if distribution else b[None].expand(inputs.shape).clone()
    if b.ndim == inputs.ndim and tuple(b.shape[1:]) == sample and (distribution or len(b) == len(inputs)):
        return b
    shape = tuple(prep.x.shape) if prep.embedding is not None else tuple(inputs.shape)
    expected = (f"a number, one sample of shape {sample[:len(shape) - 1] or sample}, "
                + ("reference samples (K, ...)" if distribution else f"or one per sample {shape}"))
    raise invalid_value(owner, "baseline", f"array of shape {tuple(b.shape)}", expected,
                        help="baseline=None uses zeros (an all-black image, a silent signal).")


def spatial_layers(prep: Prepared) -> list[tuple[str, Layer, tuple]]:
    """``(name, layer, output shape)`` of the model's layers whose output has spatial axes
    ``(N, *spatial, channels)``, in call order."""
    found: list = []
    hooks = []
    for layer in getattr(prep.module, "layers", []):
        def hook(mod, _inp, out, _layer=layer):
            if isinstance(out, torch.Tensor) and out.ndim >= 3 and out.is_floating_point() \
                    and _layer is not prep.embedding:
                found.append((_layer.name, _layer, tuple(out.shape[1:])))
        hooks.append(layer.register_forward_hook(hook))
    try:
        prep.scores(prep.inputs[:1], None if prep.tokens is None else prep.tokens[:1])
    finally:
        for h in hooks:
            h.remove()
    seen, ordered = set(), []
    for entry in found:
        if entry[0] not in seen:
            seen.add(entry[0])
            ordered.append(entry)
    return ordered


def all_layer_names(model) -> list[str]:
    return [layer.name for layer in getattr(model, "layers", [])]


def batches(n: int, size: int):
    for start in range(0, n, size):
        yield slice(start, start + size)


def check_options(owner: str, method: str, options: dict[str, Any], allowed: dict[str, Any]) -> dict[str, Any]:
    """``options`` merged over the method's defaults; an unknown option names the valid ones."""
    unknown = sorted(set(options) - set(allowed))
    if unknown:
        hint = did_you_mean(unknown[0], list(allowed))
        raise TypeError(f"{owner}: unknown option {unknown[0]!r} for method {method!r}.{hint} "
                        f"Options of {method!r}: {', '.join(sorted(allowed)) or '(none)'}.")
    return {**allowed, **options}
