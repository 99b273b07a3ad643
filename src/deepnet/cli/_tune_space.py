"""The search space of a ``[tune]`` table: its ranges checked (each problem with its key and
line), and the config of one trial (the drawn values substituted).

Every key of ``[tune]`` other than the settings (``trials``, ``objective``, ... see
:class:`~._schema.TuneConfig`) is a search range, ``{int = [lo, hi]}`` (options ``log``,
``step``), ``{float = [lo, hi]}`` (same options), ``{choice = [...]}`` or ``{bool = true}``, under
one of the eight ready-made names of :data:`NAMED` or a dotted config path such as
``"model.layers.3.filters"`` (layer indices as written in the file). Paths are substituted first,
then the ready-made names; ``layers`` repeats the hidden block (``[tune] block = [start, end]``, a
slice of ``[model] layers``; default: the first Dense layer and the layers after it up to the next
Dense layer).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from . import _catalogue as cat
from ._errors import format_loc, one_line
from ._schema import RunConfig, TuneConfig

__all__ = ["KINDS", "NAMED", "SETTINGS", "Param", "Space", "SpaceError", "parse_space", "trial_raw"]

SETTINGS = tuple(TuneConfig.model_fields)
#: The ready-made hyperparameters and what each one sets.
NAMED = {
    "learning_rate": "compile.learning_rate",
    "batch_size": "fit.batch_size",
    "layers": "how many times the hidden block of [model] layers is repeated",
    "units": "`units` of each Dense layer but the last one, drawn per layer (units_0, units_1, ...)",
    "l2": "an L2 kernel_regularizer of that strength on every layer that takes one",
    "dropout": "`rate` of every Dropout layer",
    "activation": "`activation` of the hidden layers (those before the last Dense layer that set one, "
                  "and Activation layers)",
    "optimizer": "compile.optimizer (a name such as \"adam\")",
}
KINDS = ("int", "float", "choice", "bool")
_OPTIONS = {"int": ("log", "step"), "float": ("log", "step"), "choice": (), "bool": ()}
_EXAMPLES = "{int = [1, 4]}, {float = [1e-4, 1e-1], log = true}, {choice = [\"relu\", \"gelu\"]} or {bool = true}"
_ALIASES = {"lr": "learning_rate", "learning-rate": "learning_rate", "batch": "batch_size",
            "num_layers": "layers", "n_layers": "layers", "depth": "layers", "neurons": "units", "width": "units",
            "hidden_units": "units", "weight_decay": "l2", "regularization": "l2", "dropout_rate": "dropout",
            "act": "activation", "opt": "optimizer", "epochs": "fit.epochs", "n_trials": "trials",
            "max_trials": "trials", "n_workers": "workers"}
_MODEL_NAMES = ("layers", "units", "l2", "dropout", "activation")
_PATH_ROOTS = ("model", "compile", "fit", "callbacks")


class SpaceError(ValueError):
    """One problem of the ``[tune]`` table, at ``loc`` (a key path of the config)."""

    def __init__(self, loc: tuple, message: str):
        self.loc = tuple(loc)
        super().__init__(message)


def _positive_int(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and v > 0


def _number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


#: name -> (kinds allowed, value check, what the values must be)
_DOMAINS = {
    "learning_rate": (("float", "choice"), lambda v: _number(v) and v > 0, "positive numbers"),
    "batch_size": (("int", "choice"), _positive_int, "positive integers"),
    "layers": (("int", "choice"), _positive_int, "positive integers"),
    "units": (("int", "choice"), _positive_int, "positive integers"),
    "l2": (("float", "choice"), lambda v: _number(v) and v >= 0, "numbers >= 0"),
    "dropout": (("float", "choice"), lambda v: _number(v) and 0 <= v < 1, "numbers in [0, 1)"),
    "activation": (("choice",), lambda v: isinstance(v, str), "activation names"),
    "optimizer": (("choice",), lambda v: isinstance(v, str) and v.lower() in
                  {k.lower() for k in cat.optimizer_classes()}, "optimizer names"),
}


@dataclass(frozen=True)
class Param:
    """One search range of ``[tune]``: ``key`` is also the hyperparameter's name."""

    key: str
    kind: str
    low: Any = None
    high: Any = None
    log: bool = False
    step: Any = None
    choices: tuple = ()

    def draw(self, hp, name: str | None = None):
        """The value of this parameter drawn from ``hp`` (a ``deepnet.tune.HyperParameters``),
        as the hyperparameter ``name`` (default: the key)."""
        name = name or self.key
        if self.kind == "int":
            return hp.Int(name, self.low, self.high, step=self.step, log=self.log)
        if self.kind == "float":
            return hp.Float(name, self.low, self.high, step=self.step, log=self.log)
        if self.kind == "choice":
            return hp.Choice(name, list(self.choices))
        return hp.Boolean(name)

    def ends(self) -> tuple:
        """The smallest and the largest value (first and last choice)."""
        if self.kind in ("int", "float"):
            return self.low, self.high
        if self.kind == "choice":
            return self.choices[0], self.choices[-1]
        return False, True

    def describe(self) -> str:
        if self.kind in ("int", "float"):
            extra = (", log" if self.log else "") + (f", step {self.step}" if self.step else "")
            return f"{self.kind} [{self.low}, {self.high}{extra}]"
        if self.kind == "choice":
            return "choice of " + ", ".join(map(str, self.choices))
        return "true/false"


