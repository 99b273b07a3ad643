"""One step of SimpleRNN, LSTM and GRU in PyTorch's stored layout, shared by the sequence
layers of :mod:`.recurrent` and the cells of :mod:`._rnn_cells` (mixins over ``_GateWeights``)."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from ._rnn_base import _RELU, _SIGMOID, _TANH, _GateWeights


class _SimpleRNNStep(_GateWeights):
    """``h_t = activation(x_t @ kernel + h_{t-1} @ recurrent_kernel + bias)``."""

    def _fused_fn(self):
        if self.activation in _TANH:
            return torch._VF.rnn_tanh
        if self.activation in _RELU:
            return torch._VF.rnn_relu
        return None

    def _step(self, xp_t, states, rec_masks):
        h = self.activation(xp_t + self._rec_linear(states[0], self.recurrent_kernel, None, rec_masks, 1))
        return h, [h]


class _LSTMStep(_GateWeights):
    """LSTM gates ``i, f, c, o`` (Keras' and PyTorch's order)."""

    _gates = 4
    _n_states = 2

    def _fused_fn(self):
        if self.activation in _TANH and self.recurrent_activation in _SIGMOID:
            return torch._VF.lstm
        return None

    def _bias_init(self):
        if not self.unit_forget_bias:
            return self.bias_initializer
        base, units = self.bias_initializer, self.units

        def unit_forget(shape, dtype=torch.float32):
            part = lambda n: torch.as_tensor(base((n,), dtype=dtype), dtype=dtype)  # noqa: E731
            return torch.cat([part(units), torch.ones(units, dtype=dtype), part(2 * units)])

        return unit_forget

    def _step(self, xp_t, states, rec_masks):
        h, c = states
        z = xp_t + self._rec_linear(h, self.recurrent_kernel, None, rec_masks, 4)
        i, f, g, o = z.chunk(4, dim=-1)
        ra = self.recurrent_activation
        c = ra(f) * c + ra(i) * self.activation(g)
        h = ra(o) * self.activation(c)
        return h, [h, c]


class _GRUStep(_GateWeights):
    """GRU gates, stored in PyTorch's ``r, z, n`` order (Keras: ``z, r, h``)."""

    _gates = 3
    _gate_order = (1, 0, 2)  # stored r, z, n = Keras blocks 1, 0, 2 of z, r, h

    def _fused_fn(self):
        if self.reset_after and self.activation in _TANH and self.recurrent_activation in _SIGMOID:
            return torch._VF.gru
        return None

    def _build_bias(self):
        n = 3 * self.units
        if not self.use_bias:
            self.bias = None
            return
        shape = (2, n) if self.reset_after else (n,)
        self._add_gate_weight("bias", shape, self.bias_initializer, self.bias_regularizer,
                              self.bias_constraint)

    def _flat_weights(self) -> tuple:
        if self.bias is None:
            return (self.kernel, self.recurrent_kernel)
        return (self.kernel, self.recurrent_kernel, self.bias[0], self.bias[1])

    def _input_bias(self):
        if self.bias is None:
            return None
        return self.bias[0] if self.reset_after else self.bias

    def _step(self, xp_t, states, rec_masks):
        h = states[0]
        u = self.units
        ra = self.recurrent_activation
        x_r, x_z, x_n = xp_t.chunk(3, dim=-1)
        if self.reset_after:
            b_hh = self.bias[1] if self.bias is not None else None
            hp = self._rec_linear(h, self.recurrent_kernel, b_hh, rec_masks, 3)
            h_r, h_z, h_n = hp.chunk(3, dim=-1)
            r = ra(x_r + h_r)
            z = ra(x_z + h_z)
            n = self.activation(x_n + r * h_n)
        else:
            w_rz, w_n = self.recurrent_kernel[: 2 * u], self.recurrent_kernel[2 * u:]
            rz_masks = rec_masks[:2] if rec_masks is not None and len(rec_masks) == 3 else rec_masks
            h_r, h_z = self._rec_linear(h, w_rz, None, rz_masks, 2).chunk(2, dim=-1)
            r = ra(x_r + h_r)
            z = ra(x_z + h_z)
            h_for_n = h if rec_masks is None else h * rec_masks[-1]
            n = self.activation(x_n + F.linear(r * h_for_n, w_n))
        h = z * h + (1.0 - z) * n
        return h, [h]
