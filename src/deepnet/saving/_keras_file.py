"""Keras 3 files: ``.keras`` archives and ``.weights.h5`` weights, read and written.

A ``.keras`` file is a zip of ``metadata.json``, ``config.json`` (Keras' config, with the
compile config), ``model.weights.h5`` (HDF5, Keras' layout: :mod:`._keras_h5`) and the
vocabularies of lookup layers under ``assets/`` (:mod:`._keras_assets`). Loading
converts the config (:mod:`._keras_config`), rebuilds the model through deepnet's registry and
copies the weights; nothing in the file is executed and no pickle is read. h5py is an optional
dependency (``pip install deepnet[keras-files]``), imported when a Keras file is used.
"""

from __future__ import annotations

import datetime
import io
import os
import zipfile

from ..utils.io import atomic_write_bytes
from ..utils.serialization import serialize_object
from ._architecture import build_model, is_graph_model, model_architecture, user_hook
from ._compile import compile_config_to_json, compile_from_json
from ._keras_assets import (
    ASSET_LIMIT,
    asset_members,
    read_assets,
    read_custom_assets,
    unclaimed_assets,
    write_assets,
    write_custom_assets,
)
from ._keras_config import (
    from_keras_architecture,
    from_keras_value,
    keras_class_names,
    to_keras_architecture,
    to_keras_value,
)
from ._keras_h5 import read_h5_weights, write_h5_weights
from .safe import GiB, MiB, ModelFileError, dump_json, parse_json, read_archive, write_archive

__all__ = ["KERAS_VERSION", "is_keras_path", "load_keras_model", "load_keras_weights", "save_keras_model",
           "save_keras_weights"]

#: The Keras version written into ``metadata.json`` of the ``.keras`` files deepnet writes.
KERAS_VERSION = "3.15.1"
_MEMBERS = {"metadata.json", "config.json", "model.weights.h5"}
_LIMITS = {"metadata.json": 1 * MiB, "config.json": 64 * MiB, "model.weights.h5": 64 * GiB}
_MAX_NAMES = 100_000
_COMPILE_KEEP = ("loss", "loss_weights", "metrics", "weighted_metrics")


def is_keras_path(path: str, weights: bool = False) -> bool:
    """Whether ``path`` names a Keras 3 file (``.keras``; with ``weights``, ``.weights.h5``).

    >>> from deepnet.saving._keras_file import is_keras_path
    >>> is_keras_path("m.keras"), is_keras_path("w.weights.h5", weights=True), is_keras_path("m.deepnet")
    (True, True, False)
    """
    return path.endswith(".weights.h5") if weights else path.endswith(".keras")


def _h5py():
    try:
        import h5py
    except ImportError:
        raise ImportError(
            "Reading and writing Keras files (.keras, .weights.h5) needs h5py. help: pip install 'deepnet[keras-files]' "
            "(or pip install h5py); deepnet's own formats (.deepnet, .safetensors) do not need it."
        ) from None
    return h5py


def _open_h5(data: bytes, where: str):
    h5py = _h5py()
    try:
        return h5py.File(io.BytesIO(data), "r")
    except OSError as e:
        raise ModelFileError(f"{where}: not a readable HDF5 file ({e}).") from None


# ----------------------------------------------------------------------------- reading


def _compile_from_keras(cfg, custom_objects, where: str) -> dict | None:
    if not isinstance(cfg, dict) or not isinstance(cfg.get("optimizer"), dict):
        return None
    out = {k: from_keras_value(cfg.get(k), where, f"compile_config.{k}", custom_objects) for k in _COMPILE_KEEP}
    out["optimizer"] = from_keras_value(cfg["optimizer"], where, "compile_config.optimizer", custom_objects)
    out["jit_compile"] = cfg.get("jit_compile") is True
    return out


def _member_names(path) -> list[str]:
    """The member names of the archive at ``path`` ([] when it is not a readable zip: the
    validating reader then says what is wrong with it)."""
    try:
        with zipfile.ZipFile(path) as zf:
            return zf.namelist()[:_MAX_NAMES]
    except (OSError, zipfile.BadZipFile, ValueError):
        return []


