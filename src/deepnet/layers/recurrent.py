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
import numbers
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch.nn.utils.rnn import PackedSequence, pack_padded_sequence, pad_packed_sequence

from .. import activations as _activations
from .. import regularizers as _regularizers
from ..utils.serialization import deserialize_layer, serialize_layer
from ._checks import check_fraction
from ._checks import check_seed as _check_seed
from .base import Layer, WeightSpec
from .core import check_positive_int, resolve_weight_args, serialize_weight_args

__all__ = ["GRU", "LSTM", "Bidirectional", "SimpleRNN"]


def _check_rate(owner: str, argument: str, value) -> float:
    return check_fraction(owner, argument, value, closed_upper=False)

_RANK_HINT = "Add Reshape((timesteps, features)) or an Embedding before it."
_TANH = (_activations.tanh, torch.tanh)
_SIGMOID = (_activations.sigmoid, torch.sigmoid)
_RELU = (_activations.relu, torch.relu)


# --------------------------------------------------------------------------- helpers


def _check_bool(owner: str, argument: str, value) -> bool:
    if not isinstance(value, (bool, numbers.Integral)):
        raise TypeError(
            f"Received an invalid value for `{argument}` of {owner}, expected a bool. "
            f"Received: {argument}={value!r}"
        )
    return bool(value)


def _reorder_blocks(t: torch.Tensor, order: tuple) -> torch.Tensor:
    """Reorder the equal gate blocks of the last axis: block ``i`` of the result is block
    ``order[i]`` of ``t``."""
    blocks = t.chunk(len(order), dim=-1)
    return torch.cat([blocks[i] for i in order], dim=-1)


@dataclass(eq=False)
class _GateSpec(WeightSpec):
    """A weight whose gate blocks (last Keras axis) are stored in another order than Keras'.

    ``order[i]`` is the Keras gate block stored at position ``i`` (GRU: PyTorch ``r, z, n`` =
    Keras blocks ``(1, 0, 2)`` of ``z, r, h``)."""

    order: tuple = ()

    def to_keras(self, t: torch.Tensor) -> torch.Tensor:
        inverse = tuple(sorted(range(len(self.order)), key=lambda i: self.order[i]))
        return _reorder_blocks(super().to_keras(t), inverse)

    def from_keras(self, t: torch.Tensor) -> torch.Tensor:
        return super().from_keras(_reorder_blocks(t, self.order))


def _as_mask(mask):
    if isinstance(mask, (list, tuple)):
        mask = mask[0] if mask else None
    if mask is None:
        return None
    if mask.dim() == 3 and mask.shape[-1] == 1:
        mask = mask[..., 0]
    return mask if mask.dtype == torch.bool else mask.bool()


def _mask_plan(mask: torch.Tensor):
    """Classify a ``(batch, time)`` boolean mask with one host synchronisation.

    Returns ``("full", None)`` when nothing is masked, ``("packed", lengths)`` for right-padded
    masks whose sequences all have at least one step (``lengths`` on the CPU), else
    ``("loop", None)``."""
    t = mask.shape[1]
    lengths = mask.sum(dim=1)
    right = (torch.arange(t, device=mask.device) < lengths[:, None]) == mask
    info = torch.cat([right.all().view(1).long(), lengths.long()]).cpu()
    lengths_cpu = info[1:]
    if not bool(info[0]) or lengths_cpu.numel() == 0 or int(lengths_cpu.min()) < 1:
        return "loop", None
    if int(lengths_cpu.min()) == t:
        return "full", None
    return "packed", lengths_cpu


