"""The experiment config file: loading, command-line overrides, and error messages that
name the key, its line in the file and the closest valid name (the schema is in
:mod:`._schema`).

A config is a TOML file with the tables ``[data]``, ``[model]``, ``[compile]``, ``[fit]``,
``[callbacks]`` and the top-level keys ``seed``, ``output``, ``name``, ``threads``,
``device`` (see ``docs/cli.md``).
"""

from __future__ import annotations

import os
import typing
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ValidationError

from ..utils.validation import Boolean, check
from . import _catalogue as cat
from ._code import parse_reference, refusal, resolve
from ._defaults import DEFAULT_CONFIG_NAME, DEFAULT_CONFIG_TOML
from ._errors import ConfigError, Issue, UsageFailure, format_loc
from ._schema import (
    BUILTIN_DATASETS,
    SCHEDULE_SHORTCUTS,
    CallbacksConfig,
    CompileConfig,
    DataConfig,
    FitConfig,
    ModelConfig,
    RunConfig,
)
from ._toml import TOMLDecodeError, key_lines, line_of, loads, parse_value
from ._tune_space import check_ends as space_end_errors
from ._tune_space import parse_space

__all__ = [
    "BUILTIN_DATASETS", "DELETE", "CallbacksConfig", "CompileConfig", "DataConfig", "FitConfig", "LoadedConfig",
    "ModelConfig", "RunConfig", "SCHEDULE_SHORTCUTS", "load_config", "parse_override", "resolved_dict",
]

# ---------------------------------------------------------------------------------- loading
@dataclass
class LoadedConfig:
    """A validated config with what is needed to report later problems precisely."""

    config: RunConfig
    raw: dict
    filename: str                      # shown in messages
    path: str | None                   # the file, None for the built-in default
    base_dir: str                      # relative data/factory paths start here
    lines: dict = field(default_factory=dict)
    overridden: dict = field(default_factory=dict)  # loc -> the option that set it
    allow_code: bool = False          # may the factory the config names be imported and run?

    def issue(self, loc, message: str) -> Issue:
        loc = tuple(loc)
        for k in range(len(loc), 0, -1):
            if loc[:k] in self.overridden:
                return Issue(loc, message, None, f"command line ({self.overridden[loc[:k]]})")
        deeper = [key for key in self.overridden if loc and key[:len(loc)] == loc]
        if deeper:  # e.g. --set seed.x=1 turned `seed` into a table
            return Issue(loc, message, None, f"command line ({self.overridden[deeper[0]]})")
        return Issue(loc, message, line_of(self.lines, loc))

    def error(self, loc, message: str) -> ConfigError:
        return ConfigError([self.issue(loc, message)], self.filename)

    def resolve_path(self, path: str) -> str:
        return resolve(path, self.base_dir)

    def code_issue(self) -> Issue | None:
        """The problem of a config that names code the user has not allowed (else None)."""
        factory = self.raw.get("model", {}).get("factory") if isinstance(self.raw.get("model"), dict) else None
        if self.allow_code or not isinstance(factory, str):
            return None
        try:
            reference = parse_reference(factory)
        except ValueError:
            return None  # reported by the schema
        return self.issue(("model", "factory"), refusal(reference, self.base_dir))


def parse_override(text: str) -> tuple[tuple, Any]:
    """``"fit.epochs=5"`` -> ``(("fit", "epochs"), 5)`` (the value is read as TOML)."""
    if "=" not in text:
        raise UsageFailure(f"--set expects KEY=VALUE such as fit.epochs=5; received {text!r}")
    key, value = text.split("=", 1)
    parts = tuple(p.strip() for p in key.strip().split("."))
    if not all(parts):
        raise UsageFailure(f"--set: invalid key {key!r}; use dotted keys such as fit.epochs or data.name")
    return parts, parse_value(value.strip())


DELETE = object()  # an override value that removes the key


def _apply_override(raw: dict, loc: tuple, value) -> None:
    node = raw
    for k in loc[:-1]:
        nxt = node.get(k)
        if not isinstance(nxt, dict):
            nxt = {}
            node[k] = nxt
        node = nxt
    if value is DELETE:
        node.pop(loc[-1], None)
    else:
        node[loc[-1]] = value


def _clean_loc(loc: tuple, raw) -> tuple:
    """Drop pydantic's union/validator tags from ``loc``, keeping only real keys/indices."""
    out = []
    node = raw
    for part in loc:
        if isinstance(node, dict) and part in node:
            out.append(part)
            node = node[part]
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            out.append(part)
            node = node[part]
        elif isinstance(node, dict) and isinstance(part, str) and not part.startswith(("function-", "union[", "tagged-")) \
                and part not in ("str", "int", "float", "bool", "list", "dict") and "[" not in part:
            out.append(part)  # a missing key: keep it so the message names it
            node = None
        else:
            continue
    return tuple(out)


