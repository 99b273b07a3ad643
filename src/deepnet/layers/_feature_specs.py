"""The parts of a :class:`~deepnet.layers.feature_space.FeatureSpace`: ``Feature`` (a dtype, a
preprocessing layer and an output mode) and ``Cross`` (features hashed together), with the
JSON configs that carry a feature's adapted state (vocabularies, bin boundaries, means)."""

from __future__ import annotations

import numpy as np

from ..utils.serialization import deserialize_object, serialize_object
from ..utils.validation import Options, String, check
from .preprocessing import Normalization

__all__ = ["Cross", "Feature", "preprocessor_config"]

FEATURE_DTYPES = Options(("float32", "int32", "int64", "string"))
FEATURE_MODES = Options(("int", "one_hot", "float"))
CROSS_MODES = Options(("int", "one_hot"))


def preprocessor_config(layer) -> dict:
    """The ``{"class_name", "config"}`` of a preprocessing layer, its learned state included: an
    adapted ``Normalization`` is saved with its statistics as fixed ``mean``/``variance``."""
    config = serialize_object(layer)
    if isinstance(layer, Normalization) and layer.input_mean is None and layer.built:
        config["config"]["mean"] = np.asarray(layer.adapt_mean.numpy(), dtype="float64").tolist()
        config["config"]["variance"] = np.asarray(layer.adapt_variance.numpy(), dtype="float64").tolist()
    return config


class Feature:
    """One feature of a FeatureSpace: the input ``dtype`` (``"float32"``, ``"int32"``,
    ``"int64"`` or ``"string"``), the ``preprocessor`` layer and the ``output_mode`` (``"float"``
    kept as is, ``"int"`` indices, ``"one_hot"`` multi-hot vectors of the preprocessor's
    cardinality)."""

    def __init__(self, dtype, preprocessor, output_mode):
        check("Feature", "dtype", dtype, FEATURE_DTYPES)
        check("Feature", "output_mode", output_mode, FEATURE_MODES)
        if isinstance(preprocessor, dict):
            preprocessor = deserialize_object(preprocessor, kind="layer")
        if not callable(preprocessor):
            raise TypeError(f"Feature: `preprocessor` must be a layer (or its config). Received: "
                            f"preprocessor={preprocessor!r}")
        self.dtype = dtype
        self.preprocessor = preprocessor
        self.output_mode = output_mode

    def get_config(self) -> dict:
        return {"dtype": self.dtype, "preprocessor": preprocessor_config(self.preprocessor),
                "output_mode": self.output_mode}

    @classmethod
    def from_config(cls, config: dict) -> Feature:
        return cls(**config)


class Cross:
    """Features hashed together into ``crossing_dim`` bins (``HashedCrossing``); the name of the
    cross is the feature names joined by ``"_X_"``, as in Keras."""

    def __init__(self, feature_names, crossing_dim, output_mode="one_hot"):
        check("Cross", "output_mode", output_mode, CROSS_MODES)
        names = tuple(feature_names) if isinstance(feature_names, (list, tuple)) else None
        if not names or len(names) < 2:
            raise ValueError(f"Cross: `feature_names` must name at least two features. Received: "
                             f"feature_names={feature_names!r}")
        for n in names:
            check("Cross", "feature_names", n, String())
        if isinstance(crossing_dim, bool) or not isinstance(crossing_dim, int) or crossing_dim < 1:
            raise ValueError(f"Cross: `crossing_dim` must be a positive integer. Received: "
                             f"crossing_dim={crossing_dim!r}")
        self.feature_names = names
        self.crossing_dim = crossing_dim
        self.output_mode = output_mode

    @property
    def name(self) -> str:
        return "_X_".join(self.feature_names)

    def get_config(self) -> dict:
        return {"feature_names": list(self.feature_names), "crossing_dim": self.crossing_dim,
                "output_mode": self.output_mode}

    @classmethod
    def from_config(cls, config: dict) -> Cross:
        return cls(**config)
