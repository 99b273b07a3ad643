"""The experiment config file: schema (pydantic v2), loading, command-line overrides, and
error messages that name the key, its line in the file and the closest valid name.

A config is a TOML file with the tables ``[data]``, ``[model]``, ``[compile]``, ``[fit]``,
``[callbacks]`` and the top-level keys ``seed``, ``output``, ``name``, ``threads``,
``device`` (see ``docs/cli.md``).
"""

from __future__ import annotations

import os
import re
import typing
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    NonNegativeInt,
    PositiveInt,
    ValidationError,
    field_validator,
    model_validator,
)

from ..utils.validation import Boolean, check
from . import _catalogue as cat
from ._code import parse_reference, refusal, resolve
from ._defaults import DEFAULT_CONFIG_NAME, DEFAULT_CONFIG_TOML
from ._errors import ConfigError, Issue, UsageFailure, format_loc
from ._toml import TOMLDecodeError, key_lines, line_of, loads, parse_value

__all__ = [
    "BUILTIN_DATASETS", "DELETE", "CallbacksConfig", "CompileConfig", "DataConfig", "FitConfig", "LoadedConfig",
    "ModelConfig", "RunConfig", "SCHEDULE_SHORTCUTS", "load_config", "parse_override",
]

BUILTIN_DATASETS = ("mnist1d", "digits", "mnist", "fashion_mnist", "cifar10")
DATA_FORMATS = ("auto", "npz", "csv", "idx", "images")
SCHEDULE_SHORTCUTS = ("constant", "one_cycle", "cosine")


class _Table(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_default=True)


def _typed_table(value, what: str, example: str) -> dict:
    """A ``{type = "...", ...}`` table or a plain name, normalised to a dict with ``type``."""
    if isinstance(value, str):
        return {"type": value}
    if isinstance(value, dict):
        if "type" not in value:
            raise ValueError(f"the {what} table needs a `type` key, e.g. {example}")
        if not isinstance(value["type"], str):
            raise ValueError(f"`type` of the {what} must be a name (a string); received {value['type']!r}")
        return dict(value)
    raise ValueError(f"expected a {what} name or a table like {example}; received {value!r}")


# ------------------------------------------------------------------------------------- data
class DataConfig(_Table):
    """``[data]``: a built-in data set (``name``) or your own files (``path``)."""

    name: str | None = None
    path: str | None = None
    format: Literal["auto", "npz", "csv", "idx", "images"] = "auto"
    label: str | int = "label"
    delimiter: str = ","
    header: bool = True
    image_size: tuple[PositiveInt, PositiveInt] = (64, 64)
    color_mode: Literal["rgb", "grayscale", "rgba"] = "rgb"
    test_split: float = Field(0.2, ge=0.0, lt=1.0)
    x_key: str | None = None
    y_key: str | None = None
    limit: PositiveInt | None = None
    options: dict[str, Any] = Field(default_factory=dict)

    @field_validator("name")
    @classmethod
    def _known_name(cls, v):
        if v is None:
            return v
        key = v.strip().lower().replace("-", "_")
        if key not in BUILTIN_DATASETS:
            raise ValueError(
                f"unknown built-in data set {v!r}.{cat.suggest(key, BUILTIN_DATASETS)} Built-in: "
                f"{', '.join(BUILTIN_DATASETS)} (or use `path` for your own file)"
            )
        return key

    @model_validator(mode="after")
    def _one_source(self):
        if (self.name is None) == (self.path is None):
            raise ValueError(
                "set exactly one of `name` (a built-in data set such as \"mnist1d\") or `path` "
                "(your own .npz/.csv file, IDX folder or image folder)"
                + ("; both are set" if self.name is not None else "")
            )
        return self