@dataclass
class Space:
    """The search ranges of a ``[tune]`` table, in the file's order, and the hidden block."""

    params: list[Param] = field(default_factory=list)
    block: tuple[int, int] | None = None

    def names(self) -> list[str]:
        return [p.key for p in self.params]


# ----------------------------------------------------------------------------- parsing
def _range(key: str, spec: dict, kind: str) -> Param:
    loc = ("tune", key, kind)
    bounds = spec[kind]
    what = "integers" if kind == "int" else "numbers"
    if isinstance(bounds, list) and not bounds:
        raise SpaceError(loc, f"empty range for `{key}`: give [min, max], e.g. {kind} = [1, 4]")
    ok = int if kind == "int" else (int, float)
    if not (isinstance(bounds, list) and len(bounds) == 2
            and all(isinstance(b, ok) and not isinstance(b, bool) for b in bounds)):
        raise SpaceError(loc, f"`{key}`: expected {kind} = [min, max] with two {what}; received {bounds!r}")
    low, high = bounds if kind == "int" else (float(bounds[0]), float(bounds[1]))
    if low > high:
        raise SpaceError(loc, f"`{key}`: min {bounds[0]} > max {bounds[1]}; write [{bounds[1]}, {bounds[0]}]")
    log, step = spec.get("log", False), spec.get("step")
    if not isinstance(log, bool):
        raise SpaceError(("tune", key, "log"), f"`log` of `{key}` is true or false; received {log!r}")
    if step is not None and not (isinstance(step, ok) and not isinstance(step, bool) and step > 0):
        raise SpaceError(("tune", key, "step"), f"`step` of `{key}` must be a positive {kind}; received {step!r}")
    if log and low <= 0:
        raise SpaceError(loc, f"`{key}`: a log range cannot include 0 or negatives; received [{bounds[0]}, "
                              f"{bounds[1]}]. help: start it at a small positive value, e.g. 1e-5, or set log = false")
    if log and step is not None:
        raise SpaceError(("tune", key, "step"), f"`{key}`: `step` and `log = true` cannot be combined; drop one")
    return Param(key, kind, low, high, log, step)


def _choice(key: str, spec: dict) -> Param:
    values = spec["choice"]
    loc = ("tune", key, "choice")
    if not isinstance(values, list):
        raise SpaceError(loc, f"`{key}`: choice is a list of values, e.g. choice = [32, 64]; received {values!r}")
    if not values:
        raise SpaceError(loc, f"empty choice for `{key}`: list at least one value")
    bad = [v for v in values if not isinstance(v, (str, int, float, bool))]
    if bad:
        raise SpaceError(loc, f"`{key}`: choices must be strings, numbers or booleans; received {bad[0]!r}")
    return Param(key, "choice", choices=tuple(values))


def parse_param(key: str, spec) -> Param:
    """The :class:`Param` of ``key = spec`` in ``[tune]``; raises :class:`SpaceError`."""
    loc = ("tune", key)
    if not isinstance(spec, dict):
        raise SpaceError(loc, f"`{key}` needs a search range such as {_EXAMPLES}; received {spec!r}")
    kinds = [k for k in KINDS if k in spec]
    if len(kinds) != 1:
        others = [k for k in spec if k not in ("log", "step")]
        hint = cat.suggest(others[0], KINDS) if len(kinds) == 0 and others else ""
        raise SpaceError(loc, f"`{key}` needs exactly one of int, float, choice, bool; received "
                              f"{', '.join(map(str, spec)) or 'an empty table'}.{hint}")
    kind = kinds[0]
    for option in spec:
        if option != kind and option not in _OPTIONS[kind]:
            valid = ", ".join(_OPTIONS[kind]) or "none"
            raise SpaceError(loc + (option,), f"unknown option {option!r} of the {kind} range of `{key}`."
                                              f"{cat.suggest(option, _OPTIONS[kind])} Valid options: {valid}")
    if kind == "choice":
        return _choice(key, spec)
    if kind == "bool":
        if spec["bool"] is not True:
            raise SpaceError(loc + ("bool",), f"`{key}`: write {{bool = true}} to search true/false; "
                                              f"received bool = {spec['bool']!r}")
        return Param(key, "bool")
    return _range(key, spec, kind)


