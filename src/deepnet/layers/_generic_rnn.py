"""The generic recurrent layer ``RNN(cell)``: runs any cell (a built-in ``SimpleRNNCell``/
``LSTMCell``/``GRUCell``, a ``StackedRNNCells``, a list of cells, or a user ``Layer`` with
``state_size`` and ``call(inputs, states)``) over the time axis, with Keras 3's
``return_sequences``, ``return_state``, ``go_backwards``, ``stateful``, masks and
``zero_output_for_mask``.

The loop calls the cell once per step in plain PyTorch (the fused kernels are the fast path of
``SimpleRNN``/``LSTM``/``GRU``, which compute the same as ``RNN`` with their cell).
"""

from __future__ import annotations

import copy

import torch

from ..utils.lazy import lazy_import
from ..utils.validation import validate_params
from ._checks import BOOL
from ._rnn_base import _as_mask, sequence_config
from ._rnn_cells import CELL, StackedRNNCells, initial_states, output_size, state_sizes
from .base import Layer, format_shape

_serialization = lazy_import("deepnet.utils.serialization")

__all__ = ["RNN"]


def _select(keep: torch.Tensor, new, old):
    """``new`` where ``keep`` (a ``(batch, 1)`` mask), else ``old``, through nested states."""
    if isinstance(new, (list, tuple)):
        return [_select(keep, n, o) for n, o in zip(new, old)]
    return torch.where(keep, new, old)


def _to(states, like: torch.Tensor):
    if isinstance(states, (list, tuple)):
        return [_to(s, like) for s in states]
    return states.to(device=like.device, dtype=like.dtype if states.is_floating_point() else states.dtype)


def _detached(states):
    if isinstance(states, (list, tuple)):
        return [_detached(s) for s in states]
    return states.detach()


def _reset_dropout_masks(cell) -> None:
    """Keras: a cell's dropout masks are drawn once per sequence."""
    for c in getattr(cell, "cells", [cell]):
        for name in ("reset_dropout_mask", "reset_recurrent_dropout_mask"):
            if hasattr(c, name):
                getattr(c, name)()


