"""The architecture part of a model file: ``{"class_name", "config", "build_config"?}``.

Saving checks that every class resolves back to itself through the registry; loading
validates an entry before anything is built (known keys, registered classes, well-formed
graphs and tensor references, constructor arguments that exist, size limits) and then
rebuilds the model. Model classes are found through the registry (``Model``, ``Sequential``
are registered layer classes), so this module does not import :mod:`deepnet.models`.
"""

from __future__ import annotations

import inspect
import json

from ..layers.base import Layer
from ..utils.registry import get_registered_class, get_registered_name, is_library_class
from ..utils.serialization import accepted_config_keys, call_from_config, serialize_layer
from .safe import MiB, ModelFileError

#: Most layers a model file may describe, nested models included (real models have hundreds;
#: a file claiming more is refused before anything is built).
MAX_LAYERS = 20_000
#: Largest JSON size of one layer's own config (nested layers of a model not counted).
MAX_LAYER_CONFIG_BYTES = 1 * MiB
#: Deepest nesting of models inside models.
MAX_MODEL_NESTING = 32

# Keys a layer entry may have in a config (anything else, e.g. "module", is refused).
_ENTRY_KEYS = {"class_name", "config", "name", "inbound_nodes", "build_config"}
_TOP_KEYS = {"class_name", "config", "build_config", "compile_config"}


def _model_class(name: str = "Model") -> type:
    """``Model`` or ``Sequential``, looked up by their registered names (``deepnet.models``
    registers them; it sits above saving, so saving does not import it)."""
    cls = get_registered_class(name, kind="layer")
    if cls is None:
        raise RuntimeError(f"deepnet.models is not imported, so {name!r} is not registered.")
    return cls


def is_model(obj) -> bool:
    """Whether ``obj`` is a deepnet ``Model`` (any kind)."""
    return isinstance(obj, _model_class())


def is_graph_model(model) -> bool:
    """A ``Sequential`` or functional model (its config lists its layers)."""
    return isinstance(model, _model_class("Sequential")) or bool(getattr(model, "_functional", False))


def _check_saveable(model, keras: bool = False) -> None:
    """Every class named by the config must resolve back to itself through the registry (with
    ``keras``, a ``.keras`` file: a subclassed model whose ``__init__`` takes only ``**kwargs``
    needs no get_config(), as in Keras)."""
    model_cls = _model_class()
    to_check = [model]
    seen = set()
    while to_check:
        obj = to_check.pop()
        if id(obj) in seen:
            continue
        seen.add(id(obj))
        if get_registered_class(get_registered_name(obj), kind="layer") is not type(obj):
            kind = "subclassed model" if isinstance(obj, model_cls) and not is_graph_model(obj) else "layer"
            raise ValueError(
                f"Cannot save {kind} {obj.name!r} of class {type(obj).__name__}: the class is not registered, "
                "so a model file could not name it (deepnet files never name Python import paths). help: "
                "decorate the class with @deepnet.saving.register_serializable() and give it a get_config() "
                "returning its constructor arguments."
            )
        if isinstance(obj, model_cls) and is_graph_model(obj):
            to_check.extend(layer for layer in obj.layers if isinstance(layer, Layer))
        elif (isinstance(obj, model_cls) and type(obj).get_config is model_cls.get_config
              and not (keras and _init_takes_only_kwargs(type(obj)))):
            raise ValueError(
                f"Cannot save subclassed model {obj.name!r} ({type(obj).__name__}): it has no get_config(), so its "
                "constructor arguments are unknown. help: implement get_config() returning the arguments of "
                "__init__ (the model is rebuilt with from_config(config) and built on the recorded input shape)."
            )


def _init_takes_only_kwargs(cls) -> bool:
    """``__init__(self, **kwargs)``: the base config (name, trainable) rebuilds the model (Keras
    saves such subclassed models without a get_config())."""
    try:
        params = list(inspect.signature(cls.__init__).parameters.values())[1:]
    except (TypeError, ValueError):
        return False
    return all(p.kind is p.VAR_KEYWORD for p in params)


