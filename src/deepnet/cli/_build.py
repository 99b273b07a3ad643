"""Turning a validated config into objects: the model (layer list or user factory), the
optimizer with its learning-rate schedule, the loss, and the callbacks."""

from __future__ import annotations

import math
import os
import re

from . import _catalogue as cat
from ._code import load_function, parse_reference
from ._errors import UsageFailure, one_line

__all__ = ["build_callbacks", "build_compiled", "build_loss", "build_model", "build_optimizer", "check_callbacks",
           "compile_model",
           "load_factory", "make_layer"]

# deepnet modules are imported inside the functions of cli/ so that `deepnet --help` starts fast.


def _plain(value):
    """TOML arrays become tuples (Keras takes tuples for shapes, kernel sizes, strides)."""
    if isinstance(value, list):
        return tuple(_plain(v) for v in value)
    return value


def _argument_in(message: str, args) -> str | None:
    """The argument a constructor error message is about (``"`filters`"`` or ``filters=``)."""
    for arg in args:
        if re.search(rf"`{re.escape(arg)}`|\b{re.escape(arg)}=", message):
            return arg
    return None


def make_layer(spec: dict, loc: tuple, loaded):
    """Instantiate one layer table ``{type = "...", **arguments}``."""
    cls = cat.resolve_layer(spec["type"])
    kwargs = {}
    for arg, value in spec.items():
        if arg == "type":
            continue
        if isinstance(value, dict) and "type" in value and cat.resolve_layer(str(value["type"])) is not None:
            kwargs[arg] = make_layer(value, loc + (arg,), loaded)
        else:
            kwargs[arg] = _plain(value)
    try:
        return cls(**kwargs)
    except (TypeError, ValueError) as e:
        arg = _argument_in(str(e), [a for a in spec if a != "type"])
        raise loaded.error(loc + ((arg,) if arg else ()), one_line(e)) from e


def load_factory(loaded):
    """The function ``[model] factory`` names (its module is imported, the function is not
    called); refused unless the config was loaded with ``allow_code=True``."""
    reference = parse_reference(loaded.config.model.factory)
    return load_function(reference, loaded.base_dir, loaded.allow_code,
                         where=lambda message: loaded.error(("model", "factory"), message))


def _factory_model(loaded, input_shape, num_classes):
    """Call the factory of ``[model]`` (needs ``allow_code``) and build its model."""
    import inspect

    from ..models import Model

    mc = loaded.config.model
    func = load_factory(loaded)
    kwargs = dict(mc.args)
    try:
        params = inspect.signature(func).parameters
    except (TypeError, ValueError):
        params = {}
    if "input_shape" in params and "input_shape" not in kwargs and input_shape is not None:
        kwargs["input_shape"] = tuple(input_shape)
    if "num_classes" in params and "num_classes" not in kwargs and num_classes is not None:
        kwargs["num_classes"] = num_classes
    try:
        model = func(**kwargs)
    except TypeError as e:
        raise loaded.error(("model", "args"), f"calling {mc.factory}: {one_line(e)}") from e
    except Exception as e:
        raise UsageFailure(f"the model factory {mc.factory} failed: {type(e).__name__}: {one_line(e)}") from e
    if not isinstance(model, Model):
        raise loaded.error(("model", "factory"), f"{mc.factory} returned {type(model).__name__}; it must "
                                                 f"return a deepnet model (Sequential, Model or a subclass)")
    if not model.built and input_shape is not None:
        try:
            model.build((None, *input_shape))
        except Exception as e:
            raise UsageFailure(f"building the model from {mc.factory} for inputs {tuple(input_shape)} failed: "
                               f"{one_line(e)}") from e
    return model


def _layer_list_model(loaded, input_shape):
    """The ``Sequential`` stack of ``[model] layers`` on inputs of ``input_shape``."""
    from ..layers import Input
    from ..models import Sequential

    mc = loaded.config.model
    if input_shape is None:
        raise loaded.error(("model",), "set `input_shape` in [model] (the shape of one sample, e.g. [28, 28, 1])")
    model = Sequential(name=mc.name)
    try:
        model.add(Input(shape=tuple(input_shape)))
    except (TypeError, ValueError) as e:
        raise loaded.error(("model", "input_shape"), one_line(e)) from e
    for i, spec in enumerate(mc.layers):
        loc = ("model", "layers", i)
        layer = make_layer(spec, loc, loaded)
        try:
            model.add(layer)
        except (TypeError, ValueError) as e:
            raise loaded.error(loc, f"{spec['type']}: {one_line(e)}") from e
        except (RuntimeError, MemoryError) as e:  # e.g. weights too large to allocate
            raise loaded.error(loc, f"{spec['type']}: building it failed: {type(e).__name__}: {one_line(e)}") from e
    return model


