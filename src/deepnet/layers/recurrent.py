"""Recurrent layers: SimpleRNN, LSTM, GRU and the Bidirectional wrapper.

Inputs are batch-major ``(batch, timesteps, features)``. Weights are exchanged in Keras' layout
and gate order (``get_weights``/``set_weights``), but stored in PyTorch's RNN layout
(``weight_ih (gates*units, features)``, ``weight_hh (gates*units, units)``, GRU gates in
PyTorch's ``r, z, n`` order) so that the common configurations run PyTorch's fused RNN kernels
(``torch._VF.rnn_tanh / rnn_relu / lstm / gru``; cuDNN on GPU) with no per-call weight copies.

Fast path (fused kernel) when:

* ``SimpleRNN``: ``activation`` is ``"tanh"`` or ``"relu"``;
* ``LSTM``: ``activation="tanh"`` and ``recurrent_activation="sigmoid"``;
* ``GRU``: the same activations and ``reset_after=True``;

and, in training mode, ``recurrent_dropout == 0``. Masks that are *right-padded* (every sequence
is a run of ``True`` followed by ``False``, the ``Embedding(mask_zero=True)`` case) run the fused
kernel on packed sequences; any other mask, and every other configuration, runs a step loop
written in plain PyTorch with Keras' exact semantics.
"""

from __future__ import annotations

import copy

import torch

from .. import activations as _activations
from ..utils.lazy import lazy_import
from ..utils.validation import Constraint, InstanceOf, NoneOr, Options, Rejected, validate_params
from ._checks import BOOL
from ._rnn_base import (
    _RNN,
    GATED_ARGS,
    RNN_ARGS,
    _as_mask,
    _check_use_cudnn,
    _mask_plan,
    _run_vf,
)
from ._rnn_steps import _GRUStep, _LSTMStep, _SimpleRNNStep
from .base import Layer

# layer (de)serialisation loads with the first get_config/from_config: `import deepnet` stays fast.
_serialization = lazy_import("deepnet.utils.serialization")

__all__ = ["GRU", "LSTM", "Bidirectional", "SimpleRNN"]


# --------------------------------------------------------------------------- SimpleRNN


class SimpleRNN(_SimpleRNNStep, _RNN):
    """Fully connected RNN: ``h_t = activation(x_t @ kernel + h_{t-1} @ recurrent_kernel + bias)``.

    Weights (Keras layout): ``kernel (features, units)``, ``recurrent_kernel (units, units)``,
    ``bias (units,)``. Runs ``torch._VF.rnn_tanh``/``rnn_relu`` for ``tanh``/``relu``.

    >>> dn.layers.SimpleRNN(4)(torch.ones(2, 5, 3)).shape
    torch.Size([2, 4])
    """

    @validate_params(RNN_ARGS)
    def __init__(self, units, activation="tanh", use_bias=True, kernel_initializer="glorot_uniform",
                 recurrent_initializer="orthogonal", bias_initializer="zeros", kernel_regularizer=None,
                 recurrent_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, recurrent_constraint=None, bias_constraint=None, dropout=0.0,
                 recurrent_dropout=0.0, return_sequences=False, return_state=False, go_backwards=False,
                 stateful=False, unroll=False, seed=None, zero_output_for_mask=False, **kwargs):
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        self._init_common(units, activation, use_bias, kernel_initializer, recurrent_initializer,
                          bias_initializer, kernel_regularizer, recurrent_regularizer, bias_regularizer,
                          activity_regularizer, kernel_constraint, recurrent_constraint, bias_constraint,
                          dropout, recurrent_dropout, seed, return_sequences, return_state, go_backwards,
                          stateful, unroll, zero_output_for_mask)



# --------------------------------------------------------------------------- LSTM


