"""Keras' ``audio_dataset_from_directory``: WAV files in one folder per class, read with the
standard library's :mod:`wave` (PCM, 8/16/24/32-bit), as a batched dataset ``fit`` accepts."""

from __future__ import annotations

import wave
from numbers import Integral

import numpy as np
import torch
from torch.utils.data import default_collate

from ._param_validation import validate_params
from .data_utils import BatchedDataset
from .directory_datasets import _COMMON, _check_split, _encode, _Files, _subsets, index_directory
from .validation import Boolean, Interval, NoneOr

__all__ = ["audio_dataset_from_directory"]

_SCALE = {1: 128.0, 2: 32768.0, 3: 8388608.0, 4: 2147483648.0}


def read_wav(path) -> tuple[np.ndarray, int]:
    """``(samples, sampling_rate)`` of a PCM WAV file: float32 ``(frames, channels)`` in
    ``[-1, 1)``, scaled as TensorFlow's ``decode_wav``.

    >>> import wave
    >>> with wave.open("a.wav", "wb") as w:
    ...     w.setnchannels(1); w.setsampwidth(2); w.setframerate(8000)
    ...     w.writeframes(np.array([0, 16384], dtype="<i2").tobytes())
    >>> audio, rate = read_wav("a.wav")
    >>> audio.tolist(), rate
    ([[0.0], [0.5]], 8000)
    """
    with wave.open(str(path), "rb") as w:
        channels, width, rate = w.getnchannels(), w.getsampwidth(), w.getframerate()
        raw = w.readframes(w.getnframes())
    if width not in _SCALE:
        raise ValueError(f"read_wav: {path!r} has {8 * width}-bit samples; 8, 16, 24 and 32-bit PCM are supported.")
    if width == 1:
        values = np.frombuffer(raw, dtype=np.uint8).astype(np.float32) - 128.0
    elif width == 3:
        b = np.frombuffer(raw, dtype=np.uint8).reshape(-1, 3).astype(np.int32)
        values = ((b[:, 0] | (b[:, 1] << 8) | (b[:, 2] << 16)) << 8 >> 8).astype(np.float32)
    else:
        values = np.frombuffer(raw, dtype=f"<i{width}").astype(np.float32)
    return (values / _SCALE[width]).reshape(-1, channels), rate


class _WavReader:
    def __init__(self, sampling_rate, output_sequence_length):
        self.sampling_rate, self.length = sampling_rate, output_sequence_length

    def __call__(self, path):
        audio, rate = read_wav(path)
        if self.sampling_rate is not None and rate != self.sampling_rate:
            raise ValueError(f"audio_dataset_from_directory: {path!r} is sampled at {rate} Hz but "
                             f"sampling_rate={self.sampling_rate}; deepnet does not resample. help: resample the "
                             "files, or leave sampling_rate=None.")
        if self.length is not None:
            audio = audio[: self.length]
        return torch.from_numpy(np.ascontiguousarray(audio))


class _PadCollate:
    """Stacks a batch, padding each clip with zeros to the longest (or the fixed length)."""

    def __init__(self, length):
        self.length = length

    def __call__(self, items):
        labelled = isinstance(items[0], tuple)
        clips = [it[0] if labelled else it for it in items]
        longest = self.length or max(c.shape[0] for c in clips)
        audio = torch.stack([torch.nn.functional.pad(c, (0, 0, 0, longest - c.shape[0])) for c in clips])
        if not labelled:
            return audio
        return audio, default_collate([it[1] for it in items])


@validate_params({**_COMMON, "sampling_rate": NoneOr(Interval(Integral, 1, None)),
                  "output_sequence_length": NoneOr(Interval(Integral, 1, None)), "ragged": Boolean()})
def audio_dataset_from_directory(directory, labels="inferred", label_mode="int", class_names=None, batch_size=32,
                                 sampling_rate=None, output_sequence_length=None, ragged=False, shuffle=True,
                                 seed=None, validation_split=None, subset=None, follow_links=False, verbose=True):
    """Batches of ``(audio, labels)`` from ``directory/<class>/<clip>.wav`` (Keras' arguments).

    Audio: float32 ``(batch, frames, channels)`` in ``[-1, 1)``, cut to
    ``output_sequence_length`` when given, then zero-padded to the longest clip of the batch
    (or to ``output_sequence_length``). ``sampling_rate`` is checked, not resampled: a file at
    another rate is an error. ``ragged=True`` is refused (torch has no ragged tensors). Labels as
    in :func:`image_dataset_from_directory`; ``subset="both"`` returns two datasets.

    >>> import os, wave
    >>> for c in ("no", "yes"):
    ...     os.makedirs(f"speech/{c}")
    ...     with wave.open(f"speech/{c}/0.wav", "wb") as w:
    ...         w.setnchannels(1); w.setsampwidth(2); w.setframerate(16000)
    ...         w.writeframes(np.zeros(100 if c == "no" else 60, dtype="<i2").tobytes())
    >>> ds = dn.utils.audio_dataset_from_directory("speech", shuffle=False, verbose=False)
    >>> x, y = next(iter(ds))
    >>> tuple(x.shape), y.tolist(), ds.class_names
    ((2, 100, 1), [0, 1], ['no', 'yes'])
    """
    if ragged:
        raise ValueError("audio_dataset_from_directory: ragged=True needs ragged tensors, which torch does not "
                         "have. help: leave ragged=False (clips are zero-padded) or set output_sequence_length.")
    _check_split(validation_split, subset, shuffle, seed)
    paths, ids, names = index_directory(directory, labels, (".wav",), class_names, shuffle or bool(
        validation_split), seed, follow_links, verbose)
    if label_mode == "binary" and names is not None and len(names) != 2:
        raise ValueError(f"label_mode='binary' needs exactly 2 classes; found {len(names)}: {names}.")
    read = _WavReader(sampling_rate, output_sequence_length)
    out = []
    for sub_paths, sub_ids in _subsets(paths, ids, validation_split, subset):
        encoded = None if sub_ids is None or label_mode is None else _encode(sub_ids, label_mode, len(names))
        out.append(BatchedDataset(_Files(sub_paths, encoded, read), batch_size=batch_size, shuffle=shuffle,
                                  seed=seed, class_names=names, file_paths=sub_paths,
                                  collate_fn=None if batch_size is None else _PadCollate(output_sequence_length)))
    return out[0] if len(out) == 1 else out
