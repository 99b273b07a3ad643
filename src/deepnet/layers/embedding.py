"""``Embedding``: integer indices to dense vectors (a lookup table trained like any weight)."""

from __future__ import annotations

import warnings

import numpy as np
import torch.nn.functional as F

from .. import constraints as _constraints
from .. import initializers as _initializers
from .. import regularizers as _regularizers
from ..utils.validation import InstanceOf, Lookup, NoneOr, validate_params
from ._checks import BOOL, CONSTRAINT, POSITIVE_INT, REGULARIZER
from .base import Layer

__all__ = ["Embedding"]

# Keras' short initializer aliases that the shared table does not list.
_ALIASES = {"uniform": "random_uniform", "normal": "random_normal"}
_INITIALIZER = Lookup(lambda value, argument: _initializers.get(
    _ALIASES.get(value, value) if isinstance(value, str) else value, argument),
    "an initializer name ('uniform' as in Keras), config, Initializer or callable")


class Embedding(Layer):
    """Maps integer indices in ``[0, input_dim)`` to rows of a trainable ``(input_dim,
    output_dim)`` table: input ``(batch, ...)`` gives ``(batch, ..., output_dim)``.

    Float inputs are truncated to integers (as Keras casts them). ``mask_zero=True`` makes index
    0 the padding value: the output carries the mask ``inputs != 0`` for downstream layers
    (RNNs, attention, pooling), so ``input_dim`` must then count the padding index too.
    ``weights=[array]`` (or a single array) builds the layer at once with that table.

    Weights (Keras layout): ``embeddings (input_dim, output_dim)``.

    >>> dn.layers.Embedding(input_dim=10, output_dim=3)(torch.tensor([[1, 2, 4]])).shape
    torch.Size([1, 3, 3])
    """

    @validate_params({"input_dim": POSITIVE_INT, "output_dim": POSITIVE_INT, "embeddings_initializer": _INITIALIZER,
                      "embeddings_regularizer": REGULARIZER, "embeddings_constraint": CONSTRAINT, "mask_zero": BOOL,
                      "weights": NoneOr(InstanceOf(list, tuple, np.ndarray, description="an array (or a list of one)"))})
    def __init__(self, input_dim, output_dim, embeddings_initializer="uniform", embeddings_regularizer=None,
                 embeddings_constraint=None, mask_zero=False, weights=None, **kwargs):
        for unsupported in ("lora_rank", "lora_alpha", "quantization_config"):
            if kwargs.pop(unsupported, None) is not None:
                raise NotImplementedError(
                    f"Embedding: `{unsupported}` (Keras LoRA / quantization) is not supported by deepnet yet. "
                    f"help: remove the `{unsupported}` argument."
                )
        if kwargs.pop("input_length", None) is not None:
            warnings.warn("Embedding: argument `input_length` is deprecated (as in Keras 3) and ignored; "
                          "just remove it.", DeprecationWarning, stacklevel=2)
        super().__init__(**kwargs)
        self.input_dim, self.output_dim = input_dim, output_dim
        self.embeddings_initializer = embeddings_initializer
        self.embeddings_regularizer = embeddings_regularizer
        self.embeddings_constraint = embeddings_constraint
        self.mask_zero = mask_zero
        if weights is not None:
            if not (isinstance(weights, (list, tuple)) and len(weights) == 1):
                weights = [weights]
            self.build(None)
            self.built = True
            self.set_weights([np.asarray(w) for w in weights])

    def build(self, input_shape):
        self._add_weight("embeddings", (self.input_dim, self.output_dim), self.embeddings_initializer,
                        self.embeddings_regularizer, self.embeddings_constraint)

    def call(self, inputs):
        if inputs.is_floating_point():
            inputs = inputs.long()
        try:
            return F.embedding(inputs, self.embeddings)
        except IndexError as error:
            raise ValueError(
                f"Embedding {self.name!r} received an index outside [0, input_dim) = [0, {self.input_dim}) "
                f"(largest index {int(inputs.max())}, smallest {int(inputs.min())}). help: increase "
                "input_dim to the vocabulary size (+1 for the padding index 0 with mask_zero=True)."
            ) from error

    def compute_mask(self, inputs, mask=None):
        if not self.mask_zero:
            return None
        return inputs != 0

    def compute_output_shape(self, input_shape):
        return (*input_shape, self.output_dim)

    def get_config(self):
        return {
            **super().get_config(),
            "input_dim": self.input_dim,
            "output_dim": self.output_dim,
            "embeddings_initializer": _initializers.serialize(self.embeddings_initializer),
            "embeddings_regularizer": _regularizers.serialize(self.embeddings_regularizer),
            "embeddings_constraint": _constraints.serialize(self.embeddings_constraint),
            "mask_zero": self.mask_zero,
        }
