"""Exponential moving average of the trained weights (Keras 3 ``use_ema``), kept by an optimizer.

After each update ``average = m * average + (1 - m) * weight`` with ``m = ema_momentum``, except
on the very first update (``iterations == 0``) where ``m = 0`` so the average starts at the
updated weights, as in Keras. Every ``ema_overwrite_frequency`` updates the weights are set to
their average. The work is two multi-tensor ops on the weights' device: no host sync.
"""

from __future__ import annotations

import torch

from ..utils.validation import Integral, Interval, NoneOr

__all__ = ["EMA", "EMAMethods", "ema_of", "pop_ema_args"]

_FREQUENCY = NoneOr(Interval(Integral, 1, None), description="an int >= 1 (or None: never overwrite)")


def pop_ema_args(optimizer, kwargs: dict) -> tuple:
    """``(use_ema, ema_overwrite_frequency)`` taken from ``kwargs`` and validated."""
    use_ema = kwargs.pop("use_ema", False)
    ema_overwrite_frequency = kwargs.pop("ema_overwrite_frequency", None)
    if not isinstance(use_ema, bool):
        raise TypeError(
            f"Received an invalid value for `use_ema` of {type(optimizer).__name__}, expected a bool. "
            f"Received: use_ema={use_ema!r}"
        )
    return use_ema, _FREQUENCY.check(ema_overwrite_frequency, optimizer, "ema_overwrite_frequency")


class EMA:
    """The moving averages of ``params`` (one tensor each, same device and dtype)."""

    def __init__(self, params: list, momentum: float, overwrite_frequency: int | None):
        with torch.no_grad():
            self.averages = [p.detach().clone() for p in params]
        self.momentum = float(momentum)
        self.overwrite_frequency = overwrite_frequency

    @classmethod
    def for_optimizer(cls, optimizer, params: list) -> EMA | None:
        """The averages of a ``use_ema`` optimizer being built (with a state loaded before)."""
        if not optimizer.use_ema:
            return None
        ema = cls(params, optimizer.ema_momentum, optimizer.ema_overwrite_frequency)
        if optimizer._pending_ema is not None:
            ema.load(optimizer._pending_ema)
            optimizer._pending_ema = None
        return ema

    @staticmethod
    def state_of(optimizer) -> dict:
        """``{"ema": [averages]}`` for a ``use_ema`` optimizer's ``state_dict``, else ``{}``."""
        if not optimizer.use_ema:
            return {}
        return {"ema": optimizer._ema.state() if optimizer._ema is not None else optimizer._pending_ema}

    @staticmethod
    def restore(optimizer, state: dict) -> None:
        """Load the ``"ema"`` entry of an optimizer ``state_dict`` (kept until the build)."""
        if state.get("ema") is None or not optimizer.use_ema:
            return
        if optimizer._ema is None:
            optimizer._pending_ema = list(state["ema"])
        else:
            optimizer._ema.load(list(state["ema"]))

    @torch.no_grad()
    def update(self, params: list, iterations: int) -> None:
        """Fold the just-updated ``params`` into the averages (``iterations``: the count before
        this update), then overwrite the weights when the frequency says so."""
        if iterations == 0:
            torch._foreach_copy_(self.averages, [p.detach() for p in params])
        else:
            torch._foreach_mul_(self.averages, self.momentum)
            torch._foreach_add_(self.averages, [p.detach() for p in params], alpha=1.0 - self.momentum)
        if self.overwrite_frequency and (iterations + 1) % self.overwrite_frequency == 0:
            self.overwrite(params)

    @torch.no_grad()
    def overwrite(self, params: list) -> None:
        """Set every weight to its moving average."""
        if len(params) != len(self.averages):
            raise ValueError(
                f"Cannot overwrite {len(params)} variables with the {len(self.averages)} moving averages "
                "kept by the optimizer: pass the variables the optimizer was built for "
                "(model.trainable_weights)."
            )
        torch._foreach_copy_([p.detach() for p in params], self.averages)

    @torch.no_grad()
    def swap(self, params: list) -> None:
        """Exchange the weights and their averages in place."""
        for p, average in zip(params, self.averages):
            held = p.detach().clone()
            p.detach().copy_(average)
            average.copy_(held)

    @torch.no_grad()
    def reset_to(self, params: list) -> None:
        """Set the averages to the current weights."""
        torch._foreach_copy_(self.averages, [p.detach() for p in params])

    def state(self) -> list:
        return list(self.averages)

    @torch.no_grad()
    def load(self, tensors: list) -> None:
        if len(tensors) != len(self.averages):
            raise ValueError(
                f"The saved optimizer state holds {len(tensors)} moving averages; the optimizer has "
                f"{len(self.averages)} variables."
            )
        for average, value in zip(self.averages, tensors):
            if tuple(value.shape) != tuple(average.shape):
                raise ValueError(
                    f"A saved moving average has shape {tuple(value.shape)}; its variable has shape "
                    f"{tuple(average.shape)}."
                )
            average.copy_(value)


def ema_of(optimizer) -> EMA | None:
    """The :class:`EMA` kept by ``optimizer`` (or by its ``inner_optimizer``), None without one."""
    inner = getattr(optimizer, "inner_optimizer", None)
    if inner is not None and getattr(optimizer, "_ema", None) is None:
        return ema_of(inner)
    return getattr(optimizer, "_ema", None)


class EMAMethods:
    """The moving-average methods of :class:`~deepnet.optimizers.Optimizer`."""

    def finalize_variable_values(self, var_list) -> None:
        """With ``use_ema``, set ``var_list`` (the optimizer's variables) to their moving
        averages; nothing otherwise. ``fit`` calls it when it ends (Keras)."""
        ema = ema_of(self)
        if ema is not None:
            ema.overwrite(list(var_list))

    def _built_ema(self) -> EMA:
        ema = ema_of(self)
        if ema is None:
            raise ValueError(
                f"{type(self).__name__} {self.name!r} keeps no moving average of the weights: it needs "
                f"use_ema=True and to be built (by fit() or apply()). Received: use_ema={self.use_ema}"
            )
        return ema

    def swap_ema_weights(self) -> None:
        """Exchange the weights and their moving averages in place (``use_ema``; used by
        ``deepnet.callbacks.SwapEMAWeights``). Calling it twice restores both."""
        ema = self._built_ema()
        ema.swap(ema_params(self))

    def reset_ema_weights(self) -> None:
        """Set the moving averages to the current weights (``use_ema``)."""
        ema = self._built_ema()
        ema.reset_to(ema_params(self))


def ema_params(optimizer) -> list:
    """The parameters whose averages ``optimizer`` (or its inner optimizer) keeps."""
    inner = getattr(optimizer, "inner_optimizer", None)
    if inner is not None and getattr(optimizer, "_ema", None) is None:
        return ema_params(inner)
    return optimizer._params