def _check_domain(param: Param) -> None:
    kinds, ok, what = _DOMAINS[param.key]
    if param.kind not in kinds:
        raise SpaceError(("tune", param.key), f"`{param.key}` takes {' or '.join(kinds)} ranges, e.g. "
                                              f"{param.key} = {_example(param.key)}; received a {param.kind} range")
    values = param.choices if param.kind == "choice" else (param.low, param.high)
    bad = [v for v in values if not ok(v)]
    if bad:
        hint = ""
        if param.key == "optimizer" and isinstance(bad[0], str):
            hint = cat.suggest(bad[0], cat.optimizer_classes())
        raise SpaceError(("tune", param.key), f"`{param.key}` takes {what}; received {bad[0]!r}.{hint}")


def _example(name: str) -> str:
    return {"learning_rate": "{float = [1e-4, 1e-1], log = true}", "batch_size": "{choice = [32, 64, 128]}",
            "layers": "{int = [1, 4]}", "units": "{int = [32, 512], log = true}",
            "l2": "{float = [1e-6, 1e-2], log = true}", "dropout": "{float = [0.0, 0.5]}",
            "activation": "{choice = [\"relu\", \"gelu\", \"tanh\"]}",
            "optimizer": "{choice = [\"adam\", \"adamw\", \"sgd\"]}"}[name]


# ------------------------------------------------------------------------------ the model
def _kind(spec) -> str:
    """The class name of a layer table (``""`` when unknown)."""
    cls = cat.resolve_layer(str(spec.get("type"))) if isinstance(spec, dict) else None
    return cls.__name__ if cls is not None else ""


def _dense_indices(layers: list) -> list[int]:
    return [i for i, spec in enumerate(layers) if _kind(spec) == "Dense"]


def default_block(layers: list) -> tuple[int, int] | None:
    """The first Dense layer and the layers after it up to the next Dense layer (None when the
    first Dense layer is the last one)."""
    dense = _dense_indices(layers)
    return (dense[0], dense[1]) if len(dense) >= 2 else None


def _targets(name: str, layers: list) -> list[int]:
    """Indices of the layers the ready-made ``name`` changes."""
    dense = _dense_indices(layers)
    last = dense[-1] if dense else len(layers)
    if name == "units":
        return [i for i in dense if i < last]
    if name == "dropout":
        return [i for i, s in enumerate(layers) if _kind(s).endswith("Dropout")]
    if name == "activation":
        return [i for i, s in enumerate(layers[:last]) if _kind(s) == "Activation" or "activation" in s]
    if name == "l2":
        return [i for i, s in enumerate(layers) if _kind(s) and "kernel_regularizer" in
                cat.accepted_arguments(cat.resolve_layer(s["type"]))[0]]
    return []


_NO_TARGET = {
    "units": "there is no Dense layer before the last one",
    "dropout": "there is no Dropout layer (add one to the hidden block, e.g. {type = \"Dropout\", rate = 0.1})",
    "activation": "no layer before the last Dense layer sets an activation (and there is no Activation layer)",
    "l2": "no layer takes a kernel_regularizer",
}


def _check_model_target(name: str, model: dict, block) -> None:
    layers = model.get("layers") if isinstance(model, dict) else None
    if not isinstance(layers, list):
        raise SpaceError(("tune", name), f"`{name}` changes [model] layers; this model comes from a factory: "
                                         f"search its arguments by path instead, e.g. \"model.args.{name}\" = "
                                         f"{_example(name)}")
    if name == "layers":
        if block is None:
            raise SpaceError(("tune", "layers"), "`layers` repeats the hidden block, but [model] layers has no "
                                                 "Dense layer before the last one. help: set block = [start, end] "
                                                 "in [tune] (a slice of [model] layers, end excluded)")
        if block[1] > len(layers):
            raise SpaceError(("tune", "block"), f"block = [{block[0]}, {block[1]}] goes past the {len(layers)} "
                                                f"layers of [model] layers (end excluded)")
    elif not _targets(name, layers):
        raise SpaceError(("tune", name), f"`{name}` sets {NAMED[name]}, but {_NO_TARGET[name]}")


