"""Models: ``Sequential``, functional ``Model`` and subclassed models."""

from ..utils.registry import register_builtin
from .model import Model
from .sequential import Sequential

register_builtin(Model)  # configs of nested models name these classes
register_builtin(Sequential)


def model_from_json(json_string, custom_objects=None):
    """Rebuild a model (fresh weights) from ``model.to_json()`` output; nothing is executed."""
    from ..saving.archive import model_from_json as _from_json

    return _from_json(json_string, custom_objects=custom_objects)


__all__ = ["Model", "Sequential", "model_from_json"]
