"""Makes sure every built-in object kind is registered before a file is resolved by name.

Each package declares its own kind in :mod:`deepnet.utils.registry` as it is imported
(``register_public``); ``import deepnet`` imports losses, metrics and optimizers lazily, so
saving imports them here.
"""

from __future__ import annotations

from .. import constraints, initializers, losses, metrics, optimizers, regularizers  # noqa: F401
from ..optimizers import schedules  # noqa: F401
