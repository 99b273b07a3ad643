"""Keras' ``keras.datasets.reuters``: newswires as word-index sequences in 46 topics."""

from __future__ import annotations

from numbers import Real

from ..utils.validation import Interval, validate_params
from ._keras import KERAS_ORIGIN, load_npz, local_or_cached, sequence_data
from ._keras_text import SEQUENCE_ARGS, load_word_index

__all__ = ["get_label_names", "get_word_index", "load_data"]

FILE = "reuters.npz"
SHA256 = "d6586e694ee56d7a4e65172e12b3e987c03096cb01eab99753921ef915959916"
WORD_INDEX = "reuters_word_index.json"
WORD_INDEX_MD5 = "4d44cc38712099c9e383dc6e5f11a921"
LABELS = (
    "cocoa grain veg-oil earn acq wheat copper housing money-supply coffee sugar trade reserves ship "
    "cotton carcass crude nat-gas cpi money-fx interest gnp meal-feed alum oilseed gold tin "
    "strategic-metal livestock retail ipi iron-steel rubber heat jobs lei bop zinc orange pet-chem dlr "
    "gas silver wpi hog lead"
).split()


@validate_params({**SEQUENCE_ARGS, "test_split": Interval(Real, 0, 1, closed="left")})
def load_data(path=FILE, num_words=None, skip_top=0, maxlen=None, test_split=0.2, seed=113, start_char=1,
              oov_char=2, index_from=3):
    """11,228 Reuters newswires (object arrays of word-index lists) and their topic (0-45), split
    after shuffling with ``seed``: the first ``1 - test_split`` for training. The word
    processing is :func:`deepnet.datasets.imdb.load_data`'s.

    >>> import os; os.makedirs("data")
    >>> wires = np.empty(4, dtype=object); wires[:] = [[1, 2], [3], [4, 5], [6]]
    >>> np.savez("data/reuters.npz", x=wires, y=np.array([0, 1, 2, 3]))
    >>> (x_train, y_train), (x_test, y_test) = dn.datasets.reuters.load_data("data/reuters.npz", test_split=0.25)
    >>> len(x_train), len(x_test)
    (3, 1)
    """
    arrays = load_npz(local_or_cached(path, FILE, KERAS_ORIGIN, SHA256))
    [(xs, labels)] = sequence_data([(arrays["x"], arrays["y"])], seed, num_words, skip_top, maxlen, start_char,
                                   oov_char, index_from)
    cut = int(len(xs) * (1 - test_split))
    return (xs[:cut], labels[:cut]), (xs[cut:], labels[cut:])


def get_word_index(path=WORD_INDEX):
    """``{word: rank}`` of the Reuters vocabulary (see :func:`deepnet.datasets.imdb.get_word_index`).

    >>> import json, os; os.makedirs("data")
    >>> _ = open("data/words.json", "w").write(json.dumps({"said": 1}))
    >>> dn.datasets.reuters.get_word_index("data/words.json")
    {'said': 1}
    """
    return load_word_index(path, WORD_INDEX, WORD_INDEX_MD5)


def get_label_names():
    """The 46 topic names, in label order.

    >>> dn.datasets.reuters.get_label_names()[:3]
    ('cocoa', 'grain', 'veg-oil')
    """
    return tuple(LABELS)
