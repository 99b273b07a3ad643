"""TextVectorization: strings to token indices or bag-of-words vectors (Keras 3 arguments).

Steps, as in Keras: standardize (``"lower_and_strip_punctuation"`` lower-cases ASCII letters
and removes ASCII punctuation, as TensorFlow's string ops do), split (``"whitespace"`` or
``"character"``), n-grams (joined by a space, all widths of ``ngrams`` in order), then a
:class:`~deepnet.layers.StringLookup` with mask token ``""`` (index 0) and one OOV slot
``"[UNK]"`` (index 1). ``standardize`` and ``split`` may be callables working on a NumPy array
of strings (standardize) or on one string (split returning a list of tokens); callables are
not saved in configs.

The layer runs on data, not inside a model graph: call it on a list / NumPy array of strings
(or use it in a data pipeline) and feed the returned tensor to the model, as Keras does
without TensorFlow. The vocabulary is part of the config, so it is saved with the model.
"""

from __future__ import annotations

import re

import numpy as np
import torch

from ..utils.validation import (
    AnyOf,
    Callable,
    Constraint,
    InstanceOf,
    NoneOr,
    Options,
    Rejected,
    String,
    validate_params,
)
from ._checks import BOOL, POSITIVE_INT
from ._encoding import DataLayer, as_array, iter_batches
from .lookup import StringLookup

__all__ = ["TextVectorization"]

_PUNCTUATION = re.compile(r"[!\"#$%&()\*\+,\-\./:;<=>?@\[\\\]^_`{|}~']")
_WHITESPACE = re.compile(r"[ \t\n\r\v\f]+")
_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")
_STANDARDIZE = AnyOf(None, Options(("lower_and_strip_punctuation", "lower", "strip_punctuation")), Callable(),
                     description="None, 'lower_and_strip_punctuation', 'lower', 'strip_punctuation' or a callable")
_SPLIT = AnyOf(None, Options(("whitespace", "character")), Callable(),
               description="None, 'whitespace', 'character' or a callable")


class _Ngrams(Constraint):
    """None, a positive int ``n`` (widths 1..n) or a tuple of positive ints."""

    description = "None, a positive integer or a tuple of positive integers"

    def convert(self, value):
        if value is None or (POSITIVE_INT.accepts(value) and not isinstance(value, (list, tuple))):
            return value
        if isinstance(value, (list, tuple)) and value and all(POSITIVE_INT.accepts(v) for v in value):
            return tuple(int(v) for v in value)
        raise Rejected(type_error=not isinstance(value, (int, list, tuple)))


_NGRAMS = _Ngrams()


def _ngrams(tokens: list[str], widths) -> list[str]:
    out: list[str] = []
    for n in widths:
        out.extend(" ".join(tokens[i:i + n]) for i in range(len(tokens) - n + 1))
    return out


