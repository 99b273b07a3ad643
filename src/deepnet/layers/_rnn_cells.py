"""Recurrent cells: SimpleRNNCell, LSTMCell, GRUCell and StackedRNNCells (Keras 3 names,
arguments, weights and the cell contract used by :class:`~deepnet.layers.RNN`).

A cell computes one time step: ``output, new_states = cell(inputs, states)`` with ``inputs``
of shape ``(batch, features)`` and ``states`` a list of ``(batch, n)`` tensors (a single
tensor when ``state_size`` is an int). The cells share their weights' storage (PyTorch's RNN
layout, Keras' layout through ``get_weights``/``set_weights``) and their step with
``SimpleRNN``/``LSTM``/``GRU``, so ``RNN(LSTMCell(n))`` and ``LSTM(n)`` compute the same with
the same weights. Dropout masks are drawn once per sequence (Keras): ``RNN`` resets them
before each call; a cell used on its own keeps them until ``reset_dropout_mask()``.
"""

from __future__ import annotations

import copy

import torch
import torch.nn.functional as F

from .. import activations as _activations
from ..utils.lazy import lazy_import
from ..utils.validation import Constraint, Rejected, validate_params
from ._checks import BOOL
from ._rnn_base import GATED_ARGS, RNN_ARGS, _GateWeights
from ._rnn_steps import _GRUStep, _LSTMStep, _SimpleRNNStep
from ._weights import serialize_weight_args
from .base import Layer

_serialization = lazy_import("deepnet.utils.serialization")

__all__ = ["GRUCell", "LSTMCell", "SimpleRNNCell", "StackedRNNCells"]

#: The arguments every cell takes (a subset of the recurrent layers').
CELL_ARGS = {k: v for k, v in RNN_ARGS.items() if k not in (
    "return_sequences", "return_state", "go_backwards", "stateful", "unroll", "zero_output_for_mask")}
GATE_ARGS = {"recurrent_activation": GATED_ARGS["recurrent_activation"]}


def _state_list(states) -> tuple[list, bool]:
    """``(states as a list, whether a single tensor was passed)``."""
    if isinstance(states, torch.Tensor):
        return [states], True
    return list(states), False


class _Cell(_GateWeights):
    """A built-in cell: one ``_step`` of its layer with Keras' per-sequence dropout masks."""

    def _init_cell(self, units, activation, use_bias, kernel_initializer, recurrent_initializer,
                   bias_initializer, kernel_regularizer, recurrent_regularizer, bias_regularizer,
                   kernel_constraint, recurrent_constraint, bias_constraint, dropout, recurrent_dropout, seed):
        self._init_weight_args(units, activation, use_bias, kernel_initializer, recurrent_initializer,
                               bias_initializer, kernel_regularizer, recurrent_regularizer, bias_regularizer,
                               kernel_constraint, recurrent_constraint, bias_constraint, dropout,
                               recurrent_dropout, seed)
        self._masks: dict = {}

    @property
    def state_size(self):
        return [self.units] * self._n_states if self._n_states > 1 else self.units

    @property
    def output_size(self) -> int:
        return self.units

    def build(self, input_shape):
        self._check_rank(input_shape, 2, "batch, features", "A cell computes one time step: wrap it in RNN(cell).")
        self._build_weights(self._check_defined_dim(input_shape, -1, "features"))

    def get_initial_state(self, batch_size=None):
        """Zero states: a list of ``(batch_size, units)`` tensors."""
        return [torch.zeros(batch_size, self.units, dtype=self.dtype) for _ in range(self._n_states)]

    # -- dropout masks, drawn once per sequence ---------------------------------------------------
    def _mask(self, kind: str, like: torch.Tensor, rate: float) -> torch.Tensor:
        mask = self._masks.get(kind)
        if mask is None or mask.shape != like.shape or mask.device != like.device:
            mask = self._masks[kind] = self._dropout_mask(like.shape, like, rate)
        return mask

    def get_dropout_mask(self, step_input):
        """The input dropout mask of the current sequence (drawn on first use)."""
        return self._mask("input", step_input, self.dropout)

    def get_recurrent_dropout_mask(self, step_state):
        """The recurrent dropout mask of the current sequence (drawn on first use)."""
        return self._mask("recurrent", step_state, self.recurrent_dropout)

    def reset_dropout_mask(self) -> None:
        self._masks.pop("input", None)

    def reset_recurrent_dropout_mask(self) -> None:
        self._masks.pop("recurrent", None)

    # -- one step -------------------------------------------------------------------------------
    def call(self, inputs, states, training=None):
        training = self.training if training is None else bool(training)
        states, single = _state_list(states)
        x = inputs if inputs.dtype == self.kernel.dtype else inputs.to(self.kernel.dtype)
        if training and self.dropout > 0:
            x = x * self.get_dropout_mask(x)
        rec_masks = None
        if training and self.recurrent_dropout > 0:
            rec_masks = [self.get_recurrent_dropout_mask(states[0])]
        h, new_states = self._step(F.linear(x, self.kernel, self._input_bias()), states, rec_masks)
        return h, (new_states[0] if single else new_states)

    def compute_output_shape(self, input_shape, states_shape=None):
        b = input_shape[0]
        states = [(b, self.units)] * self._n_states
        return (b, self.units), (states if self._n_states > 1 else states[0])

    def get_config(self):
        return {
            **super().get_config(),
            "units": self.units,
            "activation": _activations.serialize(self.activation),
            "use_bias": self.use_bias,
            **serialize_weight_args(self, ("kernel", "recurrent", "bias")),
            "dropout": self.dropout,
            "recurrent_dropout": self.recurrent_dropout,
            "seed": self.seed,
        }


