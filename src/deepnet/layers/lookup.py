"""Vocabulary lookup layers: StringLookup and IntegerLookup (Keras 3 arguments and indices).

They map terms to indices (or, with ``invert=True``, indices back to terms), or encode them as
``one_hot`` / ``multi_hot`` / ``count`` / ``tf_idf`` vectors. They run on data (strings, lists,
NumPy arrays, integer tensors) and return torch tensors, as Keras' lookup layers do with its
PyTorch backend; an inverted lookup returns nested Python lists of terms. The rules (index
layout, adapt order, OOV hashing) are in :mod:`deepnet.layers._lookup`.

Weights: none. The vocabulary and IDF weights are saved in the layer's config.
"""

from __future__ import annotations

from ..utils.validation import AnyOf, InstanceOf, NoneOr, Options, String, validate_params
from ._checks import BOOL, NON_NEGATIVE_INT
from ._lookup import MODES, SALT, IndexLookup

__all__ = ["IntegerLookup", "StringLookup"]

_MAX_TOKENS = NoneOr(NON_NEGATIVE_INT)
_VOCAB = AnyOf(None, String(), InstanceOf(list, tuple, object, description="a list, array or file path"),
               description="None, a list/array of terms or a vocabulary file path")
_MODE = Options(MODES + ("binary", "tf-idf"))
_WEIGHTS = NoneOr(InstanceOf(list, tuple, object, description="a list or array of numbers"))


class StringLookup(IndexLookup):
    """Maps strings to integer indices from a vocabulary (given or learned with ``adapt``).

    Args:
        max_tokens: the largest vocabulary, special tokens included (None: no limit).
        num_oov_indices: slots for out-of-vocabulary terms (hashed among them when > 1).
        mask_token: a term that maps to 0 (``"int"`` mode) or is dropped (other modes).
        oov_token: the term an inverted lookup returns for OOV indices.
        vocabulary: a list/array of terms or a text file with one per line.
        idf_weights: IDF weights per term (``tf_idf`` mode with a given vocabulary).
        invert: map indices back to terms.
        output_mode: ``"int"``, ``"one_hot"``, ``"multi_hot"``, ``"count"`` or ``"tf_idf"``.
        pad_to_max_tokens: encoded vectors have ``max_tokens`` entries.
        sparse: must be False.
        encoding: the text encoding of byte strings (``"utf-8"``).
        salt: None, an int or two ints: SipHash key for OOV hashing.

    >>> layer = dn.layers.StringLookup(vocabulary=["a", "b", "c"])
    >>> layer([["a", "c"], ["d", "b"]])
    tensor([[1, 3],
            [0, 2]])
    """

    @validate_params({"max_tokens": _MAX_TOKENS, "num_oov_indices": NON_NEGATIVE_INT,
                      "mask_token": NoneOr(String(allow_empty=True)), "oov_token": String(allow_empty=True),
                      "vocabulary": _VOCAB, "idf_weights": _WEIGHTS, "invert": BOOL, "output_mode": _MODE,
                      "pad_to_max_tokens": BOOL, "sparse": BOOL, "encoding": String(), "salt": SALT})
    def __init__(self, max_tokens=None, num_oov_indices=1, mask_token=None, oov_token="[UNK]", vocabulary=None,
                 idf_weights=None, invert=False, output_mode="int", pad_to_max_tokens=False, sparse=False,
                 encoding="utf-8", salt=None, **kwargs):
        super().__init__(**kwargs)
        self.encoding = encoding
        self._init_lookup(max_tokens, num_oov_indices, mask_token, oov_token, vocabulary, idf_weights, invert,
                          output_mode, pad_to_max_tokens, sparse, salt)

    def get_config(self):
        return {**super().get_config(), **self._lookup_config(), "encoding": self.encoding}


class IntegerLookup(IndexLookup):
    """Maps integers to indices from a vocabulary (given or learned with ``adapt``); the
    arguments are StringLookup's, with integer ``mask_token`` / ``oov_token`` (default -1).

    Args:
        oov_method: ``"floormod"`` (default: an OOV value ``v`` goes to slot
            ``v mod num_oov_indices``) or ``"farmhash"`` (its decimal text hashed).
        vocabulary_dtype: ``"int64"`` (the only one, as in Keras).

    >>> layer = dn.layers.IntegerLookup(vocabulary=[12, 36, 1138])
    >>> layer(torch.tensor([12, 1138, 42]))
    tensor([1, 3, 0])
    """

    _token_kind = "int"

    @validate_params({"max_tokens": _MAX_TOKENS, "num_oov_indices": NON_NEGATIVE_INT,
                      "mask_token": NoneOr(InstanceOf(int, description="an integer")),
                      "oov_token": InstanceOf(int, description="an integer"), "vocabulary": _VOCAB,
                      "vocabulary_dtype": Options(("int64",)), "idf_weights": _WEIGHTS, "invert": BOOL,
                      "output_mode": _MODE, "sparse": BOOL, "pad_to_max_tokens": BOOL,
                      "oov_method": Options(("floormod", "farmhash")), "salt": SALT})
    def __init__(self, max_tokens=None, num_oov_indices=1, mask_token=None, oov_token=-1, vocabulary=None,
                 vocabulary_dtype="int64", idf_weights=None, invert=False, output_mode="int", sparse=False,
                 pad_to_max_tokens=False, oov_method="floormod", salt=None, **kwargs):
        super().__init__(**kwargs)
        if salt is not None and oov_method != "farmhash":
            raise ValueError(f"IntegerLookup: `salt` is only used with oov_method='farmhash'. Received: "
                             f"oov_method={oov_method!r}")
        self.vocabulary_dtype = vocabulary_dtype
        self._init_lookup(max_tokens, num_oov_indices, mask_token, oov_token, vocabulary, idf_weights, invert,
                          output_mode, pad_to_max_tokens, sparse, salt, oov_method)

    def get_config(self):
        return {**super().get_config(), **self._lookup_config(), "vocabulary_dtype": self.vocabulary_dtype,
                "oov_method": self.oov_method}
