"""Audio preprocessing layers with Keras 3.15 names, arguments and numerics: STFTSpectrogram
(a short-time Fourier transform as a strided 1-D convolution with trainable Fourier kernels)
and MelSpectrogram (an STFT, a mel filter bank and decibel scaling, no weights).

>>> dn.layers.MelSpectrogram(fft_length=64, sequence_stride=32, num_mel_bins=8)(torch.rand(2, 256)).shape
torch.Size([2, 8, 9])
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from ..ops import math as math_ops
from ..utils.validation import Interval, NoneOr, Options, Real, validate_params
from ._checks import BOOL, DATA_FORMAT, POSITIVE_INT
from .base import Layer

__all__ = ["MelSpectrogram", "STFTSpectrogram", "stft_kernel"]

_WINDOWS = {
    "hann": torch.hann_window, "hamming": torch.hamming_window, "blackman": torch.blackman_window,
    "bartlett": torch.bartlett_window, "boxcar": lambda n, periodic, dtype: torch.ones(n, dtype=dtype),
}
_EPSILON = 1e-7  # Keras' backend.epsilon()
_POSITIVE = Interval(Real, 0, None, closed="neither")
_NON_NEGATIVE = Interval(Real, 0, None)


def stft_kernel(side: str, frame_length: int, bins: int, window="hann", scaling="density",
                periodic: bool = False, dtype=torch.float32) -> torch.Tensor:
    """Keras' STFT initializer: the ``(frame_length, 1, bins)`` cosine (``side="real"``) or
    sine (``"imag"``) Fourier kernels ``±trig(-2 pi t f / (2 (bins - 1)))`` times the window,
    divided by its L2 norm (``scaling="density"``) or its sum (``"spectrum"``).

    >>> stft_kernel("real", 4, 3, window=None)[:, 0, 0]
    tensor([1., 1., 1., 1.])
    """
    time = torch.arange(frame_length, dtype=dtype).view(-1, 1, 1)
    freq = torch.arange(bins, dtype=dtype).view(1, 1, -1) / ((bins - 1) * 2)
    args = -2 * time * freq * math.pi
    kernel = torch.cos(args) if side == "real" else torch.sin(args)
    if window is None:
        return kernel
    win = _WINDOWS[window](frame_length, periodic=periodic, dtype=torch.float64).to(dtype).view(-1, 1, 1)
    scale = {"density": lambda: win.square().sum().sqrt(), "spectrum": lambda: win.abs().sum()}.get(
        scaling, lambda: 1.0)()
    return kernel * win / scale


def _same_padding(length: int, kernel: int, stride: int) -> tuple[int, int]:
    """Keras' 'same' padding (the odd sample on the right)."""
    total = kernel - 1 if stride == 1 else max(0, (-(-length // stride) - 1) * stride + kernel - length)
    return total // 2, total - total // 2


class STFTSpectrogram(Layer):
    """Spectrogram of each channel of a signal by a short-time Fourier transform, computed as a
    strided 1-D convolution with Fourier kernels (trainable, initialised as Keras' ``STFT``
    initializer does).

    Args:
        mode: ``"log"`` (default: log magnitude), ``"magnitude"``, ``"psd"`` (power, the
            interior bins doubled), ``"real"``, ``"imag"``, ``"angle"`` or ``"stft"`` (real and
            imaginary parts concatenated on the frequency axis).
        frame_length: samples per frame (default 256).
        frame_step: samples between frames, in ``[1, frame_length]`` (default half a frame).
        fft_length: FFT size, at least ``frame_length`` (default: the next power of two);
            ``fft_length // 2 + 1`` frequency bins.
        window: ``"hann"`` (default), ``"hamming"``, ``"blackman"``, ``"bartlett"``,
            ``"boxcar"`` or ``None``; ``periodic`` chooses the periodic form (default False:
            symmetric, as ``scipy.signal.get_window(..., fftbins=False)``).
        scaling: ``"density"`` (default), ``"spectrum"`` or ``None``.
        padding: ``"valid"`` (default) or ``"same"``.
        expand_dims: keep channels on their own axis (default False: merged with frequency).
        data_format: ``"channels_last"`` (default): inputs ``(batch, time, channels)``, outputs
            ``(batch, frames, channels * bins)`` or ``(batch, frames, bins, channels)``;
            ``"channels_first"``: ``(batch, channels, time)`` to ``(batch, channels * bins,
            frames)`` or ``(batch, channels, frames, bins)``.

    Weights (Keras layout): ``real_kernel`` and ``imag_kernel`` ``(frame_length, 1, bins)``
    (``real`` mode has only the first, ``imag`` only the second).

    >>> layer = dn.layers.STFTSpectrogram(frame_length=16, frame_step=8)
    >>> layer(torch.rand(2, 64, 1)).shape
    torch.Size([2, 7, 9])
    """

    @validate_params({
        "mode": Options(("log", "magnitude", "psd", "real", "imag", "angle", "stft")),
        "frame_length": POSITIVE_INT, "frame_step": NoneOr(POSITIVE_INT), "fft_length": NoneOr(POSITIVE_INT),
        "window": NoneOr(Options(tuple(_WINDOWS))), "periodic": BOOL,
        "scaling": NoneOr(Options(("density", "spectrum"))), "padding": Options(("valid", "same")),
        "expand_dims": BOOL, "data_format": DATA_FORMAT,
    })
    def __init__(self, mode="log", frame_length=256, frame_step=None, fft_length=None, window="hann", periodic=False,
                 scaling="density", padding="valid", expand_dims=False, data_format=None, **kwargs):
        super().__init__(**kwargs)
        if frame_step is not None and frame_step > frame_length:
            raise ValueError(f"STFTSpectrogram: `frame_step` must be in [1, frame_length={frame_length}]. "
                             f"Received: frame_step={frame_step}")
        if fft_length is not None and fft_length < frame_length:
            raise ValueError(f"STFTSpectrogram: `fft_length` must be at least frame_length={frame_length}. "
                             f"Received: fft_length={fft_length}")
        self.mode, self.frame_length, self.frame_step, self.fft_length = mode, frame_length, frame_step, fft_length
        self.window, self.periodic, self.scaling, self.padding = window, periodic, scaling, padding
        self.expand_dims, self.data_format = expand_dims, data_format
        self._step = frame_step or frame_length // 2
        self._fft = fft_length or 2 ** int(math.ceil(math.log2(frame_length)))

    def build(self, input_shape):
        self._check_rank(input_shape, 3, "batch, time, channels" if self.data_format == "channels_last"
                         else "batch, channels, time")
        bins = self._fft // 2 + 1
        for side in ("real", "imag"):
            if self.mode != ("imag" if side == "real" else "real"):
                kernel = stft_kernel(side, self.frame_length, bins, self.window, self.scaling, self.periodic, self.dtype)
                self.add_weight(shape=(self.frame_length, 1, bins), initializer=lambda shape, dtype=None, k=kernel: k,
                                name=f"{side}_kernel")

    def _convolve(self, signal: torch.Tensor, kernel: torch.Tensor) -> torch.Tensor:
        """``(batch * channels, 1, time)`` to ``(batch * channels, bins, frames)``."""
        if self.padding == "same":
            signal = F.pad(signal, _same_padding(signal.shape[-1], self.frame_length, self._step))
        return F.conv1d(signal, kernel.to(signal.dtype).permute(2, 1, 0), stride=self._step)

    def _arrange(self, out: torch.Tensor, batch: int, channels: int) -> torch.Tensor:
        out = out.reshape(batch, channels, out.shape[-2], out.shape[-1])  # (batch, channels, bins, frames)
        if self.data_format == "channels_last":
            return out.permute(0, 3, 2, 1) if self.expand_dims else out.flatten(1, 2).transpose(1, 2)
        return out.transpose(2, 3) if self.expand_dims else out.flatten(1, 2)

    def call(self, inputs):
        if not inputs.is_floating_point():
            raise TypeError(f"STFTSpectrogram {self.name!r} expects a float16/32/64 signal; received {inputs.dtype}.")
        x = inputs.transpose(1, 2) if self.data_format == "channels_last" else inputs
        batch, channels = x.shape[0], x.shape[1]
        signal = x.reshape(batch * channels, 1, x.shape[-1])
        real = self._convolve(signal, self.real_kernel) if self.mode != "imag" else None
        imag = self._convolve(signal, self.imag_kernel) if self.mode != "real" else None
        if self.mode in ("real", "imag", "angle", "stft"):
            out = {"real": real, "imag": imag, "angle": None if real is None or imag is None
                   else torch.atan2(imag, real)}.get(self.mode)
            out = torch.cat([real, imag], dim=1) if self.mode == "stft" else out
            return self._arrange(out, batch, channels)
        power = real.square() + imag.square()
        if self.mode == "psd":
            return self._arrange(power + F.pad(power[:, 1:-1], (0, 0, 1, 1)), batch, channels)
        magnitude = self._arrange(power.clamp_min(_EPSILON).sqrt(), batch, channels)
        return magnitude if self.mode == "magnitude" else magnitude.clamp_min(_EPSILON).log()

    def compute_output_shape(self, input_shape):
        time, channels = (input_shape[1], input_shape[2]) if self.data_format == "channels_last" else (
            input_shape[2], input_shape[1])
        bins = (self._fft // 2 + 1) * (2 if self.mode == "stft" else 1)
        if time is None:
            frames = None
        elif self.padding == "same":
            frames = -(-time // self._step)
        else:
            frames = (time - self.frame_length) // self._step + 1
        if self.data_format == "channels_last":
            return (input_shape[0], frames, bins, channels) if self.expand_dims else (
                input_shape[0], frames, None if channels is None else bins * channels)
        return (input_shape[0], channels, frames, bins) if self.expand_dims else (
            input_shape[0], None if channels is None else bins * channels, frames)

    def get_config(self):
        return {**super().get_config(), "mode": self.mode, "frame_length": self.frame_length,
                "frame_step": self.frame_step, "fft_length": self.fft_length, "window": self.window,
                "periodic": self.periodic, "scaling": self.scaling, "padding": self.padding,
                "expand_dims": self.expand_dims, "data_format": self.data_format}


def _hertz_to_mel(hertz):
    return 1127.0 * torch.log(1.0 + hertz / 700.0)


def mel_matrix(num_mel_bins: int, num_spectrogram_bins: int, sampling_rate: float, lower_edge_hertz: float,
               upper_edge_hertz: float, dtype=torch.float32) -> torch.Tensor:
    """The ``(num_spectrogram_bins, num_mel_bins)`` triangular mel filter bank of Keras (and
    ``tf.signal``): HTK mel scale, the DC bin left at zero."""
    nyquist = sampling_rate / 2.0
    linear = torch.linspace(0.0, nyquist, num_spectrogram_bins, dtype=dtype)[1:]
    bins_mel = _hertz_to_mel(linear).unsqueeze(1)
    edges = torch.linspace(float(_hertz_to_mel(torch.tensor(float(lower_edge_hertz), dtype=dtype))),
                           float(_hertz_to_mel(torch.tensor(float(upper_edge_hertz), dtype=dtype))),
                           num_mel_bins + 2, dtype=dtype)
    lower, center, upper = edges[:-2], edges[1:-1], edges[2:]
    weights = torch.minimum((bins_mel - lower) / (center - lower), (upper - bins_mel) / (upper - center))
    return F.pad(weights.clamp_min(0.0), (0, 0, 1, 0))


class MelSpectrogram(Layer):
    """Mel spectrogram of 1-D signals: an STFT (``deepnet.ops.stft``, centred frames), the
    magnitude to the power ``mag_exp``, a triangular mel filter bank and, with
    ``power_to_db``, decibels relative to ``ref_power`` floored at ``top_db`` below the
    batch's maximum (Keras' rule). No weights.

    Args:
        fft_length: FFT size (default 2048); ``fft_length // 2 + 1`` linear bins.
        sequence_stride: samples between frames (default 512).
        sequence_length: samples per frame, at most ``fft_length`` (default ``fft_length``).
        window: ``"hann"`` (default), ``"hamming"`` or ``None``.
        sampling_rate: samples per second (default 16000).
        num_mel_bins: mel bands (default 128).
        min_freq: lowest band edge in Hz (default 20.0).
        max_freq: highest band edge in Hz (default: half the sampling rate).
        power_to_db: convert to decibels (default True).
        top_db: the dynamic range kept, in dB (default 80.0).
        mag_exp: the exponent of the magnitude (default 2.0: power).
        min_power: the floor of the power before the logarithm (default 1e-10).
        ref_power: the reference power of 0 dB (default 1.0).

    Inputs ``(batch, time)`` or ``(time,)``; outputs ``(batch, num_mel_bins, frames)`` with
    ``frames = 1 + time // sequence_stride``.

    >>> layer = dn.layers.MelSpectrogram(fft_length=64, sequence_stride=16, num_mel_bins=10)
    >>> layer(torch.rand(1, 128)).shape
    torch.Size([1, 10, 9])
    """

    @validate_params({
        "fft_length": POSITIVE_INT, "sequence_stride": POSITIVE_INT, "sequence_length": NoneOr(POSITIVE_INT),
        "window": NoneOr(Options(("hann", "hamming"))), "sampling_rate": _POSITIVE, "num_mel_bins": POSITIVE_INT,
        "min_freq": _NON_NEGATIVE, "max_freq": NoneOr(_POSITIVE), "power_to_db": BOOL, "top_db": _NON_NEGATIVE,
        "mag_exp": _POSITIVE, "min_power": _POSITIVE, "ref_power": Interval(Real, None, None),
    })
    def __init__(self, fft_length=2048, sequence_stride=512, sequence_length=None, window="hann", sampling_rate=16000,
                 num_mel_bins=128, min_freq=20.0, max_freq=None, power_to_db=True, top_db=80.0, mag_exp=2.0,
                 min_power=1e-10, ref_power=1.0, **kwargs):
        super().__init__(**kwargs)
        if sequence_length is not None and sequence_length > fft_length:
            raise ValueError(f"MelSpectrogram: `sequence_length` must be at most fft_length={fft_length}. "
                             f"Received: sequence_length={sequence_length}")
        self.fft_length, self.sequence_stride, self.sequence_length = fft_length, sequence_stride, sequence_length
        self.window, self.sampling_rate, self.num_mel_bins = window, sampling_rate, num_mel_bins
        self.min_freq, self.max_freq, self.power_to_db, self.top_db = min_freq, max_freq, power_to_db, top_db
        self.mag_exp, self.min_power, self.ref_power = mag_exp, min_power, ref_power

    def build(self, input_shape):
        self._check_rank(input_shape, (1, 2), "batch, time")

    def call(self, inputs):
        dtype = self.dtype if self.dtype in (torch.float32, torch.float64) else torch.float32
        x = torch.as_tensor(inputs).to(dtype)
        real, imag = math_ops.stft(x, self.sequence_length or self.fft_length, self.sequence_stride,
                                   self.fft_length, window=self.window, center=True)
        spec = (real.square() + imag.square()).sqrt().pow(self.mag_exp)
        matrix = mel_matrix(self.num_mel_bins, spec.shape[-1], self.sampling_rate, self.min_freq,
                            self.max_freq or int(self.sampling_rate / 2)).to(spec.device, spec.dtype)
        out = spec @ matrix
        if self.power_to_db:
            out = 10.0 * torch.log10(out.clamp_min(self.min_power))
            out = out - 10.0 * math.log10(max(abs(self.ref_power), self.min_power))
            out = torch.maximum(out, out.max() - self.top_db)
        return out.transpose(-1, -2)

    def compute_output_shape(self, input_shape):
        time = input_shape[-1]
        frames = None if time is None else 1 + time // self.sequence_stride
        return (*input_shape[:-1], self.num_mel_bins, frames)

    def get_config(self):
        return {**super().get_config(), "fft_length": self.fft_length, "sequence_stride": self.sequence_stride,
                "sequence_length": self.sequence_length, "window": self.window, "sampling_rate": self.sampling_rate,
                "num_mel_bins": self.num_mel_bins, "min_freq": self.min_freq, "max_freq": self.max_freq,
                "power_to_db": self.power_to_db, "top_db": self.top_db, "mag_exp": self.mag_exp,
                "min_power": self.min_power, "ref_power": self.ref_power}
