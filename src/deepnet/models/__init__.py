"""Models: ``Sequential``, functional ``Model`` and subclassed models.

>>> model = dn.models.Sequential([dn.Input((4,)), dn.layers.Dense(2)])
>>> dn.models.model_from_json(model.to_json()).count_params()
10
"""

from ._clone import clone_model
from ._files import load_model, save_model
from .model import Model, model_from_json
from .sequential import Sequential

__all__ = ["Model", "Sequential", "clone_model", "load_model", "model_from_json", "save_model"]