def _run_vf(fn, x, hx, weights, has_biases: bool, bidirectional: bool, lengths=None):
    """Run a fused PyTorch RNN kernel on a batch-first ``x``.

    ``hx`` is ``h0`` or ``(h0, c0)`` of shape ``(directions, batch, units)``. With ``lengths``
    (right-padded sequences, CPU tensor) the input is packed and the returned sequence is
    zero-padded. Returns ``(sequence, h_n, c_n or None)``."""
    if x.device.type == "cpu" and torch.is_autocast_enabled("cpu"):
        # oneDNN has no low-precision RNN primitive on many CPUs ("could not create a primitive
        # descriptor"): run the fused kernel in float32 outside autocast
        with torch.autocast("cpu", enabled=False):
            hx = tuple(h.float() for h in hx) if isinstance(hx, tuple) else hx.float()
            return _run_vf(fn, x.float(), hx, [w.float() for w in weights], has_biases, bidirectional, lengths)
    train = torch.is_grad_enabled()
    if lengths is None:
        res = fn(x, hx, weights, has_biases, 1, 0.0, train, bidirectional, True)
        return res[0], res[1], (res[2] if len(res) == 3 else None)
    packed = pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
    order, unorder = packed.sorted_indices, packed.unsorted_indices
    if isinstance(hx, tuple):
        hx = tuple(h.index_select(1, order) for h in hx)
    else:
        hx = hx.index_select(1, order)
    res = fn(packed.data, packed.batch_sizes, hx, weights, has_biases, 1, 0.0, train, bidirectional)
    seq, _ = pad_packed_sequence(PackedSequence(res[0], packed.batch_sizes, order, unorder),
                                 batch_first=True, total_length=x.shape[1])
    h_n = res[1].index_select(1, unorder)
    c_n = res[2].index_select(1, unorder) if len(res) == 3 else None
    return seq, h_n, c_n


# --------------------------------------------------------------------------- base class


