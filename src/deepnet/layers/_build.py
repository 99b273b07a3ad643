"""Keras' rule that a layer is built once its ``build`` ran, however it was called (by the first
call, or directly: ``layer.build(shape)``, ``super().build(shape)``): :class:`Layer` wraps every
subclass's ``build`` with :func:`marking_built` (a private helper of :mod:`deepnet.layers.base`)."""

from __future__ import annotations

import functools

__all__ = ["marking_built"]


def marking_built(build):
    """``build`` that marks the layer built (and records its first argument as the build shape
    when none is recorded yet) after it ran; already wrapped functions are returned as they are.

    >>> from deepnet.layers._build import marking_built
    >>> class Probe:
    ...     built, _build_args = False, None
    ...     build = marking_built(lambda self, shape: None)
    >>> probe = Probe(); probe.build((None, 3)); probe.built, probe._build_args
    (True, ((None, 3),))
    """
    if getattr(build, "_marks_built", False):
        return build

    @functools.wraps(build)
    def build_and_mark(self, *args, **kwargs):
        result = build(self, *args, **kwargs)
        self.built = True
        if self._build_args is None:
            self._build_args = tuple(args[:1]) or tuple(kwargs.values())[:1]
        return result

    build_and_mark._marks_built = True
    return build_and_mark
