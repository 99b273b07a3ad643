"""Models: ``Sequential``, functional ``Model`` and subclassed models."""

from .model import Model
from .sequential import Sequential

__all__ = ["Model", "Sequential"]
