"""Weights files: safetensors holding every weight of a model (data only, never code).

Weights are stored in the model's weight order (the order of ``model.weights``, which is
Keras' order) under keys ``"00000/<module path>"``. Loading matches them by position and
checks every shape and dtype, so a file can be loaded into any identically built model, even
one whose automatic layer names differ (``dense_2`` instead of ``dense``).
"""

from __future__ import annotations

import os

import torch

from ..utils.io import atomic_write_bytes
from ._keras_file import is_keras_path, load_keras_weights, save_keras_weights
from .safe import ModelFileError

__all__ = ["assign_checked", "assign_weights", "check_weights_header", "load_weights", "save_weights",
           "weight_tensors"]

_ST_DTYPES = {
    "F64": torch.float64, "F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16,
    "I64": torch.int64, "I32": torch.int32, "I16": torch.int16, "I8": torch.int8, "U8": torch.uint8,
    "BOOL": torch.bool,
}


def weight_tensors(model) -> dict[str, torch.Tensor]:
    """``{"00000/dense.kernel": tensor, ...}`` in weight order (tensors are the live ones).

    >>> from deepnet.saving.weights import weight_tensors
    >>> list(weight_tensors(dn.Sequential([dn.Input((3,)), dn.layers.Dense(2, name="d")])))
    ['00000/d.kernel', '00001/d.bias']
    """
    names = {}
    for name, t in model.named_parameters(remove_duplicate=True):
        names.setdefault(id(t), name)
    for name, t in model.named_buffers(remove_duplicate=True):
        names.setdefault(id(t), name)
    return {f"{i:05d}/{names.get(id(t), 'tensor')}": t for i, t in enumerate(model.weights)}


def save_weights(model, filepath) -> None:
    """Write every weight (trainable and not) to ``filepath`` (``.safetensors``) atomically;
    a path ending in ``.weights.h5`` writes Keras 3's HDF5 layout instead (needs h5py).

    >>> model = dn.Sequential([dn.Input((3,)), dn.layers.Dense(2)])
    >>> dn.saving.save_weights(model, "tiny.weights.safetensors")
    >>> other = dn.Sequential([dn.Input((3,)), dn.layers.Dense(2)])
    >>> dn.saving.load_weights(other, "tiny.weights.safetensors")
    >>> bool(torch.equal(other.weights[0], model.weights[0]))
    True
    """
    from safetensors.torch import save

    filepath = os.fspath(filepath)
    if is_keras_path(filepath, weights=True):
        save_keras_weights(model, filepath)
        return
    if not filepath.endswith(".safetensors"):
        raise ValueError(f"save_weights: the filename must end in '.safetensors' (or '.weights.h5' for Keras' "
                         f"format); received {filepath!r}.")
    if not model.built:
        raise ValueError(f"save_weights: model {model.name!r} is not built, so it has no weights yet.")
    tensors = {k: v.detach().cpu().contiguous() for k, v in weight_tensors(model).items()}
    atomic_write_bytes(filepath, save(tensors, metadata={"format": "deepnet-weights", "model": model.name}))


def load_weights(model, filepath) -> None:
    """Load weights saved by :func:`save_weights`; count, shapes and dtypes are checked. A
    Keras 3 ``.weights.h5`` file (from Keras or deepnet) is read in Keras' layout.

    >>> dn.saving.save_weights(dn.Sequential([dn.Input((3,)), dn.layers.Dense(2)]), "w.safetensors")
    >>> try:
    ...     dn.saving.load_weights(dn.Sequential([dn.Input((4,)), dn.layers.Dense(2)]), "w.safetensors")
    ... except ValueError:
    ...     print("shapes differ")
    shapes differ
    """
    from safetensors.torch import load

    filepath = os.fspath(filepath)
    if is_keras_path(filepath, weights=True):
        load_keras_weights(model, filepath)
        return
    try:
        with open(filepath, "rb") as f:
            data = f.read()
    except FileNotFoundError:
        raise FileNotFoundError(f"load_weights: no such file {filepath!r}.") from None
    try:
        tensors = load(data)
    except Exception as e:  # safetensors raises several types for corrupt input; report them all clearly
        raise ValueError(f"load_weights: {filepath!r} is not a valid safetensors weights file ({e}).") from None
    if not model.built:
        raise ValueError(f"load_weights: build model {model.name!r} (give it an Input) before loading weights into it.")
    assign_weights(model, tensors, source=repr(filepath))


