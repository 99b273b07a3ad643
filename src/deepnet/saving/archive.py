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
import inspect
import json
import math
import os

import torch

from ._safe import (
    GiB,
    MiB,
    ModelFileError,
    decode_state,
    dump_json,
    encode_state,
    parse_json,
    read_archive,
    safetensors_header,
    tensors_from_bytes,
    tensors_to_bytes,
    write_archive,
)

__all__ = [
    "FORMAT_NAME", "FORMAT_VERSION", "ModelFileError", "load_model", "model_from_json", "model_to_json",
    "save_model",
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

# Keys a layer entry may have in a config (anything else, e.g. "module", is refused).
_ENTRY_KEYS = {"class_name", "config", "name", "inbound_nodes"}
_TOP_KEYS = {"class_name", "config", "build_config", "compile_config"}
_COMPILE_KEYS = {"optimizer", "loss", "loss_weights", "metrics", "weighted_metrics", "jit_compile"}
_LAYER_BASE_ARGS = {"name", "trainable", "dtype", "input_shape", "batch_input_shape"}

_ST_DTYPES = {
    "F64": torch.float64, "F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16,
    "I64": torch.int64, "I32": torch.int32, "I16": torch.int16, "I8": torch.int8, "U8": torch.uint8,
    "BOOL": torch.bool,
}


# ============================================================================= architecture


def _model_classes():
    from ..models.model import Model
    from ..models.sequential import Sequential

    return Model, Sequential


def _is_graph_model(model) -> bool:
    Model, Sequential = _model_classes()
    return isinstance(model, Sequential) or bool(getattr(model, "_functional", False))


def _class_key(obj) -> str:
    return getattr(type(obj), "_registered_name", type(obj).__name__)


def _check_saveable(model) -> None:
    """Every class named by the config must resolve back to itself through the registry."""
    from ..layers.base import Layer
    from ..utils.registry import get_registered_class

    Model, Sequential = _model_classes()
    to_check = [model]
    seen = set()
    while to_check:
        obj = to_check.pop()
        if id(obj) in seen:
            continue
        seen.add(id(obj))
        key = _class_key(obj)
        if get_registered_class(key) is not type(obj):
            kind = "subclassed model" if isinstance(obj, Model) and not _is_graph_model(obj) else "layer"
            raise ValueError(
                f"Cannot save {kind} {obj.name!r} of class {type(obj).__name__}: the class is not registered, "
                "so a model file could not name it (deepnet files never name Python import paths). help: "
                "decorate the class with @deepnet.saving.register_serializable() and give it a get_config() "
                "returning its constructor arguments."
            )
        if isinstance(obj, Model) and _is_graph_model(obj):
            to_check.extend(layer for layer in obj.layers if isinstance(layer, Layer))
        elif isinstance(obj, Model) and type(obj).get_config is Model.get_config:
            raise ValueError(
                f"Cannot save subclassed model {obj.name!r} ({type(obj).__name__}): it has no get_config(), so its "
                "constructor arguments are unknown. help: implement get_config() returning the arguments of "
                "__init__ (the model is rebuilt with from_config(config) and built on the recorded input shape)."
            )


def _build_shape(model):
    """The input shape a subclassed model was built with (None when unknown)."""
    args = getattr(model, "_build_args", None)
    if args:
        return args[0]
    return getattr(model, "_build_input_shape", None)


def _shape_to_json(shape):
    if isinstance(shape, (tuple, list)) and all(d is None or isinstance(d, int) for d in shape):
        return [None if d is None else int(d) for d in shape]
    if isinstance(shape, dict):
        return {str(k): _shape_to_json(v) for k, v in shape.items()}
    if isinstance(shape, (tuple, list)):
        return [_shape_to_json(s) for s in shape]
    raise TypeError(f"cannot record input shape {shape!r}")


def _shape_from_json(obj, where: str):
    if isinstance(obj, list) and all(d is None or (isinstance(d, int) and not isinstance(d, bool) and d >= 0)
                                     for d in obj):
        return tuple(obj)
    if isinstance(obj, list) and obj:
        return [_shape_from_json(s, where) for s in obj]
    if isinstance(obj, dict) and obj:
        return {k: _shape_from_json(v, where) for k, v in obj.items()}
    raise ModelFileError(f"{where}: build_config.input_shape must be a shape (list of ints/null); received {obj!r:.100}.")


def model_architecture(model) -> dict:
    """``{"class_name", "config", "build_config"?}`` of a model (JSON-able)."""
    from ..models.graph import serialize_layer

    _check_saveable(model)
    try:
        arch = serialize_layer(model)
    except NotImplementedError as e:  # e.g. TorchModuleWrapper: arbitrary PyTorch code has no config
        raise ValueError(f"Cannot save model {model.name!r}: {e}") from None
    if not _is_graph_model(model):
        shape = _build_shape(model)
        if shape is None and model.built:
            raise ValueError(
                f"Cannot save subclassed model {model.name!r}: its input shape was not recorded. help: call the "
                "model once on a batch of data (or set model._build_input_shape = (None, ...)) before saving."
            )
        if shape is not None:
            arch["build_config"] = {"input_shape": _shape_to_json(shape)}
    try:
        json.dumps(arch, allow_nan=True)
    except (TypeError, ValueError) as e:
        raise ValueError(
            f"Cannot save model {model.name!r}: its config is not JSON data ({e}). help: make every layer's "
            "get_config() return only str/int/float/bool/None/list/dict values."
        ) from None
    return arch


def _resolve_class(name, custom_objects, where: str, path: str):
    from ..layers.base import Layer
    from ..utils.registry import get_registered_class

    if not isinstance(name, str):
        raise ModelFileError(f"{where}: {path}.class_name must be a string; received {name!r:.100}.")
    cls = get_registered_class(name, custom_objects)
    if not (isinstance(cls, type) and issubclass(cls, Layer)):
        raise ModelFileError(
            f"{where}: {path} names the unknown layer class {name!r:.200}. deepnet resolves class names only "
            "through its registry, never by importing modules. help: register custom classes with "
            "@deepnet.saving.register_serializable() or pass custom_objects={name: cls}."
        )
    return cls


def _accepted_config_keys(cls) -> set[str] | None:
    """Constructor argument names of a layer class (None: the class parses its config itself)."""
    from ..layers.base import Layer

    if getattr(cls.from_config, "__func__", None) is not Layer.from_config.__func__:
        return None
    try:
        params = inspect.signature(cls.__init__).parameters
    except (TypeError, ValueError):
        return None
    names = {n for n, p in params.items() if n != "self" and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}
    if any(p.kind == p.VAR_KEYWORD for p in params.values()):
        names |= _LAYER_BASE_ARGS
    return names


def _ref_ok(ref, names: set[str]) -> bool:
    return (isinstance(ref, list) and len(ref) == 3 and isinstance(ref[0], str) and ref[0] in names
            and all(isinstance(i, int) and not isinstance(i, bool) and 0 <= i < 1 << 20 for i in ref[1:]))


def _check_refs(obj, names: set[str], where: str, path: str) -> None:
    stack = [obj]
    while stack:
        x = stack.pop()
        if isinstance(x, dict):
            if "__keras_tensor__" in x:
                if len(x) != 1 or not _ref_ok(x["__keras_tensor__"], names):
                    raise ModelFileError(f"{where}: {path} has a malformed tensor reference {x!r:.120}.")
                continue
            stack.extend(x.values())
        elif isinstance(x, list):
            stack.extend(x)


def _check_struct_refs(obj, names: set[str], where: str, path: str) -> None:
    if _ref_ok(obj, names):
        return
    if isinstance(obj, list) and obj:
        for v in obj:
            _check_struct_refs(v, names, where, path)
        return
    if isinstance(obj, dict) and obj:
        for v in obj.values():
            _check_struct_refs(v, names, where, path)
        return
    raise ModelFileError(f"{where}: {path} must reference layers of the model; received {obj!r:.120}.")


def validate_architecture(entry, custom_objects, where: str, path: str = "model", top: bool = False) -> None:
    """Check a layer/model entry before anything is built: known keys only, classes from the
    registry, well-formed graphs and tensor references, and constructor arguments that exist."""
    Model, Sequential = _model_classes()
    allowed = _TOP_KEYS if top else _ENTRY_KEYS
    if not isinstance(entry, dict):
        raise ModelFileError(f"{where}: {path} must be an object with 'class_name' and 'config'; received {entry!r:.100}.")
    unknown = sorted(set(entry) - allowed)
    if unknown:
        extra = " (deepnet configs never name modules)" if "module" in unknown else ""
        raise ModelFileError(f"{where}: {path} has unknown key(s) {unknown}{extra}; expected {sorted(allowed)}.")
    cls = _resolve_class(entry.get("class_name"), custom_objects, where, path)
    config = entry.get("config")
    if not isinstance(config, dict):
        raise ModelFileError(f"{where}: {path}.config must be an object; received {config!r:.100}.")
    if "name" in entry and not isinstance(entry["name"], str):
        raise ModelFileError(f"{where}: {path}.name must be a string.")
    label = f"{path} ({entry['class_name']} {config.get('name', '')!r})"
    if issubclass(cls, Model) and "layers" in config:
        layers = config["layers"]
        if not isinstance(layers, list):
            raise ModelFileError(f"{where}: {path}.layers must be a list.")
        graph = issubclass(cls, Model) and not issubclass(cls, Sequential)
        keys = {"name", "trainable", "layers"} | ({"input_layers", "output_layers"} if graph else set())
        bad = sorted(set(config) - keys)
        if bad:
            raise ModelFileError(f"{where}: {label} has unknown config key(s) {bad}; expected {sorted(keys)}.")
        names: set[str] = set()
        for i, layer in enumerate(layers):
            validate_architecture(layer, custom_objects, where, f"{path}.layers[{i}]")
            if graph:
                name = layer.get("name", layer["config"].get("name"))
                if not isinstance(name, str) or name in names:
                    raise ModelFileError(f"{where}: {path}.layers[{i}] has a missing or duplicate name {name!r:.100}.")
                names.add(name)
        if graph:
            for i, layer in enumerate(layers):
                nodes = layer.get("inbound_nodes", [])
                if not isinstance(nodes, list) or not all(
                    isinstance(n, dict) and set(n) <= {"args", "kwargs"} and isinstance(n.get("args", []), list)
                    and isinstance(n.get("kwargs", {}), dict) for n in nodes
                ):
                    raise ModelFileError(f"{where}: {path}.layers[{i}].inbound_nodes is malformed.")
                _check_refs(nodes, names, where, f"{path}.layers[{i}].inbound_nodes")
            for key in ("input_layers", "output_layers"):
                if key not in config:
                    raise ModelFileError(f"{where}: {label} is missing {key!r}.")
                _check_struct_refs(config[key], names, where, f"{path}.{key}")
        return
    if "inbound_nodes" in entry and not isinstance(entry["inbound_nodes"], list):
        raise ModelFileError(f"{where}: {path}.inbound_nodes must be a list.")
    accepted = _accepted_config_keys(cls)
    if accepted is not None:
        bad = sorted(set(config) - accepted)
        if bad:
            raise ModelFileError(
                f"{where}: {label} has unknown argument(s) {bad}; {cls.__name__} accepts {sorted(accepted)}."
            )


def _call_from_config(cls, config: dict, custom_objects):
    try:
        takes_custom = "custom_objects" in inspect.signature(cls.from_config).parameters
    except (TypeError, ValueError):
        takes_custom = False
    return cls.from_config(config, custom_objects) if takes_custom else cls.from_config(config)


def build_model(arch: dict, custom_objects, where: str, raw_errors: bool = False):
    """Rebuild a model from an architecture dict: validated first, then built (errors of the
    config data -> ModelFileError, unless ``raw_errors``, used by the meta-device probe)."""
    from ..utils.registry import get_registered_class

    validate_architecture(arch, custom_objects, where, top=True)
    cls = get_registered_class(arch["class_name"], custom_objects)
    build_cfg = arch.get("build_config")
    shape = None
    if build_cfg is not None:
        if not isinstance(build_cfg, dict) or set(build_cfg) != {"input_shape"}:
            raise ModelFileError(f"{where}: build_config must be {{'input_shape': [...]}}; received {build_cfg!r:.100}.")
        shape = _shape_from_json(build_cfg["input_shape"], where)
    try:
        model = _call_from_config(cls, dict(arch["config"]), custom_objects)
        if shape is not None and not _is_graph_model(model):
            model.build(shape)
            model._build_args = (shape,)
    except ModelFileError:
        raise
    except Exception as e:  # any failure of user-supplied config data is a bad file, reported plainly
        if raw_errors:
            raise
        raise ModelFileError(f"{where}: cannot rebuild the model from its config: {type(e).__name__}: {e}") from None
    Model, _ = _model_classes()
    if not isinstance(model, Model):
        raise ModelFileError(f"{where}: the config describes a {type(model).__name__}, not a model.")
    return model


# ============================================================================= compile config


def _spec_to_json(spec, module, kind: str):
    """A loss/metric compile argument (name, object, callable, or list/dict of them) as JSON."""
    if spec is None or isinstance(spec, str):
        return spec
    if isinstance(spec, (list, tuple)):
        return [_spec_to_json(s, module, kind) for s in spec]
    if isinstance(spec, dict):
        return {str(k): _spec_to_json(v, module, kind) for k, v in spec.items()}
    if hasattr(spec, "get_config"):
        name = getattr(type(spec), "_registered_name", None)
        out = module.serialize(spec)
        if name:
            out["class_name"] = name
        return out
    if callable(spec):
        name = getattr(spec, "_registered_name", None) or getattr(spec, "__name__", None)
        table_name = getattr(module, "_FUNCTION_NAMES", {}).get(spec)
        if table_name:
            return table_name
        if not name or name == "<lambda>":
            raise ValueError(
                f"Cannot save the {kind} {spec!r}: a lambda has no name to save. help: use a named function and "
                "load with custom_objects={'name': fn}."
            )
        return name
    raise ValueError(f"Cannot save the {kind} {spec!r}: expected a name, a {kind} object or a function.")


def compile_config_to_json(model) -> dict | None:
    from .. import losses as _losses
    from .. import metrics as _metrics
    from .. import optimizers as _optimizers

    raw = getattr(model, "_compile_config", None)
    trainer = getattr(model, "_trainer", None)
    if raw is None or trainer is None:
        return None
    weights = raw.get("loss_weights")
    try:
        json.dumps(weights)
    except (TypeError, ValueError):
        raise ValueError(f"Cannot save loss_weights={weights!r}: expected numbers (or a list/dict of them).") from None
    try:
        optimizer = _optimizers.serialize(trainer.optimizer)
    except TypeError as e:
        raise ValueError(f"Cannot save the optimizer of model {model.name!r}: {e}") from None
    return {
        "optimizer": optimizer,
        "loss": _spec_to_json(raw.get("loss"), _losses, "loss"),
        "loss_weights": weights,
        "metrics": _spec_to_json(raw.get("metrics"), _metrics, "metric"),
        "weighted_metrics": _spec_to_json(raw.get("weighted_metrics"), _metrics, "metric"),
        "jit_compile": bool(raw.get("jit_compile", False)),
    }


def _custom_spec(name, module, kind: str, custom_objects):
    """What ``name`` means as a user-defined loss/metric: ``custom_objects`` first, then the
    registry, where only Loss/Metric subclasses and registered functions count (a layer
    class named as a loss is not one)."""
    from ..utils.registry import get_registered_class

    if not isinstance(name, str):
        return None
    if custom_objects and name in custom_objects:
        return custom_objects[name]
    found = get_registered_class(name)
    base = module.Loss if kind == "loss" else module.Metric
    if isinstance(found, type):
        return found if issubclass(found, base) else None
    return found if callable(found) else None


def _spec_from_json(spec, module, kind: str, custom_objects, where: str):
    if spec is None:
        return None
    if isinstance(spec, str):
        found = _custom_spec(spec, module, kind, custom_objects)
        if found is not None:
            return found
        if kind == "metric" and spec.lower() not in ("accuracy", "acc", "crossentropy", "ce"):
            module.get(spec)  # validate the name now (raises ValueError naming valid ones)
        return spec
    if isinstance(spec, list):
        return [_spec_from_json(s, module, kind, custom_objects, where) for s in spec]
    if isinstance(spec, dict) and "class_name" in spec:
        if set(spec) - {"class_name", "config"} or not isinstance(spec.get("config", {}), dict):
            raise ModelFileError(f"{where}: malformed {kind} entry {spec!r:.120}.")
        cls = _custom_spec(spec["class_name"], module, kind, custom_objects)
        if isinstance(cls, type):
            return cls.from_config(dict(spec.get("config", {})))
        return module.deserialize(spec)
    if isinstance(spec, dict):
        return {k: _spec_from_json(v, module, kind, custom_objects, where) for k, v in spec.items()}
    raise ModelFileError(f"{where}: cannot read the {kind} entry {spec!r:.120}.")


def _optimizer_from_json(spec, custom_objects, where: str):
    from .. import optimizers as _optimizers

    if not isinstance(spec, dict) or set(spec) != {"class_name", "config"} or not isinstance(spec["config"], dict):
        raise ModelFileError(f"{where}: compile_config.optimizer must be {{'class_name', 'config'}}.")
    if str(spec["class_name"]).lower() == "torchoptimizer":
        path = spec["config"].get("optimizer_class")
        if not isinstance(path, str) or "." in path or not isinstance(getattr(torch.optim, path, None), type):
            raise ModelFileError(
                f"{where}: TorchOptimizer names the torch optimizer {path!r:.100}; a file may only name classes of "
                "torch.optim (no import paths). help: pass custom_objects or compile=False and compile yourself."
            )
    return _optimizers.get(spec, custom_objects)


def compile_from_json(model, cfg, custom_objects, where: str) -> None:
    from .. import losses as _losses
    from .. import metrics as _metrics

    if not isinstance(cfg, dict) or set(cfg) - _COMPILE_KEYS or "optimizer" not in cfg:
        raise ModelFileError(f"{where}: compile_config must be an object with keys from {sorted(_COMPILE_KEYS)}.")
    try:
        optimizer = _optimizer_from_json(cfg["optimizer"], custom_objects, where)
        loss = _spec_from_json(cfg.get("loss"), _losses, "loss", custom_objects, where)
        metrics = _spec_from_json(cfg.get("metrics"), _metrics, "metric", custom_objects, where)
        weighted = _spec_from_json(cfg.get("weighted_metrics"), _metrics, "metric", custom_objects, where)
        jit = cfg.get("jit_compile", False)
        if not isinstance(jit, bool):
            raise ValueError(f"jit_compile must be a bool; received {jit!r:.50}")
        model.compile(optimizer=optimizer, loss=loss, loss_weights=cfg.get("loss_weights"), metrics=metrics,
                      weighted_metrics=weighted, jit_compile=jit)
    except ModelFileError:
        raise
    except Exception as e:  # a bad compile config is a bad file; name it plainly
        raise ModelFileError(
            f"{where}: cannot compile the model from its saved compile_config: {type(e).__name__}: {e} "
            "help: pass custom_objects={name: object} for custom losses/metrics/optimizers, or load with "
            "compile=False and call compile() yourself."
        ) from None


# ============================================================================= optimizer state


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


def validate_optimizer_state(state, params: list, optimizer, where: str) -> None:
    """Check a decoded optimizer ``state_dict`` against the model's trainable parameters."""
    from ..optimizers import TorchOptimizer

    if not isinstance(state, dict) or set(state) != {"iterations", "learning_rate", "torch"}:
        raise ModelFileError(f"{where}: optimizer state must have keys iterations, learning_rate, torch.")
    it, lr = state["iterations"], state["learning_rate"]
    if isinstance(it, bool) or not isinstance(it, int) or it < 0:
        raise ModelFileError(f"{where}: optimizer iterations must be a non-negative int; received {it!r:.50}.")
    if lr is not None and (isinstance(lr, bool) or not isinstance(lr, (int, float)) or not math.isfinite(lr) or lr < 0):
        raise ModelFileError(f"{where}: optimizer learning_rate must be a non-negative float; received {lr!r:.50}.")
    ts = state["torch"]
    if ts is None:
        return
    if not isinstance(ts, dict) or set(ts) != {"state", "param_groups"}:
        raise ModelFileError(f"{where}: the torch optimizer state must have keys 'state' and 'param_groups'.")
    groups, per_param = ts["param_groups"], ts["state"]
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
    if ids != list(range(len(params))):
        raise ModelFileError(
            f"{where}: the optimizer state covers {len(ids)} parameters but the model has {len(params)} trainable "
            "weights (or the indices are out of order)."
        )
    if not isinstance(per_param, dict):
        raise ModelFileError(f"{where}: optimizer 'state' must be a mapping.")
    strict = not isinstance(optimizer, TorchOptimizer)
    for index, entry in per_param.items():
        if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < len(params):
            raise ModelFileError(f"{where}: optimizer state refers to parameter {index!r:.50}, which does not exist.")
        if not isinstance(entry, dict):
            raise ModelFileError(f"{where}: optimizer state of parameter {index} must be a mapping.")
        for key, value in entry.items():
            if isinstance(value, torch.Tensor):
                shape = tuple(params[index].shape)
                if strict and value.dim() > 0 and tuple(value.shape) != shape:
                    raise ModelFileError(
                        f"{where}: optimizer state {key!r} of parameter {index} has shape {tuple(value.shape)}; "
                        f"the parameter has shape {shape}."
                    )
                if not (value.is_floating_point() or value.dtype in (torch.int64, torch.int32)):
                    raise ModelFileError(f"{where}: optimizer state {key!r} of parameter {index} has dtype {value.dtype}.")
            elif not _is_scalar_json(value):
                raise ModelFileError(f"{where}: optimizer state {key!r} of parameter {index} has an invalid value.")


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


# ============================================================================= weights


def _dtype_label(dtype: torch.dtype) -> str:
    return str(dtype).replace("torch.", "")


def check_weights_header(model, header: dict, where: str, names: bool = True) -> None:
    """Compare a safetensors header with the model's weights (order, shapes, dtypes and, with
    ``names``, the module paths; without, weights match by position like ``load_weights``)."""
    from .weights import weight_tensors

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
    from .weights import assign_weights

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


# ============================================================================= public API


def _metadata(model) -> dict:
    import deepnet

    meta = {
        "format": FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "deepnet_version": deepnet.__version__,
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


def save_model(model, filepath, overwrite: bool = True) -> None:
    """Write ``model`` (architecture, weights, compile config, optimizer state) to a
    ``.deepnet`` archive, atomically (``overwrite=False`` refuses to replace a file)."""
    from .weights import weight_tensors

    path = os.fspath(filepath)
    if not path.endswith(".deepnet"):
        hint = " help: use model.save_weights(path) for a .safetensors weights file." if path.endswith(".safetensors") else ""
        raise ValueError(f"model.save: the filename must end in '.deepnet'; received {path!r}.{hint}")
    if not overwrite and os.path.exists(path):
        raise FileExistsError(f"model.save: {path!r} exists and overwrite=False.")
    if not model.built:
        raise ValueError(
            f"model.save: model {model.name!r} is not built, so it has no weights yet. help: give it an Input, "
            "call model.build(input_shape), or call it on a batch first."
        )
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
    """Load a model saved with ``model.save("model.deepnet")``.

    Rebuilds the architecture (class names resolve only through the registry and
    ``custom_objects``), loads and checks every weight, and with ``compile=True`` re-compiles
    with the saved compile config and restores the optimizer state so training continues
    exactly. Nothing in the file is ever executed (``safe_mode`` is accepted for Keras
    compatibility: deepnet is always safe). Any problem with the file raises
    :class:`ModelFileError` naming the file and the problem.
    """
    if custom_objects is not None and not isinstance(custom_objects, dict):
        raise TypeError(f"load_model: `custom_objects` must be a dict {{name: class}}; received {type(custom_objects).__name__}.")
    path = os.fspath(filepath)
    where = repr(path)
    if path.endswith(".safetensors"):
        raise ModelFileError(f"{where} is a weights file: build the model, then call model.load_weights(path).")
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
    """The architecture as a JSON string (``json.dumps`` keyword arguments are passed on)."""
    return json.dumps(model_architecture(model), **kwargs)


def model_from_json(json_string, custom_objects: dict | None = None):
    """Rebuild a model (fresh weights) from :func:`model_to_json` output; nothing in the text
    is executed and class names resolve only through the registry and ``custom_objects``."""
    if not isinstance(json_string, (str, bytes, bytearray)):
        raise TypeError(f"model_from_json expects a JSON string; received {type(json_string).__name__}.")
    arch = parse_json(json_string, "JSON config")
    if not isinstance(arch, dict):
        raise ModelFileError("JSON config: expected an object with 'class_name' and 'config'.")
    arch.pop("compile_config", None)
    return build_model(arch, custom_objects, "JSON config")
