"""Shared by the Keras-named IMDB and Reuters loaders: arguments and the word index."""

from __future__ import annotations

import json
from numbers import Integral

from ..utils.validation import Interval, NoneOr
from ._keras import KERAS_ORIGIN, local_or_cached

__all__ = ["SEQUENCE_ARGS", "load_word_index"]

_COUNT = NoneOr(Interval(Integral, 0, None))
SEQUENCE_ARGS = {"num_words": _COUNT, "skip_top": Interval(Integral, 0, None), "maxlen": _COUNT,
                 "seed": Interval(Integral, 0, None), "start_char": _COUNT, "oov_char": _COUNT,
                 "index_from": Interval(Integral, 0, None), "path": None}


def load_word_index(path, default: str, md5: str) -> dict[str, int]:
    """The ``{word: index}`` JSON file of a Keras text data set (cached, MD5-checked)."""
    with open(local_or_cached(path, default, KERAS_ORIGIN, md5), encoding="utf-8") as f:
        return json.load(f)