class SimpleRNNCell(_SimpleRNNStep, _Cell):
    """One step of ``SimpleRNN``: ``h = activation(x @ kernel + h_prev @ recurrent_kernel + bias)``;
    ``state_size = units``. Use it in ``RNN(cell)``.

    Weights (Keras layout): ``kernel (features, units)``, ``recurrent_kernel (units, units)``,
    ``bias (units,)``.

    >>> cell = dn.layers.SimpleRNNCell(4)
    >>> output, state = cell(torch.ones(2, 3), torch.zeros(2, 4))
    >>> output.shape
    torch.Size([2, 4])
    """

    @validate_params(CELL_ARGS)
    def __init__(self, units, activation="tanh", use_bias=True, kernel_initializer="glorot_uniform",
                 recurrent_initializer="orthogonal", bias_initializer="zeros", kernel_regularizer=None,
                 recurrent_regularizer=None, bias_regularizer=None, kernel_constraint=None,
                 recurrent_constraint=None, bias_constraint=None, dropout=0.0, recurrent_dropout=0.0, seed=None,
                 **kwargs):
        super().__init__(**kwargs)
        self._init_cell(units, activation, use_bias, kernel_initializer, recurrent_initializer, bias_initializer,
                        kernel_regularizer, recurrent_regularizer, bias_regularizer, kernel_constraint,
                        recurrent_constraint, bias_constraint, dropout, recurrent_dropout, seed)


class LSTMCell(_LSTMStep, _Cell):
    """One step of ``LSTM`` (gates ``i, f, c, o``); states ``[h, c]``, ``state_size = [units,
    units]``. Use it in ``RNN(cell)``.

    Weights (Keras layout): ``kernel (features, 4*units)``, ``recurrent_kernel (units, 4*units)``,
    ``bias (4*units,)`` (forget-gate bias starting at 1 with ``unit_forget_bias``).

    >>> cell = dn.layers.LSTMCell(4)
    >>> h, (h_again, c) = cell(torch.ones(2, 3), [torch.zeros(2, 4), torch.zeros(2, 4)])
    >>> h.shape, c.shape
    (torch.Size([2, 4]), torch.Size([2, 4]))
    """

    @validate_params({**CELL_ARGS, **GATE_ARGS, "unit_forget_bias": BOOL})
    def __init__(self, units, activation="tanh", recurrent_activation="sigmoid", use_bias=True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal", bias_initializer="zeros",
                 unit_forget_bias=True, kernel_regularizer=None, recurrent_regularizer=None, bias_regularizer=None,
                 kernel_constraint=None, recurrent_constraint=None, bias_constraint=None, dropout=0.0,
                 recurrent_dropout=0.0, seed=None, **kwargs):
        super().__init__(**kwargs)
        self._init_cell(units, activation, use_bias, kernel_initializer, recurrent_initializer, bias_initializer,
                        kernel_regularizer, recurrent_regularizer, bias_regularizer, kernel_constraint,
                        recurrent_constraint, bias_constraint, dropout, recurrent_dropout, seed)
        self.recurrent_activation = recurrent_activation
        self.unit_forget_bias = unit_forget_bias

    def get_config(self):
        return {**super().get_config(), "recurrent_activation": _activations.serialize(self.recurrent_activation),
                "unit_forget_bias": self.unit_forget_bias}


class GRUCell(_GRUStep, _Cell):
    """One step of ``GRU`` (Keras' formulation, ``reset_after=True`` by default);
    ``state_size = units``. Use it in ``RNN(cell)``.

    Weights (Keras layout, gates ``z, r, h``): ``kernel (features, 3*units)``,
    ``recurrent_kernel (units, 3*units)``, ``bias (2, 3*units)`` (``(3*units,)`` with
    ``reset_after=False``).

    >>> cell = dn.layers.GRUCell(4)
    >>> output, state = cell(torch.ones(2, 3), torch.zeros(2, 4))
    >>> state.shape
    torch.Size([2, 4])
    """

    @validate_params({**CELL_ARGS, **GATE_ARGS, "reset_after": BOOL})
    def __init__(self, units, activation="tanh", recurrent_activation="sigmoid", use_bias=True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal", bias_initializer="zeros",
                 kernel_regularizer=None, recurrent_regularizer=None, bias_regularizer=None, kernel_constraint=None,
                 recurrent_constraint=None, bias_constraint=None, dropout=0.0, recurrent_dropout=0.0,
                 reset_after=True, seed=None, **kwargs):
        super().__init__(**kwargs)
        self._init_cell(units, activation, use_bias, kernel_initializer, recurrent_initializer, bias_initializer,
                        kernel_regularizer, recurrent_regularizer, bias_regularizer, kernel_constraint,
                        recurrent_constraint, bias_constraint, dropout, recurrent_dropout, seed)
        self.recurrent_activation = recurrent_activation
        self.reset_after = reset_after

    def get_config(self):
        return {**super().get_config(), "recurrent_activation": _activations.serialize(self.recurrent_activation),
                "reset_after": self.reset_after}


