"""Convolutional LSTMs: ConvLSTM1D, ConvLSTM2D and ConvLSTM3D (Shi et al., 2015), Keras 3
arguments, defaults and weights.

Inputs are sequences of signals, images or volumes ``(batch, time, *spatial, channels)``
(``channels_first``: ``(batch, time, channels, *spatial)``). The LSTM gates ``i, f, c, o`` are
convolutions: the input convolution (``strides``, ``padding``, ``dilation_rate`` as given) runs
once on all time steps together, the recurrent one (stride 1, ``"same"`` padding, as Keras) once
per step; both compute all four gates in one ``F.conv{1,2,3}d``. Weights are stored in conv layout
``(4*filters, in, *kernel)``; ``get_weights``/``set_weights`` exchange Keras' layout
``kernel (*kernel_size, in, 4*filters)``, ``recurrent_kernel (*kernel_size, filters, 4*filters)``,
``bias (4*filters,)``.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from .. import activations as _activations
from .. import regularizers as _regularizers
from ..utils.seeding import device_generator
from ..utils.validation import validate_params
from ._checks import ACTIVATION, BOOL, DATA_FORMAT, FRACTION_OPEN, POSITIVE_INT, SEED, weight_args
from ._conv_base import PADDING, RANK_TUPLE, same_padding
from ._rnn_base import _as_mask, sequence_config
from ._weights import resolve_weight_args, serialize_weight_args
from .base import Layer, format_shape

__all__ = ["ConvLSTM1D", "ConvLSTM2D", "ConvLSTM3D"]

_CONV = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}
_PREFIXES = ("kernel", "recurrent", "bias")
_ARGS = {
    "filters": POSITIVE_INT, "kernel_size": RANK_TUPLE, "strides": RANK_TUPLE, "padding": PADDING,
    "data_format": DATA_FORMAT, "dilation_rate": RANK_TUPLE, "activation": ACTIVATION,
    "recurrent_activation": ACTIVATION, "use_bias": BOOL, **weight_args(*_PREFIXES), "unit_forget_bias": BOOL,
    "dropout": FRACTION_OPEN, "recurrent_dropout": FRACTION_OPEN, "seed": SEED, "return_sequences": BOOL,
    "return_state": BOOL, "go_backwards": BOOL, "stateful": BOOL,
}


def _time_mask(mask):
    """A ``(batch, time)`` mask; a finer one (``Masking`` on images gives ``(batch, time, h, w)``)
    keeps a step where any of its positions is kept."""
    mask = _as_mask(mask)
    if mask is not None and mask.dim() > 2:
        mask = mask.reshape(*mask.shape[:2], -1).any(-1)
    return mask


def _pad_pairs(pads) -> tuple:
    """``F.pad`` argument (last axis first) of per-axis ``(before, after)`` pairs."""
    return tuple(v for before, after in reversed(pads) for v in (before, after))


class _ConvLSTM(Layer):
    rank = 2
    supports_masking = True

    @validate_params(_ARGS)
    def __init__(self, filters, kernel_size, strides=1, padding="valid", data_format=None, dilation_rate=1,
                 activation="tanh", recurrent_activation="sigmoid", use_bias=True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal", bias_initializer="zeros",
                 unit_forget_bias=True, kernel_regularizer=None, recurrent_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, kernel_constraint=None, recurrent_constraint=None, bias_constraint=None,
                 dropout=0.0, recurrent_dropout=0.0, seed=None, return_sequences=False, return_state=False,
                 go_backwards=False, stateful=False, **kwargs):
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        self.filters, self.kernel_size, self.strides, self.padding = filters, kernel_size, strides, padding
        self.data_format, self.dilation_rate = data_format, dilation_rate
        self.activation, self.recurrent_activation, self.use_bias = activation, recurrent_activation, use_bias
        resolve_weight_args(self, _PREFIXES, kernel_initializer=kernel_initializer,
                            recurrent_initializer=recurrent_initializer, bias_initializer=bias_initializer,
                            kernel_regularizer=kernel_regularizer, recurrent_regularizer=recurrent_regularizer,
                            bias_regularizer=bias_regularizer, kernel_constraint=kernel_constraint,
                            recurrent_constraint=recurrent_constraint, bias_constraint=bias_constraint)
        self.unit_forget_bias = unit_forget_bias
        self.dropout, self.recurrent_dropout, self.seed = dropout, recurrent_dropout, seed
        self.return_sequences, self.return_state = return_sequences, return_state
        self.go_backwards, self.stateful = go_backwards, stateful
        self.states = None  # stateful: the final [h, c] of the last batch
        self._generators: dict = {}

    # -- shapes -----------------------------------------------------------------------------------
    @property
    def _channels_last(self) -> bool:
        return self.data_format == "channels_last"

    def _spatial(self, shape) -> tuple:
        return tuple(shape[2:-1] if self._channels_last else shape[3:])

    def _out_spatial(self, shape) -> tuple:
        out = []
        for n, k, s, d in zip(self._spatial(shape), self.kernel_size, self.strides, self.dilation_rate):
            if n is None:
                out.append(None)
            else:
                out.append((n - (k - 1) * d - 1) // s + 1 if self.padding == "valid" else (n - 1) // s + 1)
        return tuple(out)

    def _state_shape(self, shape) -> tuple:
        spatial = self._out_spatial(shape)
        return (shape[0], *spatial, self.filters) if self._channels_last else (shape[0], self.filters, *spatial)

    # -- weights ----------------------------------------------------------------------------------
    def build(self, input_shape):
        layout = "time, " + ("steps" if self.rank == 1 else "height, width" if self.rank == 2 else "depth, height, width")
        layout = f"batch, {layout}, channels" if self._channels_last else f"batch, time, channels, {layout[6:]}"
        self._check_rank(input_shape, self.rank + 3, layout)
        channels = self._check_defined_dim(input_shape, -1 if self._channels_last else 2, "channels")
        r, n = self.rank, 4 * self.filters
        conv_layout = (r + 1, r, *range(r))  # Keras (*kernel, in, 4F) -> stored (4F, in, *kernel)
        self._add_weight("kernel", (*self.kernel_size, channels, n), self.kernel_initializer,
                         self.kernel_regularizer, self.kernel_constraint, layout=conv_layout)
        self._add_weight("recurrent_kernel", (*self.kernel_size, self.filters, n), self.recurrent_initializer,
                         self.recurrent_regularizer, self.recurrent_constraint, layout=conv_layout)
        if self.use_bias:
            self._add_weight("bias", (n,), self._bias_init(), self.bias_regularizer, self.bias_constraint)
        else:
            self.bias = None
        # the recurrent convolution: stride 1, Keras' "same" padding
        self._rec_pad = _pad_pairs([same_padding(1, k, 1) for k in self.kernel_size])
        self._act = self.activation
        self._rec_act = self.recurrent_activation

    def _bias_init(self):
        if not self.unit_forget_bias:
            return self.bias_initializer
        base, f = self.bias_initializer, self.filters

        def unit_forget(shape, dtype=torch.float32):
            part = lambda n: torch.as_tensor(base((n,), dtype=dtype), dtype=dtype)  # noqa: E731
            return torch.cat([part(f), torch.ones(f, dtype=dtype), part(2 * f)])

        return unit_forget

    # -- forward ----------------------------------------------------------------------------------
    def _channels_first(self, x: torch.Tensor) -> torch.Tensor:
        """``(batch, time, C, *spatial)`` view of the input."""
        return x.movedim(-1, 2) if self._channels_last else x

    def _input_conv(self, x: torch.Tensor) -> torch.Tensor:
        """The input convolution of every step at once: ``(batch, time, 4F, *out_spatial)``."""
        b, t = x.shape[:2]
        flat = x.reshape(b * t, *x.shape[2:])
        if self.padding == "same":
            spatial = tuple(flat.shape[2:])
            flat = F.pad(flat, _pad_pairs([same_padding(n, k, s, d) for n, k, s, d in
                                           zip(spatial, self.kernel_size, self.strides, self.dilation_rate)]))
        y = _CONV[self.rank](flat, self.kernel, self.bias, self.strides, 0, self.dilation_rate)
        return y.reshape(b, t, *y.shape[1:])

    def _dropout_mask(self, like: torch.Tensor, rate: float) -> torch.Tensor:
        keep = 1.0 - rate
        m = torch.empty(like.shape, dtype=like.dtype, device=like.device)
        return m.bernoulli_(keep, generator=device_generator(self._generators, self.seed, like.device)).div_(keep)

    def _start_states(self, zs: torch.Tensor, initial_state):
        shape = (zs.shape[0], self.filters, *zs.shape[3:])
        if initial_state is not None:
            states = list(initial_state)
            if len(states) != 2:
                raise ValueError(f"{type(self).__name__} {self.name!r} expects `initial_state` to be [h, c]; "
                                 f"received {len(states)} tensor(s).")
            return [(s.movedim(-1, 1) if self._channels_last else s).to(zs.dtype) for s in states]
        if self.stateful and self.states is not None:
            if tuple(self.states[0].shape) != shape:
                raise ValueError(
                    f"{type(self).__name__} {self.name!r} is stateful with states of shape "
                    f"{format_shape(tuple(self.states[0].shape))}; this batch needs {format_shape(shape)}. help: "
                    "use the same batch size for every batch, or call reset_states()."
                )
            return [s.to(zs.dtype) for s in self.states]
        zero = zs.new_zeros(shape)
        return [zero, zero]

    def call(self, inputs, initial_state=None, mask=None, training=None):
        training = self.training if training is None else bool(training)
        x = self._channels_first(inputs if inputs.dtype == self.kernel.dtype else inputs.to(self.kernel.dtype))
        mask = _time_mask(mask)
        if self.go_backwards:
            x = x.flip(1)
            mask = mask.flip(1) if mask is not None else None
        if training and self.dropout > 0:
            x = x * self._dropout_mask(x[:, :1], self.dropout)  # one mask per sequence
        zs = self._input_conv(x)
        h, c = self._start_states(zs, initial_state)
        rec_mask = self._dropout_mask(h, self.recurrent_dropout) if training and self.recurrent_dropout > 0 else None
        outputs = []
        for t in range(zs.shape[1]):
            h_in = h if rec_mask is None else h * rec_mask
            z = zs[:, t] + _CONV[self.rank](F.pad(h_in, self._rec_pad), self.recurrent_kernel)
            i, f, g, o = z.chunk(4, dim=1)
            new_c = self._rec_act(f) * c + self._rec_act(i) * self._act(g)
            new_h = self._rec_act(o) * self._act(new_c)
            if mask is not None:
                keep = mask[:, t].reshape(-1, *[1] * (new_h.dim() - 1))
                new_h, new_c = torch.where(keep, new_h, h), torch.where(keep, new_c, c)
            h, c = new_h, new_c
            if self.return_sequences:
                outputs.append(h)
        if self.stateful:
            self.states = [h.detach(), c.detach()]
        out = self._as_output(torch.stack(outputs, 1), 2) if self.return_sequences else self._as_output(h, 1)
        return (out, self._as_output(h, 1), self._as_output(c, 1)) if self.return_state else out

    def _as_output(self, y: torch.Tensor, channel_axis: int) -> torch.Tensor:
        return y.movedim(channel_axis, -1) if self._channels_last else y

    def reset_states(self) -> None:
        """Stateful layers: start the next batch from zero states."""
        if self.states is not None:
            self.states = [torch.zeros_like(s) for s in self.states]

    reset_state = reset_states

    def compute_output_shape(self, input_shape, initial_state_shape=None):
        state = self._state_shape(input_shape)
        out = (state[0], input_shape[1], *state[1:]) if self.return_sequences else state
        return (out, state, state) if self.return_state else out

    def compute_mask(self, inputs, mask=None):
        """Mask of the (first) output: the input's time mask with ``return_sequences``, else ``None``."""
        mask = _time_mask(mask)
        return mask if self.return_sequences else None

    def get_config(self):
        return {
            **super().get_config(),
            **sequence_config(self),
            "filters": self.filters,
            "kernel_size": self.kernel_size,
            "strides": self.strides,
            "padding": self.padding,
            "data_format": self.data_format,
            "dilation_rate": self.dilation_rate,
            "activation": _activations.serialize(self.activation),
            "recurrent_activation": _activations.serialize(self.recurrent_activation),
            "use_bias": self.use_bias,
            "unit_forget_bias": self.unit_forget_bias,
            **serialize_weight_args(self, _PREFIXES),
            "activity_regularizer": _regularizers.serialize(self.activity_regularizer),
            "dropout": self.dropout,
            "recurrent_dropout": self.recurrent_dropout,
            "seed": self.seed,
        }


