"""The public training API of every deepnet model (signatures, argument constraints and docs
live here; the loop lives in :mod:`deepnet.training.engine`)."""

from __future__ import annotations

from ..utils.lazy import lazy_import
from ..utils.validation import (
    AnyOf,
    Boolean,
    InstanceOf,
    Integral,
    Interval,
    NoneOr,
    Options,
    Real,
    validate_params,
)
from ._keras_steps import KerasStepAPI
from .step_wrapper import StepWrapper

# The loop, its data adapters, checks and progress bars load at the first compile/predict:
# `import deepnet` stays fast.
_engine = lazy_import("deepnet.training.engine")
_data = lazy_import("deepnet.training.data")
_custom = lazy_import("deepnet.training._custom_step")  # the loop of overridden Keras steps

__all__ = ["TrainingAPI"]

_POSITIVE = Interval(Integral, 1, None)
_OPTIONAL_POSITIVE = NoneOr(_POSITIVE)
_VERBOSE = AnyOf(Options(["auto"]), Options([0, 1, 2]))

#: The declared constraints of the public training arguments (data, losses, metrics, the
#: optimizer and callbacks are checked where they are resolved: the data pipeline in
#: ``training._checks``, ``losses.get``, ``metrics.get``, ``optimizers.get``, ``CallbackList``).
COMPILE_CONSTRAINTS = {
    "run_eagerly": Boolean(), "steps_per_execution": _POSITIVE,
    "jit_compile": AnyOf(Boolean(), Options(["auto"])), "auto_scale_loss": Boolean(),
    "adversarial": NoneOr(InstanceOf(StepWrapper, description=(
        "None or a deepnet.robust.AdversarialTraining (a deepnet.training.StepWrapper)"))),
}
FIT_CONSTRAINTS = {
    "batch_size": _OPTIONAL_POSITIVE, "epochs": _POSITIVE, "verbose": _VERBOSE,
    "validation_split": Interval(Real, 0, 1, closed="left"), "shuffle": Boolean(),
    "class_weight": NoneOr(InstanceOf(dict, description="a dict {class_index: weight}")),
    "initial_epoch": Interval(Integral, 0, None), "steps_per_epoch": _OPTIONAL_POSITIVE,
    "validation_steps": _OPTIONAL_POSITIVE, "validation_batch_size": _OPTIONAL_POSITIVE,
    "validation_freq": _POSITIVE,
}
EVALUATE_CONSTRAINTS = {"batch_size": _OPTIONAL_POSITIVE, "verbose": _VERBOSE, "steps": _OPTIONAL_POSITIVE,
                        "return_dict": Boolean()}
PREDICT_CONSTRAINTS = {"batch_size": _OPTIONAL_POSITIVE, "verbose": _VERBOSE, "steps": _OPTIONAL_POSITIVE}


