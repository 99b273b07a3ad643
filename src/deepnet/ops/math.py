"""The ``keras.ops`` math ops (Keras' ``ops.math``): segment reductions, top-k, FFTs and STFTs
(complex values as ``(real, imag)`` pairs, as Keras passes them), special functions.

>>> dn.ops.math.logsumexp(torch.tensor([0.0, 0.0]))
tensor(0.6931)
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from ._dispatch import as_tensor, keras_op
from ._dispatch import to_float as as_float

__all__ = [
    "cdist", "erf", "erfc", "erfinv", "extract_sequences", "fft", "fft2", "ifft2", "in_top_k",
    "irfft", "istft", "logdet", "logsumexp", "rfft", "rsqrt", "segment_max", "segment_min",
    "segment_prod", "segment_sum", "stft", "top_k", "view_as_complex", "view_as_real",
]

_EMPTY = {"sum": 0.0, "prod": 1.0, "amax": float("-inf"), "amin": float("inf")}


def _segment(data, segment_ids, num_segments, reduce):
    data, ids = as_tensor(data), as_tensor(segment_ids).long()
    if num_segments is None:
        num_segments = int(ids.max()) + 1 if ids.numel() else 0
    # out-of-range ids go to an extra row that is dropped
    ids = torch.where((ids >= 0) & (ids < num_segments), ids, num_segments)
    work = data.float() if not data.is_floating_point() else data
    out = torch.full((num_segments + 1, *data.shape[1:]), _EMPTY[reduce], dtype=work.dtype,
                     device=data.device)
    index = ids.reshape(-1, *([1] * (data.ndim - 1))).expand_as(data)
    return out.scatter_reduce(0, index, work, reduce)[:-1].to(data.dtype)


@keras_op
def segment_sum(data, segment_ids, num_segments=None, sorted=False):
    """Sums of the rows of ``data`` that share a segment id (0 for an empty segment).

    >>> dn.ops.segment_sum(torch.tensor([1.0, 2.0, 3.0]), torch.tensor([0, 0, 1]))
    tensor([3., 3.])
    """
    return _segment(data, segment_ids, num_segments, "sum")


@keras_op
def segment_max(data, segment_ids, num_segments=None, sorted=False):
    """Maxima of the rows of ``data`` per segment id (-inf for an empty segment).

    >>> dn.ops.segment_max(torch.tensor([1.0, 2.0, 3.0]), torch.tensor([0, 0, 1]))
    tensor([2., 3.])
    """
    return _segment(data, segment_ids, num_segments, "amax")


@keras_op
def segment_min(data, segment_ids, num_segments=None, sorted=False):
    """Minima of the rows of ``data`` per segment id (inf for an empty segment).

    >>> dn.ops.segment_min(torch.tensor([1.0, 2.0, 3.0]), torch.tensor([0, 0, 1]))
    tensor([1., 3.])
    """
    return _segment(data, segment_ids, num_segments, "amin")


@keras_op
def segment_prod(data, segment_ids, num_segments=None, sorted=False):
    """Products of the rows of ``data`` per segment id (1 for an empty segment).

    >>> dn.ops.segment_prod(torch.tensor([2.0, 3.0, 4.0]), torch.tensor([0, 0, 1]))
    tensor([6., 4.])
    """
    return _segment(data, segment_ids, num_segments, "prod")


@keras_op
def top_k(x, k, sorted=True):
    """The ``k`` largest values along the last axis and their indices.

    >>> dn.ops.top_k(torch.tensor([1.0, 3.0, 2.0]), 2)
    torch.return_types.topk(
    values=tensor([3., 2.]),
    indices=tensor([1, 2]))
    """
    return torch.topk(as_tensor(x), k, sorted=sorted)


@keras_op
def in_top_k(targets, predictions, k):
    """Whether each target class is among the ``k`` highest predictions of its row (ties count).

    >>> dn.ops.in_top_k(torch.tensor([1, 0]), torch.tensor([[0.1, 0.9], [0.2, 0.8]]), 1)
    tensor([ True, False])
    """
    predictions = as_tensor(predictions)
    target_values = predictions.gather(-1, as_tensor(targets).long()[:, None])
    kth = torch.topk(predictions, k).values[..., -1:]
    return (target_values >= kth).any(dim=-1)


@keras_op
def logsumexp(x, axis=None, keepdims=False):
    """``log(sum(exp(x)))`` over ``axis`` (all axes by default), computed stably.

    >>> dn.ops.logsumexp(torch.tensor([0.0, 0.0]))
    tensor(0.6931)
    """
    x = as_float(x)
    dims = tuple(range(x.ndim)) if axis is None else axis
    return torch.logsumexp(x, dim=dims, keepdim=keepdims)


@keras_op
def cdist(x, y):
    """Euclidean distances between the rows of ``x`` ``(..., n, d)`` and ``y`` ``(..., m, d)``.

    >>> dn.ops.cdist(torch.tensor([[0.0, 0.0]]), torch.tensor([[3.0, 4.0]]))
    tensor([[5.]])
    """
    x, y = as_float(x), as_float(y)
    if x.ndim < 2 or y.ndim < 2 or x.shape[-1] != y.shape[-1]:
        raise ValueError("ops.cdist expects inputs of rank >= 2 with the same last dimension. "
                         f"Received: x.shape={tuple(x.shape)}, y.shape={tuple(y.shape)}")
    diff = x.unsqueeze(-2) - y.unsqueeze(-3)
    return torch.sqrt((diff * diff).sum(-1))


@keras_op
def extract_sequences(x, sequence_length, sequence_stride):
    """Frames of ``sequence_length`` samples every ``sequence_stride`` along the last axis.

    >>> dn.ops.extract_sequences(torch.arange(5.0), 2, 2)
    tensor([[0., 1.],
            [2., 3.]])
    """
    return as_tensor(x).unfold(-1, sequence_length, sequence_stride)


def _complex(x, op):
    if not isinstance(x, (tuple, list)) or len(x) != 2:
        raise ValueError(f"ops.{op} expects `x` as a tuple (real, imag) of two float tensors. "
                         f"Received: {type(x).__name__}")
    real, imag = as_tensor(x[0]), as_tensor(x[1])
    if real.shape != imag.shape or not (real.is_floating_point() and imag.is_floating_point()):
        raise ValueError(f"ops.{op}: the real and imaginary parts must be float tensors of one "
                         f"shape. Received: {real.dtype} {tuple(real.shape)} and "
                         f"{imag.dtype} {tuple(imag.shape)}")
    return torch.complex(real, imag)


def _pair(z: torch.Tensor):
    return z.real, z.imag


@keras_op
def fft(x):
    """The FFT along the last axis of ``x = (real, imag)``; returns ``(real, imag)``.

    >>> dn.ops.fft((torch.tensor([1.0, 0.0]), torch.zeros(2)))[0]
    tensor([1., 1.])
    """
    return _pair(torch.fft.fft(_complex(x, "fft")))


@keras_op
def fft2(x):
    """The 2-D FFT over the last two axes of ``x = (real, imag)``; returns ``(real, imag)``.

    >>> dn.ops.fft2((torch.ones(2, 2), torch.zeros(2, 2)))[0]
    tensor([[4., 0.],
            [0., 0.]])
    """
    return _pair(torch.fft.fft2(_complex(x, "fft2")))


@keras_op
def ifft2(x):
    """The inverse 2-D FFT over the last two axes of ``x = (real, imag)``.

    >>> dn.ops.ifft2((torch.tensor([[4.0, 0.0], [0.0, 0.0]]), torch.zeros(2, 2)))[0]
    tensor([[1., 1.],
            [1., 1.]])
    """
    return _pair(torch.fft.ifft2(_complex(x, "ifft2")))


@keras_op
def rfft(x, fft_length=None):
    """The FFT of a real signal along its last axis: ``(real, imag)`` of ``fft_length // 2 + 1``
    bins.

    >>> dn.ops.rfft(torch.tensor([1.0, 1.0]))[0]
    tensor([2., 0.])
    """
    return _pair(torch.fft.rfft(as_float(x), n=fft_length, dim=-1))


@keras_op
def irfft(x, fft_length=None):
    """The inverse of :func:`rfft`: a real signal from ``(real, imag)`` bins.

    >>> dn.ops.irfft((torch.tensor([2.0, 0.0]), torch.zeros(2)))
    tensor([1., 1.])
    """
    return torch.fft.irfft(_complex(x, "irfft"), n=fft_length, dim=-1)


def _window(window, length, dtype, device, op):
    """The analysis window: "hann", "hamming" (periodic), a 1-D tensor, or None (ones)."""
    if window is None:
        return torch.ones(length, dtype=dtype, device=device)
    if isinstance(window, str):
        makers = {"hann": torch.hann_window, "hamming": torch.hamming_window}
        if window not in makers:
            raise ValueError(f"ops.{op}: `window` must be 'hann', 'hamming', a 1-D tensor or "
                             f"None. Received: window={window!r}")
        return makers[window](length, periodic=True, dtype=dtype, device=device)
    win = as_tensor(window).to(dtype=dtype, device=device)
    if win.shape != (length,):
        raise ValueError(f"ops.{op}: `window` must have shape ({length},) (sequence_length). "
                         f"Received: {tuple(win.shape)}")
    return win


@keras_op
def stft(x, sequence_length, sequence_stride, fft_length, window="hann", center=True):
    """Short-time Fourier transform along the last axis: ``(real, imag)`` of shape
    ``(..., frames, fft_length // 2 + 1)``.

    >>> [t.shape for t in dn.ops.stft(torch.ones(16), 8, 4, 8)]
    [torch.Size([5, 5]), torch.Size([5, 5])]
    """
    x = as_tensor(x)
    if x.dtype not in (torch.float32, torch.float64):
        raise TypeError(f"ops.stft expects float32 or float64 input. Received: {x.dtype}")
    if fft_length < sequence_length:
        raise ValueError("ops.stft: `fft_length` must be >= `sequence_length`. Received: "
                         f"sequence_length={sequence_length}, fft_length={fft_length}")
    win = _window(window, sequence_length, x.dtype, x.device, "stft")
    flat = x.reshape(-1, x.shape[-1])
    z = torch.stft(flat, n_fft=fft_length, hop_length=sequence_stride, win_length=sequence_length,
                   window=win, center=center, return_complex=True)
    z = z.reshape(*x.shape[:-1], *z.shape[-2:]).transpose(-1, -2)
    return _pair(z)


def _overlap_add(frames: torch.Tensor, stride: int) -> torch.Tensor:
    """Sums frames ``(..., n, length)`` placed every ``stride`` samples."""
    *batch, n, length = frames.shape
    cols = frames.reshape(-1, n, length).transpose(1, 2)
    out = F.fold(cols, (1, (n - 1) * stride + length), (1, length), stride=(1, stride))
    return out.reshape(*batch, -1)


@keras_op
def istft(x, sequence_length, sequence_stride, fft_length, length=None, window="hann", center=True):
    """Inverse of :func:`stft` from ``(real, imag)``: windowed overlap-add, the window
    normalised so that a forward and inverse transform give back the signal.

    >>> y = dn.ops.istft(dn.ops.stft(torch.ones(16), 8, 4, 8), 8, 4, 8)
    >>> torch.allclose(y, torch.ones(16), atol=1e-5)
    True
    """
    z = _complex(x, "istft")
    if sequence_length == fft_length and center and window is not None:
        # torch's inverse divides by the actual window envelope (exact at the edges too)
        win = _window(window, sequence_length, z.real.dtype, z.device, "istft")
        flat = z.reshape(-1, *z.shape[-2:]).transpose(-1, -2)
        y = torch.istft(flat, n_fft=fft_length, hop_length=sequence_stride,
                        win_length=sequence_length, window=win, center=True, length=length)
        return y.reshape(*z.shape[:-2], y.shape[-1])
    frames = torch.fft.irfft(z, n=fft_length, dim=-1)
    if window is not None:
        win = _window(window, sequence_length, frames.dtype, frames.device, "istft")
        left = (fft_length - sequence_length) // 2
        win = F.pad(win, (left, fft_length - sequence_length - left))
        overlaps = -(-fft_length // sequence_stride)
        squares = F.pad(win * win, (0, overlaps * sequence_stride - fft_length))
        denom = squares.reshape(overlaps, sequence_stride).sum(0).repeat(overlaps)[:fft_length]
        frames = frames * (win / denom)
    signal = _overlap_add(frames, sequence_stride)
    start = fft_length // 2 if center else 0
    if length is not None:
        return signal[..., start:start + length]
    if center:
        return signal[..., start:signal.shape[-1] - fft_length // 2]
    return signal[..., :fft_length + sequence_stride * (frames.shape[-2] - 1)]


@keras_op
def rsqrt(x):
    """``1 / sqrt(x)``.

    >>> dn.ops.rsqrt(torch.tensor([4.0]))
    tensor([0.5000])
    """
    return torch.rsqrt(as_float(x))


@keras_op
def erf(x):
    """The Gauss error function.

    >>> dn.ops.erf(torch.tensor([0.0]))
    tensor([0.])
    """
    return torch.erf(as_float(x))


@keras_op
def erfc(x):
    """The complementary error function ``1 - erf(x)``.

    >>> dn.ops.erfc(torch.tensor([0.0]))
    tensor([1.])
    """
    return torch.erfc(as_float(x))


@keras_op
def erfinv(x):
    """The inverse error function.

    >>> dn.ops.erfinv(torch.tensor([0.0]))
    tensor([0.])
    """
    return torch.erfinv(as_float(x))


@keras_op
def logdet(x):
    """The natural log of the determinant of (a batch of) square matrices.

    >>> dn.ops.logdet(torch.eye(2) * 2)
    tensor(1.3863)
    """
    return torch.logdet(as_float(x))


@keras_op
def view_as_complex(x):
    """A complex tensor from a real one whose last axis (size 2) holds (real, imag).

    >>> dn.ops.view_as_complex(torch.tensor([[1.0, 2.0]]))
    tensor([1.+2.j])
    """
    x = as_float(x)
    if x.shape[-1:] != (2,):
        raise ValueError("ops.view_as_complex expects a last axis of size 2 (real, imag). "
                         f"Received shape {tuple(x.shape)}")
    return torch.view_as_complex(x.contiguous())


@keras_op
def view_as_real(x):
    """A real tensor with a last axis of size 2 holding the (real, imag) parts of ``x``.

    >>> dn.ops.view_as_real(torch.tensor([1.0 + 2.0j]))
    tensor([[1., 2.]])
    """
    x = as_tensor(x)
    if not x.is_complex():
        raise ValueError(f"ops.view_as_real expects a complex tensor. Received dtype {x.dtype}")
    return torch.view_as_real(x)
