"""The vocabulary lookup shared by StringLookup, IntegerLookup and TextVectorization.

Index layout (Keras'): ``[mask] + [OOV] * num_oov_indices + tokens``; the mask slot exists
only with a ``mask_token`` in ``"int"`` mode. ``adapt`` orders tokens by count, ties broken by
the token, both descending (Keras' order), and keeps the first ``max_tokens`` minus the special
slots. Unknown values go to the OOV slot; with several OOV slots, integers (``floormod``) take
``value mod num_oov_indices`` and strings their FarmHash fingerprint (SipHash with ``salt``)
modulo it. ``tf_idf`` weights are ``log(1 + documents / (1 + documents with the token))``.

The learned vocabulary (and IDF weights) are part of the layer's config, so a saved model
carries them without a separate asset file.
"""

from __future__ import annotations

import collections
import math
import os

import numpy as np
import torch

from ..utils.validation import AnyOf, Constraint, Integral, Interval, IntTuple, Rejected
from ._encoding import DataLayer, as_array, encode, encoded_shape, iter_batches
from ._hashing import hash_bins

__all__ = ["IndexLookup", "SALT", "float_list", "refuse_sparse"]

SALT = AnyOf(None, Interval(Integral, 0, None), IntTuple(2, low=0), description="None, an int or two ints")
MODES = ("int", "one_hot", "multi_hot", "count", "tf_idf")


class _FloatList(Constraint):
    def __init__(self, description: str):
        self.description = description

    def convert(self, value):
        if isinstance(value, torch.Tensor):
            value = value.detach().cpu().numpy()
        if isinstance(value, np.ndarray):
            value = value.tolist()
        if not isinstance(value, (list, tuple)) or not all(
                isinstance(v, (int, float, np.number)) and not isinstance(v, bool) and math.isfinite(v) for v in value):
            raise Rejected(type_error=not isinstance(value, (list, tuple)))
        return [float(v) for v in value]

    def extra_probes(self) -> tuple:
        return ([1.0, float("nan")],)


def float_list(description: str) -> Constraint:
    """A list/tuple/array of finite numbers, returned as a list of floats."""
    return _FloatList(description)


def refuse_sparse(layer, sparse: bool, output_mode: str | None = None) -> None:
    if sparse:
        raise ValueError(f"{type(layer).__name__}: `sparse=True` needs sparse tensors, which deepnet (like Keras' "
                         "PyTorch backend) does not have. Received: sparse=True. help: leave sparse=False.")


def _read_vocabulary_file(owner: str, path: str) -> list[str]:
    if not os.path.isfile(path):
        raise ValueError(f"{owner}: vocabulary file {path!r} does not exist.")
    with open(path, encoding="utf-8") as f:
        lines = f.read().splitlines()
    while lines and lines[-1] == "":
        lines.pop()
    return lines