class _RNN(Layer):
    """Shared machinery of the recurrent layers (not public).

    Subclasses set ``_gates`` (gate blocks per weight), ``_n_states`` and implement
    ``_fused_fn`` (the ``torch._VF`` kernel or ``None``), ``_input_bias``/``_flat_weights`` and
    ``_step`` (one step of the loop fallback in stored PyTorch layout)."""

    supports_masking = True
    _gates = 1
    _n_states = 1
    _rnn_kind = "RNN"

    def _init_common(self, units, activation, use_bias, kernel_initializer, recurrent_initializer,
                     bias_initializer, kernel_regularizer, recurrent_regularizer, bias_regularizer,
                     activity_regularizer, kernel_constraint, recurrent_constraint, bias_constraint,
                     dropout, recurrent_dropout, seed, return_sequences, return_state, go_backwards,
                     stateful, unroll, zero_output_for_mask):
        owner = type(self).__name__
        self.units = check_positive_int(self, "units", units)
        self.activation = _activations.get(activation)
        self.use_bias = _check_bool(owner, "use_bias", use_bias)
        resolve_weight_args(
            self, ("kernel", "recurrent", "bias"),
            kernel_initializer=kernel_initializer, recurrent_initializer=recurrent_initializer,
            bias_initializer=bias_initializer, kernel_regularizer=kernel_regularizer,
            recurrent_regularizer=recurrent_regularizer, bias_regularizer=bias_regularizer,
            kernel_constraint=kernel_constraint, recurrent_constraint=recurrent_constraint,
            bias_constraint=bias_constraint,
        )
        self.activity_regularizer = _regularizers.get(activity_regularizer, "activity_regularizer")
        self.dropout = _check_rate(owner, "dropout", dropout)
        self.recurrent_dropout = _check_rate(owner, "recurrent_dropout", recurrent_dropout)
        self.seed = _check_seed(owner, seed)
        self._generators: dict = {}
        self.return_sequences = _check_bool(owner, "return_sequences", return_sequences)
        self.return_state = _check_bool(owner, "return_state", return_state)
        self.go_backwards = _check_bool(owner, "go_backwards", go_backwards)
        if stateful:
            raise ValueError(
                f"{owner}: `stateful=True` is not supported by deepnet yet (states are not carried "
                f"between batches). Received: stateful={stateful!r}. help: pass the previous states "
                "explicitly with `initial_state=` and `return_state=True`."
            )
        self.stateful = False
        self.unroll = _check_bool(owner, "unroll", unroll)
        self.zero_output_for_mask = _check_bool(owner, "zero_output_for_mask", zero_output_for_mask)

    # -- configuration of the fast path -------------------------------------------------------
    def _fused_fn(self):
        raise NotImplementedError

    # -- weights ------------------------------------------------------------------------------
    def build(self, input_shape):
        self._check_rank(input_shape, 3, "batch, timesteps, features", _RANK_HINT)
        in_dim = self._check_defined_dim(input_shape, -1, "features")
        n = self._gates * self.units
        self._add_gate_weight("kernel", (in_dim, n), self.kernel_initializer, self.kernel_regularizer,
                              self.kernel_constraint, layout=(1, 0))
        self._add_gate_weight("recurrent_kernel", (self.units, n), self.recurrent_initializer,
                              self.recurrent_regularizer, self.recurrent_constraint, layout=(1, 0))
        self._build_bias()
        self._vf = self._fused_fn() if getattr(self, "use_cudnn", "auto") is not False else None

    _gate_order: tuple | None = None  # stored order of Keras' gate blocks (None = same order)

    def _add_gate_weight(self, name, shape, initializer, regularizer, constraint, layout=None):
        t = self._add_weight(name, shape, initializer, regularizer, constraint, layout=layout)
        if self._gate_order is not None:
            spec = self._weight_specs[-1]
            gate_spec = _GateSpec(attr=spec.attr, keras_name=spec.keras_name, keras_shape=spec.keras_shape,
                                  layout=spec.layout, regularizer=spec.regularizer,
                                  constraint=spec.constraint, trainable=spec.trainable,
                                  order=self._gate_order)
            self._weight_specs[-1] = gate_spec
            with torch.no_grad():  # the initial values are in Keras' gate order: reorder them
                t.copy_(gate_spec.from_keras(WeightSpec.to_keras(spec, t)))
        return t

    def _build_bias(self):
        n = self._gates * self.units
        if self.use_bias:
            self._add_weight("bias", (n,), self._bias_init(), self.bias_regularizer, self.bias_constraint)
            # Keras has one bias; the fused kernel takes two (b_ih, b_hh): b_hh is a constant zero.
            self.register_buffer("_zero_bias", torch.zeros(n, dtype=self.dtype), persistent=False)
        else:
            self.bias = None

    def _bias_init(self):
        return self.bias_initializer

    def _flat_weights(self) -> tuple:
        if self.bias is None:
            return (self.kernel, self.recurrent_kernel)
        return (self.kernel, self.recurrent_kernel, self.bias, self._zero_bias)

    def _input_bias(self):
        return self.bias

    # -- randomness ---------------------------------------------------------------------------
    def _generator(self, device):
        if self.seed is None:
            return None
        gen = self._generators.get(device)
        if gen is None:
            gen = torch.Generator(device=device)
            gen.manual_seed(self.seed)
            self._generators[device] = gen
        return gen

    def _dropout_mask(self, shape, like: torch.Tensor, rate: float) -> torch.Tensor:
        keep = 1.0 - rate
        m = torch.empty(shape, dtype=like.dtype, device=like.device)
        return m.bernoulli_(keep, generator=self._generator(like.device)).div_(keep)

    # -- forward --------------------------------------------------------------------------------
    def _initial_states(self, x, initial_state):
        b = x.shape[0]
        if initial_state is None:
            return None
        if isinstance(initial_state, torch.Tensor):
            initial_state = [initial_state]
        states = list(initial_state)
        if len(states) != self._n_states:
            raise ValueError(
                f"{type(self).__name__} {self.name!r} expects `initial_state` to be a list of "
                f"{self._n_states} tensor(s) of shape (batch, {self.units}); received {len(states)}."
            )
        for s in states:
            if tuple(s.shape) != (b, self.units):
                raise ValueError(
                    f"{type(self).__name__} {self.name!r}: each initial state must have shape "
                    f"({b}, {self.units}); received {tuple(s.shape)}."
                )
        return [s.to(x.dtype) for s in states]

    def call(self, inputs, initial_state=None, mask=None, training=None):
        training = self.training if training is None else bool(training)
        x = inputs if inputs.dtype == self.kernel.dtype else inputs.to(self.kernel.dtype)
        states = self._initial_states(x, initial_state)
        mask = _as_mask(mask)
        gate_dropout = training and self.recurrent_dropout > 0 and self._gates > 1
        if training and self.dropout > 0 and not gate_dropout:
            x = x * self._dropout_mask((x.shape[0], 1, x.shape[2]), x, self.dropout)
        fused = self._vf is not None and not (training and self.recurrent_dropout > 0)
        plan, lengths = "full", None
        if mask is not None:
            plan, lengths = _mask_plan(mask) if fused else ("loop", None)
        if fused and plan != "loop":
            out, final = self._run_fused(x, states, lengths)
        else:
            out, final = self._run_loop(x, states, mask if plan == "loop" else None, training, gate_dropout)
        result = (out, *final) if self.return_state else out
        if self.activity_regularizer is not None:
            outs = result if self.return_state else (result,)
            self._activity_loss = sum(self.activity_regularizer(o) for o in outs) / x.shape[0]
        return result

    def _run_fused(self, x, states, lengths=None):
        b, t = x.shape[0], x.shape[1]
        if states is None:
            h0 = x.new_zeros(1, b, self.units)
            hx = (h0, h0) if self._n_states == 2 else h0
        else:
            hx = tuple(s.unsqueeze(0) for s in states) if self._n_states == 2 else states[0].unsqueeze(0)
        valid = None
        if lengths is not None:
            ar = torch.arange(t, device=x.device)
            dev_len = lengths.to(x.device)[:, None]
            valid = ar < dev_len
            if self.go_backwards:  # reverse the valid part of each sequence (right-padded again)
                idx = torch.where(valid, dev_len - 1 - ar, ar)
                x = x.gather(1, idx[..., None].expand(-1, -1, x.shape[2]))
        elif self.go_backwards:
            x = x.flip(1)
        seq, h_n, c_n = _run_vf(self._vf, x, hx, self._flat_weights(), self.bias is not None, False, lengths)
        last = h_n[0]
        final = (last, c_n[0]) if c_n is not None else (last,)
        if not self.return_sequences:
            if lengths is not None and self.zero_output_for_mask and not self.go_backwards:
                last = torch.where(valid[:, -1:], last, torch.zeros_like(last))
            return last, final
        if lengths is not None:
            if self.go_backwards:  # Keras: leading (masked) steps first, with zero outputs
                shift = (ar - (t - dev_len)) % t
                seq = seq.gather(1, shift[..., None].expand(-1, -1, seq.shape[2]))
            elif not self.zero_output_for_mask:  # masked steps repeat the last output
                seq = torch.where(valid[..., None], seq, last[:, None])
        return seq, final

    def _run_loop(self, x, states, mask, training, gate_dropout):
        b, t = x.shape[0], x.shape[1]
        if states is None:
            zero = x.new_zeros(b, self.units)
            states = [zero] * self._n_states
        if self.go_backwards:
            x = x.flip(1)
            mask = mask.flip(1) if mask is not None else None
        w_ih = self.kernel
        if gate_dropout and self.dropout > 0:
            in_masks = [self._dropout_mask((b, 1, x.shape[2]), x, self.dropout) for _ in range(self._gates)]
            b_in = self._input_bias()
            biases = b_in.chunk(self._gates) if b_in is not None else [None] * self._gates
            parts = zip(in_masks, w_ih.chunk(self._gates), biases)
            xp = torch.cat([F.linear(x * m, w, bb) for m, w, bb in parts], -1)
        else:
            xp = F.linear(x, w_ih, self._input_bias())
        rec_masks = None
        if training and self.recurrent_dropout > 0:
            n = self._gates if gate_dropout else 1
            rec_masks = [self._dropout_mask((b, self.units), x, self.recurrent_dropout) for _ in range(n)]
        outputs = []
        prev_out = x.new_zeros(b, self.units) if mask is not None else None
        out_t = None
        for i in range(t):
            h, new_states = self._step(xp[:, i], states, rec_masks)
            if mask is not None:
                m = mask[:, i, None]
                states = [torch.where(m, ns, s) for ns, s in zip(new_states, states)]
                fill = torch.zeros_like(h) if self.zero_output_for_mask else prev_out
                out_t = prev_out = torch.where(m, h, fill)
            else:
                states, out_t = new_states, h
            if self.return_sequences:
                outputs.append(out_t)
        out = torch.stack(outputs, 1) if self.return_sequences else out_t
        return out, tuple(states)

    def _step(self, xp_t, states, rec_masks):
        raise NotImplementedError

    @staticmethod
    def _rec_linear(h, w, bias, rec_masks, gates):
        """``h @ w.T + bias`` with optional recurrent dropout (one mask, or one per gate)."""
        if rec_masks is None:
            return F.linear(h, w, bias)
        if len(rec_masks) == 1:
            return F.linear(h * rec_masks[0], w, bias)
        bs = bias.chunk(gates) if bias is not None else [None] * gates
        return torch.cat([F.linear(h * m, wg, bg) for m, wg, bg in zip(rec_masks, w.chunk(gates), bs)], -1)

    # -- shapes, masks, config ----------------------------------------------------------------
    def compute_output_shape(self, input_shape):
        b, t = input_shape[0], input_shape[1]
        out = (b, t, self.units) if self.return_sequences else (b, self.units)
        if self.return_state:
            return (out, *[(b, self.units)] * self._n_states)
        return out

    def compute_mask(self, inputs, mask=None):
        """Mask of the (first) output: the input mask with ``return_sequences``, else ``None``."""
        mask = _as_mask(mask)
        return mask if self.return_sequences else None

    def get_config(self):
        return {
            **super().get_config(),
            "units": self.units,
            "activation": _activations.serialize(self.activation),
            "use_bias": self.use_bias,
            **serialize_weight_args(self, ("kernel", "recurrent", "bias")),
            "activity_regularizer": _regularizers.serialize(self.activity_regularizer),
            "dropout": self.dropout,
            "recurrent_dropout": self.recurrent_dropout,
            "seed": self.seed,
            "return_sequences": self.return_sequences,
            "return_state": self.return_state,
            "go_backwards": self.go_backwards,
            "stateful": self.stateful,
            "unroll": self.unroll,
            "zero_output_for_mask": self.zero_output_for_mask,
        }


