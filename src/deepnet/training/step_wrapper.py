"""The hook behind ``compile(adversarial=...)``: an object that replaces the loss of each
training step (the forward pass, the compiled loss and the prediction the metrics see), while
the rest of ``fit`` (optimizer step, callbacks, schedules, progress bar, mixed precision,
resume) runs unchanged. :class:`deepnet.robust.AdversarialTraining` is the built-in one; the
training package defines only the contract, so it needs nothing from the packages above it.
"""

from __future__ import annotations

__all__ = ["StepWrapper"]


class StepWrapper:
    """Base class of ``compile(adversarial=...)`` objects.

    ``training_loss(trainer, x, y, sample_weight)`` runs inside the training step (under the
    mixed-precision autocast, before ``backward``) and returns ``(loss, y_pred)``: the scalar
    loss to minimise and the predictions the compiled metrics are updated with. The default is
    the ordinary step, ``trainer.forward_loss(x, y, sample_weight)`` (the compiled loss with
    regularisation penalties, ``torch.compile``-d under ``jit_compile``). Subclasses must be
    registered (``@deepnet.saving.register_serializable()``) and implement ``get_config`` so
    a saved model's compile section can name them.

    >>> class Noisy(dn.training.StepWrapper):
    ...     def training_loss(self, trainer, x, y, sample_weight):
    ...         return trainer.forward_loss(x + 0.01 * torch.randn_like(x), y, sample_weight)
    >>> model = dn.Sequential([dn.layers.Input((2,)), dn.layers.Dense(1)])
    >>> model.compile(optimizer="sgd", loss="mse", adversarial=Noisy())
    >>> isinstance(model.train_on_batch(np.ones((4, 2)), np.ones(4)), float)
    True
    """

    def training_loss(self, trainer, x, y, sample_weight):
        """``(loss, y_pred)`` of one training batch (the default: the ordinary step).

        >>> model = dn.Sequential([dn.layers.Input((2,)), dn.layers.Dense(1)])
        >>> model.compile(optimizer="sgd", loss="mse")
        >>> loss, y_pred = dn.training.StepWrapper().training_loss(
        ...     model._trainer, torch.ones(4, 2), torch.ones(4, 1), None)
        >>> tuple(y_pred.shape)
        (4, 1)
        """
        return trainer.forward_loss(x, y, sample_weight)

    def get_config(self) -> dict:
        """The constructor arguments (saved in a model file's compile section).

        >>> dn.training.StepWrapper().get_config()
        {}
        """
        return {}

    @classmethod
    def from_config(cls, config: dict):
        """Rebuild from :meth:`get_config`.

        >>> type(dn.training.StepWrapper.from_config({})).__name__
        'StepWrapper'
        """
        return cls(**config)