def _schema_at(loc: tuple):
    """The pydantic model class of the table at ``loc`` (None when it is not a model)."""
    cls: Any = RunConfig
    for part in loc:
        if not (isinstance(cls, type) and issubclass(cls, BaseModel)):
            return None
        f = cls.model_fields.get(part)
        if f is None:
            return None
        cls = _model_in(f.annotation)
    return cls if isinstance(cls, type) and issubclass(cls, BaseModel) else None


def _model_in(annotation):
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in typing.get_args(annotation):
        found = _model_in(arg)
        if found is not None:
            return found
    return None


def _table_name(loc: tuple) -> str:
    return f"[{format_loc(loc)}]" if loc else "the top level"


def _pydantic_issues(err: ValidationError, loaded_raw: dict, loaded: LoadedConfig) -> list[Issue]:
    issues: list[Issue] = []
    seen = set()
    for e in err.errors(include_url=False):
        loc = _clean_loc(tuple(e["loc"]), loaded_raw)
        kind = e["type"]
        msg = e["msg"]
        if kind == "extra_forbidden":
            key = loc[-1] if loc else "?"
            schema = _schema_at(loc[:-1])
            valid = list(schema.model_fields) if schema else []
            message = (f"unknown key {key!r} in {_table_name(loc[:-1])}.{cat.suggest(str(key), valid)} "
                       f"Valid keys: {', '.join(valid)}")
        elif kind == "missing":
            key = loc[-1] if loc else "?"
            message = f"missing required key {key!r} in {_table_name(loc[:-1])}"
            if key in ("data", "model"):
                message += f" (add a [{key}] table; `deepnet init` writes an example)"
        elif kind in ("value_error", "assertion_error"):
            message = msg.removeprefix("Value error, ").removeprefix("Assertion failed, ")
        else:
            received = e.get("input")
            message = f"{msg[0].lower() + msg[1:]}; received {received!r}" if not isinstance(received, dict) else msg
        dedupe = (loc, kind if kind in ("missing", "extra_forbidden") else "")
        if (loc, message) in seen or dedupe in seen:
            continue
        seen.add((loc, message))
        seen.add(dedupe)
        issues.append(loaded.issue(loc, message))
    return issues


def _layer_issues(loaded: LoadedConfig) -> list[Issue]:
    """Static checks of ``[model] layers`` (read from the raw data, so they are reported
    together with schema problems): known layer types, known arguments."""
    model = loaded.raw.get("model")
    layers = model.get("layers") if isinstance(model, dict) else None
    if not isinstance(layers, list):
        return []
    issues = []
    for i, spec in enumerate(layers):
        if isinstance(spec, dict):
            issues.extend(layer_spec_issues(loaded, ("model", "layers", i), spec))
    return issues


def _tune_issues(loaded: LoadedConfig, check_ends: bool) -> list[Issue]:
    """The problems of the ``[tune]`` search ranges (:mod:`._tune_space`); with ``check_ends``
    (the rest of the config is valid) also the trial configs at the ends of the ranges."""
    space, errors = parse_space(loaded.raw)
    if check_ends and space.params and not errors:
        errors = space_end_errors(loaded.raw, space)
    return [loaded.issue(e.loc, str(e)) for e in errors]


def _valid_args_text(accepted: set) -> str:
    own = sorted(a for a in accepted if a not in cat.LAYER_BASE_ARGS)
    return ", ".join(own + ["name", "trainable", "dtype"])


