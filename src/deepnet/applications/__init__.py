"""Ready-made architectures (Keras' ``keras.applications``)."""

from __future__ import annotations

__all__: list[str] = []