class TextVectorization(DataLayer):
    """Turns strings into token indices, or multi-hot / count / TF-IDF vectors (see the module
    docstring for the steps).

    Args:
        max_tokens: the largest vocabulary, the mask and OOV tokens included.
        standardize: ``"lower_and_strip_punctuation"`` (default), ``"lower"``,
            ``"strip_punctuation"``, None or a callable.
        split: ``"whitespace"`` (default), ``"character"``, None or a callable.
        ngrams: None, an int ``n`` (1- to n-grams) or a tuple of widths.
        output_mode: ``"int"`` (default), ``"multi_hot"``, ``"count"`` or ``"tf_idf"``.
        output_sequence_length: ``"int"`` mode: pad or cut every row to this length (without
            it, rows are padded with 0 to the longest in the batch).
        pad_to_max_tokens: vectors have ``max_tokens`` entries.
        vocabulary, idf_weights: a fixed vocabulary (list or file) and its IDF weights.
        sparse, ragged: must be False (no sparse or ragged tensors in deepnet).
        encoding: the encoding of byte strings.

    >>> layer = dn.layers.TextVectorization(output_sequence_length=4)
    >>> layer.adapt(["The cat sat.", "The dog!"])
    >>> layer.get_vocabulary()
    ['', '[UNK]', 'the', 'sat', 'dog', 'cat']
    >>> layer(["the cat ran"])
    tensor([[2, 5, 1, 0]])
    """

    @validate_params({"max_tokens": NoneOr(POSITIVE_INT), "standardize": _STANDARDIZE, "split": _SPLIT,
                      "ngrams": _NGRAMS, "output_mode": Options(("int", "multi_hot", "count", "tf_idf", "one_hot",
                                                                  "binary", "tf-idf")),
                      "output_sequence_length": NoneOr(POSITIVE_INT), "pad_to_max_tokens": BOOL,
                      "vocabulary": AnyOf(None, String(), InstanceOf(list, tuple, object, description="a list")),
                      "idf_weights": NoneOr(InstanceOf(list, tuple, object, description="a list of numbers")),
                      "sparse": BOOL, "ragged": BOOL, "encoding": String()})
    def __init__(self, max_tokens=None, standardize="lower_and_strip_punctuation", split="whitespace", ngrams=None,
                 output_mode="int", pad_to_max_tokens=False, output_sequence_length=None, vocabulary=None,
                 idf_weights=None, sparse=False, ragged=False, encoding="utf-8", **kwargs):
        super().__init__(**kwargs)
        output_mode = {"binary": "multi_hot", "tf-idf": "tf_idf"}.get(output_mode, output_mode)
        if output_mode != "int" and output_sequence_length is not None:
            raise ValueError("TextVectorization: `output_sequence_length` is only used with output_mode='int'. "
                             f"Received: output_mode={output_mode!r}, output_sequence_length={output_sequence_length}")
        if ragged:
            raise ValueError("TextVectorization: `ragged=True` needs ragged tensors, which deepnet does not have. "
                             "help: leave ragged=False (rows are padded with 0).")
        self.max_tokens, self.standardize, self.split = max_tokens, standardize, split
        self.ngrams, self.output_mode = ngrams, output_mode
        self.output_sequence_length, self.pad_to_max_tokens = output_sequence_length, pad_to_max_tokens
        self.sparse, self.ragged, self.encoding = sparse, ragged, encoding
        self._widths = tuple(range(1, ngrams + 1)) if isinstance(ngrams, int) else ngrams
        self._lookup_layer = StringLookup(max_tokens=max_tokens, vocabulary=vocabulary, idf_weights=idf_weights,
                                          pad_to_max_tokens=pad_to_max_tokens, mask_token="", output_mode=output_mode,
                                          sparse=sparse, encoding=encoding, name=f"{self.name}_lookup")

    # -- text processing -----------------------------------------------------------------------
    def _standardize(self, texts: np.ndarray) -> np.ndarray:
        mode = self.standardize
        if callable(mode):
            return as_array(self, mode(texts.astype(str)))
        if mode in ("lower", "lower_and_strip_punctuation"):
            texts = np.vectorize(lambda t: t.translate(_ASCII_LOWER), otypes=[object])(texts)
        if mode in ("strip_punctuation", "lower_and_strip_punctuation"):
            texts = np.vectorize(lambda t: _PUNCTUATION.sub("", t), otypes=[object])(texts)
        return texts

    def _tokens(self, text: str) -> list[str]:
        if self.split is None:
            tokens = [text]
        elif self.split == "whitespace":
            tokens = [t for t in _WHITESPACE.split(text) if t]
        elif self.split == "character":
            tokens = list(text)
        else:
            tokens = [str(t) for t in self.split(text)]
        return _ngrams(tokens, self._widths) if self._widths else tokens

    def _preprocess(self, inputs) -> list[list[str]]:
        texts = as_array(self, inputs)
        if texts.dtype != object:
            raise TypeError(f"TextVectorization {self.name!r} expects strings; received values of dtype "
                            f"{texts.dtype}.")
        if texts.ndim == 0:
            texts = texts.reshape(1)
        if texts.ndim == 2 and texts.shape[-1] == 1:
            texts = texts[:, 0]
        if texts.ndim != 1:
            raise ValueError(f"TextVectorization {self.name!r} takes a batch of strings of shape (batch,) or "
                             f"(batch, 1); received shape {texts.shape}.")
        texts = self._standardize(texts)
        return [self._tokens(t) for t in texts.tolist()]

    # -- vocabulary ----------------------------------------------------------------------------
    def adapt(self, data, batch_size=None, steps=None) -> None:
        """Learn the vocabulary (and IDF weights) from texts: a list, an array or an iterable of
        batches of strings (``batch_size`` is accepted for Keras compatibility)."""
        batches = [self._preprocess(b) for b in iter_batches(self, data, steps)]
        rows = [row for batch in batches for row in batch]
        width = max((len(r) for r in rows), default=0)
        padded = np.array([r + [""] * (width - len(r)) for r in rows], dtype=object).reshape(len(rows), width)
        self._lookup_layer.adapt(padded)

    def get_vocabulary(self, include_special_tokens=True) -> list:
        """The vocabulary in index order (``""`` and ``"[UNK]"`` first in ``"int"`` mode)."""
        return self._lookup_layer.get_vocabulary(include_special_tokens)

    def vocabulary_size(self) -> int:
        """The number of indices, the special ones included."""
        return self._lookup_layer.vocabulary_size()

    def set_vocabulary(self, vocabulary, idf_weights=None) -> None:
        """Replace the vocabulary (and, in ``tf_idf`` mode, the IDF weights)."""
        self._lookup_layer.set_vocabulary(vocabulary, idf_weights)

    # -- call ----------------------------------------------------------------------------------
    def call(self, inputs):
        rows = self._preprocess(inputs)
        length = self.output_sequence_length if self.output_mode == "int" else None
        width = length or max((len(r) for r in rows), default=0)
        padded = np.array([(r + [""] * width)[:width] if self.output_mode == "int" else r + [""] * (width - len(r))
                           for r in rows], dtype=object).reshape(len(rows), width)
        out = self._lookup_layer(padded)
        if self.output_mode != "int" and width == 0:
            out = torch.zeros(len(rows), self._lookup_layer._depth())
        return out

    def compute_output_shape(self, input_shape):
        if self.output_mode == "int":
            return (input_shape[0], self.output_sequence_length)
        return (input_shape[0], self._lookup_layer._depth())

    def _output_dtype(self, args, kwargs):
        return torch.int64 if self.output_mode == "int" else torch.float32

    def get_config(self):
        lookup = self._lookup_layer.get_config()
        for name in ("standardize", "split"):
            if callable(getattr(self, name)):
                raise ValueError(f"TextVectorization {self.name!r}: a callable `{name}` cannot be saved in a config "
                                 "(configs hold no code). help: use a built-in mode, or apply the callable to the "
                                 "texts before the layer.")
        return {**super().get_config(), "max_tokens": self.max_tokens, "standardize": self.standardize,
                "split": self.split, "ngrams": list(self.ngrams) if isinstance(self.ngrams, tuple) else self.ngrams,
                "output_mode": self.output_mode, "output_sequence_length": self.output_sequence_length,
                "pad_to_max_tokens": self.pad_to_max_tokens, "vocabulary": lookup["vocabulary"],
                "idf_weights": lookup["idf_weights"], "sparse": self.sparse, "ragged": self.ragged,
                "encoding": self.encoding}