def _check_use_cudnn(owner: str, use_cudnn, fusable: bool, reason: str):
    if use_cudnn not in ("auto", True, False):
        raise ValueError(
            f"Received an invalid value for `use_cudnn` of {owner}, expected one of 'auto', True, "
            f"False. Received: use_cudnn={use_cudnn!r}"
        )
    if use_cudnn is True and not fusable:
        raise ValueError(
            f"{owner}: use_cudnn=True was requested but this configuration cannot run the fused "
            f"kernel ({reason}). help: pass use_cudnn='auto' to fall back to the step loop."
        )
    return use_cudnn


# --------------------------------------------------------------------------- SimpleRNN


class SimpleRNN(_RNN):
    """Fully connected RNN: ``h_t = activation(x_t @ kernel + h_{t-1} @ recurrent_kernel + bias)``.

    Weights (Keras layout): ``kernel (features, units)``, ``recurrent_kernel (units, units)``,
    ``bias (units,)``. Runs ``torch._VF.rnn_tanh``/``rnn_relu`` for ``tanh``/``relu``.
    """

    def __init__(self, units, activation="tanh", use_bias=True, kernel_initializer="glorot_uniform",
                 recurrent_initializer="orthogonal", bias_initializer="zeros", kernel_regularizer=None,
                 recurrent_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, recurrent_constraint=None, bias_constraint=None, dropout=0.0,
                 recurrent_dropout=0.0, return_sequences=False, return_state=False, go_backwards=False,
                 stateful=False, unroll=False, seed=None, zero_output_for_mask=False, **kwargs):
        super().__init__(**kwargs)
        self._init_common(units, activation, use_bias, kernel_initializer, recurrent_initializer,
                          bias_initializer, kernel_regularizer, recurrent_regularizer, bias_regularizer,
                          activity_regularizer, kernel_constraint, recurrent_constraint, bias_constraint,
                          dropout, recurrent_dropout, seed, return_sequences, return_state, go_backwards,
                          stateful, unroll, zero_output_for_mask)

    def _fused_fn(self):
        if self.activation in _TANH:
            return torch._VF.rnn_tanh
        if self.activation in _RELU:
            return torch._VF.rnn_relu
        return None

    def _step(self, xp_t, states, rec_masks):
        h = self.activation(xp_t + self._rec_linear(states[0], self.recurrent_kernel, None, rec_masks, 1))
        return h, [h]