# ------------------------------------------------------------------------------------ model
class ModelConfig(_Table):
    """``[model]``: a list of layers (``layers``) or a Python function (``factory``)."""

    input_shape: list[PositiveInt | None] | None = None
    layers: list[dict[str, Any]] | None = None
    factory: str | None = None
    args: dict[str, Any] = Field(default_factory=dict)
    name: str | None = None

    @model_validator(mode="after")
    def _one_source(self):
        if (self.layers is None) == (self.factory is None):
            raise ValueError(
                "set exactly one of `layers` (a list of layer tables) or `factory` "
                "(\"module:function\" returning a model)" + ("; both are set" if self.layers is not None else "")
            )
        if self.layers is not None and not self.layers:
            raise ValueError("`layers` is empty: list at least one layer, e.g. {type = \"Dense\", units = 10}")
        if self.args and self.factory is None:
            raise ValueError("`args` are the keyword arguments of `factory`; they need `factory`")
        return self

    @field_validator("factory")
    @classmethod
    def _factory_form(cls, v):
        if v is not None:
            parse_reference(v)  # the form only: nothing is imported here
        return v


# ---------------------------------------------------------------------------------- compile
class CompileConfig(_Table):
    """``[compile]``: optimizer, learning rate and schedule, loss, metrics."""

    optimizer: Any = "adam"
    learning_rate: float | None = Field(None, gt=0)
    schedule: Any = None
    loss: Any = "sparse_categorical_crossentropy"
    metrics: list[Any] = Field(default_factory=lambda: ["accuracy"])
    jit_compile: bool = False

    @field_validator("optimizer")
    @classmethod
    def _optimizer(cls, v):
        spec = _typed_table(v, "optimizer", '{type = "AdamW", weight_decay = 0.01}')
        classes = cat.optimizer_classes()
        lower = {k.lower(): k for k in classes}
        if spec["type"].lower() not in lower:
            raise ValueError(
                f"unknown optimizer {spec['type']!r}.{cat.suggest(spec['type'], classes)} Valid: "
                f"{', '.join(sorted(classes))}"
            )
        spec["type"] = lower[spec["type"].lower()]
        _check_args(classes[spec["type"]], spec, "optimizer")
        return spec

    @field_validator("schedule")
    @classmethod
    def _schedule(cls, v):
        if v is None:
            return None
        spec = _typed_table(v, "schedule", '{type = "one_cycle", warmup = 0.1}')
        kind = spec["type"]
        classes = cat.schedule_classes()
        valid = [*SCHEDULE_SHORTCUTS, *classes]
        if kind in SCHEDULE_SHORTCUTS:
            allowed = {"constant": set(), "one_cycle": {"warmup", "div_factor", "final_fraction"},
                       "cosine": {"final_fraction"}}[kind]
            for k in spec:
                if k != "type" and k not in allowed:
                    raise ValueError(
                        f"unknown argument {k!r} for schedule {kind!r}.{cat.suggest(k, allowed)} Valid: "
                        f"{', '.join(sorted(allowed)) or 'none'}"
                    )
            warmup = spec.get("warmup", 0.1)
            if not isinstance(warmup, (int, float)) or isinstance(warmup, bool) or not 0 <= warmup < 1:
                raise ValueError(f"`warmup` of schedule {kind!r} is the fraction of steps spent warming up, in [0, 1); received {warmup!r}")
            return spec
        if kind not in classes:
            raise ValueError(f"unknown schedule {kind!r}.{cat.suggest(kind, valid)} Valid: {', '.join(valid)}")
        _check_args(classes[kind], spec, "schedule")
        return spec

    @field_validator("loss")
    @classmethod
    def _loss(cls, v):
        spec = _typed_table(v, "loss", '{type = "SparseCategoricalCrossentropy", from_logits = true}')
        if not cat.is_loss_name(spec["type"]):
            raise ValueError(
                f"unknown loss {spec['type']!r}.{cat.suggest(spec['type'], cat.loss_names())} Valid names include: "
                f"{', '.join(sorted(cat.loss_classes()))} and their snake_case forms"
            )
        if len(spec) > 1:
            classes = cat.loss_classes()
            klass = classes.get(spec["type"])
            if klass is None:
                raise ValueError(
                    f"loss arguments need the class name as `type` (e.g. \"SparseCategoricalCrossentropy\"), "
                    f"not {spec['type']!r}"
                )
            _check_args(klass, spec, "loss")
        return spec

    @field_validator("metrics")
    @classmethod
    def _metrics(cls, v):
        for m in v:
            if not isinstance(m, (str, dict)):
                raise ValueError(f"each metric must be a name such as \"accuracy\"; received {m!r}")
            problem = cat.metric_problem(m)
            if problem is not None:
                raise ValueError(problem)
        return v


