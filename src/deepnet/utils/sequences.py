"""Keras' ``pad_sequences``: a list of variable-length sequences -> one padded 2-D array."""

from __future__ import annotations

from numbers import Integral

import numpy as np

from ._param_validation import validate_params
from .validation import Interval, NoneOr, Options

__all__ = ["pad_sequences"]

_SIDE = Options(("pre", "post"))


def _sample_shape(sequences) -> tuple:
    for s in sequences:
        if len(s):
            return np.asarray(s).shape[1:]
    return ()


def _check_value(value, dtype) -> None:
    kind = np.dtype(dtype).kind if dtype is not object else "O"
    if isinstance(value, str) and kind not in ("U", "S", "O"):
        raise ValueError(f"pad_sequences: `value`={value!r} is a string but `dtype`={dtype!r} is not. help: "
                         "pass dtype=object (or a string dtype) for string sequences.")


@validate_params({"maxlen": NoneOr(Interval(Integral, 0, None)), "padding": _SIDE, "truncating": _SIDE})
def pad_sequences(sequences, maxlen=None, dtype="int32", padding="pre", truncating="pre", value=0.0):
    """Pad (or truncate) every sequence to ``maxlen``: a ``(num_samples, maxlen, ...)`` array.

    ``maxlen`` defaults to the longest sequence; ``padding`` / ``truncating`` say which end
    (``"pre"`` or ``"post"``) is filled with ``value`` or cut, as in Keras.

    >>> dn.utils.pad_sequences([[1, 2, 3], [4]], maxlen=2, padding="post")
    array([[2, 3],
           [4, 0]], dtype=int32)
    """
    if not hasattr(sequences, "__len__"):
        raise ValueError(f"pad_sequences expects a list of sequences; received {type(sequences).__name__}.")
    lengths = []
    for i, s in enumerate(sequences):
        if not hasattr(s, "__len__"):
            raise ValueError(f"pad_sequences: sequences[{i}] is not a sequence (received "
                             f"{type(s).__name__} {s!r}). help: pass a list of lists.")
        lengths.append(len(s))
    maxlen = int(maxlen) if maxlen is not None else (max(lengths) if lengths else 0)
    _check_value(value, dtype)
    sample_shape = _sample_shape(sequences)
    out = np.full((len(lengths), maxlen, *sample_shape), value, dtype=dtype)
    for i, s in enumerate(sequences):
        if not len(s) or maxlen == 0:
            continue
        kept = np.asarray(s[-maxlen:] if truncating == "pre" else s[:maxlen], dtype=dtype)
        if kept.shape[1:] != sample_shape:
            raise ValueError(f"pad_sequences: sequences[{i}] has elements of shape {kept.shape[1:]}, "
                             f"the others {sample_shape}; all elements must have the same shape.")
        if padding == "post":
            out[i, :len(kept)] = kept
        else:
            out[i, maxlen - len(kept):] = kept
    return out