class LSTM(_LSTMStep, _RNN):
    """Long short-term memory layer (Hochreiter & Schmidhuber, 1997).

    Weights (Keras layout, gate order ``i, f, c, o``): ``kernel (features, 4*units)``,
    ``recurrent_kernel (units, 4*units)``, ``bias (4*units,)``. With ``unit_forget_bias`` the
    forget-gate bias starts at 1. Runs ``torch._VF.lstm`` (same gate order) for the default
    activations.

    >>> dn.layers.LSTM(4)(torch.ones(2, 5, 3)).shape  # the last output of each sequence
    torch.Size([2, 4])
    """

    @validate_params({**RNN_ARGS, **GATED_ARGS, "unit_forget_bias": BOOL})
    def __init__(self, units, activation="tanh", recurrent_activation="sigmoid", use_bias=True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal",
                 bias_initializer="zeros", unit_forget_bias=True, kernel_regularizer=None,
                 recurrent_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, recurrent_constraint=None, bias_constraint=None, dropout=0.0,
                 recurrent_dropout=0.0, seed=None, return_sequences=False, return_state=False,
                 go_backwards=False, stateful=False, unroll=False, use_cudnn="auto",
                 zero_output_for_mask=False, **kwargs):
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        self._init_common(units, activation, use_bias, kernel_initializer, recurrent_initializer,
                          bias_initializer, kernel_regularizer, recurrent_regularizer, bias_regularizer,
                          activity_regularizer, kernel_constraint, recurrent_constraint, bias_constraint,
                          dropout, recurrent_dropout, seed, return_sequences, return_state, go_backwards,
                          stateful, unroll, zero_output_for_mask)
        self.recurrent_activation = recurrent_activation
        self.unit_forget_bias = unit_forget_bias
        self.use_cudnn = _check_use_cudnn("LSTM", use_cudnn, self._fused_fn() is not None,
                                          "it needs activation='tanh' and recurrent_activation='sigmoid'")

    def get_config(self):
        return {
            **super().get_config(),
            "recurrent_activation": _activations.serialize(self.recurrent_activation),
            "unit_forget_bias": self.unit_forget_bias,
            "use_cudnn": self.use_cudnn,
        }


# --------------------------------------------------------------------------- GRU


class GRU(_GRUStep, _RNN):
    """Gated recurrent unit (Cho et al., 2014), Keras' formulation.

    Weights (Keras layout, gate order ``z, r, h``): ``kernel (features, 3*units)``,
    ``recurrent_kernel (units, 3*units)`` and ``bias (2, 3*units)`` (row 0 input bias, row 1
    recurrent bias) with ``reset_after=True``, or ``bias (3*units,)`` with ``reset_after=False``.
    Stored in PyTorch's ``r, z, n`` order; ``get_weights``/``set_weights`` reorder. Runs
    ``torch._VF.gru`` for the default activations with ``reset_after=True``.

    >>> dn.layers.GRU(4, return_sequences=True)(torch.ones(2, 5, 3)).shape
    torch.Size([2, 5, 4])
    """

    @validate_params({**RNN_ARGS, **GATED_ARGS, "reset_after": BOOL})
    def __init__(self, units, activation="tanh", recurrent_activation="sigmoid", use_bias=True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal",
                 bias_initializer="zeros", kernel_regularizer=None, recurrent_regularizer=None,
                 bias_regularizer=None, activity_regularizer=None, kernel_constraint=None,
                 recurrent_constraint=None, bias_constraint=None, dropout=0.0, recurrent_dropout=0.0,
                 seed=None, return_sequences=False, return_state=False, go_backwards=False,
                 stateful=False, unroll=False, reset_after=True, use_cudnn="auto",
                 zero_output_for_mask=False, **kwargs):
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        self._init_common(units, activation, use_bias, kernel_initializer, recurrent_initializer,
                          bias_initializer, kernel_regularizer, recurrent_regularizer, bias_regularizer,
                          activity_regularizer, kernel_constraint, recurrent_constraint, bias_constraint,
                          dropout, recurrent_dropout, seed, return_sequences, return_state, go_backwards,
                          stateful, unroll, zero_output_for_mask)
        self.recurrent_activation = recurrent_activation
        self.reset_after = reset_after
        self.use_cudnn = _check_use_cudnn(
            "GRU", use_cudnn, self._fused_fn() is not None,
            "it needs activation='tanh', recurrent_activation='sigmoid' and reset_after=True")

    def get_config(self):
        return {
            **super().get_config(),
            "recurrent_activation": _activations.serialize(self.recurrent_activation),
            "reset_after": self.reset_after,
            "use_cudnn": self.use_cudnn,
        }


# --------------------------------------------------------------------------- Bidirectional


_MERGE_MODES = ("concat", "sum", "mul", "ave", None)


class _RecurrentLayer(Constraint):
    """A recurrent deepnet layer (anything with ``go_backwards``/``return_sequences``/``return_state``)."""

    description = "a recurrent deepnet layer (SimpleRNN, LSTM, GRU)"

    def convert(self, value):
        if isinstance(value, Layer) and all(
                hasattr(value, a) for a in ("go_backwards", "return_sequences", "return_state")):
            return value
        raise Rejected(type_error=True)


