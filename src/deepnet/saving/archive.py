"""The ``.deepnet`` model file: one zip archive of JSON and safetensors, never code.

Members (see ``docs/saving.md``)::

    metadata.json               format name/version, library versions, creation time, progress
    config.json                 {"class_name", "config", "build_config"?, "compile_config"?}
    model.weights.safetensors   every weight, keyed "00000/<module path>" in weight order
    optimizer.json              optimizer state (JSON part)       } only when the optimizer
    optimizer.safetensors       optimizer state (tensors)         } has state

:func:`save_model` writes the archive atomically; :func:`load_model` validates every member,
rebuilds the architecture through the class registry only, checks each weight's name, shape and
dtype, re-compiles and restores the optimizer. Every problem with a file raises
:class:`ModelFileError` naming the file and what is wrong.
"""

from __future__ import annotations

import datetime
import json
import os

import torch

from ..utils.validation import Boolean, InstanceOf, check
from ..version import __version__
from ._architecture import (
    MAX_LAYER_CONFIG_BYTES,
    MAX_LAYERS,
    MAX_MODEL_NESTING,
    build_model,
    model_architecture,
    validate_architecture,
)
from ._compile import compile_config_to_json, compile_from_json
from ._keras_file import is_keras_path, load_keras_model, save_keras_model
from ._optimizer_state import (
    load_optimizer_members,
    optimizer_state_members,
    validate_optimizer_state,
)
from .safe import (
    GiB,
    MiB,
    ModelFileError,
    dump_json,
    parse_json,
    read_archive,
    safetensors_header,
    tensors_from_bytes,
    tensors_to_bytes,
    write_archive,
)
from .weights import assign_checked, check_weights_header, weight_tensors

__all__ = [
    "FORMAT_NAME", "FORMAT_VERSION", "MAX_LAYERS", "MAX_LAYER_CONFIG_BYTES", "MAX_MODEL_NESTING",
    "MEMBER_LIMITS", "ModelFileError", "assign_checked", "build_model", "check_weights_header",
    "load_model", "model_architecture", "model_from_json", "model_to_json", "save_model",
    "validate_architecture", "validate_optimizer_state",
]

FORMAT_NAME = "deepnet"
FORMAT_VERSION = 1

#: Uncompressed size limit of each archive member (bytes).
MEMBER_LIMITS = {
    "metadata.json": 1 * MiB,
    "config.json": 16 * MiB,
    "model.weights.safetensors": 64 * GiB,
    "optimizer.json": 16 * MiB,
    "optimizer.safetensors": 128 * GiB,
}
_REQUIRED = {"metadata.json", "config.json", "model.weights.safetensors"}
_OPTIONAL = {"optimizer.json", "optimizer.safetensors"}


def _meta_probe(arch, header, custom_objects, where: str, weights_where: str) -> None:
    """Build the architecture on the meta device (no memory) and compare it with the weights
    header before allocating anything: a config inflated to terabytes is refused up front."""
    try:
        with torch.device("meta"):
            probe = build_model(arch, custom_objects, where, raw_errors=True)
    except ModelFileError:
        raise
    except Exception:  # a layer that cannot be built on meta (or a bad value): the real build reports it
        return
    check_weights_header(probe, header, weights_where)


def _metadata(model) -> dict:
    meta = {
        "format": FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "deepnet_version": __version__,
        "torch_version": torch.__version__.split("+")[0],
        "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "model_class": type(model).__name__,
        "model_name": model.name,
    }
    optimizer = model.optimizer if getattr(model, "_trainer", None) is not None else None
    if optimizer is not None:
        meta["iterations"] = int(optimizer.iterations)
    history = model.__dict__.get("history")
    if history is not None and getattr(history, "epoch", None):
        meta["epoch"] = int(history.epoch[-1]) + 1
    return meta


_PATH = InstanceOf(str, os.PathLike, description="a file path (str or os.PathLike)")


def save_model(model, filepath, overwrite: bool = True) -> None:
    """Write ``model`` (architecture, weights, compile config, optimizer state) to a
    ``.deepnet`` archive, atomically (``overwrite=False`` refuses to replace a file). A path
    ending in ``.keras`` writes a Keras 3 file instead (architecture, weights and compile
    config, no optimizer state; needs h5py), which ``keras.saving.load_model`` reads.

    >>> model = dn.Sequential([dn.Input((3,)), dn.layers.Dense(2)])
    >>> dn.saving.save_model(model, "tiny.deepnet")
    >>> dn.saving.load_model("tiny.deepnet").count_params()
    8
    """
    path = os.fspath(check("save", "filepath", filepath, _PATH))
    overwrite = check("save", "overwrite", overwrite, Boolean())
    if not path.endswith((".deepnet", ".keras")):
        hint = " help: use model.save_weights(path) for a .safetensors weights file." if path.endswith(".safetensors") else ""
        raise ValueError(f"model.save: the filename must end in '.deepnet' (or '.keras' for a Keras 3 file); "
                         f"received {path!r}.{hint}")
    if not overwrite and os.path.exists(path):
        raise FileExistsError(f"model.save: {path!r} exists and overwrite=False.")
    if not model.built:
        raise ValueError(
            f"model.save: model {model.name!r} is not built, so it has no weights yet. help: give it an Input, "
            "call model.build(input_shape), or call it on a batch first."
        )
    if is_keras_path(path):
        save_keras_model(model, path)
        return
    arch = model_architecture(model)
    compile_cfg = compile_config_to_json(model)
    if compile_cfg is not None:
        arch["compile_config"] = compile_cfg
    weights = tensors_to_bytes(weight_tensors(model), {"format": "deepnet-weights", "model": model.name})
    members = [
        ("metadata.json", dump_json(_metadata(model)), True),
        ("config.json", dump_json(arch), True),
        ("model.weights.safetensors", weights, False),
    ]
    if compile_cfg is not None:
        opt = optimizer_state_members(model.optimizer)
        if opt is not None:
            members += [("optimizer.json", opt[0], True), ("optimizer.safetensors", opt[1], False)]
    write_archive(path, members)


