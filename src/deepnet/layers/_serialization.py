"""Keras' ``keras.layers.serialize`` / ``deserialize``: a layer's ``{"class_name", "config"}``
and back, through the registry (``deepnet.utils.serialization``)."""

from __future__ import annotations

from ..utils.serialization import deserialize_layer, serialize_layer

__all__ = ["deserialize", "serialize"]


def serialize(layer) -> dict:
    """The ``{"class_name", "config"}`` dict of a layer (or model), as Keras' ``layers.serialize``.

    >>> dn.layers.serialize(dn.layers.Dense(2, name="d"))["config"]["units"]
    2
    """
    return serialize_layer(layer)


def deserialize(config, custom_objects=None):
    """Rebuild a layer from :func:`serialize`'s dict; only registered classes (and
    ``custom_objects``) are accepted, never import paths.

    >>> layer = dn.layers.deserialize(dn.layers.serialize(dn.layers.Dense(2, name="d")))
    >>> type(layer).__name__, layer.units
    ('Dense', 2)
    """
    return deserialize_layer(config, custom_objects=custom_objects)
