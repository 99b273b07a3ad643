"""Keras' ``keras.datasets.imdb``: movie reviews as word-index sequences, and the word index."""

from __future__ import annotations

from ..utils.validation import validate_params
from ._keras import KERAS_ORIGIN, load_npz, local_or_cached, sequence_data
from ._keras_text import SEQUENCE_ARGS, load_word_index

__all__ = ["get_word_index", "load_data"]

FILE = "imdb.npz"
SHA256 = "69664113be75683a8fe16e3ed0ab59fda8886cb3cd7ada244f7d9544e4676b9f"
WORD_INDEX = "imdb_word_index.json"
WORD_INDEX_MD5 = "bfafd718b763782e994055a2d397834f"


@validate_params(SEQUENCE_ARGS)
def load_data(path=FILE, num_words=None, skip_top=0, maxlen=None, seed=113, start_char=1, oov_char=2,
              index_from=3):
    """25,000 training and 25,000 test reviews labelled 0 (negative) / 1 (positive), as Keras
    returns them: object arrays of Python lists of word indices.

    Keras' processing: each split shuffled with ``seed``; indices shifted by ``index_from``
    after ``start_char``; reviews of ``maxlen`` words or more dropped; words ranked
    ``>= num_words`` or ``< skip_top`` replaced by ``oov_char`` (removed if it is None).
    ``path``: the cache file name (downloaded, SHA-256 checked) or a local copy's path.

    >>> import os; os.makedirs("data")
    >>> reviews = np.empty(2, dtype=object); reviews[:] = [[1, 14, 22], [1, 5]]
    >>> np.savez("data/imdb.npz", x_train=reviews, y_train=np.array([1, 0]), x_test=reviews,
    ...          y_test=np.array([0, 1]))
    >>> (x_train, y_train), _ = dn.datasets.imdb.load_data("data/imdb.npz", num_words=10, seed=0)
    >>> sorted(x_train.tolist())
    [[1, 4, 2, 2], [1, 4, 8]]
    """
    arrays = load_npz(local_or_cached(path, FILE, KERAS_ORIGIN, SHA256))
    parts = [(arrays["x_train"], arrays["y_train"]), (arrays["x_test"], arrays["y_test"])]
    (x_train, y_train), (x_test, y_test) = sequence_data(parts, seed, num_words, skip_top, maxlen, start_char,
                                                         oov_char, index_from)
    return (x_train, y_train), (x_test, y_test)


def get_word_index(path=WORD_INDEX):
    """``{word: rank}`` of the IMDB vocabulary (rank 1 is the most frequent word; add
    ``index_from`` to read the sequences of :func:`load_data`).

    >>> import json, os; os.makedirs("data")
    >>> _ = open("data/words.json", "w").write(json.dumps({"the": 1, "film": 2}))
    >>> dn.datasets.imdb.get_word_index("data/words.json")["film"]
    2
    """
    return load_word_index(path, WORD_INDEX, WORD_INDEX_MD5)
