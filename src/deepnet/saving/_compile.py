"""The compile part of a model file: optimizer, losses, metrics and loss weights as JSON, and
the model re-compiled from them on load (names resolve through the registry only)."""

from __future__ import annotations

import json

import torch

from .. import losses as _losses
from .. import metrics as _metrics
from .. import optimizers as _optimizers
from ..utils.registry import get_registered_class
from ..utils.serialization import deserialize_object, serialize_object
from .safe import ModelFileError

_COMPILE_KEYS = {"optimizer", "loss", "loss_weights", "metrics", "weighted_metrics", "jit_compile", "adversarial"}


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
    out = {
        "optimizer": optimizer,
        "loss": _spec_to_json(raw.get("loss"), _losses, "loss"),
        "loss_weights": weights,
        "metrics": _spec_to_json(raw.get("metrics"), _metrics, "metric"),
        "weighted_metrics": _spec_to_json(raw.get("weighted_metrics"), _metrics, "metric"),
        "jit_compile": bool(raw.get("jit_compile", False)),
    }
    if raw.get("adversarial") is not None:  # compile(adversarial=...): a registered StepWrapper
        out["adversarial"] = serialize_object(raw["adversarial"])
    return out


def _adversarial_from_json(spec, custom_objects, where: str):
    """The ``compile(adversarial=...)`` object of a file (e.g. ``AdversarialTraining``, which
    :mod:`deepnet.robust` registers when it is imported)."""
    if spec is None:
        return None
    if not isinstance(spec, dict) or set(spec) != {"class_name", "config"} or not isinstance(spec["config"], dict):
        raise ModelFileError(f"{where}: compile_config.adversarial must be {{'class_name', 'config'}}.")
    if get_registered_class(spec["class_name"], custom_objects) is None:
        raise ModelFileError(
            f"{where}: compile_config.adversarial names {spec['class_name']!r:.100}, which is not registered. help: "
            "import deepnet.robust (or use dn.robust) before loading a model compiled with adversarial training, "
            "pass custom_objects={name: cls}, or load with compile=False."
        )
    return deserialize_object(spec, custom_objects=custom_objects)


def _custom_spec(name, module, kind: str, custom_objects):
    """What ``name`` means as a user-defined loss/metric: ``custom_objects`` first, then the
    registry, where only Loss/Metric subclasses and registered functions count (a layer
    class named as a loss is not one)."""
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
        adversarial = _adversarial_from_json(cfg.get("adversarial"), custom_objects, where)
        model.compile(optimizer=optimizer, loss=loss, loss_weights=cfg.get("loss_weights"), metrics=metrics,
                      weighted_metrics=weighted, jit_compile=jit, adversarial=adversarial)
    except ModelFileError:
        raise
    except Exception as e:  # a bad compile config is a bad file; name it plainly
        raise ModelFileError(
            f"{where}: cannot compile the model from its saved compile_config: {type(e).__name__}: {e} "
            "help: pass custom_objects={name: object} for custom losses/metrics/optimizers, or load with "
            "compile=False and call compile() yourself."
        ) from None