def user_hook(obj, name: str):
    """``obj.<name>`` when a user class (not deepnet) defines it (Keras' saving hooks such as
    ``compile_from_config``), else None."""
    owner = next((c for c in type(obj).__mro__ if name in vars(c)), None)
    if owner is None or is_library_class(owner):
        return None
    return getattr(obj, name)


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


def model_architecture(model, keras: bool = False) -> dict:
    """``{"class_name", "config", "build_config"?}`` of a model (JSON-able).

    >>> from deepnet.saving.archive import model_architecture
    >>> sorted(model_architecture(dn.Sequential([dn.Input((3,)), dn.layers.Dense(2)])))
    ['class_name', 'config']
    """
    _check_saveable(model, keras)
    try:
        arch = serialize_layer(model)
    except NotImplementedError as e:  # e.g. TorchModuleWrapper: arbitrary PyTorch code has no config
        raise ValueError(f"Cannot save model {model.name!r}: {e}") from None
    if not is_graph_model(model):
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


# ----------------------------------------------------------------------------- validation


def _resolve_class(name, custom_objects, where: str, path: str):
    if not isinstance(name, str):
        raise ModelFileError(f"{where}: {path}.class_name must be a string; received {name!r:.100}.")
    cls = get_registered_class(name, custom_objects, kind="layer")
    if not (isinstance(cls, type) and issubclass(cls, Layer)):
        raise ModelFileError(
            f"{where}: {path} names the unknown layer class {name!r:.200}. deepnet resolves class names only "
            "through its registry, never by importing modules. help: register custom classes with "
            "@deepnet.saving.register_serializable() or pass custom_objects={name: cls}."
        )
    return cls


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


class _Budget:
    """Counts the layers of a model file while it is validated (the limits are checked before
    any layer is built, so a huge file is refused quickly)."""

    def __init__(self, where: str):
        self.where = where
        self.layers = 0

    def take(self, count: int, path: str) -> None:
        self.layers += count
        if self.layers > MAX_LAYERS:
            raise ModelFileError(
                f"{self.where}: the model file describes more than {MAX_LAYERS:,} layers (at {path}); deepnet "
                "refuses such files (real models have far fewer). See docs/saving.md, 'Limits'."
            )


def _check_entry_shape(entry, allowed: set[str], where: str, path: str) -> dict:
    if not isinstance(entry, dict):
        raise ModelFileError(f"{where}: {path} must be an object with 'class_name' and 'config'; received {entry!r:.100}.")
    unknown = sorted(set(entry) - allowed)
    if unknown:
        extra = " (deepnet configs never name modules)" if "module" in unknown else ""
        raise ModelFileError(f"{where}: {path} has unknown key(s) {unknown}{extra}; expected {sorted(allowed)}.")
    config = entry.get("config")
    if not isinstance(config, dict):
        raise ModelFileError(f"{where}: {path}.config must be an object; received {config!r:.100}.")
    if "name" in entry and not isinstance(entry["name"], str):
        raise ModelFileError(f"{where}: {path}.name must be a string.")
    return config


def _check_layer_config_size(config: dict, where: str, label: str) -> None:
    size = len(json.dumps(config, allow_nan=True, default=str))
    if size > MAX_LAYER_CONFIG_BYTES:
        raise ModelFileError(
            f"{where}: the config of {label} is {size:,} bytes of JSON; the limit per layer is "
            f"{MAX_LAYER_CONFIG_BYTES:,} bytes. See docs/saving.md, 'Limits'."
        )


def _check_graph_layers(layers: list, config: dict, where: str, path: str) -> None:
    names: set[str] = set()
    for i, layer in enumerate(layers):
        name = layer.get("name", layer["config"].get("name"))
        if not isinstance(name, str) or name in names:
            raise ModelFileError(f"{where}: {path}.layers[{i}] has a missing or duplicate name {name!r:.100}.")
        names.add(name)
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
            raise ModelFileError(f"{where}: {path} is missing {key!r}.")
        _check_struct_refs(config[key], names, where, f"{path}.{key}")


