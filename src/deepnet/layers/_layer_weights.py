"""The weights half of :class:`deepnet.layers.Layer`: listing, counting, exchanging and
constraining weights, ``losses`` and ``add_loss`` (a mixin, kept apart to keep ``base`` short)."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from ..utils import symbolic
from ..utils.variables import StateVariable, Variable
from ._weights import WeightSpec

__all__ = ["LayerWeights"]


class LayerWeights:
    """Mixed into :class:`~deepnet.layers.Layer` (which provides ``_weight_specs``,
    ``_activity_loss`` and ``_added_losses``).

    >>> layer = dn.layers.Dense(2)
    >>> _ = layer(torch.ones(1, 3))
    >>> [tuple(w.shape) for w in layer.get_weights()], layer.count_params()
    ([(3, 2), (2,)], 8)
    """

    _add_loss_used = False  # set once any layer called add_loss (the engine then collects them)

    def _own_weights(self) -> list[tuple[torch.Tensor, WeightSpec | None]]:
        # Keras order: the weights created trainable first, then the others (each in creation order)
        specs = [s for s in self._weight_specs if s.trainable] + [s for s in self._weight_specs if not s.trainable]
        own = [(getattr(self, s.attr), s) for s in specs]
        ids = {id(t) for t, _ in own}
        extra = [(n, t) for n, t in self._parameters.items() if isinstance(t, Variable) and id(t) not in ids]
        if not extra:
            return own
        # trainable Variables set as attributes (``self.v = keras.Variable(...)``) are weights too,
        # in Keras' tracking order among the trainable ones
        order = {n: i for i, n in enumerate(self._parameters)}
        trainable = [(s.attr, (t, s)) for t, s in own if s.trainable] + [(n, (t, None)) for n, t in extra]
        trainable.sort(key=lambda e: order.get(e[0], len(order)))
        return [e for _, e in trainable] + [(t, s) for t, s in own if not s.trainable]

    def _weight_entries(self) -> list[tuple[torch.Tensor, WeightSpec | None]]:
        """All weights (own first, then sub-modules') with their specs (``None`` for plain
        torch modules, whose tensors are already in their natural layout)."""
        entries = self._own_weights()
        for child in self.children():
            if isinstance(child, LayerWeights):
                entries.extend(child._weight_entries())
            else:
                entries.extend((p, None) for p in child.parameters())
                entries.extend((b, None) for b in child.buffers() if b.is_floating_point())
        seen, unique = set(), []
        for t, spec in entries:
            if id(t) not in seen:
                seen.add(id(t))
                unique.append((t, spec))
        return unique

    @property
    def weights(self) -> list[torch.Tensor]:
        return [t for t, _ in self._weight_entries()]

    @property
    def trainable_weights(self) -> list[torch.Tensor]:
        return [t for t in self.weights if isinstance(t, nn.Parameter) and t.requires_grad]

    @property
    def non_trainable_weights(self) -> list[torch.Tensor]:
        return [t for t in self.weights if not (isinstance(t, nn.Parameter) and t.requires_grad)]

    def count_params(self) -> int:
        if not self.built and not any(True for _ in self.parameters()):
            raise ValueError(
                f"You tried to call count_params() on layer {self.name!r}, but the layer isn't built. "
                "help: call it on an input first, or build it with layer.build(input_shape)."
            )
        return int(sum(t.numel() for t in self.weights))

    def get_weights(self) -> list[np.ndarray]:
        """Weights as NumPy arrays in Keras' layout and order."""
        out = []
        for t, spec in self._weight_entries():
            t = t.detach()
            if spec is not None:
                t = spec.to_keras(t)
            out.append(t.cpu().numpy().copy())
        return out

    def set_weights(self, weights) -> None:
        """Load NumPy arrays (Keras layout and order, as from ``get_weights``)."""
        entries = self._weight_entries()
        weights = list(weights)
        if len(weights) != len(entries):
            raise ValueError(
                f"Layer {self.name!r} expects {len(entries)} weight arrays "
                f"({', '.join(self._describe_entry(t, s) for t, s in entries) or 'none'}); "
                f"received {len(weights)}."
            )
        with torch.no_grad():
            for (t, spec), value in zip(entries, weights):
                value = torch.as_tensor(np.asarray(value))
                expected = spec.keras_shape if spec is not None else tuple(t.shape)
                if tuple(value.shape) != tuple(expected):
                    raise ValueError(
                        f"Layer {self.name!r}: weight {self._describe_entry(t, spec)} expects shape "
                        f"{tuple(expected)}; received an array of shape {tuple(value.shape)}."
                    )
                if spec is not None:
                    value = spec.from_keras(value)
                t.copy_(value.to(dtype=t.dtype, device=t.device))

    def _describe_entry(self, t, spec) -> str:
        if spec is not None:
            return f"{spec.keras_name} {tuple(spec.keras_shape)}"
        return f"{tuple(t.shape)}"

    def add_loss(self, loss) -> None:
        """Add a loss term (a scalar tensor) during ``call``: it is listed in ``losses`` and
        added to the training loss of the step (Keras semantics; cleared at the next call).

        >>> class Penalty(dn.layers.Layer):
        ...     def call(self, x):
        ...         self.add_loss(0.1 * x.abs().mean())
        ...         return x
        >>> layer = Penalty()
        >>> _ = layer(torch.ones(2, 3))
        >>> [round(float(t), 3) for t in layer.losses]
        [0.1]
        """
        if symbolic.in_shape_inference():  # a trace for shapes adds no loss (Keras)
            return
        if not isinstance(loss, torch.Tensor):
            loss = torch.as_tensor(np.asarray(loss), dtype=torch.float32)
        if not LayerWeights._add_loss_used:
            LayerWeights._add_loss_used = True
        self._added_losses.append(loss)

    @property
    def losses(self) -> list[torch.Tensor]:
        """Regularization penalties, activity penalties and ``add_loss`` terms of this layer and
        its sublayers (recomputed on access)."""
        out = [spec.regularizer(t) for t, spec in self._own_weights() if spec is not None and spec.regularizer is not None]
        if self._activity_loss is not None:
            out.append(self._activity_loss)
        out.extend(self._added_losses)
        for child in self.children():
            if isinstance(child, LayerWeights):
                out.extend(child.losses)
        return out

    def apply_constraints(self) -> None:
        """Project weights onto their constraints (called by the trainer after each step)."""
        with torch.no_grad():
            for t, spec in self._own_weights():
                if spec is not None and spec.constraint is not None:
                    t.copy_(spec.from_keras(spec.constraint(spec.to_keras(t))))
        for child in self.children():
            if isinstance(child, LayerWeights):
                child.apply_constraints()


    def _apply(self, fn, *args, **kwargs):
        """``nn.Module._apply`` (``.to()``, ``.double()``...) keeping non-trainable weights
        Variables, and the attributes that name them (``self.total = self.add_weight(...)``)
        pointing at the moved tensors."""
        before = {k: b for k, b in self._buffers.items() if isinstance(b, StateVariable)}
        result = super()._apply(fn, *args, **kwargs)
        for key, old in before.items():
            new = self._buffers.get(key)
            if new is None or new is old:
                continue
            wrapped = StateVariable(new)
            old._copy_metadata(wrapped)
            self._buffers[key] = wrapped
            for attr, value in list(self.__dict__.items()):
                if value is old:
                    self.__dict__[attr] = wrapped
        return result