def build_model(loaded, input_shape, num_classes=None):
    """The model described by ``[model]`` for inputs of ``input_shape`` (no batch axis)."""
    mc = loaded.config.model
    if mc.input_shape is not None:
        input_shape = tuple(mc.input_shape)
    if mc.factory is not None:
        return _factory_model(loaded, input_shape, num_classes)
    return _layer_list_model(loaded, input_shape)


# ------------------------------------------------------------------------------- compile
def _schedule(loaded, peak: float, total_steps: int):
    from ..optimizers import schedules

    spec = loaded.config.compile.schedule
    if spec is None or spec["type"] == "constant":
        return peak
    kind = spec["type"]
    total = max(1, int(total_steps))
    if kind == "one_cycle":
        warm = int(total * spec.get("warmup", 0.1))
        div = spec.get("div_factor", 25.0)
        alpha = spec.get("final_fraction", 0.0)
        if warm == 0:
            return schedules.CosineDecay(peak, total, alpha=alpha)
        return schedules.CosineDecay(peak / div, max(1, total - warm), alpha=alpha, warmup_target=peak,
                                     warmup_steps=warm)
    if kind == "cosine":
        return schedules.CosineDecay(peak, total, alpha=spec.get("final_fraction", 0.0))
    cls = cat.schedule_classes()[kind]
    kwargs = {k: _plain(v) for k, v in spec.items() if k != "type"}
    accepted, _ = cat.accepted_arguments(cls)
    if "initial_learning_rate" in accepted and "initial_learning_rate" not in kwargs:
        kwargs["initial_learning_rate"] = peak
    for steps_arg in ("decay_steps", "first_decay_steps"):
        if steps_arg in accepted and steps_arg not in kwargs:
            kwargs[steps_arg] = total
    try:
        return cls(**kwargs)
    except (TypeError, ValueError) as e:
        raise loaded.error(("compile", "schedule"), one_line(e)) from e


def build_optimizer(loaded, total_steps: int):
    spec = dict(loaded.config.compile.optimizer)
    cls = cat.optimizer_classes()[spec.pop("type")]
    lr = loaded.config.compile.learning_rate
    if lr is None:
        lr = spec.get("learning_rate")
    if lr is None:
        import inspect

        lr = inspect.signature(cls.__init__).parameters["learning_rate"].default
    spec["learning_rate"] = _schedule(loaded, float(lr), total_steps)
    try:
        return cls(**{k: _plain(v) for k, v in spec.items()})
    except (TypeError, ValueError) as e:
        raise loaded.error(("compile", "optimizer"), one_line(e)) from e


def build_loss(loaded):
    from .. import losses

    spec = dict(loaded.config.compile.loss)
    kind = spec.pop("type")
    try:
        if spec:
            return losses.get({"class_name": kind, "config": {k: _plain(v) for k, v in spec.items()}})
        return losses.as_loss(kind)
    except (TypeError, ValueError) as e:
        raise loaded.error(("compile", "loss"), one_line(e)) from e


def _device_problem(device: str) -> str | None:
    """Why ``device`` ("cpu", "cuda", "cuda:N", "mps") cannot be used on this machine, or None."""
    import torch

    if device.startswith("cuda"):
        count = torch.cuda.device_count() if torch.cuda.is_available() else 0
        index = int(device.split(":")[1]) if ":" in device else 0
        if index >= count:
            return (f"device {device!r} is not available: this machine has {count} CUDA device"
                    f"{'s' if count != 1 else ''} (torch {torch.__version__}); use device = \"auto\" or \"cpu\"")
    if device == "mps" and not (getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()):
        return "device 'mps' is not available on this machine; use device = \"auto\" or \"cpu\""
    return None


