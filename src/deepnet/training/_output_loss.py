"""Keras' per-output loss entries of the logs: a model with more than one compiled loss reports
each output's unweighted loss as ``{output}_loss`` (a mean over the samples seen) next to the
total ``loss``, in ``fit``'s history, ``evaluate``'s results and the progress bar."""

from __future__ import annotations

from ..utils.lazy import lazy_import

_metrics = lazy_import("deepnet.metrics")  # compile() has already imported it when this runs

__all__ = ["OutputLoss", "add_output_losses"]


class OutputLoss:
    """The running mean of one output's compiled loss (without its loss weight): each batch's
    value counts once per sample, as Keras' loss trackers do. Named ``"loss"``: the logs prefix
    it with the output name. Everything but ``update_state`` is the inner ``Mean``'s.

    >>> tracker = OutputLoss(dn.losses.MeanSquaredError())
    >>> tracker.update_state(torch.zeros(4, 1), torch.ones(4, 1))
    >>> tracker.name, float(tracker.result())
    ('loss', 1.0)
    """

    def __init__(self, loss_fn):
        self.loss_fn = loss_fn
        self.tracker = _metrics.Mean(name="loss")

    def update_state(self, y_true, y_pred, sample_weight=None):
        value = self.loss_fn(y_true, y_pred, sample_weight).detach().float()
        self.tracker.update_state(value.reshape(1).expand(y_true.shape[0]))

    def __getattr__(self, name):
        if name == "tracker":  # not set yet (copy/unpickle): no recursion
            raise AttributeError(name)
        return getattr(self.tracker, name)

    def __setattr__(self, name, value):  # state swaps (reduced_metric_states) reach the Mean
        if name in ("loss_fn", "tracker"):
            object.__setattr__(self, name, value)
        else:
            setattr(self.tracker, name, value)


def add_output_losses(trainer) -> None:
    """Put an :class:`OutputLoss` first among each output's metrics when more than one output
    has a compiled loss (Keras logs no per-output loss otherwise); it gets the sample weights."""
    if not trainer.multi_output or sum(fn is not None for fn in trainer.losses) < 2:
        return
    for fn, objs, flags in zip(trainer.losses, trainer.metric_objs, trainer.weighted_flags):
        if fn is not None:
            objs.insert(0, OutputLoss(fn))
            flags.insert(0, True)
