"""The public training API of every deepnet model (signatures and docs live here; the loop
lives in :mod:`deepnet.training.engine`)."""

from __future__ import annotations

__all__ = ["TrainingAPI"]


class TrainingAPI:
    """Mixed into :class:`deepnet.Model`: ``compile``, ``fit``, ``evaluate``, ``predict`` and the
    single-batch variants, with Keras 3 names, arguments and return values."""

    _trainer = None
    stop_training = False

    def compile(self, optimizer="rmsprop", loss=None, loss_weights=None, metrics=None, weighted_metrics=None,
                run_eagerly=False, steps_per_execution=1, jit_compile=False, auto_scale_loss=True, device=None):
        """Configure the model for training.

        Args:
            optimizer: name (``"adam"``), config dict or :mod:`deepnet.optimizers` instance.
            loss: name (``"sparse_categorical_crossentropy"``), :mod:`deepnet.losses` instance or
                callable ``f(y_true, y_pred)``; a list/dict gives one loss per output.
            loss_weights: scalar weights of the per-output losses (list or dict).
            metrics: list of names/objects (``["accuracy"]`` resolves by the loss like Keras); per
                output as a list of lists or a dict.
            weighted_metrics: metrics that also receive ``sample_weight``/``class_weight``.
            jit_compile: compile the train step with ``torch.compile``; falls back to eager
                execution with a warning where compilation is unsupported.
            device: ``"cpu"``, ``"cuda"``, ``"mps"`` or a ``torch.device``; default: CUDA if
                available, else MPS, else CPU.
            run_eagerly, steps_per_execution, auto_scale_loss: accepted for Keras compatibility.
        """
        from .engine import Trainer

        self._trainer = Trainer(self, optimizer=optimizer, loss=loss, loss_weights=loss_weights, metrics=metrics,
                                weighted_metrics=weighted_metrics, jit_compile=jit_compile, device=device,
                                steps_per_execution=steps_per_execution)
        self._compile_config = {
            "optimizer": optimizer, "loss": loss, "loss_weights": loss_weights, "metrics": metrics,
            "weighted_metrics": weighted_metrics, "jit_compile": jit_compile,
        }
        self.compiled = True

    @property
    def optimizer(self):
        return self._trainer.optimizer if self._trainer is not None else None

    def _require_compiled(self, method: str):
        if self._trainer is None:
            raise RuntimeError(
                f"You must call compile() before {method}(). help: model.compile(optimizer=\"adam\", "
                f"loss=\"sparse_categorical_crossentropy\", metrics=[\"accuracy\"]) then model.{method}(...)."
            )
        return self._trainer

    def fit(self, x=None, y=None, batch_size=None, epochs=1, verbose="auto", callbacks=None, validation_split=0.0,
            validation_data=None, shuffle=True, class_weight=None, sample_weight=None, initial_epoch=0,
            steps_per_epoch=None, validation_steps=None, validation_batch_size=None, validation_freq=1):
        """Train the model; returns a :class:`~deepnet.callbacks.History` whose ``history`` dict
        holds per-epoch ``loss``, metrics and ``val_*`` values.

        ``x``/``y`` may be NumPy arrays or torch tensors (lists/dicts of them for several
        inputs/outputs), a ``torch.utils.data.Dataset``/``DataLoader`` or a Python generator
        yielding ``(x, y)`` or ``(x, y, sample_weight)``. ``batch_size`` defaults to 32.
        ``validation_split`` holds out the last fraction of the arrays, like Keras.
        """
        return self._require_compiled("fit").fit(
            x, y, batch_size=batch_size, epochs=epochs, verbose=verbose, callbacks=callbacks,
            validation_split=validation_split, validation_data=validation_data, shuffle=shuffle,
            class_weight=class_weight, sample_weight=sample_weight, initial_epoch=initial_epoch,
            steps_per_epoch=steps_per_epoch, validation_steps=validation_steps,
            validation_batch_size=validation_batch_size, validation_freq=validation_freq)

    def evaluate(self, x=None, y=None, batch_size=None, verbose="auto", sample_weight=None, steps=None,
                 callbacks=None, return_dict=False):
        """Loss and metrics on the given data: a scalar (loss only), a list ``[loss, *metrics]``,
        or a dict with ``return_dict=True``."""
        return self._require_compiled("evaluate").evaluate(
            x, y, batch_size=batch_size, verbose=verbose, sample_weight=sample_weight, steps=steps,
            callbacks=callbacks, return_dict=return_dict)

    def predict(self, x, batch_size=None, verbose="auto", steps=None, callbacks=None):
        """Outputs for ``x`` as NumPy arrays (inference mode, batched). Works without compile."""
        if self._trainer is not None:
            return self._trainer.predict(x, batch_size=batch_size, verbose=verbose, steps=steps, callbacks=callbacks)
        from .engine import predict

        return predict(self, x, batch_size=batch_size, verbose=verbose, steps=steps, callbacks=callbacks)

    def train_on_batch(self, x, y=None, sample_weight=None, class_weight=None, return_dict=False):
        """One gradient update on one batch; returns the loss (and metrics)."""
        return self._require_compiled("train_on_batch").train_on_batch(
            x, y, sample_weight=sample_weight, class_weight=class_weight, return_dict=return_dict)

    def test_on_batch(self, x, y=None, sample_weight=None, return_dict=False):
        """Loss (and metrics) on one batch, without updating the weights."""
        return self._require_compiled("test_on_batch").test_on_batch(
            x, y, sample_weight=sample_weight, return_dict=return_dict)

    def predict_on_batch(self, x):
        """Outputs for one batch as NumPy arrays."""
        return self.predict(x, batch_size=max(1, _first_len(x)), verbose=0)

    def reset_metrics(self) -> None:
        if self._trainer is not None:
            self._trainer.reset_metrics()

    @property
    def metrics_names(self) -> list[str]:
        trainer = self._trainer
        if trainer is None:
            return []
        names = ["loss"]
        for out, objs in zip(trainer.output_names, trainer.metric_objs or []):
            names.extend(f"{out}_{m.name}" if trainer.multi_output else m.name for m in objs)
        return names


def _first_len(x) -> int:
    from ..utils import nest

    return int(nest.flatten(x)[0].shape[0])
