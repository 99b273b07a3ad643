"""``Ensemble``: several classifiers as one model (a registered subclassed ``Model``, so it
compiles, fits, saves, loads and is attacked like any other)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ..layers import Layer
from ..models import Model
from ..utils.registry import register_builtin
from ..utils.serialization import deserialize_layer, serialize_layer
from ..utils.validation import ArgumentTypeError, Options, invalid_value, validate_params
from ._defenses import class_scores, log_probabilities
from ._transforms import bpda_active, straight_through

__all__ = ["Ensemble"]

COMBINE = ("logits", "probs", "vote")


@register_builtin
class Ensemble(Model):
    """Average several classifiers (members with the same inputs and classes).

    Args:
        members: the models (deepnet models or layers); each outputs class scores, logits or
            probabilities (converted per member to log-probabilities first).
        combine: ``"logits"``: output the mean of the members' log-probabilities (the same
            softmax as averaging their logits; the ensemble outputs logits); ``"probs"``: output
            the mean of their probabilities; ``"vote"``: output each class's share of the
            members' votes (argmax) -- not differentiable, so gradient attacks see no gradient
            unless run under :func:`deepnet.robust.bpda`, where the gradient of ``"probs"`` is
            used.

    White-box attacks differentiate through every member; to test transfer, attack one member
    (``ensemble.members[0]``) and evaluate the ensemble on the result. Training the ensemble
    (``compile``/``fit``) trains all members jointly on the combined output.

    >>> members = [dn.Sequential([dn.Input((4,)), dn.layers.Dense(3)]) for _ in range(3)]
    >>> ensemble = dn.robust.Ensemble(members, combine="probs")
    >>> ensemble.predict(np.random.rand(2, 4), verbose=0).sum(axis=1).round(4)
    array([1., 1.], dtype=float32)
    """

    @validate_params({"combine": Options(COMBINE)})
    def __init__(self, members, combine="logits", **kwargs):
        super().__init__(**kwargs)
        if not isinstance(members, (list, tuple)) or not members:
            raise invalid_value("Ensemble", "members", members, "a non-empty list of models",
                                error=ArgumentTypeError)
        built = [deserialize_layer(m) if isinstance(m, dict) else m for m in members]
        bad = [i for i, m in enumerate(built) if not isinstance(m, Layer)]
        if bad:
            raise invalid_value("Ensemble", "members", f"{type(built[bad[0]]).__name__} at index {bad[0]}",
                                "deepnet models or layers", error=ArgumentTypeError,
                                help="wrap a torch.nn.Module with deepnet.layers.TorchModuleWrapper.")
        self.members = nn.ModuleList(built)
        self.combine = combine

    def call(self, inputs):
        logp = torch.stack([log_probabilities(class_scores(m(inputs), "Ensemble")) for m in self.members])
        if self.combine == "logits":
            return logp.mean(0)
        probs = logp.exp().mean(0)
        if self.combine == "probs":
            return probs
        n_classes = logp.shape[-1]
        votes = F.one_hot(logp.argmax(-1), n_classes).to(probs.dtype).mean(0)
        return straight_through(probs, votes) if bpda_active() else votes

    def get_config(self):
        return {**super().get_config(), "members": [serialize_layer(m) for m in self.members],
                "combine": self.combine}