# ------------------------------------------------------------------------------- paths
def _path_parts(key: str) -> tuple:
    return tuple(int(p) if p.isdigit() else p for p in key.split("."))


def _check_path(key: str, raw: dict) -> None:
    """A dotted path must name a key of the config (a layer argument the layer accepts)."""
    loc = ("tune", key)
    parts = _path_parts(key)
    if parts[0] == "data" or parts[:2] == ("fit", "validation_split") or parts[0] == "tune":
        raise SpaceError(loc, f"{key!r} cannot be searched: the data and its validation split are fixed for the "
                              f"whole search (and [tune] is the search itself)")
    if parts[0] not in _PATH_ROOTS or "" in parts:
        raise SpaceError(loc, f"unknown config path {key!r}.{cat.suggest(str(parts[0]), _PATH_ROOTS)} A path starts "
                              f"with one of {', '.join(_PATH_ROOTS)}, e.g. \"model.layers.3.filters\"")
    node: Any = raw
    for depth, part in enumerate(parts[:-1]):
        ok = (isinstance(node, list) and isinstance(part, int) and part < len(node)) or \
             (isinstance(node, dict) and part in node)
        if not ok:
            where = ".".join(map(str, parts[:depth + 1]))
            size = f" (it has {len(node)} items, counted from 0)" if isinstance(node, list) else ""
            raise SpaceError(loc, f"{key!r}: the config has no {where}{size}; a path names a key of the config")
        node = node[part]
    last = parts[-1]
    if isinstance(node, list) and not (isinstance(last, int) and last < len(node)):
        raise SpaceError(loc, f"{key!r}: index {last} is out of range ({len(node)} items, counted from 0)")
    if len(parts) == 4 and parts[:2] == ("model", "layers") and _kind(node):
        accepted, anything = cat.accepted_arguments(cat.resolve_layer(node["type"]))
        if not anything and last not in accepted:
            raise SpaceError(loc, f"{key!r}: unknown argument {last!r} for layer {_kind(node)} (model.layers."
                                  f"{parts[2]}).{cat.suggest(str(last), accepted)}")


# ------------------------------------------------------------------------------- space
def _parse_key(key: str, spec, raw: dict, block) -> Param:
    if "." in key:
        _check_path(key, raw)
    elif key not in NAMED:
        valid = [*SETTINGS, *NAMED]
        hint = cat.suggest(key, valid) or (f" Did you mean {_ALIASES[key.lower()]!r}?" if key.lower() in _ALIASES
                                           else "")
        raise SpaceError(("tune", key), f"unknown key {key!r} in [tune].{hint} Settings: "
                                        f"{', '.join(SETTINGS)}; ready-made hyperparameters: {', '.join(NAMED)}; "
                                        f"or any config key by its dotted path, e.g. \"model.layers.0.units\"")
    param = parse_param(key, spec)
    if key in NAMED:
        _check_domain(param)
        if key in _MODEL_NAMES:
            _check_model_target(key, raw.get("model"), block)
    return param


def parse_space(raw: dict) -> tuple[Space, list[SpaceError]]:
    """The search space of the raw config's ``[tune]`` table and every problem found."""
    tune = raw.get("tune")
    if not isinstance(tune, dict):
        return Space(), []
    model = raw.get("model") if isinstance(raw.get("model"), dict) else {}
    layers = model.get("layers") if isinstance(model.get("layers"), list) else []
    block = tune.get("block")
    block = tuple(block) if isinstance(block, list) and len(block) == 2 else default_block(layers)
    space, errors = Space(block=block), []
    for key, spec in tune.items():
        if key in SETTINGS:
            continue
        try:
            space.params.append(_parse_key(key, spec, raw, block))
        except SpaceError as error:
            errors.append(error)
    if not errors and not space.params:
        errors.append(SpaceError(("tune",), "[tune] names no search range. help: add one, e.g. learning_rate = "
                                            "{float = [1e-4, 1e-1], log = true} (`deepnet init --tune` writes an example)"))
    return space, errors