def load_keras_model(path: str, custom_objects=None, compile: bool = True):
    """Load a Keras 3 ``.keras`` file into a deepnet model (see :func:`deepnet.saving.load_model`)."""
    where = repr(path)
    assets = asset_members(_member_names(path))
    members = read_archive(path, _MEMBERS, assets, {**_LIMITS, **dict.fromkeys(assets, ASSET_LIMIT)},
                           "Keras .keras file")
    meta = parse_json(members["metadata.json"], f"{where} metadata.json")
    if not isinstance(meta, dict) or not str(meta.get("keras_version", "")).startswith("3."):
        raise ModelFileError(
            f"{where}: metadata.json names Keras {meta.get('keras_version') if isinstance(meta, dict) else '?'!s:.20}; "
            "deepnet reads files of Keras 3. help: load the model in Keras 3 and save it again."
        )
    config = parse_json(members["config.json"], f"{where} config.json")
    cwhere = f"{where} config.json"
    arch = from_keras_architecture(config, custom_objects, cwhere)
    model = build_model(arch, custom_objects, cwhere)
    stray = unclaimed_assets(model, assets, keras_class_names(config))
    if stray:
        raise ModelFileError(f"{where}: unexpected archive member {stray[0]!r} (no layer of the model reads it: the "
                             "assets are lookup layers' vocabulary.txt and the files of layers with a load_assets "
                             "hook). help: remove it, or load the model whose custom layer saved it.")
    with _open_h5(members.pop("model.weights.h5"), f"{where} model.weights.h5") as h5:
        read_h5_weights(model, h5, f"{where} model.weights.h5", keras_class_names(config))
    read_assets(model, {name: members[name] for name in assets}, where, keras_class_names(config))
    read_custom_assets(model, {name: members[name] for name in assets}, keras_class_names(config))
    compile_hook = user_hook(model, "compile_from_config")
    if compile and compile_hook is not None and isinstance(config.get("compile_config"), dict):
        compile_hook(config["compile_config"])  # a model's own compile config (Keras' hook)
        return model
    compile_cfg = _compile_from_keras(config.get("compile_config"), custom_objects, cwhere)
    if compile and compile_cfg is not None:
        compile_from_json(model, compile_cfg, custom_objects, cwhere)
    return model


def load_keras_weights(model, path: str) -> None:
    """Load a Keras 3 ``.weights.h5`` file (Keras' layout) into a built ``model``."""
    if not model.built:
        raise ValueError(f"load_weights: build model {model.name!r} (give it an Input) before loading weights into it.")
    try:
        with open(path, "rb") as f:
            data = f.read()
    except FileNotFoundError:
        raise FileNotFoundError(f"load_weights: no such file {path!r}.") from None
    with _open_h5(data, repr(path)) as h5:
        read_h5_weights(model, h5, repr(path))


# ----------------------------------------------------------------------------- writing


def _tensor_lookup(model):
    """``shapes(ref)`` for :func:`to_keras_architecture`: shape and dtype of the tensor a
    ``[layer name, node index, tensor index]`` reference names, in any graph model inside."""
    table = {}
    stack = [model]
    while stack:
        graph = stack.pop()
        counts: dict[str, int] = {}
        for node in getattr(graph, "_nodes", []):
            name = node.layer.name
            index = counts.get(name, 0)
            counts[name] = index + 1
            outputs = node.outputs if isinstance(node.outputs, (list, tuple)) else [node.outputs]
            for i, t in enumerate(outputs):
                table[(name, index, i)] = (list(t.shape), str(t.dtype).replace("torch.", ""))
        stack.extend(layer for layer in getattr(graph, "layers", []) if is_graph_model(layer))

    def shapes(ref):
        return table.get(tuple(ref), (None, "float32"))

    return shapes


def _compile_to_keras(model) -> dict | None:
    hook = user_hook(model, "get_compile_config")
    if hook is not None and getattr(model, "optimizer", None) is not None:  # Keras' hook
        return {k: to_keras_value(k, v, None) for k, v in serialize_object(hook()).items()}
    cfg = compile_config_to_json(model)
    if cfg is None:
        return None
    out = {key: to_keras_value(key, value, None) for key, value in cfg.items() if key != "adversarial"}
    out.update(run_eagerly=False, steps_per_execution=1, jit_compile=False)
    return out


def _h5_bytes(model) -> bytes:
    h5py = _h5py()
    buffer = io.BytesIO()
    with h5py.File(buffer, "w") as h5:
        write_h5_weights(model, h5)
    return buffer.getvalue()


def save_keras_model(model, path: str) -> None:
    """Write ``model`` as a Keras 3 ``.keras`` file (see :func:`deepnet.saving.save_model`)."""
    arch = model_architecture(model, keras=True)
    config = to_keras_architecture(arch, _tensor_lookup(model))
    if not is_graph_model(model):
        config["build_config"] = arch.get("build_config")
    compile_cfg = _compile_to_keras(model)
    if compile_cfg is not None:
        config["compile_config"] = compile_cfg
    assets = write_assets(model, config) + write_custom_assets(model)
    stamp = datetime.datetime.now().strftime("%Y-%m-%d@%H:%M:%S")
    members = [
        ("metadata.json", dump_json({"keras_version": KERAS_VERSION, "date_saved": stamp}), True),
        ("config.json", dump_json(config), True),
        ("model.weights.h5", _h5_bytes(model), False),
        *((name, data, True) for name, data in assets),
    ]
    write_archive(path, members)


def save_keras_weights(model, path: str) -> None:
    """Write every weight of ``model`` to a Keras 3 ``.weights.h5`` file, atomically."""
    if not model.built:
        raise ValueError(f"save_weights: model {model.name!r} is not built, so it has no weights yet.")
    atomic_write_bytes(os.fspath(path), _h5_bytes(model))
