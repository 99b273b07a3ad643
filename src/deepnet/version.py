"""The deepnet version, in a leaf module that every package may import (level 0).

>>> from deepnet.version import __version__
>>> __version__.count(".")
2
"""

from __future__ import annotations

__all__ = ["__version__"]

__version__ = "0.1.0"