def assign_weights(model, tensors: dict[str, torch.Tensor], source: str) -> None:
    """Copy ``tensors`` (keys from :func:`weight_tensors`) into ``model`` after checking them all.

    >>> from deepnet.saving.weights import assign_weights, weight_tensors
    >>> model = dn.Sequential([dn.Input((3,)), dn.layers.Dense(2)])
    >>> zeros = {k: torch.zeros_like(v) for k, v in weight_tensors(model).items()}
    >>> assign_weights(model, zeros, "zeros")
    >>> float(model.weights[0].detach().abs().sum())
    0.0
    """
    targets = list(weight_tensors(model).items())
    try:
        stored = sorted(tensors.items(), key=lambda kv: int(kv[0].split("/", 1)[0]))
    except ValueError:
        raise ValueError(f"{source} has weight names that are not deepnet's ('00000/<name>').") from None
    if len(stored) != len(targets):
        raise ValueError(
            f"{source} holds {len(stored)} weights but model {model.name!r} has {len(targets)}. "
            "help: build the same architecture that saved the file."
        )
    for (skey, value), (tkey, target) in zip(stored, targets):
        if tuple(value.shape) != tuple(target.shape) or value.dtype != target.dtype:
            raise ValueError(
                f"{source}: weight {skey!r} has shape {tuple(value.shape)} and dtype {value.dtype}; model {model.name!r} "
                f"expects {tkey!r} with shape {tuple(target.shape)} and dtype {target.dtype}."
            )
    with torch.no_grad():
        for (_, value), (_, target) in zip(stored, targets):
            target.copy_(value)


def _dtype_label(dtype: torch.dtype) -> str:
    return str(dtype).replace("torch.", "")


def check_weights_header(model, header: dict, where: str, names: bool = True) -> None:
    """Compare a safetensors header with the model's weights (order, shapes, dtypes and, with
    ``names``, the module paths; without, weights match by position like ``load_weights``).

    >>> from deepnet.saving.safe import safetensors_header, tensors_to_bytes
    >>> from deepnet.saving.weights import check_weights_header, weight_tensors
    >>> model = dn.Sequential([dn.Input((3,)), dn.layers.Dense(2)])
    >>> header = safetensors_header(tensors_to_bytes(weight_tensors(model)), "w.safetensors")
    >>> check_weights_header(model, header, "w.safetensors")  # matches: no error
    """
    expected = list(weight_tensors(model).items())
    if not names:
        by_index = {}
        for key, info in header.items():
            index = key.split("/", 1)[0]
            if not (len(index) == 5 and index.isdigit()) or index in by_index:
                raise ModelFileError(f"{where}: weight name {key!r} is not deepnet's '00000/<path>' form (or repeats an index).")
            by_index[index] = info
        header = {k: by_index[k.split("/", 1)[0]] for k, _ in expected if k.split("/", 1)[0] in by_index} \
            if len(by_index) == len(expected) else header
    if len(header) != len(expected):
        names = {k.split("/", 1)[-1] for k in header}
        missing = [k for k, _ in expected if k.split("/", 1)[-1] not in names][:5]
        extra = sorted(k for k in header if k.split("/", 1)[-1] not in {e.split("/", 1)[-1] for e, _ in expected})[:5]
        raise ModelFileError(
            f"{where}: the weights file holds {len(header)} weights but the model has {len(expected)}"
            + (f"; missing {missing}" if missing else "") + (f"; unexpected {extra}" if extra else "") + "."
        )
    for key, tensor in expected:
        info = header.get(key)
        if info is None:
            raise ModelFileError(f"{where}: the weights file has no weight {key!r} (names or order differ from the model).")
        dtype = _ST_DTYPES.get(info["dtype"])
        if tuple(info["shape"]) != tuple(tensor.shape) or dtype != tensor.dtype:
            label = _dtype_label(dtype) if dtype is not None else info["dtype"]
            raise ModelFileError(
                f"{where}: weight {key!r} has shape {tuple(info['shape'])} and dtype {label}; the model "
                f"expects shape {tuple(tensor.shape)} and dtype {_dtype_label(tensor.dtype)}."
            )


def assign_checked(model, tensors: dict, where: str, names: bool = True) -> None:
    """Check ``tensors`` against the model's weights (:func:`check_weights_header`), then copy
    them in; a mismatch raises ModelFileError naming ``where`` and changes nothing.

    >>> from deepnet.saving.weights import assign_checked, weight_tensors
    >>> model = dn.Sequential([dn.Input((3,)), dn.layers.Dense(2)])
    >>> ones = {k: torch.ones_like(v) for k, v in weight_tensors(model).items()}
    >>> assign_checked(model, ones, "ones.safetensors")
    >>> float(model.weights[1].detach().sum())
    2.0
    """
    check_weights_header(model, {k: {"shape": list(v.shape), "dtype": _st_name(v.dtype)} for k, v in tensors.items()},
                         where, names)
    try:
        assign_weights(model, tensors, source=where)
    except ValueError as e:
        raise ModelFileError(str(e)) from None


def _st_name(dtype: torch.dtype) -> str:
    for k, v in _ST_DTYPES.items():
        if v == dtype:
            return k
    return str(dtype)