_RECURRENT = _RecurrentLayer()


class Bidirectional(Layer):
    """Runs a recurrent layer forwards and a copy of it backwards and merges the two outputs.

    ``Bidirectional(layer, merge_mode="concat", weights=None, backward_layer=None)``. The forward
    layer is a clone of ``layer`` (named ``forward_<name>``); the backward layer is a clone with
    ``go_backwards`` flipped (``backward_<name>``) unless ``backward_layer`` is given. With
    ``return_sequences`` the backward outputs are put back in forward time order before merging.

    Weights (Keras order): the forward layer's, then the backward layer's. When both directions
    are fused-kernel ``SimpleRNN``/``LSTM``/``GRU`` layers of the same kind (and no input dropout
    is active), one bidirectional ``torch._VF`` call runs both.

    >>> dn.layers.Bidirectional(dn.layers.LSTM(4))(torch.ones(2, 5, 3)).shape  # 4 forwards + 4 backwards
    torch.Size([2, 8])
    """

    supports_masking = True

    @validate_params({"layer": _RECURRENT, "merge_mode": Options(_MERGE_MODES), "backward_layer": NoneOr(_RECURRENT),
                      "weights": NoneOr(InstanceOf(list, tuple, description="a list of weight arrays"))})
    def __init__(self, layer, merge_mode="concat", weights=None, backward_layer=None, **kwargs):
        super().__init__(**kwargs)
        self.merge_mode = merge_mode
        cls = type(layer)
        config = copy.deepcopy(layer.get_config())
        config["name"] = "forward_" + _strip(layer.name, "forward_")
        self.forward_layer = cls.from_config(config)
        if backward_layer is None:
            config = copy.deepcopy(layer.get_config())
            config["go_backwards"] = not layer.go_backwards
            config["name"] = "backward_" + _strip(layer.name, "backward_")
            backward_layer = cls.from_config(config)
        self.backward_layer = backward_layer
        fwd, bwd = self.forward_layer, self.backward_layer
        if fwd.go_backwards == bwd.go_backwards:
            raise ValueError(
                "Bidirectional: the forward and backward layers must have different `go_backwards` "
                f"values; received forward go_backwards={fwd.go_backwards}, backward "
                f"go_backwards={bwd.go_backwards}."
            )
        for attr in ("return_sequences", "return_state"):
            if getattr(fwd, attr) != getattr(bwd, attr):
                raise ValueError(
                    f"Bidirectional: the forward and backward layers must have the same `{attr}`; "
                    f"received {getattr(fwd, attr)} (forward) and {getattr(bwd, attr)} (backward)."
                )
        for sub in (fwd, bwd):  # Keras: masked steps output zeros when sequences are returned
            if hasattr(sub, "zero_output_for_mask"):
                sub.zero_output_for_mask = sub.return_sequences
        self.return_sequences = fwd.return_sequences
        self.return_state = fwd.return_state
        self.stateful = False
        self._initial_weights = list(weights) if weights is not None else None

    def build(self, input_shape):
        for sub in (self.forward_layer, self.backward_layer):
            if not sub.built:
                sub._build_from_shapes((input_shape,))
        if self._initial_weights is not None:
            self.set_weights(self._initial_weights)
            self._initial_weights = None

    # -- forward --------------------------------------------------------------------------------
    def _fusable(self, training) -> bool:
        fwd, bwd = self.forward_layer, self.backward_layer
        return (isinstance(fwd, _RNN) and type(fwd) is type(bwd) and not fwd.go_backwards
                and fwd.activity_regularizer is None and bwd.activity_regularizer is None
                and fwd._vf is not None and fwd._vf is bwd._vf and fwd.units == bwd.units
                and (fwd.bias is None) == (bwd.bias is None)
                and not (training and (fwd.dropout > 0 or bwd.dropout > 0
                                       or fwd.recurrent_dropout > 0 or bwd.recurrent_dropout > 0))
                and fwd.kernel.dtype == bwd.kernel.dtype)

    def call(self, inputs, initial_state=None, mask=None, training=None):
        training = self.training if training is None else bool(training)
        mask = _as_mask(mask)
        fwd_state = bwd_state = None
        if initial_state is not None:
            initial_state = list(initial_state)
            half = len(initial_state) // 2
            fwd_state, bwd_state = initial_state[:half], initial_state[half:]
        if self._fusable(training):
            plan, lengths = ("full", None) if mask is None else _mask_plan(mask)
            if plan != "loop":
                return self._call_fused(inputs, fwd_state, bwd_state, lengths)
        y = self.forward_layer.call(inputs, initial_state=fwd_state, mask=mask, training=training)
        y_rev = self.backward_layer.call(inputs, initial_state=bwd_state, mask=mask, training=training)
        states = ()
        if self.return_state:
            states = tuple(y[1:]) + tuple(y_rev[1:])
            y, y_rev = y[0], y_rev[0]
        if self.return_sequences:
            y_rev = y_rev.flip(1)
        return self._merge(y, y_rev, states)

    def _merge(self, y, y_rev, states, both=None):
        mode = self.merge_mode
        if mode == "concat":
            out = both if both is not None else torch.cat([y, y_rev], dim=-1)
        elif mode == "sum":
            out = y + y_rev
        elif mode == "ave":
            out = (y + y_rev) / 2
        elif mode == "mul":
            out = y * y_rev
        else:
            out = (y, y_rev)
        if not self.return_state:
            return out
        return (*out, *states) if mode is None else (out, *states)

    def _call_fused(self, inputs, fwd_state, bwd_state, lengths):
        fwd, bwd = self.forward_layer, self.backward_layer
        x = inputs if inputs.dtype == fwd.kernel.dtype else inputs.to(fwd.kernel.dtype)
        b, u, n_states = x.shape[0], fwd.units, fwd._n_states
        fs = fwd._initial_states(x, fwd_state)
        bs = bwd._initial_states(x, bwd_state)
        if fs is None and bs is None:
            h0 = x.new_zeros(2, b, u)
            hx = (h0, h0) if n_states == 2 else h0
        else:
            zero = [x.new_zeros(b, u)] * n_states
            fs, bs = fs or zero, bs or zero
            pairs = [torch.stack([f, r]) for f, r in zip(fs, bs)]
            hx = tuple(pairs) if n_states == 2 else pairs[0]
        weights = fwd._flat_weights() + bwd._flat_weights()
        seq, h_n, c_n = _run_vf(fwd._vf, x, hx, weights, fwd.bias is not None, True, lengths)
        states = ()
        if self.return_state:
            if c_n is not None:
                states = (h_n[0], c_n[0], h_n[1], c_n[1])
            else:
                states = (h_n[0], h_n[1])
        if self.return_sequences:
            return self._merge(seq[..., :u], seq[..., u:], states, both=seq)
        return self._merge(h_n[0], h_n[1], states)

    # -- shapes, masks, config ----------------------------------------------------------------
    def compute_output_shape(self, input_shape):
        shape = self.forward_layer.compute_output_shape(input_shape)
        state_shapes = ()
        if self.return_state:
            shape, state_shapes = shape[0], tuple(shape[1:])
        if self.merge_mode == "concat":
            out = (*shape[:-1], None if shape[-1] is None else shape[-1] * 2)
            outs = (out,)
        elif self.merge_mode is None:
            outs = (shape, shape)
        else:
            outs = (shape,)
        if self.return_state:
            return (*outs, *state_shapes, *state_shapes)
        return outs[0] if len(outs) == 1 else outs

    def compute_mask(self, inputs, mask=None):
        """Mask of the (first) output: the input mask with ``return_sequences``, else ``None``."""
        mask = _as_mask(mask)
        return mask if self.return_sequences else None

    def get_config(self):
        return {
            **super().get_config(),
            "merge_mode": self.merge_mode,
            "layer": _serialization.serialize_layer(self.forward_layer),
            "backward_layer": _serialization.serialize_layer(self.backward_layer),
        }

    @classmethod
    def from_config(cls, config: dict):
        config = copy.deepcopy(config)
        layer = config.pop("layer")
        layer = layer if isinstance(layer, Layer) else _serialization.deserialize_layer(layer)
        backward = config.pop("backward_layer", None)
        if backward is not None and not isinstance(backward, Layer):
            backward = _serialization.deserialize_layer(backward)
        return cls(layer, backward_layer=backward, **config)

    def extra_repr(self) -> str:
        return f"name={self.name!r}, merge_mode={self.merge_mode!r}"


def _strip(name: str, prefix: str) -> str:
    return name[len(prefix):] if name.startswith(prefix) else name