def layer_spec_issues(loaded: LoadedConfig, loc: tuple, spec: dict) -> list[Issue]:
    if "type" not in spec:
        return [loaded.issue(loc, "a layer needs a `type` key with its class name, e.g. {type = \"Dense\", units = 10}")]
    kind = spec["type"]
    if not isinstance(kind, str):
        return [loaded.issue(loc + ("type",), f"`type` must be a layer class name (a string); received {kind!r}")]
    cls = cat.resolve_layer(kind)
    if cls is None and kind.lower() in ("input", "inputlayer"):
        return [loaded.issue(loc + ("type",), f"{kind!r} is not a layer of the list: the input is set with "
                                              f"`input_shape` in [model] (by default taken from the data)")]
    if cls is None:
        names = cat.layer_classes()
        return [loaded.issue(loc + ("type",), f"unknown layer type {kind!r}.{cat.suggest(kind, names)} "
                                              f"See docs/layers for the catalogue ({len(names)} layers)")]
    issues = []
    unknown = False
    accepted, anything = cat.accepted_arguments(cls)
    for arg, value in spec.items():
        if arg == "type":
            continue
        if not anything and arg not in accepted:
            unknown = True
            issues.append(loaded.issue(
                loc + (arg,), f"unknown argument {arg!r} for layer {cls.__name__}.{cat.suggest(arg, accepted)} "
                              f"Valid arguments: {_valid_args_text(accepted)}"))
        elif isinstance(value, dict) and "type" in value:
            issues.extend(layer_spec_issues(loaded, loc + (arg,), value))
    missing = [a for a in cat.required_arguments(cls) if a not in spec]
    if missing and not unknown:
        issues.append(loaded.issue(loc, f"layer {cls.__name__} needs the argument(s) {', '.join(missing)}"))
    return issues


def read_text(path: str) -> str:
    if not os.path.exists(path):
        raise UsageFailure(f"config file {path} does not exist. help: `deepnet init {path}` writes an example")
    if os.path.isdir(path):
        raise UsageFailure(f"{path} is a folder; expected a config file (.toml)")
    try:
        with open(path, encoding="utf-8") as f:
            return f.read()
    except UnicodeDecodeError as e:
        raise UsageFailure(f"{path} is not a UTF-8 text file ({e.reason}); expected a TOML config") from None
    except OSError as e:
        raise UsageFailure(f"cannot read config file {path}: {e.strerror or e}") from None


def load_config(path: str | None = None, overrides: list[tuple[tuple, Any, str]] = (),
                text: str | None = None, check_layers: bool = True, allow_code: bool = False,
                builds_model: bool = True) -> LoadedConfig:
    """Read, override and validate a config; raise :class:`ConfigError` listing every problem.

    ``path=None`` (and no ``text``) loads the built-in default experiment. ``overrides`` are
    ``(key path, value, option text)`` applied before validation. A config that names code
    (``[model] factory``) is refused unless ``allow_code=True`` (``--allow-code``);
    ``builds_model=False`` is for callers that only read the data: they may load such a config,
    and :func:`~._build.build_model` still refuses to run its code.
    """
    allow_code = check("load_config", "allow_code", allow_code, Boolean())
    builds_model = check("load_config", "builds_model", builds_model, Boolean())
    if text is None:
        text = DEFAULT_CONFIG_TOML if path is None else read_text(path)
    filename = path if path is not None else DEFAULT_CONFIG_NAME
    try:
        raw = loads(text)
    except TOMLDecodeError as e:
        raise ConfigError([Issue((), f"invalid TOML: {e}")], filename) from None
    loaded = LoadedConfig(
        config=None, raw=raw, filename=filename, path=path,  # type: ignore[arg-type]
        base_dir=os.path.dirname(os.path.abspath(path)) if path else os.getcwd(),
        lines=key_lines(text), allow_code=allow_code,
    )
    for loc, value, option in overrides:
        _apply_override(raw, tuple(loc), value)
        if value is not DELETE:
            loaded.overridden[tuple(loc)] = option
    issues: list[Issue] = []
    try:
        loaded.config = RunConfig.model_validate(raw)
    except ValidationError as err:
        issues = _pydantic_issues(err, raw, loaded)
    if check_layers:
        issues += _layer_issues(loaded)
    issues += _tune_issues(loaded, check_ends=not issues)
    code = loaded.code_issue() if builds_model else None
    if code is not None:
        issues.append(code)
    if issues:
        issues.sort(key=lambda i: (i.source is None, i.line or 10**9))
        raise ConfigError(issues, filename)
    return loaded


def resolved_dict(loaded: LoadedConfig) -> dict:
    """The validated config as plain values (what the run folder's config.toml holds)."""
    data = loaded.config.model_dump(mode="json", exclude_none=True)
    if loaded.config.data.path is not None:
        data["data"]["path"] = loaded.resolve_path(loaded.config.data.path)
    factory = loaded.config.model.factory
    if factory is not None and parse_reference(factory).is_file:
        reference = parse_reference(factory)
        data["model"]["factory"] = f"{loaded.resolve_path(reference.target)}:{reference.function}"
    for key in ("optimizer", "loss", "schedule"):
        spec = data["compile"].get(key)
        if isinstance(spec, dict) and list(spec) == ["type"]:
            data["compile"][key] = spec["type"]
    return data
