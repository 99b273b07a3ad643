"""Keras 3 configs (``config.json`` of a ``.keras`` file) <-> deepnet architectures.

Keras writes every object as ``{"module", "class_name", "config", "registered_name"}`` and
layers of a functional model with ``build_config`` and ``inbound_nodes`` whose tensors are
``{"class_name": "__keras_tensor__", "config": {"shape", "dtype", "keras_history"}}``. Reading
keeps only the class names (resolved through deepnet's registry, never by importing the
``module``), refuses code (``Lambda``, ``__lambda__`` functions) and unregistered classes with
a message saying what to do, and drops Keras-only arguments left at their defaults. Writing adds
the ``module`` fields Keras needs to find its built-in classes.
"""

from __future__ import annotations

import inspect

from ..layers.base import Layer
from ..utils.registry import get_registered_class
from ..utils.serialization import accepted_config_keys
from ._keras_ops import from_keras_op, is_keras_op, to_keras_op
from .safe import ModelFileError

__all__ = ["MODEL_CLASSES", "from_keras_architecture", "from_keras_value", "keras_class_names", "keras_class_of",
           "to_keras_architecture", "to_keras_value"]

#: Keras' class names of graph models -> deepnet's registered names.
MODEL_CLASSES = {"Functional": "Model", "Sequential": "Sequential", "Model": "Model"}
_DTYPE_POLICIES = {"DTypePolicy", "FloatDTypePolicy"}
_CODE_HELP = (
    "A Keras file holding Python code is never loaded (Keras' safe_mode does the same). help: write the "
    "computation as a custom layer (subclass deepnet.layers.Layer with get_config()), register it with "
    "@deepnet.saving.register_keras_serializable(package=...) under the same name in deepnet and in Keras, or "
    "rebuild the model in code and load only the weights with model.load_weights('model.weights.h5')."
)
_REGISTER_HELP = (
    "deepnet resolves class names through its registry only, never by importing the module a file names. "
    "help: define the class in deepnet and register it with @deepnet.saving.register_keras_serializable("
    "package=...) under the same registered name, or pass custom_objects={name: cls} to load_model."
)


def _refuse_code(obj: dict, where: str, path: str):
    raise ModelFileError(f"{where}: {path} holds Python code ({obj.get('class_name')!r}). {_CODE_HELP}")


def _function_name(obj: dict, where: str, path: str) -> str:
    # Keras 3 writes the function's (registered) name in "config" and "function" as registered_name
    name = obj.get("config")
    if not isinstance(name, str) or not name:
        name = obj.get("registered_name")
    if not isinstance(name, str) or name == "function":
        raise ModelFileError(f"{where}: {path} names a function in an unknown form {obj!r:.120}.")
    return name


def _special(obj: dict, where: str, path: str):
    """Keras' tagged values (tensors, tuples, functions, dtype policies); ``...`` when not one."""
    name, config = obj.get("class_name"), obj.get("config")
    if name == "__keras_tensor__":
        return {"__keras_tensor__": list(config["keras_history"])}
    if name in ("__tensor__", "__numpy__"):
        return config["value"]
    if name == "__tuple__":
        return from_keras_value(config["value"], where, path)
    if name == "__lambda__" or name == "Lambda":
        _refuse_code(obj, where, path)
    if name == "function":
        return _function_name(obj, where, path)
    if name in _DTYPE_POLICIES:
        return config["name"]
    return ...


def _is_layer_entry(value: dict, custom_objects) -> bool:
    module = str(value.get("module") or "")
    if module.startswith(("keras.layers", "keras.src.layers", "keras.src.models")) or value["class_name"] in MODEL_CLASSES:
        return True
    name = value.get("registered_name")
    return bool(name) and ">" in name and get_registered_class(name, custom_objects, kind="layer") is not None


def from_keras_value(value, where: str, path: str, custom_objects=None):
    """A config value with every Keras object reduced to deepnet's ``{"class_name", "config"}``
    (nested layers, e.g. the one a ``Bidirectional`` wraps, converted as layers)."""
    if isinstance(value, list):
        return [from_keras_value(v, where, f"{path}[{i}]", custom_objects) for i, v in enumerate(value)]
    if not isinstance(value, dict):
        return value
    if "class_name" in value and "config" in value:
        special = _special(value, where, path)
        if special is not ...:
            return special
        if _is_layer_entry(value, custom_objects):
            return from_keras_architecture(value, custom_objects, where, path, top=False)
        name = value.get("registered_name") or value["class_name"]
        config = from_keras_value(value["config"], where, path, custom_objects)
        if isinstance(config, dict):
            config = _clean_arguments(get_registered_class(name, custom_objects), config, where, f"{path} ({name})")
        return {"class_name": name, "config": config}
    return {k: from_keras_value(v, where, f"{path}.{k}", custom_objects) for k, v in value.items()
            if k != "shared_object_id"}