def _check_metadata(meta, where: str) -> None:
    if not isinstance(meta, dict) or meta.get("format") != FORMAT_NAME:
        raise ModelFileError(f"{where}: metadata.json does not describe a deepnet model file (format != 'deepnet').")
    version = meta.get("format_version")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise ModelFileError(f"{where}: metadata.json has an invalid format_version {version!r:.50}.")
    if version > FORMAT_VERSION:
        raise ModelFileError(
            f"{where} was written by a newer deepnet (format_version {version}, deepnet "
            f"{meta.get('deepnet_version', '?')!s:.20}); this deepnet reads format_version {FORMAT_VERSION}. "
            "help: upgrade deepnet."
        )


def load_model(filepath, custom_objects: dict | None = None, compile: bool = True, safe_mode: bool = True):
    """Load a model saved with ``model.save("model.deepnet")``, or a Keras 3 ``.keras`` file
    (saved by Keras or by deepnet; needs h5py: see ``docs/saving.md``, "Keras files").

    Rebuilds the architecture (class names resolve only through the registry and
    ``custom_objects``), loads and checks every weight, and with ``compile=True`` re-compiles
    with the saved compile config and restores the optimizer state so training continues
    exactly. Nothing in the file is ever executed (``safe_mode`` is accepted for Keras
    compatibility: deepnet is always safe). Any problem with the file raises
    :class:`ModelFileError` naming the file and the problem.

    >>> model = dn.Sequential([dn.Input((3,)), dn.layers.Dense(2)])
    >>> model.compile(optimizer="adam", loss="mse")
    >>> model.save("tiny.deepnet")
    >>> loaded = dn.load_model("tiny.deepnet")
    >>> type(loaded).__name__, bool(torch.equal(loaded.weights[0], model.weights[0]))
    ('Sequential', True)
    """
    if custom_objects is not None and not isinstance(custom_objects, dict):
        raise TypeError(f"load_model: `custom_objects` must be a dict {{name: class}}; received {type(custom_objects).__name__}.")
    bad = {k: v for k, v in (custom_objects or {}).items() if not isinstance(k, str) or not callable(v)}
    if bad:
        raise TypeError(f"load_model: `custom_objects` must map names (str) to classes or functions; received {bad!r}.")
    path = os.fspath(check("load_model", "filepath", filepath, _PATH))
    compile = check("load_model", "compile", compile, Boolean())
    where = repr(path)
    if path.endswith((".safetensors", ".weights.h5")):
        raise ModelFileError(f"{where} is a weights file: build the model, then call model.load_weights(path).")
    if is_keras_path(path):
        return load_keras_model(path, custom_objects, compile)
    members = read_archive(path, _REQUIRED, _OPTIONAL, MEMBER_LIMITS, "deepnet model file")
    if ("optimizer.json" in members) != ("optimizer.safetensors" in members):
        raise ModelFileError(f"{where}: optimizer.json and optimizer.safetensors must be present together.")
    _check_metadata(parse_json(members["metadata.json"], f"{where} metadata.json"), where)
    arch = parse_json(members["config.json"], f"{where} config.json")
    if not isinstance(arch, dict):
        raise ModelFileError(f"{where}: config.json must hold an object.")
    compile_cfg = arch.pop("compile_config", None)
    cwhere = f"{where} config.json"
    wwhere = f"{where} model.weights.safetensors"
    weights = members.pop("model.weights.safetensors")
    header = safetensors_header(weights, wwhere)
    validate_architecture(arch, custom_objects, cwhere, top=True)
    _meta_probe(arch, header, custom_objects, cwhere, wwhere)
    model = build_model(arch, custom_objects, cwhere)
    tensors = tensors_from_bytes(weights, wwhere)
    del weights
    assign_checked(model, tensors, wwhere)
    if compile and compile_cfg is not None:
        compile_from_json(model, compile_cfg, custom_objects, cwhere)
        if "optimizer.json" in members:
            load_optimizer_members(model, members["optimizer.json"], members["optimizer.safetensors"], where)
    return model


def model_to_json(model, **kwargs) -> str:
    """The architecture as a JSON string (``json.dumps`` keyword arguments are passed on).

    >>> import json
    >>> model = dn.Sequential([dn.Input((3,)), dn.layers.Dense(2)])
    >>> json.loads(dn.saving.model_to_json(model))["class_name"]
    'Sequential'
    """
    return json.dumps(model_architecture(model), **kwargs)


def model_from_json(json_string, custom_objects: dict | None = None):
    """Rebuild a model (fresh weights) from :func:`model_to_json` output; nothing in the text
    is executed and class names resolve only through the registry and ``custom_objects``.

    >>> model = dn.Sequential([dn.Input((3,)), dn.layers.Dense(2)])
    >>> dn.saving.model_from_json(model.to_json()).count_params()
    8
    """
    if not isinstance(json_string, (str, bytes, bytearray)):
        raise TypeError(f"model_from_json expects a JSON string; received {type(json_string).__name__}.")
    arch = parse_json(json_string, "JSON config")
    if not isinstance(arch, dict):
        raise ModelFileError("JSON config: expected an object with 'class_name' and 'config'.")
    arch.pop("compile_config", None)
    return build_model(arch, custom_objects, "JSON config")