def _validate_model_entry(cls, config: dict, custom_objects, where: str, path: str, label: str,
                          budget: _Budget, depth: int) -> None:
    layers = config["layers"]
    if not isinstance(layers, list):
        raise ModelFileError(f"{where}: {path}.layers must be a list.")
    if depth > MAX_MODEL_NESTING:
        raise ModelFileError(f"{where}: {path} nests models more than {MAX_MODEL_NESTING} levels deep.")
    budget.take(len(layers), path)
    graph = not issubclass(cls, _model_class("Sequential"))
    keys = {"name", "trainable", "layers"} | ({"input_layers", "output_layers"} if graph else set())
    bad = sorted(set(config) - keys)
    if bad:
        raise ModelFileError(f"{where}: {label} has unknown config key(s) {bad}; expected {sorted(keys)}.")
    for i, layer in enumerate(layers):
        _validate_entry(layer, custom_objects, where, f"{path}.layers[{i}]", False, budget, depth + 1)
    if graph:
        _check_graph_layers(layers, config, where, path)


def _validate_entry(entry, custom_objects, where: str, path: str, top: bool, budget: _Budget,
                    depth: int) -> None:
    config = _check_entry_shape(entry, _TOP_KEYS if top else _ENTRY_KEYS, where, path)
    cls = _resolve_class(entry.get("class_name"), custom_objects, where, path)
    label = f"{path} ({entry['class_name']} {config.get('name', '')!r})"
    if issubclass(cls, _model_class()) and "layers" in config:
        _validate_model_entry(cls, config, custom_objects, where, path, label, budget, depth)
        return
    _check_layer_config_size(config, where, label)
    if "inbound_nodes" in entry and not isinstance(entry["inbound_nodes"], list):
        raise ModelFileError(f"{where}: {path}.inbound_nodes must be a list.")
    accepted = accepted_config_keys(cls)
    if accepted is not None:
        bad = sorted(set(config) - accepted)
        if bad:
            raise ModelFileError(
                f"{where}: {label} has unknown argument(s) {bad}; {cls.__name__} accepts {sorted(accepted)}."
            )


def validate_architecture(entry, custom_objects, where: str, path: str = "model", top: bool = False) -> None:
    """Check a layer/model entry before anything is built: known keys only, classes from the
    registry, well-formed graphs and tensor references, constructor arguments that exist, and
    the limits on layer count, model nesting and per-layer config size.

    >>> from deepnet.saving.archive import ModelFileError, validate_architecture
    >>> try:
    ...     validate_architecture({"class_name": "Nope", "config": {}}, None, "model.json", top=True)
    ... except ModelFileError:
    ...     print("refused")
    refused
    """
    _validate_entry(entry, custom_objects, where, path, top, _Budget(where), 0)


def build_model(arch: dict, custom_objects, where: str, raw_errors: bool = False):
    """Rebuild a model from an architecture dict: validated first, then built (errors of the
    config data -> ModelFileError, unless ``raw_errors``, used by the meta-device probe).

    >>> from deepnet.saving.archive import build_model, model_architecture
    >>> model = dn.Sequential([dn.Input((3,)), dn.layers.Dense(2)])
    >>> build_model(model_architecture(model), None, "model.json").count_params()
    8
    """
    validate_architecture(arch, custom_objects, where, top=True)
    cls = get_registered_class(arch["class_name"], custom_objects, kind="layer")
    build_cfg = arch.get("build_config")
    shape = None
    if build_cfg is not None:
        if not isinstance(build_cfg, dict) or set(build_cfg) != {"input_shape"}:
            raise ModelFileError(f"{where}: build_config must be {{'input_shape': [...]}}; received {build_cfg!r:.100}.")
        shape = _shape_from_json(build_cfg["input_shape"], where)
    try:
        model = call_from_config(cls, dict(arch["config"]), custom_objects)
        if shape is not None and not is_graph_model(model):
            model.build(shape)
            model._build_args = (shape,)
    except ModelFileError:
        raise
    except Exception as e:  # any failure of user-supplied config data is a bad file, reported plainly
        if raw_errors:
            raise
        raise ModelFileError(f"{where}: cannot rebuild the model from its config: {type(e).__name__}: {e}") from None
    if not is_model(model):
        raise ModelFileError(f"{where}: the config describes a {type(model).__name__}, not a model.")
    return model