class RNN(Layer):
    """Runs a recurrent cell over ``(batch, timesteps, ...)`` inputs.

    ``cell`` is a cell (``LSTMCell(8)``...), a list of cells (stacked) or a user ``Layer`` with a
    ``state_size`` attribute and ``call(inputs, states)`` returning ``(output, new_states)``.
    Returns the last output ``(batch, output_size)`` or, with ``return_sequences``, every output
    ``(batch, timesteps, output_size)``; with ``return_state`` the final states follow. With
    ``stateful=True`` the final states of a batch are the initial states of the next (same
    batch size) until ``reset_states()``. ``unroll`` is accepted for Keras compatibility (the
    loop always runs step by step). Weights: the cell's.

    >>> dn.layers.RNN(dn.layers.GRUCell(4), return_sequences=True)(torch.ones(2, 5, 3)).shape
    torch.Size([2, 5, 4])
    """

    supports_masking = True

    @validate_params({"cell": CELL, "return_sequences": BOOL, "return_state": BOOL, "go_backwards": BOOL,
                      "stateful": BOOL, "unroll": BOOL, "zero_output_for_mask": BOOL})
    def __init__(self, cell, return_sequences=False, return_state=False, go_backwards=False, stateful=False,
                 unroll=False, zero_output_for_mask=False, **kwargs):
        super().__init__(**kwargs)
        self.cell = StackedRNNCells(cell) if isinstance(cell, list) else cell
        self.return_sequences, self.return_state = return_sequences, return_state
        self.go_backwards, self.stateful, self.unroll = go_backwards, stateful, unroll
        self.zero_output_for_mask = zero_output_for_mask
        self.states = None  # stateful: the final states of the last batch

    @property
    def state_size(self) -> list:
        return state_sizes(self.cell)

    def build(self, input_shape):
        self._check_rank(input_shape, (3, 4, 5, 6), "batch, timesteps, features...",
                         "Add Reshape((timesteps, features)) or an Embedding before it.")
        if not self.cell.built:
            self.cell._build_from_shapes(((input_shape[0], *input_shape[2:]),))

    # -- states -----------------------------------------------------------------------------------
    def get_initial_state(self, batch_size):
        """The cell's zero states, as a list (one entry per ``state_size`` entry)."""
        states = initial_states(self.cell, batch_size, self.dtype)
        return list(states) if isinstance(states, (list, tuple)) else [states]

    def reset_states(self) -> None:
        """Stateful layers: start the next batch from zero states."""
        if self.states is not None:
            self.states = [torch.zeros_like(s) if isinstance(s, torch.Tensor) else
                           [torch.zeros_like(t) for t in s] for s in self.states]

    reset_state = reset_states

    def _start_states(self, x: torch.Tensor, initial_state):
        if initial_state is not None:
            states = [initial_state] if isinstance(initial_state, torch.Tensor) else list(initial_state)
            if len(states) != len(self.state_size):
                raise ValueError(
                    f"RNN {self.name!r} expects `initial_state` to be a list of {len(self.state_size)} state(s) "
                    f"of sizes {self.state_size}; received {len(states)}."
                )
            return _to(states, x)
        if self.stateful and self.states is not None:
            batch = self.states[0].shape[0] if isinstance(self.states[0], torch.Tensor) else self.states[0][0].shape[0]
            if batch != x.shape[0]:
                raise ValueError(
                    f"RNN {self.name!r} is stateful with states for batches of {batch}; received a batch of "
                    f"{x.shape[0]} (input shape {format_shape(tuple(x.shape))}). help: use the same batch size "
                    "for every batch (drop the remainder), or call reset_states() and rebuild the layer."
                )
            return _to(self.states, x)
        return _to(self.get_initial_state(x.shape[0]), x)

    # -- forward ----------------------------------------------------------------------------------
    def call(self, inputs, initial_state=None, mask=None, training=None):
        training = self.training if training is None else bool(training)
        mask = _as_mask(mask)
        states = self._start_states(inputs, initial_state)
        _reset_dropout_masks(self.cell)
        x = inputs.flip(1) if self.go_backwards else inputs
        if mask is not None and self.go_backwards:
            mask = mask.flip(1)
        outputs, prev, out = [], None, None
        for t in range(x.shape[1]):
            out, new = self.cell(x[:, t], states, training=training)
            new = list(new) if isinstance(new, (list, tuple)) else [new]
            if mask is not None:
                keep = mask[:, t, None]
                new = _select(keep, new, states)
                fill = torch.zeros_like(out) if prev is None or self.zero_output_for_mask else prev
                out = prev = torch.where(keep, out, fill)
            states = new
            if self.return_sequences:
                outputs.append(out)
        _reset_dropout_masks(self.cell)
        if self.stateful:
            self.states = _detached(states)
        result = torch.stack(outputs, 1) if self.return_sequences else out
        return (result, *states) if self.return_state else result

    # -- shapes, masks, config ----------------------------------------------------------------------
    def compute_output_shape(self, input_shape, initial_state_shape=None):
        b, t = input_shape[0], input_shape[1]
        n = output_size(self.cell)
        out = (b, t, n) if self.return_sequences else (b, n)
        if not self.return_state:
            return out
        states = [[(b, s) for s in size] if isinstance(size, (list, tuple)) else (b, size)
                  for size in self.state_size]
        return (out, *states)

    def compute_mask(self, inputs, mask=None):
        """Mask of the (first) output: the input mask with ``return_sequences``, else ``None``."""
        mask = _as_mask(mask)
        return mask if self.return_sequences else None

    def get_config(self):
        return {
            **super().get_config(),
            **sequence_config(self),
            "unroll": self.unroll,
            "zero_output_for_mask": self.zero_output_for_mask,
            "cell": _serialization.serialize_layer(self.cell),
        }

    @classmethod
    def from_config(cls, config: dict):
        config = copy.deepcopy(config)
        cell = config.pop("cell")
        if isinstance(cell, dict):
            cell = _serialization.deserialize_layer(cell)
        elif isinstance(cell, list):
            cell = [c if isinstance(c, Layer) else _serialization.deserialize_layer(c) for c in cell]
        return cls(cell, **config)