def _layer_class(entry: dict, custom_objects, where: str, path: str) -> type:
    name = entry.get("registered_name") or entry.get("class_name")
    if name == "Lambda":
        label = entry.get("config", {}).get("name", "?")
        raise ModelFileError(f"{where}: layer {label!r} ({path}) is a Lambda layer. {_CODE_HELP}")
    cls = get_registered_class(MODEL_CLASSES.get(name, name), custom_objects, kind="layer")
    if cls is None:
        label = entry.get("config", {}).get("name", "?")
        raise ModelFileError(
            f"{where}: layer {label!r} ({path}) is of class {name!r:.100}, which deepnet does not know. "
            + _REGISTER_HELP
        )
    return cls


def _accepted(cls) -> set[str] | None:
    if not isinstance(cls, type):
        return None
    if issubclass(cls, Layer):
        return accepted_config_keys(cls)
    if "from_config" in vars(cls):
        return None
    try:
        params = inspect.signature(cls.__init__).parameters
    except (TypeError, ValueError):
        return None
    if any(p.kind is p.VAR_KEYWORD for p in params.values()):
        return None
    return set(params) - {"self"}


# Keras-only config keys deepnet can drop: derived ones (any value: None) and defaults it follows.
_KERAS_ONLY = {"vocabulary_size": None, "oov_method": "farmhash"}


def _clean_arguments(cls, config: dict, where: str, label: str) -> dict:
    """Drop the Keras-only arguments that sit at a harmless default; refuse the others."""
    accepted = _accepted(cls)
    if accepted is None:
        return config
    out = {}
    for key, value in config.items():
        if key in accepted:
            out[key] = value
        elif not (value is None or value is False or value == "auto" or _KERAS_ONLY.get(key, ...) in (value, None)):
            raise ModelFileError(
                f"{where}: {label} has the argument {key}={value!r:.80}, which deepnet's {cls.__name__} does not "
                "support. help: rebuild the model without it in Keras, or register a custom class that accepts it."
            )
    return out


def _mask_source(ref, op_layers: dict) -> bool:
    """Whether a ``mask=`` tensor comes from Keras' automatic ``not_equal(x, 0)`` mask op."""
    entry = op_layers.get(ref[0]) if isinstance(ref, list) else None
    return entry is not None and entry.get("class_name") == "NotEqual"


def _convert_nodes(nodes: list, op_layers: dict, where: str, path: str) -> list:
    out = []
    for node in nodes:
        node = from_keras_value(node, where, path)
        if not isinstance(node, dict):
            raise ModelFileError(f"{where}: {path}.inbound_nodes uses the pre-Keras-3 list form; re-save the model "
                                 "with Keras 3.")
        kwargs = node.get("kwargs", {})
        mask = kwargs.get("mask")
        if isinstance(mask, dict) and _mask_source(mask.get("__keras_tensor__"), op_layers):
            # deepnet propagates masks itself (the same Embedding/Masking masks Keras recorded)
            kwargs = {k: v for k, v in kwargs.items() if k != "mask"}
        out.append({"args": node.get("args", []), "kwargs": kwargs})
    return out


def _referenced(layers: list, config: dict) -> set[str]:
    names: set[str] = set()
    stack = [entry.get("inbound_nodes", []) for entry in layers] + [config.get("output_layers")]
    while stack:
        x = stack.pop()
        if isinstance(x, dict):
            ref = x.get("__keras_tensor__")
            if ref is not None:
                names.add(ref[0])
            else:
                stack.extend(x.values())
        elif isinstance(x, list):
            if len(x) == 3 and isinstance(x[0], str) and isinstance(x[1], int):
                names.add(x[0])
            else:
                stack.extend(x)
    return names


def _used_ops(layers: list, config: dict) -> set[str]:
    """Names of the op nodes the graph needs: those its layers, outputs or needed ops read
    (Keras' automatic ``not_equal`` mask nodes, read only as ``mask=``, are not needed)."""
    kept = [e for e in layers if not is_keras_op(e)]
    ops_by_name = {e.get("name"): e for e in layers if is_keras_op(e)}
    used: set[str] = set()
    while True:
        names = _referenced(kept + [ops_by_name[n] for n in used], config) & set(ops_by_name)
        if names == used:
            return used
        used = names


