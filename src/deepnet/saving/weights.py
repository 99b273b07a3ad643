"""Weights files: safetensors holding the model's ``state_dict`` (data only, never code)."""

from __future__ import annotations

import os

import torch

from ..utils.io import atomic_write_bytes

__all__ = ["load_weights", "save_weights"]


def save_weights(model, filepath) -> None:
    """Write every weight (trainable and not) to ``filepath`` (``.safetensors``) atomically."""
    from safetensors.torch import save

    filepath = os.fspath(filepath)
    if not filepath.endswith(".safetensors"):
        raise ValueError(f"save_weights: the filename must end in '.safetensors'; received {filepath!r}.")
    if not model.built:
        raise ValueError(f"save_weights: model {model.name!r} is not built, so it has no weights yet.")
    tensors = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    atomic_write_bytes(filepath, save(tensors, metadata={"format": "deepnet-weights", "model": model.name}))


def load_weights(model, filepath, strict: bool = True) -> None:
    """Load weights saved by :func:`save_weights`; names, shapes and dtypes are checked."""
    from safetensors import SafetensorError
    from safetensors.torch import load

    filepath = os.fspath(filepath)
    try:
        with open(filepath, "rb") as f:
            data = f.read()
    except FileNotFoundError:
        raise FileNotFoundError(f"load_weights: no such file {filepath!r}.") from None
    try:
        tensors = load(data)
    except (SafetensorError, Exception) as e:  # noqa: B014 - report any decoding failure clearly
        raise ValueError(f"load_weights: {filepath!r} is not a valid safetensors weights file ({e}).") from None
    if not model.built:
        raise ValueError(f"load_weights: build model {model.name!r} (give it an Input) before loading weights into it.")
    state = model.state_dict()
    missing = sorted(set(state) - set(tensors))
    extra = sorted(set(tensors) - set(state))
    if strict and (missing or extra):
        raise ValueError(
            f"load_weights: {filepath!r} does not match model {model.name!r}: "
            + (f"missing weights {missing[:5]}{'...' if len(missing) > 5 else ''}; " if missing else "")
            + (f"unexpected weights {extra[:5]}{'...' if len(extra) > 5 else ''}." if extra else "")
        )
    for key, value in tensors.items():
        if key not in state:
            continue
        target = state[key]
        if tuple(value.shape) != tuple(target.shape) or value.dtype != target.dtype:
            raise ValueError(
                f"load_weights: weight {key!r} in {filepath!r} has shape {tuple(value.shape)} and dtype "
                f"{value.dtype}; the model expects shape {tuple(target.shape)} and dtype {target.dtype}."
            )
    with torch.no_grad():
        for key, value in tensors.items():
            if key in state:
                state[key].copy_(value)
