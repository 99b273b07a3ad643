"""Keras-style automatic names: ``dense``, ``dense_1``, ``dense_2`` ..."""

from __future__ import annotations

import re
from collections import defaultdict

_UIDS: defaultdict[str, int] = defaultdict(int)


def to_snake_case(name: str) -> str:
    """``MaxPooling2D`` -> ``max_pooling2d``, ``SimpleRNN`` -> ``simple_rnn`` (Keras' rule).

    >>> from deepnet.utils.naming import to_snake_case
    >>> to_snake_case("MaxPooling2D"), to_snake_case("SimpleRNN")
    ('max_pooling2d', 'simple_rnn')
    """
    name = re.sub(r"\W+", "", name)
    name = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", name).lower()


def unique_name(prefix: str) -> str:
    """Return ``prefix`` the first time, then ``prefix_1``, ``prefix_2`` ...

    >>> from deepnet.utils.naming import unique_name
    >>> unique_name("block"), unique_name("block")
    ('block', 'block_1')
    """
    count = _UIDS[prefix]
    _UIDS[prefix] += 1
    return prefix if count == 0 else f"{prefix}_{count}"


def clear_session() -> None:
    """Reset the automatic name counters (like ``keras.backend.clear_session``).

    >>> dn.layers.Dense(1).name, dn.layers.Dense(1).name
    ('dense', 'dense_1')
    >>> dn.utils.clear_session()
    >>> dn.layers.Dense(1).name
    'dense'
    """
    _UIDS.clear()