# --------------------------------------------------------------------------- LSTM


class LSTM(_RNN):
    """Long short-term memory layer (Hochreiter & Schmidhuber, 1997).

    Weights (Keras layout, gate order ``i, f, c, o``): ``kernel (features, 4*units)``,
    ``recurrent_kernel (units, 4*units)``, ``bias (4*units,)``. With ``unit_forget_bias`` the
    forget-gate bias starts at 1. Runs ``torch._VF.lstm`` (same gate order) for the default
    activations.
    """

    _gates = 4
    _n_states = 2

    def __init__(self, units, activation="tanh", recurrent_activation="sigmoid", use_bias=True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal",
                 bias_initializer="zeros", unit_forget_bias=True, kernel_regularizer=None,
                 recurrent_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, recurrent_constraint=None, bias_constraint=None, dropout=0.0,
                 recurrent_dropout=0.0, seed=None, return_sequences=False, return_state=False,
                 go_backwards=False, stateful=False, unroll=False, use_cudnn="auto",
                 zero_output_for_mask=False, **kwargs):
        super().__init__(**kwargs)
        self._init_common(units, activation, use_bias, kernel_initializer, recurrent_initializer,
                          bias_initializer, kernel_regularizer, recurrent_regularizer, bias_regularizer,
                          activity_regularizer, kernel_constraint, recurrent_constraint, bias_constraint,
                          dropout, recurrent_dropout, seed, return_sequences, return_state, go_backwards,
                          stateful, unroll, zero_output_for_mask)
        self.recurrent_activation = _activations.get(recurrent_activation, "recurrent_activation")
        self.unit_forget_bias = _check_bool("LSTM", "unit_forget_bias", unit_forget_bias)
        self.use_cudnn = _check_use_cudnn("LSTM", use_cudnn, self._fused_fn() is not None,
                                          "it needs activation='tanh' and recurrent_activation='sigmoid'")

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

    def get_config(self):
        return {
            **super().get_config(),
            "recurrent_activation": _activations.serialize(self.recurrent_activation),
            "unit_forget_bias": self.unit_forget_bias,
            "use_cudnn": self.use_cudnn,
        }