class ConvLSTM1D(_ConvLSTM):
    """LSTM whose gates are 1-D convolutions, over sequences of signals ``(batch, time, steps,
    channels)``; outputs ``(batch, [time,] new_steps, filters)``.

    Weights (Keras layout): ``kernel (k, channels, 4*filters)``, ``recurrent_kernel (k, filters,
    4*filters)``, ``bias (4*filters,)``.

    >>> dn.layers.ConvLSTM1D(filters=4, kernel_size=3)(torch.ones(2, 5, 10, 3)).shape
    torch.Size([2, 8, 4])
    """

    rank = 1


class ConvLSTM2D(_ConvLSTM):
    """LSTM whose gates are 2-D convolutions, over sequences of images ``(batch, time, height,
    width, channels)``; outputs ``(batch, [time,] new_height, new_width, filters)``.

    Weights (Keras layout): ``kernel (kh, kw, channels, 4*filters)``, ``recurrent_kernel (kh, kw,
    filters, 4*filters)``, ``bias (4*filters,)``.

    >>> layer = dn.layers.ConvLSTM2D(filters=4, kernel_size=3, padding="same", return_sequences=True)
    >>> layer(torch.ones(2, 5, 8, 8, 3)).shape
    torch.Size([2, 5, 8, 8, 4])
    """

    rank = 2


class ConvLSTM3D(_ConvLSTM):
    """LSTM whose gates are 3-D convolutions, over sequences of volumes ``(batch, time, depth,
    height, width, channels)``; outputs ``(batch, [time,] new_depth, new_height, new_width,
    filters)``.

    Weights (Keras layout): ``kernel (kd, kh, kw, channels, 4*filters)``, ``recurrent_kernel (kd,
    kh, kw, filters, 4*filters)``, ``bias (4*filters,)``.

    >>> dn.layers.ConvLSTM3D(filters=2, kernel_size=3)(torch.ones(1, 3, 5, 5, 5, 1)).shape
    torch.Size([1, 3, 3, 3, 2])
    """

    rank = 3