def _from_graph_config(config: dict, custom_objects, where: str, path: str) -> dict:
    op_layers = {e.get("name"): e for e in config["layers"] if is_keras_op(e)}
    layers = []
    for i, entry in enumerate(config["layers"]):
        if is_keras_op(entry):
            layers.append(entry)
            continue
        sub = f"{path}.layers[{i}]"
        out = from_keras_architecture(entry, custom_objects, where, sub, top=False)
        if "inbound_nodes" in entry:
            out["inbound_nodes"] = _convert_nodes(entry["inbound_nodes"], op_layers, where, sub)
        layers.append(out)
    graph = {"name": config.get("name"), "trainable": config.get("trainable", True)}
    if "input_layers" in config:
        graph["input_layers"] = config["input_layers"]
        graph["output_layers"] = config["output_layers"]
    used = _used_ops(layers, config)
    graph["layers"] = [from_keras_op(e, where, f"{path}.layers[{i}]") if is_keras_op(e) else e
                       for i, e in enumerate(layers) if not is_keras_op(e) or e.get("name") in used]
    return graph


def from_keras_architecture(entry, custom_objects, where: str, path: str = "model", top: bool = True) -> dict:
    """A Keras config entry (a ``.keras`` file's ``config.json``) as a deepnet architecture.

    >>> from deepnet.saving._keras_config import from_keras_architecture
    >>> entry = {"module": "keras.layers", "class_name": "Dense", "registered_name": None,
    ...          "config": {"name": "d", "units": 2, "quantization_config": None}}
    >>> from_keras_architecture(entry, None, "config.json", top=False)
    {'class_name': 'Dense', 'config': {'name': 'd', 'units': 2}}
    """
    if not isinstance(entry, dict) or not isinstance(entry.get("config"), dict):
        raise ModelFileError(f"{where}: {path} must be an object with 'class_name' and 'config'.")
    cls = _layer_class(entry, custom_objects, where, path)
    config = entry["config"]
    class_name = MODEL_CLASSES.get(entry.get("registered_name") or entry["class_name"],
                                   entry.get("registered_name") or entry["class_name"])
    if "layers" in config and class_name in ("Model", "Sequential"):
        out = {"class_name": class_name, "config": _from_graph_config(config, custom_objects, where, path)}
    else:
        label = f"layer {config.get('name', '?')!r} ({path}, {class_name})"
        out = {"class_name": class_name,
               "config": _clean_arguments(cls, from_keras_value(config, where, path, custom_objects), where, label)}
    if not top and "name" in entry:
        out["name"] = entry["name"]
    build = entry.get("build_config")
    if top and isinstance(build, dict) and "layers" not in config and "input_shape" in build:
        out["build_config"] = {"input_shape": build["input_shape"]}
    elif not top and isinstance(build, dict) and callable(getattr(cls, "build_from_config", None)):
        out["build_config"] = from_keras_value(build, where, f"{path}.build_config", custom_objects)
    return out


def keras_class_names(entry: dict) -> dict[str, str]:
    """Layer name -> Keras class name for every layer of the graphs in a Keras config (the
    weights file names its groups after these classes, e.g. ``k_scale`` for ``KScale``).

    >>> from deepnet.saving._keras_config import keras_class_names
    >>> keras_class_names({"class_name": "Sequential", "config": {"layers": [
    ...     {"class_name": "Dense", "config": {"name": "d"}}]}})
    {'d': 'Dense'}
    """
    out: dict[str, str] = {}
    stack = [entry]
    while stack:
        item = stack.pop()
        config = item.get("config") if isinstance(item, dict) else None
        if not isinstance(config, dict):
            continue
        for layer in config.get("layers", []) if isinstance(config.get("layers"), list) else []:
            if isinstance(layer, dict) and isinstance(layer.get("config"), dict) and not is_keras_op(layer):
                out[str(layer["config"].get("name", layer.get("name")))] = str(layer.get("class_name"))
                stack.append(layer)
    return out


# ----------------------------------------------------------------------------- writing

_MODULES = {"initializer": "keras.initializers", "regularizer": "keras.regularizers",
            "constraint": "keras.constraints", "layer": "keras.layers", "loss": "keras.losses",
            "metric": "keras.metrics", "optimizer": "keras.optimizers",
            "schedule": "keras.optimizers.schedules"}
