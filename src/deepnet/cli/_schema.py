"""The schema of the experiment config (pydantic v2): one model per table (``[data]``,
``[model]``, ``[compile]``, ``[fit]``, ``[callbacks]``) and :class:`RunConfig` for the whole
file. Validators name what is wrong and the closest valid name; nothing here imports user
code (a ``[model] factory`` reference is checked for its form only)."""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    NonNegativeInt,
    PositiveInt,
    StrictBool,
    field_validator,
    model_validator,
)

from . import _catalogue as cat
from ._code import parse_reference

# Switches are TOML booleans (true/false): "no" or 0 is a mistake, not False (as in utils.validation).

__all__ = [
    "BUILTIN_DATASETS", "CallbacksConfig", "CompileConfig", "DataConfig", "FitConfig", "ModelConfig", "RobustConfig",
    "RunConfig", "SCHEDULE_SHORTCUTS", "TuneConfig",
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
    header: StrictBool = True
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
    jit_compile: StrictBool = False

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
    shuffle: StrictBool = True
    verbose: Literal["auto", 0, 1, 2] = "auto"


# -------------------------------------------------------------------------------- callbacks
class EarlyStoppingConfig(_Table):
    monitor: str = "val_loss"
    min_delta: float = 0.0
    patience: NonNegativeInt = 10
    mode: Literal["auto", "min", "max"] = "auto"
    baseline: float | None = None
    restore_best_weights: StrictBool = True
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
    save_best_only: StrictBool = True
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
    terminate_on_nan: StrictBool = True

    _on_off = field_validator("early_stopping", "reduce_lr", "checkpoint", mode="before")(classmethod(lambda cls, v: _switch(v)))


# ------------------------------------------------------------------------------------- tune
class TuneConfig(_Table):
    """``[tune]``: the search settings; every other key is a search range (checked by
    :mod:`._tune_space`, which knows the ready-made names and dotted config paths)."""

    model_config = ConfigDict(extra="allow", validate_default=True)

    trials: PositiveInt = 20
    timeout: float | None = Field(None, gt=0)
    objective: str | None = None
    direction: Literal["minimize", "maximize"] | None = None
    sampler: Literal["tpe", "random", "gp", "cmaes", "grid"] = "tpe"
    pruner: Literal["hyperband", "asha", "median", "none"] = "hyperband"
    workers: PositiveInt = 1
    seed: NonNegativeInt | None = None
    directory: str | None = Field(None, min_length=1)
    storage: str | None = Field(None, min_length=1)
    study_name: str = Field("deepnet", min_length=1)
    block: tuple[NonNegativeInt, PositiveInt] | None = None

    @field_validator("storage")
    @classmethod
    def _server_database(cls, v):
        if v is not None and v.lower().startswith("sqlite"):
            raise ValueError("SQLite locks when several workers write: leave `storage` out (the journal file in "
                             "the tuning directory, safe for many processes on one host) or give a database "
                             f"server URL such as postgresql://user:password@host/db; received {v!r}")
        return v

    @field_validator("block")
    @classmethod
    def _block_order(cls, v):
        if v is not None and v[0] >= v[1]:
            raise ValueError(f"`block` = [start, end] is the slice of [model] layers that `layers` repeats "
                             f"(start < end); received {list(v)}")
        return v


# ----------------------------------------------------------------------------------- robust
class RobustConfig(_Table):
    """``[robust]``: adversarial training, i.e. ``compile(adversarial=deepnet.robust.AdversarialTraining(...))``
    with these arguments (``eps`` in the units of the inputs)."""

    method: Literal["madry", "trades", "fast"] = "madry"
    attack: Literal["pgd", "fgsm"] = "pgd"
    eps: float = Field(gt=0)
    steps: PositiveInt = 10
    step_size: float | None = Field(None, gt=0)
    clip: tuple[float, float] | None = None
    beta: float = Field(6.0, ge=0)
    norm: Literal["inf", "2"] = "inf"
    random_start: StrictBool = True

    @field_validator("clip")
    @classmethod
    def _clip_order(cls, v):
        if v is not None and not v[0] < v[1]:
            raise ValueError(f"`clip` = [low, high] is the valid input range (low < high); received {list(v)}")
        return v


# -------------------------------------------------------------------------------------- run
class RunConfig(_Table):
    """The whole experiment."""

    seed: NonNegativeInt = 0
    output: str = Field("runs", min_length=1)
    name: str | None = None
    threads: PositiveInt | None = None
    device: str = "auto"
    data: DataConfig
    model: ModelConfig
    compile: CompileConfig = Field(default_factory=CompileConfig)
    fit: FitConfig = Field(default_factory=FitConfig)
    callbacks: CallbacksConfig = Field(default_factory=CallbacksConfig)
    tune: TuneConfig | None = None
    robust: RobustConfig | None = None

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