def check_ends(raw: dict, space: Space) -> list[SpaceError]:
    """The trial configs with every parameter at its smallest and at its largest value must be
    valid configs (e.g. a searched value of the wrong type for its key)."""
    from ..tune import HyperParameters

    errors = []
    for which, index in (("smallest", 0), ("largest", 1)):
        values = {p.key: p.ends()[index] for p in space.params}
        try:
            RunConfig.model_validate(trial_raw(raw, space, HyperParameters(values=values))[0])
        except ValidationError as err:
            first = err.errors(include_url=False)[0]
            loc = tuple(p for p in first["loc"] if isinstance(p, (int, str)) and "[" not in str(p))
            message = one_line(first["msg"])
            errors.append(SpaceError(_key_of(loc, space), f"with every searched value at its {which}, the config "
                                                          f"is invalid: {format_loc(loc)}: "
                                                          f"{message[:1].lower() + message[1:]}"))
            break
    return errors


_NAMED_PATHS = {("compile", "learning_rate"): "learning_rate", ("fit", "batch_size"): "batch_size",
                ("compile", "optimizer"): "optimizer"}


def _key_of(loc: tuple, space: Space) -> tuple:
    """The ``[tune]`` key whose values made the config invalid at ``loc`` (else ``[tune]``)."""
    for param in space.params:
        path = _path_parts(param.key) if "." in param.key else None
        if (path is not None and loc[:len(path)] == path) or _NAMED_PATHS.get(loc[:2]) == param.key:
            return ("tune", param.key)
    return ("tune",)


# ------------------------------------------------------------------------------- trials
def _set_path(raw: dict, key: str, value) -> None:
    parts = _path_parts(key)
    node = raw
    for part in parts[:-1]:
        node = node[part]
    node[parts[-1]] = value


def _repeat_block(layers: list, block: tuple[int, int], copies: int) -> list:
    start, end = block
    out = layers[:start]
    for k in range(copies):
        for spec in copy.deepcopy(layers[start:end]):
            if k and isinstance(spec, dict) and isinstance(spec.get("name"), str):
                spec["name"] = f"{spec['name']}_{k}"
            out.append(spec)
    return out + layers[end:]


def _apply_named(raw: dict, values: dict, block) -> None:
    compile_table = raw.setdefault("compile", {})
    if "learning_rate" in values:
        compile_table["learning_rate"] = values["learning_rate"]
    if "batch_size" in values:
        raw.setdefault("fit", {})["batch_size"] = values["batch_size"]
    if "optimizer" in values:
        current = compile_table.get("optimizer", "adam")
        kind = current.get("type") if isinstance(current, dict) else current
        if str(kind).lower() != values["optimizer"].lower():
            compile_table["optimizer"] = values["optimizer"]  # the table's arguments belong to the old class
    model = raw.get("model", {})
    if "layers" in values:
        model["layers"] = _repeat_block(model["layers"], block, values["layers"])
    setters = {"dropout": lambda v: {"rate": v},
               "activation": lambda v: {"activation": v},
               "l2": lambda v: {"kernel_regularizer": {"class_name": "L2", "config": {"l2": v}}}}
    for name, setter in setters.items():
        if name in values:
            for i in _targets(name, model["layers"]):
                model["layers"][i].update(setter(values[name]))


def _apply_units(layers: list, param: Param, hp) -> dict:
    """Draw ``units_0``, ``units_1``, ... for the hidden Dense layers (after the block is
    repeated) and set them; returns the values drawn. A replayed ``units`` value (a search
    recorded before units were drawn per layer) sets every hidden layer, as it did then."""
    targets = _targets("units", layers)
    if "units" in hp:
        shared = param.draw(hp)
        for i in targets:
            layers[i]["units"] = shared
        return {"units": shared}
    drawn = {}
    for k, i in enumerate(targets):
        drawn[f"units_{k}"] = layers[i]["units"] = param.draw(hp, f"units_{k}")
    return drawn


def trial_raw(raw: dict, space: Space, hp) -> tuple[dict, dict]:
    """The raw config of one trial (without ``[tune]``) and the values drawn from ``hp``
    (``units`` is drawn per hidden Dense layer: ``units_0``, ``units_1``, ...)."""
    out = copy.deepcopy(raw)
    out.pop("tune", None)
    values = {p.key: p.draw(hp) for p in space.params if p.key != "units"}
    for key, value in values.items():
        if "." in key:
            _set_path(out, key, value)
    _apply_named(out, {k: v for k, v in values.items() if k in NAMED}, space.block)
    units = next((p for p in space.params if p.key == "units"), None)
    if units is not None:
        values.update(_apply_units(out["model"]["layers"], units, hp))
    return out, values
