"""Keras' ``keras.models.load_model`` / ``save_model``: thin wrappers over :mod:`deepnet.saving`."""

from __future__ import annotations

from ..utils.lazy import lazy_import

_saving = lazy_import("deepnet.saving")

__all__ = ["load_model", "save_model"]


def load_model(filepath, custom_objects=None, compile=True, safe_mode=True):  # noqa: A002 (Keras' name)
    """Load a model file written by :func:`save_model` / ``model.save`` (``deepnet.load_model``).

    >>> model = dn.Sequential([dn.Input((3,)), dn.layers.Dense(2)])
    >>> dn.models.save_model(model, "m.deepnet")
    >>> dn.models.load_model("m.deepnet").count_params()
    8
    """
    return _saving.load_model(filepath, custom_objects=custom_objects, compile=compile, safe_mode=safe_mode)


def save_model(model, filepath, overwrite=True, **kwargs):
    """Save ``model`` (architecture, weights, compile state) to ``filepath`` (``model.save``).

    >>> dn.models.save_model(dn.Sequential([dn.Input((2,)), dn.layers.Dense(1)]), "small.deepnet")
    """
    if kwargs:
        raise TypeError(f"save_model got unexpected keyword arguments {sorted(kwargs)}.")
    _saving.save_model(model, filepath, overwrite=overwrite)