def _adversarial(loaded):
    """The ``[robust]`` table as a ``deepnet.robust.AdversarialTraining`` (None without one)."""
    r = loaded.config.robust
    if r is None:
        return None
    from ..robust import AdversarialTraining

    try:
        return AdversarialTraining(**r.model_dump())
    except (TypeError, ValueError) as e:
        raise loaded.error(("robust",), one_line(e)) from e


def compile_model(model, loaded, total_steps: int) -> None:
    c = loaded.config.compile
    device = None if loaded.config.device == "auto" else loaded.config.device
    problem = _device_problem(device) if device is not None else None
    if problem is not None:
        raise loaded.error(("device",), problem)
    optimizer = build_optimizer(loaded, total_steps)
    loss = build_loss(loaded)
    adversarial = _adversarial(loaded)
    try:
        model.compile(optimizer=optimizer, loss=loss, metrics=list(c.metrics), jit_compile=c.jit_compile,
                      device=device, **({"adversarial": adversarial} if adversarial is not None else {}))
    except (TypeError, ValueError) as e:
        raise loaded.error(("compile",), one_line(e)) from e
    except RuntimeError as e:
        raise UsageFailure(f"compile failed: {one_line(e)}") from e


def steps_per_epoch(n_train: int, batch_size: int) -> int:
    return max(1, math.ceil(n_train / batch_size))


def build_compiled(loaded, input_shape, num_classes=None, n_train: int = 1000, compile: bool = True):
    """The config's model, seeded and built for ``input_shape``; compiled (its learning-rate
    schedule spanning the epochs of ``n_train`` samples) unless ``compile=False``."""
    from ..utils import set_random_seed

    cfg = loaded.config
    set_random_seed(cfg.seed)
    model = build_model(loaded, tuple(input_shape), num_classes)
    if compile:
        compile_model(model, loaded, steps_per_epoch(n_train, cfg.fit.batch_size) * cfg.fit.epochs)
    return model


def check_callbacks(loaded, has_validation: bool, logged: list[str] | None = None) -> None:
    """Callback settings that contradict the rest of the config (before anything is written).
    ``logged``: the names fit will log per epoch (``loss`` and the metrics; ``val_`` versions
    with validation data); a callback must monitor one of them."""
    c = loaded.config.callbacks
    for key, spec in (("early_stopping", c.early_stopping), ("reduce_lr", c.reduce_lr), ("checkpoint", c.checkpoint)):
        if spec is None:
            continue
        if spec.monitor.startswith("val_") and not has_validation:
            raise loaded.error(("callbacks", key, "monitor"), f"monitors {spec.monitor!r} but there is no validation "
                                                              f"data: set fit.validation_split > 0 or monitor a training metric")
        names = [*logged, *(f"val_{n}" for n in logged if has_validation)] if logged else None
        if names and spec.monitor not in names:
            raise loaded.error(("callbacks", key, "monitor"),
                               f"monitors {spec.monitor!r}, which training does not log.{cat.suggest(spec.monitor, names)}"
                               f" Logged: {', '.join(names)}")
    schedule = loaded.config.compile.schedule
    if c.reduce_lr is not None and not (schedule is None or schedule["type"] == "constant"):
        raise loaded.error(("callbacks", "reduce_lr"), "reduce_lr changes the learning rate itself: it needs a "
                                                      "constant learning rate (remove [compile] schedule)")


def build_callbacks(loaded, run_dir: str | None, verbose: int = 1) -> list:
    """The run's callbacks: history.csv in ``run_dir``, then those of ``[callbacks]``
    (``run_dir=None``, a tuning trial: no history.csv and no checkpoint)."""
    from .. import callbacks as cb

    c = loaded.config.callbacks
    out = [] if run_dir is None else [cb.CSVLogger(os.path.join(run_dir, "history.csv"))]
    if c.early_stopping is not None:
        out.append(cb.EarlyStopping(verbose=verbose, **c.early_stopping.model_dump()))
    if c.reduce_lr is not None:
        out.append(cb.ReduceLROnPlateau(verbose=verbose, **c.reduce_lr.model_dump()))
    if c.checkpoint is not None and run_dir is not None:
        out.append(cb.ModelCheckpoint(os.path.join(run_dir, "checkpoint.deepnet"), **c.checkpoint.model_dump()))
    if c.terminate_on_nan:
        out.append(cb.TerminateOnNaN())
    return out