# --------------------------------------------------------------------------- the cell contract


def state_sizes(cell) -> list:
    """``cell.state_size`` as a list (an int means one state)."""
    size = cell.state_size
    return list(size) if isinstance(size, (list, tuple)) else [size]


def output_size(cell) -> int:
    """Keras' rule: ``cell.output_size``, else the first state's size."""
    size = getattr(cell, "output_size", None)
    if size is None:
        size = state_sizes(cell)[0]
    if not isinstance(size, int):
        raise ValueError(f"RNN: the cell {getattr(cell, 'name', cell)!r} has a non-integer output_size {size!r}; "
                         "help: give the cell an int `output_size` (or make its first state an int size).")
    return size


class _CellConstraint(Constraint):
    """A cell: a deepnet Layer with ``state_size`` (and ``call(inputs, states)``), or a list of them."""

    description = "an RNN cell (a Layer with `state_size` and call(inputs, states)) or a list of cells"

    def convert(self, value):
        if isinstance(value, (list, tuple)) and value and all(self._is_cell(c) for c in value):
            return list(value)
        if self._is_cell(value):
            return value
        raise Rejected(type_error=True)

    @staticmethod
    def _is_cell(value) -> bool:
        return isinstance(value, Layer) and getattr(value, "state_size", None) is not None


CELL = _CellConstraint()


class StackedRNNCells(Layer):
    """Several cells run as one: at each step the output of a cell is the input of the next;
    ``state_size`` lists each cell's state size. Use it in ``RNN(cells)`` (``RNN`` given a list of
    cells wraps them in a ``StackedRNNCells``).

    >>> cells = dn.layers.StackedRNNCells([dn.layers.LSTMCell(4), dn.layers.GRUCell(2)])
    >>> dn.layers.RNN(cells)(torch.ones(2, 5, 3)).shape
    torch.Size([2, 2])
    """

    @validate_params({"cells": CELL})
    def __init__(self, cells, **kwargs):
        super().__init__(**kwargs)
        self.cells = cells if isinstance(cells, list) else [cells]
        for i, cell in enumerate(self.cells):  # sub-layers, in order: their weights in Keras' order
            self.add_module(f"cell_{i}", cell)

    @property
    def state_size(self) -> list:
        return [c.state_size for c in self.cells]

    @property
    def output_size(self) -> int:
        return output_size(self.cells[-1])

    def get_initial_state(self, batch_size=None):
        return [initial_states(c, batch_size, self.dtype) for c in self.cells]

    def build(self, input_shape):
        shape = input_shape
        for cell in self.cells:
            if not cell.built:
                cell._build_from_shapes((shape,))
            shape = (shape[0], output_size(cell))

    def call(self, inputs, states, training=None):
        new_states = []
        for cell, cell_states in zip(self.cells, states):
            nested = isinstance(cell_states, (list, tuple))
            inputs, cell_new = cell(inputs, list(cell_states) if nested else [cell_states], training=training)
            if not nested and isinstance(cell_new, (list, tuple)):
                cell_new = cell_new[0]
            new_states.append(cell_new)
        return inputs, new_states

    def compute_output_shape(self, input_shape, states_shape=None):
        b = input_shape[0]
        states = [[(b, n) for n in state_sizes(c)] if isinstance(c.state_size, (list, tuple)) else (b, c.state_size)
                  for c in self.cells]
        return (b, self.output_size), states

    def get_config(self):
        return {**super().get_config(), "cells": [_serialization.serialize_layer(c) for c in self.cells]}

    @classmethod
    def from_config(cls, config: dict):
        config = copy.deepcopy(config)
        cells = [c if isinstance(c, Layer) else _serialization.deserialize_layer(c) for c in config.pop("cells")]
        return cls(cells, **config)


def initial_states(cell, batch_size: int, dtype):
    """A cell's zero states as it takes them: its ``get_initial_state`` if any, else zeros of
    ``state_size`` (a tensor for an int size, a list for a list of sizes)."""
    fn = getattr(cell, "get_initial_state", None)
    if fn is not None:
        states = fn(batch_size=batch_size)
    else:
        states = [torch.zeros(batch_size, n, dtype=dtype) for n in state_sizes(cell)]
    if isinstance(cell.state_size, (list, tuple)):
        return list(states) if isinstance(states, (list, tuple)) else [states]
    return states[0] if isinstance(states, (list, tuple)) else states