def _check_args(klass: type, spec: dict, what: str) -> None:
    accepted, anything = cat.accepted_arguments(klass)
    for k in spec:
        if k != "type" and not anything and k not in accepted:
            raise ValueError(
                f"unknown argument {k!r} for {what} {klass.__name__}.{cat.suggest(k, accepted)} Valid: "
                f"{', '.join(sorted(accepted))}"
            )


# -------------------------------------------------------------------------------------- fit
class FitConfig(_Table):
    """``[fit]``: epochs, batch size, validation split, shuffling, progress output."""

    epochs: PositiveInt = 10
    batch_size: PositiveInt = 32
    validation_split: float = Field(0.1, ge=0.0, lt=1.0)
    shuffle: bool = True
    verbose: Literal["auto", 0, 1, 2] = "auto"


# -------------------------------------------------------------------------------- callbacks
class EarlyStoppingConfig(_Table):
    monitor: str = "val_loss"
    min_delta: float = 0.0
    patience: NonNegativeInt = 10
    mode: Literal["auto", "min", "max"] = "auto"
    baseline: float | None = None
    restore_best_weights: bool = True
    start_from_epoch: NonNegativeInt = 0


class ReduceLRConfig(_Table):
    monitor: str = "val_loss"
    factor: float = Field(0.5, gt=0, lt=1)
    patience: NonNegativeInt = 3
    mode: Literal["auto", "min", "max"] = "auto"
    min_delta: float = 1e-4
    cooldown: NonNegativeInt = 0
    min_lr: float = Field(0.0, ge=0)


class CheckpointConfig(_Table):
    monitor: str = "val_loss"
    save_best_only: bool = True
    mode: Literal["auto", "min", "max"] = "auto"


def _switch(v):
    """``false`` disables a callback, ``true`` enables it with its defaults."""
    if v is False:
        return None
    if v is True:
        return {}
    return v


class CallbacksConfig(_Table):
    """``[callbacks]``: early stopping, learning-rate reduction, checkpoints, NaN guard."""

    early_stopping: EarlyStoppingConfig | None = None
    reduce_lr: ReduceLRConfig | None = None
    checkpoint: CheckpointConfig | None = None
    terminate_on_nan: bool = True

    _on_off = field_validator("early_stopping", "reduce_lr", "checkpoint", mode="before")(classmethod(lambda cls, v: _switch(v)))


# -------------------------------------------------------------------------------------- run
class RunConfig(_Table):
    """The whole experiment."""

    seed: NonNegativeInt = 0
    output: str = "runs"
    name: str | None = None
    threads: PositiveInt | None = None
    device: str = "auto"
    data: DataConfig
    model: ModelConfig
    compile: CompileConfig = Field(default_factory=CompileConfig)
    fit: FitConfig = Field(default_factory=FitConfig)
    callbacks: CallbacksConfig = Field(default_factory=CallbacksConfig)

    @field_validator("device")
    @classmethod
    def _device(cls, v):
        if v not in ("auto", "cpu", "cuda", "mps") and not re.fullmatch(r"cuda:\d+", v):
            raise ValueError(f"expected \"auto\", \"cpu\", \"cuda\", \"cuda:N\" or \"mps\"; received {v!r}")
        return v

    @field_validator("name")
    @classmethod
    def _run_name(cls, v):
        if v is not None and (not v or any(c in v for c in "/\\:") or v.startswith(".")):
            raise ValueError(f"`name` is appended to the run folder name: use letters, digits, '-' and '_'; received {v!r}")
        return v


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
                text: str | None = None, check_layers: bool = True, allow_code: bool = False) -> LoadedConfig:
    """Read, override and validate a config; raise :class:`ConfigError` listing every problem.

    ``path=None`` (and no ``text``) loads the built-in default experiment. ``overrides`` are
    ``(key path, value, option text)`` applied before validation. A config that names code
    (``[model] factory``) is refused unless ``allow_code=True`` (``--allow-code``).
    """
    allow_code = check("load_config", "allow_code", allow_code, Boolean())
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
    code = loaded.code_issue()
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
