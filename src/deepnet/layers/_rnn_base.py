"""The recurrent layers' shared base classes (``_GateWeights`` for layers and cells, ``_RNN``
for the sequence layers), masks and the fused-kernel runner (see :mod:`deepnet.layers.recurrent`)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch.nn.utils.rnn import PackedSequence, pack_padded_sequence, pad_packed_sequence

from .. import activations as _activations
from .. import regularizers as _regularizers
from ..utils import symbolic
from ..utils.seeding import device_generator
from ..utils.validation import AnyOf, Options
from ._checks import ACTIVATION, BOOL, FRACTION_OPEN, POSITIVE_INT, SEED, weight_args
from ._weights import resolve_weight_args, serialize_weight_args
from .base import Layer, WeightSpec

#: The arguments SimpleRNN, LSTM and GRU share.
RNN_ARGS = {
    "units": POSITIVE_INT, "activation": ACTIVATION, "use_bias": BOOL,
    **weight_args("kernel", "recurrent", "bias"), "dropout": FRACTION_OPEN, "recurrent_dropout": FRACTION_OPEN,
    "seed": SEED, "return_sequences": BOOL, "return_state": BOOL, "go_backwards": BOOL, "stateful": BOOL,
    "unroll": BOOL, "zero_output_for_mask": BOOL,
}
#: LSTM and GRU: the gate activation and whether to insist on the fused kernel.
GATED_ARGS = {"recurrent_activation": ACTIVATION, "use_cudnn": AnyOf(Options(("auto",)), BOOL)}

_RANK_HINT = "Add Reshape((timesteps, features)) or an Embedding before it."
_TANH = (_activations.tanh, torch.tanh)
_SIGMOID = (_activations.sigmoid, torch.sigmoid)
_RELU = (_activations.relu, torch.relu)


# --------------------------------------------------------------------------- helpers


def _reorder_blocks(t: torch.Tensor, order: tuple) -> torch.Tensor:
    """Reorder the equal gate blocks of the last axis: block ``i`` of the result is block
    ``order[i]`` of ``t``."""
    blocks = t.chunk(len(order), dim=-1)
    return torch.cat([blocks[i] for i in order], dim=-1)


class _GateSpec(WeightSpec):
    """A weight whose gate blocks (last Keras axis) are stored in another order than Keras'.

    ``order[i]`` is the Keras gate block stored at position ``i`` (GRU: PyTorch ``r, z, n`` =
    Keras blocks ``(1, 0, 2)`` of ``z, r, h``)."""

    def __init__(self, *args, order: tuple = (), **kwargs):
        super().__init__(*args, **kwargs)
        self.order = order

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


class _GateWeights(Layer):
    """Weights in PyTorch's RNN layout and one step of the recurrence in plain PyTorch: shared
    by the recurrent layers (:class:`_RNN`) and the cells (``LSTMCell``...; not public).

    Subclasses (the step mixins of :mod:`._rnn_steps`) set ``_gates`` (gate blocks per weight),
    ``_n_states`` and implement ``_fused_fn`` (the ``torch._VF`` kernel or ``None``),
    ``_input_bias``/``_flat_weights`` and ``_step`` (one step in stored PyTorch layout)."""

    _gates = 1
    _n_states = 1

    def _init_weight_args(self, units, activation, use_bias, kernel_initializer, recurrent_initializer,
                          bias_initializer, kernel_regularizer, recurrent_regularizer, bias_regularizer,
                          kernel_constraint, recurrent_constraint, bias_constraint, dropout, recurrent_dropout,
                          seed):
        """Store the weight and dropout arguments (validated by the subclass constructor)."""
        self.units, self.activation, self.use_bias = units, activation, use_bias
        resolve_weight_args(
            self, ("kernel", "recurrent", "bias"),
            kernel_initializer=kernel_initializer, recurrent_initializer=recurrent_initializer,
            bias_initializer=bias_initializer, kernel_regularizer=kernel_regularizer,
            recurrent_regularizer=recurrent_regularizer, bias_regularizer=bias_regularizer,
            kernel_constraint=kernel_constraint, recurrent_constraint=recurrent_constraint,
            bias_constraint=bias_constraint,
        )
        self.dropout, self.recurrent_dropout, self.seed = dropout, recurrent_dropout, seed
        self._generators: dict = {}

    def _build_weights(self, in_dim: int) -> None:
        n = self._gates * self.units
        self._add_gate_weight("kernel", (in_dim, n), self.kernel_initializer, self.kernel_regularizer,
                              self.kernel_constraint, layout=(1, 0))
        self._add_gate_weight("recurrent_kernel", (self.units, n), self.recurrent_initializer,
                              self.recurrent_regularizer, self.recurrent_constraint, layout=(1, 0))
        self._build_bias()

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

    def _fused_fn(self):
        raise NotImplementedError

    # -- randomness ---------------------------------------------------------------------------
    def _generator(self, device):
        return device_generator(self._generators, self.seed, device)

    def _dropout_mask(self, shape, like: torch.Tensor, rate: float) -> torch.Tensor:
        keep = 1.0 - rate
        m = torch.empty(shape, dtype=like.dtype, device=like.device)
        return m.bernoulli_(keep, generator=self._generator(like.device)).div_(keep)

    # -- one step -----------------------------------------------------------------------------
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


class _RNN(_GateWeights):
    """Shared machinery of the recurrent layers (not public): the fused kernel and the step
    loop over a sequence, masks, states and configuration."""

    supports_masking = True
    _rnn_kind = "RNN"

    def _init_common(self, units, activation, use_bias, kernel_initializer, recurrent_initializer,
                     bias_initializer, kernel_regularizer, recurrent_regularizer, bias_regularizer,
                     activity_regularizer, kernel_constraint, recurrent_constraint, bias_constraint,
                     dropout, recurrent_dropout, seed, return_sequences, return_state, go_backwards,
                     stateful, unroll, zero_output_for_mask):
        """Store the shared arguments (validated by ``RNN_ARGS`` on the subclass constructor)."""
        self._init_weight_args(units, activation, use_bias, kernel_initializer, recurrent_initializer,
                               bias_initializer, kernel_regularizer, recurrent_regularizer, bias_regularizer,
                               kernel_constraint, recurrent_constraint, bias_constraint, dropout,
                               recurrent_dropout, seed)
        self.return_sequences, self.return_state = return_sequences, return_state
        self.go_backwards = go_backwards
        self.stateful = stateful
        self.states = None  # stateful: the final states of the last batch, the next batch's start
        self.unroll, self.zero_output_for_mask = unroll, zero_output_for_mask

    # -- weights ------------------------------------------------------------------------------
    def build(self, input_shape):
        self._check_rank(input_shape, 3, "batch, timesteps, features", _RANK_HINT)
        self._build_weights(self._check_defined_dim(input_shape, -1, "features"))
        self._vf = self._fused_fn() if getattr(self, "use_cudnn", "auto") is not False else None

    # -- forward --------------------------------------------------------------------------------
    def reset_states(self) -> None:
        """Stateful layers: the next batch starts from zero states (Keras' ``reset_states``)."""
        if self.states is not None:
            self.states = [torch.zeros_like(s) for s in self.states]

    reset_state = reset_states

    def _initial_states(self, x, initial_state):
        b = x.shape[0]
        if initial_state is None and self.stateful and self.states is not None:
            if self.states[0].shape[0] != b:
                raise ValueError(
                    f"{type(self).__name__} {self.name!r} is stateful with states for batches of "
                    f"{self.states[0].shape[0]}; received a batch of {b}. help: use the same batch size "
                    "for every batch (drop the remainder), or call reset_states() and build a new layer."
                )
            initial_state = self.states
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
        if self.stateful and not symbolic.in_shape_inference():
            self.states = [s.detach() for s in final]
        return (out, *final) if self.return_state else out

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


def sequence_config(layer) -> dict:
    """The config entries of Keras' ``RNN`` base shared by ``RNN`` and the ConvLSTM layers."""
    return {k: getattr(layer, k) for k in ("return_sequences", "return_state", "go_backwards", "stateful")}


def _check_use_cudnn(owner: str, use_cudnn, fusable: bool, reason: str):
    """``use_cudnn=True`` (validated by ``GATED_ARGS``) needs a configuration the fused kernel runs."""
    if use_cudnn is True and not fusable:
        raise ValueError(
            f"{owner}: use_cudnn=True was requested but this configuration cannot run the fused "
            f"kernel ({reason}). help: pass use_cudnn='auto' to fall back to the step loop."
        )
    return use_cudnn