class TrainingAPI(KerasStepAPI):
    """Mixed into :class:`deepnet.Model`: ``compile``, ``fit``, ``evaluate``, ``predict`` and the
    single-batch variants, with Keras 3 names, arguments and return values.

    >>> model = dn.Sequential([dn.layers.Input((4,)), dn.layers.Dense(3, activation="softmax")])
    >>> model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    >>> history = model.fit(np.random.rand(8, 4), np.arange(8) % 3, epochs=2, verbose=0)
    >>> sorted(history.history)
    ['accuracy', 'loss']
    """

    _trainer = None
    stop_training = False

    @validate_params(COMPILE_CONSTRAINTS, owner="compile")
    def compile(self, optimizer="rmsprop", loss=None, loss_weights=None, metrics=None, weighted_metrics=None,
                run_eagerly=False, steps_per_execution=1, jit_compile=False, auto_scale_loss=True, device=None,
                adversarial=None):
        """Configure the model for training.

        Args:
            optimizer: name (``"adam"``), config dict or :mod:`deepnet.optimizers` instance.
            loss: name (``"sparse_categorical_crossentropy"``), :mod:`deepnet.losses` instance or
                callable ``f(y_true, y_pred)``; a list/dict gives one loss per output.
            loss_weights: scalar weights of the per-output losses (list or dict).
            metrics: list of names/objects (``["accuracy"]`` resolves by the loss like Keras); per
                output as a list of lists or a dict.
            weighted_metrics: metrics that also receive ``sample_weight``/``class_weight``.
            steps_per_execution: as in Keras, the batch-level callbacks and the progress bar see
                every n-th step (``on_train_batch_begin`` at the first step of a group of n,
                ``on_train_batch_end`` at its last); every step still updates the weights.
            jit_compile: compile the train step with ``torch.compile``; falls back to eager
                execution with a warning where compilation is unsupported (``"auto"``: off).
            device: ``"cpu"``, ``"cuda"``, ``"mps"`` or a ``torch.device``; default: CUDA if
                available, else MPS, else CPU.
            adversarial: a :class:`deepnet.robust.AdversarialTraining` (or another
                :class:`deepnet.training.StepWrapper`) that replaces each training step's loss,
                e.g. by the loss on PGD examples; ``fit`` is otherwise unchanged. Saved with
                the model's compile section.
            run_eagerly, auto_scale_loss: accepted for Keras compatibility (the loop always
                runs eagerly unless ``jit_compile``; float16 losses are always scaled).

        >>> model = dn.Sequential([dn.layers.Input((2,)), dn.layers.Dense(1)])
        >>> model.compile(optimizer="sgd", loss="mse", device="cpu")
        >>> model.compiled
        True
        """
        self._trainer = _engine.Trainer(self, optimizer=optimizer, loss=loss, loss_weights=loss_weights, metrics=metrics,
                                weighted_metrics=weighted_metrics, jit_compile=jit_compile is True, device=device,
                                steps_per_execution=steps_per_execution, adversarial=adversarial)
        self._compile_config = {
            "optimizer": optimizer, "loss": loss, "loss_weights": loss_weights, "metrics": metrics,
            "weighted_metrics": weighted_metrics, "jit_compile": jit_compile, "adversarial": adversarial,
        }
        self.compiled = True

    def get_compile_config(self) -> dict | None:
        """The arguments ``compile`` was called with (as given), or ``None`` before ``compile`` (Keras).

        >>> model = dn.Sequential([dn.layers.Input((2,)), dn.layers.Dense(1)])
        >>> model.get_compile_config() is None
        True
        >>> model.compile(optimizer="sgd", loss="mse", metrics=["mae"])
        >>> model.get_compile_config()["metrics"]
        ['mae']
        """
        config = getattr(self, "_compile_config", None)
        return dict(config) if config is not None else None

    @property
    def optimizer(self):
        """The compiled optimizer (``None`` before ``compile``).

        >>> dn.Sequential([dn.layers.Input((2,)), dn.layers.Dense(1)]).optimizer is None
        True
        """
        return self._trainer.optimizer if self._trainer is not None else None

    def _require_compiled(self, method: str):
        if self._trainer is None:
            raise RuntimeError(
                f"You must call compile() before {method}(). help: model.compile(optimizer=\"adam\", "
                f"loss=\"sparse_categorical_crossentropy\", metrics=[\"accuracy\"]) then model.{method}(...)."
            )
        return self._trainer

    @validate_params(FIT_CONSTRAINTS, owner="fit")
    def fit(self, x=None, y=None, batch_size=None, epochs=1, verbose="auto", callbacks=None, validation_split=0.0,
            validation_data=None, shuffle=True, class_weight=None, sample_weight=None, initial_epoch=0,
            steps_per_epoch=None, validation_steps=None, validation_batch_size=None, validation_freq=1):
        """Train the model; returns a :class:`~deepnet.callbacks.History` whose ``history`` dict
        holds per-epoch ``loss``, metrics and ``val_*`` values.

        ``x``/``y`` may be NumPy arrays or torch tensors (lists/dicts of them for several
        inputs/outputs), a ``torch.utils.data.Dataset``/``DataLoader`` or a Python generator
        yielding ``(x, y)`` or ``(x, y, sample_weight)``. ``batch_size`` defaults to 32.
        ``validation_split`` holds out the last fraction of the arrays, like Keras.
        Integer, bool and uint8 features are cast to the Input's dtype (integer Inputs keep
        integers). Before the first step every input (arrays whole; a Dataset, DataLoader or
        generator on its first batch; ``validation_data`` alike) is checked once: feature
        shapes against the Input, NaN/inf in ``x``, ``y`` and ``sample_weight``, labels against
        the loss and the number of output units, ``class_weight`` against the output units.
        Errors name the argument and the first bad sample.

        >>> model = dn.Sequential([dn.layers.Input((2,)), dn.layers.Dense(1)])
        >>> model.compile(optimizer="sgd", loss="mse")
        >>> model.fit(np.ones((4, 2)), np.ones(4), epochs=3, verbose=0).epoch
        [0, 1, 2]
        """
        return self._require_compiled("fit").fit(
            x, y, batch_size=batch_size, epochs=epochs, verbose=verbose, callbacks=callbacks,
            validation_split=validation_split, validation_data=validation_data, shuffle=shuffle,
            class_weight=class_weight, sample_weight=sample_weight, initial_epoch=initial_epoch,
            steps_per_epoch=steps_per_epoch, validation_steps=validation_steps,
            validation_batch_size=validation_batch_size, validation_freq=validation_freq)

    @validate_params(EVALUATE_CONSTRAINTS, owner="evaluate")
    def evaluate(self, x=None, y=None, batch_size=None, verbose="auto", sample_weight=None, steps=None,
                 callbacks=None, return_dict=False):
        """Loss and metrics on the given data: a scalar (loss only), a list ``[loss, *metrics]``,
        or a dict with ``return_dict=True``. The data is checked as in :meth:`fit`.

        >>> model = dn.Sequential([dn.layers.Input((2,)), dn.layers.Dense(1)])
        >>> model.compile(optimizer="sgd", loss="mse")
        >>> sorted(model.evaluate(np.ones((4, 2)), np.ones(4), verbose=0, return_dict=True))
        ['loss']
        """
        return self._require_compiled("evaluate").evaluate(
            x, y, batch_size=batch_size, verbose=verbose, sample_weight=sample_weight, steps=steps,
            callbacks=callbacks, return_dict=return_dict)

    @validate_params(PREDICT_CONSTRAINTS, owner="predict")
    def predict(self, x, batch_size=None, verbose="auto", steps=None, callbacks=None):
        """Outputs for ``x`` as NumPy arrays (inference mode, batched). Works without compile.
        ``x`` is cast and checked as in :meth:`fit` (Input dtype, feature shape, NaN/inf).

        >>> model = dn.Sequential([dn.layers.Input((2,)), dn.layers.Dense(3)])
        >>> model.predict(np.ones((5, 2)), verbose=0).shape
        (5, 3)
        """
        if _custom.custom_predict(self):  # an overridden predict_step (Keras)
            return _custom.predict(self, x, batch_size=batch_size, steps=steps, verbose=verbose, callbacks=callbacks,
                                   device=self._trainer.device if self._trainer is not None else None)
        if self._trainer is not None:
            return self._trainer.predict(x, batch_size=batch_size, verbose=verbose, steps=steps, callbacks=callbacks)
        return _engine.predict(self, x, batch_size=batch_size, verbose=verbose, steps=steps, callbacks=callbacks)

    def train_on_batch(self, x, y=None, sample_weight=None, class_weight=None, return_dict=False):
        """One gradient update on one batch; returns the loss (and metrics). The batch is
        checked as in :meth:`fit`.

        >>> model = dn.Sequential([dn.layers.Input((2,)), dn.layers.Dense(1)])
        >>> model.compile(optimizer="sgd", loss="mse")
        >>> isinstance(model.train_on_batch(np.ones((4, 2)), np.ones(4)), float)
        True
        """
        return self._require_compiled("train_on_batch").train_on_batch(
            x, y, sample_weight=sample_weight, class_weight=class_weight, return_dict=return_dict)

    def test_on_batch(self, x, y=None, sample_weight=None, return_dict=False):
        """Loss (and metrics) on one batch, without updating the weights. The batch is checked
        as in :meth:`fit`.

        >>> model = dn.Sequential([dn.layers.Input((2,)), dn.layers.Dense(1)])
        >>> model.compile(optimizer="sgd", loss="mse")
        >>> sorted(model.test_on_batch(np.ones((4, 2)), np.ones(4), return_dict=True))
        ['loss']
        """
        return self._require_compiled("test_on_batch").test_on_batch(
            x, y, sample_weight=sample_weight, return_dict=return_dict)

    def predict_on_batch(self, x):
        """Outputs for one batch as NumPy arrays.

        >>> model = dn.Sequential([dn.layers.Input((2,)), dn.layers.Dense(3)])
        >>> model.predict_on_batch(np.ones((2, 2))).shape
        (2, 3)
        """
        return self.predict(x, batch_size=max(1, _data.batch_length(x)), verbose=0)

    @property
    def metrics_names(self) -> list[str]:
        """``["loss", *metric names]`` once compiled and run (``[]`` before compile).

        >>> model = dn.Sequential([dn.layers.Input((2,)), dn.layers.Dense(1)])
        >>> model.compile(optimizer="sgd", loss="mse", metrics=["mae"])
        >>> _ = model.evaluate(np.ones((2, 2)), np.ones(2), verbose=0)
        >>> model.metrics_names
        ['loss', 'mae']
        """
        trainer = self._trainer
        if trainer is None:
            return []
        names = ["loss"]
        for out, objs in zip(trainer.output_names, trainer.metric_objs or []):
            names.extend(f"{out}_{m.name}" if trainer.multi_output else m.name for m in objs)
        return names