_KIND_BY_SUFFIX = (("_initializer", "initializer"), ("_regularizer", "regularizer"),
                   ("_constraint", "constraint"))


def keras_class_of(name: str) -> str:
    """Keras' class name for a deepnet registered name (``Model`` -> ``Functional``).

    >>> from deepnet.saving._keras_config import keras_class_of
    >>> keras_class_of("Model"), keras_class_of("Dense"), keras_class_of("Custom>Scale")
    ('Functional', 'Dense', 'Scale')
    """
    return "Functional" if name == "Model" else name.split(">")[-1]


_KIND_BY_KEY = {"optimizer": "optimizer", "loss": "loss", "metrics": "metric", "weighted_metrics": "metric",
                "layer": "layer", "backward_layer": "layer", "cell": "layer", "cells": "layer"}
# Where a key does not say: a layer first (``Identity`` is a layer and an initializer).
_KIND_ORDER = ("layer", "loss", "metric", "optimizer", "schedule", "initializer", "regularizer", "constraint")


def _object_kind(key: str, name: str) -> str:
    if key in _KIND_BY_KEY:
        return _KIND_BY_KEY[key]
    for suffix, kind in _KIND_BY_SUFFIX:
        if key.endswith(suffix):
            return kind
    for kind in _KIND_ORDER:
        if get_registered_class(name, kind=kind) is not None:
            return kind
    return "layer"


def _to_object(key: str, value: dict, shapes) -> dict:
    name = value["class_name"]
    kind = _object_kind(key, name)
    cls = get_registered_class(name, kind=kind)
    custom = ">" in name
    if name in ("Model", "Sequential"):
        module = "keras.src.models.functional" if name == "Model" else "keras"
    else:
        module = getattr(cls, "__module__", "builtins") if custom else _MODULES[kind]
    out = {"module": module, "class_name": keras_class_of(name),
           "config": to_keras_value("config", value["config"], shapes), "registered_name": name if custom else None}
    return out


def _custom_function(key: str, name: str):
    """Keras' entry for a custom function named in a config (a registered activation, loss...),
    which Keras' getters find only in this form; None when ``name`` is not one."""
    if not (">" in name or key.endswith("activation")):
        return None
    fn = get_registered_class(name)
    if fn is None or isinstance(fn, type) or not callable(fn):
        return None
    return {"module": "builtins", "class_name": "function", "config": name, "registered_name": "function"}


def to_keras_value(key: str, value, shapes):
    if isinstance(value, list):
        return [to_keras_value(key, v, shapes) for v in value]
    if isinstance(value, str):
        return _custom_function(key, value) or value
    if not isinstance(value, dict):
        return value
    if "__keras_tensor__" in value:
        ref = value["__keras_tensor__"]
        shape, dtype = shapes(ref)
        return {"class_name": "__keras_tensor__", "config": {"shape": shape, "dtype": dtype, "keras_history": ref}}
    if "class_name" in value and "config" in value and isinstance(value["class_name"], str):
        return _to_object(key, value, shapes)
    return {k: to_keras_value(k, v, shapes) for k, v in value.items()}


def to_keras_architecture(arch: dict, shapes) -> dict:
    """A deepnet architecture as Keras' config (``module`` fields added, graph models named
    ``Functional``, tensor references with their shape and dtype from ``shapes(ref)``).

    >>> from deepnet.saving._keras_config import to_keras_architecture
    >>> to_keras_architecture({"class_name": "Dense", "config": {"units": 2}}, None)["module"]
    'keras.layers'
    """
    out = _to_object("layer", {"class_name": arch["class_name"], "config": {}}, shapes)
    config = arch["config"]
    if "layers" in config and arch["class_name"] in ("Model", "Sequential"):
        layers = []
        for layer in config["layers"]:
            if layer.get("class_name") == "Operation":
                layers.append(to_keras_op(layer, shapes))
                continue
            entry = to_keras_architecture(layer, shapes)
            for extra in ("name", "inbound_nodes"):
                if extra in layer:
                    entry[extra] = to_keras_value(extra, layer[extra], shapes)
            layers.append(entry)
        out["config"] = {**{k: v for k, v in config.items() if k != "layers"}, "layers": layers}
    else:
        out["config"] = to_keras_value("config", config, shapes)
    if "build_config" in arch:
        out["build_config"] = arch["build_config"]
    return out