# --------------------------------------------------------------------------- GRU


class GRU(_RNN):
    """Gated recurrent unit (Cho et al., 2014), Keras' formulation.

    Weights (Keras layout, gate order ``z, r, h``): ``kernel (features, 3*units)``,
    ``recurrent_kernel (units, 3*units)`` and ``bias (2, 3*units)`` (row 0 input bias, row 1
    recurrent bias) with ``reset_after=True``, or ``bias (3*units,)`` with ``reset_after=False``.
    Stored in PyTorch's ``r, z, n`` order; ``get_weights``/``set_weights`` reorder. Runs
    ``torch._VF.gru`` for the default activations with ``reset_after=True``.
    """

    _gates = 3
    _gate_order = (1, 0, 2)  # stored r, z, n = Keras blocks 1, 0, 2 of z, r, h

    def __init__(self, units, activation="tanh", recurrent_activation="sigmoid", use_bias=True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal",
                 bias_initializer="zeros", kernel_regularizer=None, recurrent_regularizer=None,
                 bias_regularizer=None, activity_regularizer=None, kernel_constraint=None,
                 recurrent_constraint=None, bias_constraint=None, dropout=0.0, recurrent_dropout=0.0,
                 seed=None, return_sequences=False, return_state=False, go_backwards=False,
                 stateful=False, unroll=False, reset_after=True, use_cudnn="auto",
                 zero_output_for_mask=False, **kwargs):
        super().__init__(**kwargs)
        self._init_common(units, activation, use_bias, kernel_initializer, recurrent_initializer,
                          bias_initializer, kernel_regularizer, recurrent_regularizer, bias_regularizer,
                          activity_regularizer, kernel_constraint, recurrent_constraint, bias_constraint,
                          dropout, recurrent_dropout, seed, return_sequences, return_state, go_backwards,
                          stateful, unroll, zero_output_for_mask)
        self.recurrent_activation = _activations.get(recurrent_activation, "recurrent_activation")
        self.reset_after = _check_bool("GRU", "reset_after", reset_after)
        self.use_cudnn = _check_use_cudnn(
            "GRU", use_cudnn, self._fused_fn() is not None,
            "it needs activation='tanh', recurrent_activation='sigmoid' and reset_after=True")

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

    def get_config(self):
        return {
            **super().get_config(),
            "recurrent_activation": _activations.serialize(self.recurrent_activation),
            "reset_after": self.reset_after,
            "use_cudnn": self.use_cudnn,
        }