class IndexLookup(DataLayer):
    """Base class of the lookup layers (see the module docstring); subclasses set
    ``_token_kind`` ("string" or "int") and declare the constructor."""

    _token_kind = "string"

    def _init_lookup(self, max_tokens, num_oov_indices, mask_token, oov_token, vocabulary, idf_weights, invert,
                     output_mode, pad_to_max_tokens, sparse, salt, oov_method="farmhash"):
        name = type(self).__name__
        output_mode = {"binary": "multi_hot", "tf-idf": "tf_idf"}.get(output_mode, output_mode)
        refuse_sparse(self, sparse)
        problems = [
            (max_tokens is not None and max_tokens <= 1, f"`max_tokens` must be greater than 1 when set. "
                                                         f"Received: max_tokens={max_tokens}"),
            (pad_to_max_tokens and max_tokens is None, "`pad_to_max_tokens=True` needs `max_tokens`."),
            (invert and output_mode != "int", f"`invert=True` needs output_mode='int'. Received: "
                                              f"output_mode={output_mode!r}"),
            (idf_weights is not None and output_mode != "tf_idf", "`idf_weights` is only used with "
                                                                  "output_mode='tf_idf'."),
            (output_mode == "tf_idf" and vocabulary is not None and idf_weights is None,
             "with output_mode='tf_idf' and a `vocabulary`, `idf_weights` must be given too."),
        ]
        for bad, message in problems:
            if bad:
                raise ValueError(f"{name}: {message}")
        self.max_tokens, self.num_oov_indices = max_tokens, num_oov_indices
        self.mask_token, self.oov_token = mask_token, oov_token
        self.invert, self.output_mode = invert, output_mode
        self.pad_to_max_tokens, self.sparse = pad_to_max_tokens, sparse
        self.salt = [salt, salt] if isinstance(salt, int) else (list(salt) if salt is not None else None)
        self.oov_method = oov_method
        self._tokens: list = []
        self._index: dict = {}
        self._idf = None
        self._idf_input = None
        if isinstance(vocabulary, str):
            vocabulary = _read_vocabulary_file(name, vocabulary)
        self._has_input_vocabulary = vocabulary is not None
        if vocabulary is not None:
            self.set_vocabulary(vocabulary, idf_weights)

    # -- the index layout --------------------------------------------------------------------
    def _oov_start(self) -> int:
        return 1 if self.mask_token is not None and self.output_mode == "int" else 0

    def _token_start(self) -> int:
        return self._oov_start() + self.num_oov_indices

    def vocabulary_size(self) -> int:
        """The number of indices, special ones included."""
        return self._token_start() + len(self._tokens)

    def get_vocabulary(self, include_special_tokens=True) -> list:
        """The vocabulary in index order (with the mask and OOV tokens unless
        ``include_special_tokens=False``)."""
        if not include_special_tokens:
            return list(self._tokens)
        head = [self.mask_token] if self._oov_start() else []
        return head + [self.oov_token] * self.num_oov_indices + list(self._tokens)

    def set_vocabulary(self, vocabulary, idf_weights=None) -> None:
        """Replace the vocabulary (a list, array or text file path; the special tokens may lead
        it in index order) and, in ``tf_idf`` mode, the IDF weights (one per term)."""
        name = type(self).__name__
        if self.output_mode == "tf_idf" and idf_weights is None:
            raise ValueError(f"{name}: `idf_weights` must be given with output_mode='tf_idf'.")
        if self.output_mode != "tf_idf" and idf_weights is not None:
            raise ValueError(f"{name}: `idf_weights` is only used with output_mode='tf_idf'. Received "
                             f"output_mode={self.output_mode!r}")
        if isinstance(vocabulary, str):
            vocabulary = _read_vocabulary_file(name, vocabulary)
        tokens = self._normalise(as_array(self, vocabulary).reshape(-1).tolist())
        if not tokens:
            raise ValueError(f"{name}: cannot set an empty vocabulary.")
        special = self.get_vocabulary()[:self._token_start()]
        found_special = tokens[:len(special)] == special
        if found_special:
            tokens = tokens[len(special):]
        self._check_tokens(tokens, special)
        self._tokens = tokens
        self._index = {t: i for i, t in enumerate(tokens, start=self._token_start())}
        self._has_input_vocabulary = True
        if idf_weights is not None:
            weights = np.asarray(idf_weights, dtype="float64").reshape(-1)
            total = len(tokens) + (len(special) if found_special else 0)
            if weights.size != total:
                raise ValueError(f"{name}: `idf_weights` must have one weight per vocabulary term ({total}); "
                                 f"received {weights.size}.")
            self._idf_input = weights.tolist()
            front = 0 if found_special else self._token_start()
            self._set_idf(weights, front)

    def _set_idf(self, weights: np.ndarray, front: int) -> None:
        weights = np.pad(weights, (front, 0), constant_values=float(np.mean(weights)) if front else 0.0)
        if self.pad_to_max_tokens:
            weights = np.pad(weights, (0, self.max_tokens - weights.size))
        self._idf = torch.tensor(weights, dtype=torch.float32)

    def _normalise(self, tokens: list) -> list:
        if self._token_kind == "int":
            return [int(t) for t in tokens]
        return [t if isinstance(t, str) else str(t) for t in tokens]

    def _check_tokens(self, tokens: list, special: list) -> None:
        name = type(self).__name__
        repeated = [t for t, c in collections.Counter(tokens).items() if c > 1]
        reserved = [(self.mask_token, "mask"), (self.oov_token if self.invert else None, "OOV")]
        problems = [
            (repeated, f"the vocabulary repeats {repeated[:10]}; give each term once."),
            *[(tok is not None and tok in tokens, f"the {what} token {tok!r} appears inside the vocabulary; "
               f"give the vocabulary without special tokens, or with them first in this order: {special}.")
              for tok, what in reserved],
            (self.max_tokens is not None and self._token_start() + len(tokens) > self.max_tokens,
             f"the vocabulary ({self._token_start() + len(tokens)} with the special tokens) is larger than "
             f"max_tokens={self.max_tokens}."),
        ]
        for bad, message in problems:
            if bad:
                raise ValueError(f"{name} {self.name!r}: {message}")

    # -- adapt -------------------------------------------------------------------------------
    def adapt(self, data, steps=None) -> None:
        """Learn the vocabulary (and IDF weights in ``tf_idf`` mode) from ``data``: an array,
        list or tensor (each element of a 1-D one is a document), or an iterable of batches."""
        if self._has_input_vocabulary:
            raise ValueError(f"{type(self).__name__} {self.name!r} has a fixed vocabulary (`vocabulary` or "
                             "set_vocabulary()); it cannot be adapted.")
        counts: collections.Counter = collections.Counter()
        documents: collections.Counter = collections.Counter()
        n_docs = 0
        one_batch = isinstance(data, (np.ndarray, torch.Tensor, list, tuple))
        for batch in iter_batches(self, data, steps):
            rows = self._documents(batch, one_batch)
            for row in rows:
                counts.update(row)
                documents.update(set(row))
            n_docs += len(rows)
        self._learn(counts, documents, n_docs)

    def _documents(self, batch, one_batch: bool) -> list[list]:
        arr = as_array(self, batch)
        if arr.ndim == 0:
            arr = arr.reshape(1, 1)
        elif arr.ndim == 1:
            arr = arr.reshape(-1, 1) if one_batch else arr.reshape(1, -1)
        return [self._normalise(row) for row in arr.reshape(arr.shape[0], -1).tolist()]

    def _learn(self, counts, documents, n_docs: int) -> None:
        for special in (self.mask_token, self.oov_token):
            counts.pop(special, None)
        ranked = sorted(counts.items(), key=lambda kv: (kv[1], kv[0]), reverse=True)
        if self.max_tokens:
            ranked = ranked[:self.max_tokens - self._token_start()]
        self._tokens = [t for t, _ in ranked]
        self._index = {t: i for i, t in enumerate(self._tokens, start=self._token_start())}
        if self.output_mode == "tf_idf" and self._tokens:
            idf = np.log1p(n_docs / (1.0 + np.array([documents[t] for t in self._tokens], dtype="float64")))
            self._idf_input = idf.astype("float32").tolist()
            self._set_idf(np.asarray(self._idf_input, dtype="float64"), self._token_start())

    # -- call --------------------------------------------------------------------------------
    def _lookup(self, values: np.ndarray) -> np.ndarray:
        flat = values.reshape(-1).tolist()
        if self._token_kind == "int" and values.dtype.kind not in "biu":
            raise TypeError(f"{type(self).__name__} {self.name!r} expects integers; received values of dtype "
                            f"{values.dtype}.")
        mask_index = 0 if self.output_mode == "int" else -1
        oov = [i for i, v in enumerate(flat) if v not in self._index and v != self.mask_token]
        out = np.array([self._index.get(v, mask_index if v == self.mask_token and v is not None else -2)
                        for v in flat], dtype=np.int64)
        if oov:
            out[oov] = self._oov_indices([flat[i] for i in oov])
        return out.reshape(values.shape)

    def _oov_indices(self, values: list) -> np.ndarray:
        n = self.num_oov_indices
        if n == 0:
            raise ValueError(f"{type(self).__name__} {self.name!r}: with num_oov_indices=0 every input must be in "
                             f"the vocabulary; found {sorted(set(map(str, values)))[:10]}. help: set "
                             "num_oov_indices=1.")
        if n == 1:
            return np.full(len(values), self._oov_start())
        if self._token_kind == "int" and self.oov_method != "farmhash":
            return np.mod(np.asarray(values, dtype=np.int64), n) + self._oov_start()
        return hash_bins(np.asarray(values, dtype=object), n, self.salt) + self._oov_start()

    def _invert(self, values: np.ndarray):
        tokens = self.get_vocabulary()
        flat = [tokens[i] if self._token_start() <= i < len(tokens) else
                (self.mask_token if i == 0 and self.mask_token is not None else self.oov_token)
                for i in values.reshape(-1).tolist()]
        return np.array(flat, dtype=object).reshape(values.shape).tolist()

    def call(self, inputs):
        values = as_array(self, inputs)
        if self.invert:
            return self._invert(values.astype(np.int64))
        if self.output_mode != "int" and not self.pad_to_max_tokens and not self._tokens:
            raise RuntimeError(f"{type(self).__name__} {self.name!r}: with output_mode={self.output_mode!r} the "
                               "vocabulary must be set (a `vocabulary` argument or adapt()) before the first call.")
        indices = torch.as_tensor(self._lookup(values))
        if self.output_mode == "int":
            return indices
        mode = "count" if self.output_mode == "tf_idf" else self.output_mode
        out = encode(indices, mode, self._depth(), torch.float32)
        if self.output_mode == "tf_idf":
            if self._idf is None:
                raise ValueError(f"{type(self).__name__} {self.name!r}: tf_idf needs IDF weights (adapt() or "
                                 "`idf_weights`).")
            out = out * self._idf
        return out

    def _depth(self) -> int:
        return self.max_tokens if self.pad_to_max_tokens else self.vocabulary_size()

    def compute_output_shape(self, input_shape):
        return encoded_shape(input_shape, self.output_mode, self._depth())

    def _output_dtype(self, args, kwargs):
        return torch.int64 if self.output_mode == "int" else torch.float32

    def _lookup_config(self) -> dict:
        has_vocab = bool(self._tokens)
        return {
            "invert": self.invert, "max_tokens": self.max_tokens, "num_oov_indices": self.num_oov_indices,
            "oov_token": self.oov_token, "mask_token": self.mask_token, "output_mode": self.output_mode,
            "sparse": self.sparse, "pad_to_max_tokens": self.pad_to_max_tokens,
            "vocabulary": list(self._tokens) if has_vocab else None,
            "idf_weights": self._idf_input if has_vocab else None, "salt": self.salt,
        }
