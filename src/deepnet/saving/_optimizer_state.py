"""The optimizer state of a model file (``optimizer.json`` + ``optimizer.safetensors``): written
from ``optimizer.state_dict()``, validated against the model's parameters, restored on load."""

from __future__ import annotations

import math

import torch

from ..optimizers import TorchOptimizer
from .safe import (
    ModelFileError,
    decode_state,
    dump_json,
    encode_state,
    parse_json,
    tensors_from_bytes,
    tensors_to_bytes,
)

__all__ = ["load_optimizer_members", "optimizer_state_members", "validate_optimizer_state"]


def optimizer_state_members(optimizer) -> tuple[bytes, bytes] | None:
    """``(optimizer.json, optimizer.safetensors)`` bytes, or None when there is no state."""
    state = optimizer.state_dict()
    if state.get("torch") is None:
        return None
    tensors: dict[str, torch.Tensor] = {}
    encoded = encode_state(state, tensors, "optimizer")
    doc = {"class_name": type(optimizer).__name__, "state": encoded}
    return dump_json(doc, indent=None), tensors_to_bytes(tensors, {"format": "deepnet-optimizer"})


def _is_scalar_json(x) -> bool:
    if x is None or isinstance(x, (bool, int, float, str)):
        return True
    if isinstance(x, (tuple, list)):
        return len(x) <= 16 and all(v is None or isinstance(v, (bool, int, float)) for v in x)
    return False


def _check_scalars(state, where: str) -> None:
    if not isinstance(state, dict) or set(state) - {"ema"} != {"iterations", "learning_rate", "torch"}:
        raise ModelFileError(f"{where}: optimizer state must have keys iterations, learning_rate, torch (and ema).")
    it, lr = state["iterations"], state["learning_rate"]
    if isinstance(it, bool) or not isinstance(it, int) or it < 0:
        raise ModelFileError(f"{where}: optimizer iterations must be a non-negative int; received {it!r:.50}.")
    if lr is not None and (isinstance(lr, bool) or not isinstance(lr, (int, float)) or not math.isfinite(lr) or lr < 0):
        raise ModelFileError(f"{where}: optimizer learning_rate must be a non-negative float; received {lr!r:.50}.")


def _check_param_groups(groups, n_params: int, where: str) -> None:
    if not isinstance(groups, list) or not groups or not all(isinstance(g, dict) for g in groups):
        raise ModelFileError(f"{where}: optimizer param_groups must be a non-empty list of objects.")
    ids: list = []
    for g in groups:
        if not isinstance(g.get("params"), list):
            raise ModelFileError(f"{where}: an optimizer param group has no 'params' list.")
        ids.extend(g["params"])
        for k, v in g.items():
            if k != "params" and not (isinstance(k, str) and _is_scalar_json(v)):
                raise ModelFileError(f"{where}: optimizer param group entry {k!r:.50} has an invalid value.")
    if ids != list(range(n_params)):
        raise ModelFileError(
            f"{where}: the optimizer state covers {len(ids)} parameters but the model has {n_params} trainable "
            "weights (or the indices are out of order)."
        )


def _check_param_state(index, entry, params: list, strict: bool, where: str) -> None:
    if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < len(params):
        raise ModelFileError(f"{where}: optimizer state refers to parameter {index!r:.50}, which does not exist.")
    if not isinstance(entry, dict):
        raise ModelFileError(f"{where}: optimizer state of parameter {index} must be a mapping.")
    for key, value in entry.items():
        if not isinstance(value, torch.Tensor):
            if not _is_scalar_json(value):
                raise ModelFileError(f"{where}: optimizer state {key!r} of parameter {index} has an invalid value.")
            continue
        shape = tuple(params[index].shape)
        if strict and value.dim() > 0 and tuple(value.shape) != shape:
            raise ModelFileError(
                f"{where}: optimizer state {key!r} of parameter {index} has shape {tuple(value.shape)}; "
                f"the parameter has shape {shape}."
            )
        if not (value.is_floating_point() or value.dtype in (torch.int64, torch.int32)):
            raise ModelFileError(f"{where}: optimizer state {key!r} of parameter {index} has dtype {value.dtype}.")


def _check_ema(ema, params: list, where: str) -> None:
    """The moving averages of a ``use_ema`` optimizer: one float tensor per parameter, same shape."""
    if ema is None:
        return
    if not isinstance(ema, list) or len(ema) != len(params):
        raise ModelFileError(f"{where}: optimizer 'ema' must be a list of {len(params)} tensors (one per weight).")
    for index, (value, p) in enumerate(zip(ema, params)):
        if not isinstance(value, torch.Tensor) or not value.is_floating_point() or value.shape != p.shape:
            raise ModelFileError(f"{where}: optimizer moving average {index} is not a float tensor of shape "
                                 f"{tuple(p.shape)}.")


def validate_optimizer_state(state, params: list, optimizer, where: str) -> None:
    """Check a decoded optimizer ``state_dict`` against the model's trainable parameters.

    >>> from deepnet.saving.archive import ModelFileError, validate_optimizer_state
    >>> state = {"iterations": -1, "learning_rate": 0.01, "torch": None}
    >>> try:
    ...     validate_optimizer_state(state, [], None, "optimizer.json")
    ... except ModelFileError as e:
    ...     print(e)
    optimizer.json: optimizer iterations must be a non-negative int; received -1.
    """
    _check_scalars(state, where)
    _check_ema(state.get("ema"), params, where)
    ts = state["torch"]
    if ts is None:
        return
    if not isinstance(ts, dict) or set(ts) != {"state", "param_groups"}:
        raise ModelFileError(f"{where}: the torch optimizer state must have keys 'state' and 'param_groups'.")
    _check_param_groups(ts["param_groups"], len(params), where)
    per_param = ts["state"]
    if not isinstance(per_param, dict):
        raise ModelFileError(f"{where}: optimizer 'state' must be a mapping.")
    strict = not isinstance(optimizer, TorchOptimizer)
    for index, entry in per_param.items():
        _check_param_state(index, entry, params, strict, where)


def load_optimizer_members(model, json_bytes: bytes, tensor_bytes: bytes, where: str) -> None:
    doc = parse_json(json_bytes, f"{where} optimizer.json")
    if not isinstance(doc, dict) or set(doc) != {"class_name", "state"}:
        raise ModelFileError(f"{where}: optimizer.json must hold 'class_name' and 'state'.")
    optimizer = model.optimizer
    if doc["class_name"] != type(optimizer).__name__:
        raise ModelFileError(
            f"{where}: the optimizer state is for {doc['class_name']!r:.60} but the compile config builds "
            f"{type(optimizer).__name__}."
        )
    tensors = tensors_from_bytes(tensor_bytes, f"{where} optimizer.safetensors")
    used: set = set()
    state = decode_state(doc["state"], tensors, f"{where} optimizer.json", used)
    if set(tensors) - used:
        raise ModelFileError(f"{where}: optimizer.safetensors holds unreferenced tensors {sorted(set(tensors) - used)[:5]}.")
    params = [p for p in model.parameters() if p.requires_grad]
    validate_optimizer_state(state, params, optimizer, f"{where} optimizer.json")
    try:
        optimizer.load_state_dict(state)
    except (ValueError, TypeError, KeyError, RuntimeError) as e:
        raise ModelFileError(f"{where}: cannot restore the optimizer state: {e}") from None