# --------------------------------------------------------------------------- Bidirectional


_MERGE_MODES = ("concat", "sum", "mul", "ave", None)


class Bidirectional(Layer):
    """Runs a recurrent layer forwards and a copy of it backwards and merges the two outputs.

    ``Bidirectional(layer, merge_mode="concat", weights=None, backward_layer=None)``. The forward
    layer is a clone of ``layer`` (named ``forward_<name>``); the backward layer is a clone with
    ``go_backwards`` flipped (``backward_<name>``) unless ``backward_layer`` is given. With
    ``return_sequences`` the backward outputs are put back in forward time order before merging.

    Weights (Keras order): the forward layer's, then the backward layer's. When both directions
    are fused-kernel ``SimpleRNN``/``LSTM``/``GRU`` layers of the same kind (and no input dropout
    is active), one bidirectional ``torch._VF`` call runs both.
    """

    supports_masking = True

    def __init__(self, layer, merge_mode="concat", weights=None, backward_layer=None, **kwargs):
        super().__init__(**kwargs)
        for arg, value in (("layer", layer), ("backward_layer", backward_layer)):
            if value is None and arg == "backward_layer":
                continue
            if not isinstance(value, Layer) or not all(
                    hasattr(value, a) for a in ("go_backwards", "return_sequences", "return_state")):
                raise ValueError(
                    f"Received an invalid value for `{arg}` of Bidirectional, expected a recurrent "
                    f"deepnet layer (SimpleRNN, LSTM, GRU). Received: {arg}={value!r}"
                )
        if merge_mode not in _MERGE_MODES:
            raise ValueError(
                "Received an invalid value for `merge_mode` of Bidirectional, expected one of "
                f"'concat', 'sum', 'mul', 'ave', None. Received: merge_mode={merge_mode!r}"
            )
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
            "layer": serialize_layer(self.forward_layer),
            "backward_layer": serialize_layer(self.backward_layer),
        }

    @classmethod
    def from_config(cls, config: dict):
        config = copy.deepcopy(config)
        layer = config.pop("layer")
        layer = layer if isinstance(layer, Layer) else deserialize_layer(layer)
        backward = config.pop("backward_layer", None)
        if backward is not None and not isinstance(backward, Layer):
            backward = deserialize_layer(backward)
        return cls(layer, backward_layer=backward, **config)

    def extra_repr(self) -> str:
        return f"name={self.name!r}, merge_mode={self.merge_mode!r}"


def _strip(name: str, prefix: str) -> str:
    return name[len(prefix):] if name.startswith(prefix) else name
