"""Keras' ``keras.utils.FeatureSpace``: preprocessing and encoding of structured (tabular) data.

A :class:`FeatureSpace` maps a dict of raw columns (floats, integers, strings) to one float
tensor (``output_mode="concat"``) or a dict of encoded features (``"dict"``), with Keras' rules:
each feature goes through its preprocessing layer (``Normalization``, ``Rescaling``,
``Discretization``, ``IntegerLookup``, ``StringLookup``, ``Hashing``); crosses hash the
*preprocessed* features together (``HashedCrossing``); ``one_hot`` features become multi-hot
vectors (``CategoryEncoding``); the concatenation order is the sorted feature names, then the
sorted cross names.

Differences from Keras: there is no ``tf.data``; :meth:`FeatureSpace.adapt` takes a dict of
arrays, an iterable of dicts (or of ``(dict, label)`` pairs) or a map-style dataset of dicts.
torch has no string tensors, so a functional model cannot take raw string columns:
:meth:`FeatureSpace.get_encoded_features` returns ``Input`` tensors of the *encoded* features
(the training model of Keras' example) and the inference model is
``model(feature_space(raw))``. Saving writes a JSON file (:meth:`FeatureSpace.save`, loaded by
:meth:`FeatureSpace.load`) that carries the adapted state.
"""

from __future__ import annotations

import json
import os

import numpy as np
import torch

from ..utils.io import atomic_write
from ..utils.naming import unique_name
from ..utils.validation import NoneOr, Options, String, validate_params
from ._checks import POSITIVE_INT
from ._feature_specs import Cross, Feature
from .base import Input
from .categorical import CategoryEncoding, Discretization, HashedCrossing, Hashing
from .core_extras import Identity
from .lookup import IntegerLookup, StringLookup
from .preprocessing import Normalization, Rescaling

__all__ = ["FeatureSpace"]

_FORMAT = "deepnet.FeatureSpace"
_ADAPT_BATCH = 32  # Keras batches unbatched samples by 32 before adapting


def _cardinality(layer) -> int | None:
    if isinstance(layer, (IntegerLookup, StringLookup)):
        return layer.vocabulary_size()
    if isinstance(layer, CategoryEncoding):
        return layer.num_tokens
    if isinstance(layer, Discretization):
        return len(layer.bin_boundaries) + 1 if layer.bin_boundaries is not None else layer.num_bins
    if isinstance(layer, (Hashing, HashedCrossing)):
        return layer.num_bins
    return None


def _adaptable(layer) -> bool:
    """Keras' rule: a layer with ``adapt`` whose state was not given at construction."""
    if isinstance(layer, Normalization):
        return layer.input_mean is None
    if isinstance(layer, Discretization):
        return layer.num_bins is not None
    return hasattr(layer, "adapt") and not getattr(layer, "_has_input_vocabulary", False)


def _needs_adapt(layer) -> bool:
    """Adaptable and still without learned state."""
    if not _adaptable(layer):
        return False
    if isinstance(layer, Normalization):
        return not layer.built
    if isinstance(layer, Discretization):
        return layer.bin_boundaries is None
    if isinstance(layer, (IntegerLookup, StringLookup)):
        return not layer.get_vocabulary(include_special_tokens=False)
    return True


def _as_numpy(value) -> np.ndarray:
    if isinstance(value, torch.Tensor):
        return value.detach().cpu().numpy()
    return np.asarray(value)


def _column(value) -> np.ndarray:
    """A feature's values as a ``(batch, 1)`` (or higher-rank) array."""
    arr = _as_numpy(value)
    return arr.reshape(-1, 1) if arr.ndim <= 1 else arr


def _typed(arr: np.ndarray, dtype: str):
    if dtype == "float32":
        return torch.as_tensor(arr.astype("float32"))
    if dtype in ("int32", "int64"):
        if arr.dtype.kind not in "biu":
            raise TypeError(f"FeatureSpace: an integer feature received values of dtype {arr.dtype}. "
                            "help: pass integers, or declare the feature as a float/string one.")
        return arr.astype(dtype)
    return arr.astype(object) if arr.dtype.kind in "SU" else arr


def _first(item):
    return item[0] if isinstance(item, (tuple, list)) and item and isinstance(item[0], dict) else item


def _items(dataset):
    if isinstance(dataset, dict):
        raise TypeError("internal: dicts are handled by the caller")
    if not hasattr(dataset, "__iter__") and hasattr(dataset, "__getitem__") and hasattr(dataset, "__len__"):
        return (dataset[i] for i in range(len(dataset)))
    if not hasattr(dataset, "__iter__") or isinstance(dataset, (str, bytes, np.ndarray, torch.Tensor)):
        raise TypeError("FeatureSpace.adapt() expects a dict of arrays/lists, an iterable of dicts (or of "
                        "(dict, label) pairs) or a dataset yielding dicts; received "
                        f"{type(dataset).__name__}.")
    return iter(dataset)


def _chunks(arr: np.ndarray) -> list[np.ndarray]:
    return [_column(arr[i:i + _ADAPT_BATCH]) for i in range(0, len(arr), _ADAPT_BATCH)]


def feature_batches(dataset, names: list[str]) -> dict[str, list[np.ndarray]]:
    """The adapt batches of each named feature: a dict of arrays is cut into batches of 32
    samples (as Keras' ``from_tensor_slices(...).batch(32)``); an iterable yields dicts of
    batches, or dicts of single samples that are grouped by 32."""
    if isinstance(dataset, dict):
        missing = [n for n in names if n not in dataset]
        if missing:
            raise ValueError(f"FeatureSpace.adapt(): the data has no feature(s) {missing}; it has "
                             f"{sorted(dataset)}.")
        return {n: _chunks(np.atleast_1d(_as_numpy(dataset[n]))) for n in names}
    batches: dict[str, list[np.ndarray]] = {n: [] for n in names}
    samples: dict[str, list] = {n: [] for n in names}
    for item in _items(dataset):
        row = _first(item)
        if not isinstance(row, dict):
            raise TypeError(f"FeatureSpace.adapt(): every element must be a dict of features (or a "
                            f"(dict, label) pair); received {type(row).__name__}.")
        missing = [n for n in names if n not in row]
        if missing:
            raise ValueError(f"FeatureSpace.adapt(): an element has no feature(s) {missing}; it has {sorted(row)}.")
        for n in names:
            value = _as_numpy(row[n])
            (samples[n].append(value) if value.ndim == 0 else batches[n].append(_column(value)))
    for n in names:
        if samples[n]:
            batches[n].extend(_chunks(np.stack(samples[n])))
        if not batches[n]:
            raise ValueError("FeatureSpace.adapt() received no data.")
    return batches


class FeatureSpace:
    """Preprocesses and encodes a dict of raw features (Keras' ``keras.utils.FeatureSpace``).

    Args:
        features: ``{name: type}``, the type a name (``"float"``, ``"float_rescaled"``,
            ``"float_normalized"``, ``"float_discretized"``, ``"integer_categorical"``,
            ``"string_categorical"``, ``"integer_hashed"``, ``"string_hashed"``) or a feature
            made by ``FeatureSpace.float_normalized()`` etc. or ``FeatureSpace.feature``.
        output_mode: ``"concat"`` (one float tensor) or ``"dict"`` (one encoded tensor per
            feature and cross).
        crosses: feature names to hash together, e.g. ``[("a", "b")]``, or
            ``FeatureSpace.cross(...)`` objects.
        crossing_dim, hashing_dim, num_discretization_bins: the default sizes of crosses,
            hashed features and discretized features.
        name: a name (Keras' ``Layer`` argument; FeatureSpace is not a layer here).

    Call ``adapt(data)`` once, then ``feature_space(data)`` on a dict of arrays (batched, or
    one sample of scalars). ``preprocessors`` and ``crossers`` hold the layers by name.

    >>> fs = dn.utils.FeatureSpace({"x": "float_normalized", "c": "string_categorical"})
    >>> fs.adapt({"x": [0.0, 2.0, 4.0], "c": ["a", "b", "a"]})
    >>> fs({"x": [2.0, 4.0], "c": ["a", "z"]})  # c: [OOV, a, b], then x
    tensor([[0.0000, 1.0000, 0.0000, 0.0000],
            [1.0000, 0.0000, 0.0000, 1.2247]])
    """

    # ------------------------------------------------------------------ feature constructors
    @classmethod
    def cross(cls, feature_names, crossing_dim, output_mode="one_hot") -> Cross:
        """A cross of ``feature_names`` hashed into ``crossing_dim`` bins."""
        return Cross(feature_names, crossing_dim, output_mode=output_mode)

    @classmethod
    def feature(cls, dtype, preprocessor, output_mode) -> Feature:
        """A feature with your own preprocessing layer."""
        return Feature(dtype, preprocessor, output_mode)

    @staticmethod
    def _name(name, kind: str) -> str:
        return name or unique_name(kind)

    @classmethod
    def float(cls, name=None) -> Feature:
        """Float values, unchanged."""
        return Feature("float32", Identity(name=f"{cls._name(name, 'float')}_preprocessor"), "float")

    @classmethod
    def float_rescaled(cls, scale=1.0, offset=0.0, name=None) -> Feature:
        """Float values times ``scale`` plus ``offset`` (``Rescaling``)."""
        layer = Rescaling(scale=scale, offset=offset, name=f"{cls._name(name, 'float_rescaled')}_preprocessor")
        return Feature("float32", layer, "float")

    @classmethod
    def float_normalized(cls, name=None) -> Feature:
        """Float values standardised with the adapted mean and variance (``Normalization``)."""
        layer = Normalization(axis=-1, name=f"{cls._name(name, 'float_normalized')}_preprocessor")
        return Feature("float32", layer, "float")

    @classmethod
    def float_discretized(cls, num_bins, bin_boundaries=None, output_mode="one_hot", name=None) -> Feature:
        """Float values bucketed (``Discretization``; boundaries adapted unless given)."""
        layer_name = f"{cls._name(name, 'float_discretized')}_preprocessor"
        if bin_boundaries is not None:
            layer = Discretization(bin_boundaries=bin_boundaries, name=layer_name)
        else:
            layer = Discretization(num_bins=num_bins, name=layer_name)
        return Feature("float32", layer, output_mode)

    @classmethod
    def integer_categorical(cls, max_tokens=None, num_oov_indices=1, output_mode="one_hot", name=None) -> Feature:
        """Integer values indexed by an adapted vocabulary (``IntegerLookup``)."""
        layer = IntegerLookup(max_tokens=max_tokens, num_oov_indices=num_oov_indices,
                              name=f"{cls._name(name, 'integer_categorical')}_preprocessor")
        return Feature("int32", layer, output_mode)

    @classmethod
    def string_categorical(cls, max_tokens=None, num_oov_indices=1, output_mode="one_hot", name=None) -> Feature:
        """String values indexed by an adapted vocabulary (``StringLookup``)."""
        layer = StringLookup(max_tokens=max_tokens, num_oov_indices=num_oov_indices,
                             name=f"{cls._name(name, 'string_categorical')}_preprocessor")
        return Feature("string", layer, output_mode)

    @classmethod
    def string_hashed(cls, num_bins, output_mode="one_hot", name=None) -> Feature:
        """String values hashed into ``num_bins`` bins (``Hashing``)."""
        layer = Hashing(num_bins=num_bins, name=f"{cls._name(name, 'string_hashed')}_preprocessor")
        return Feature("string", layer, output_mode)

    @classmethod
    def integer_hashed(cls, num_bins, output_mode="one_hot", name=None) -> Feature:
        """Integer values hashed into ``num_bins`` bins (``Hashing``)."""
        layer = Hashing(num_bins=num_bins, name=f"{cls._name(name, 'integer_hashed')}_preprocessor")
        return Feature("int32", layer, output_mode)

    # ------------------------------------------------------------------ construction
    @validate_params({"features": None, "output_mode": Options(("concat", "dict")), "crosses": None,
                      "crossing_dim": POSITIVE_INT, "hashing_dim": POSITIVE_INT,
                      "num_discretization_bins": POSITIVE_INT, "name": NoneOr(String())})
    def __init__(self, features, output_mode="concat", crosses=None, crossing_dim=32, hashing_dim=32,
                 num_discretization_bins=32, name=None):
        if not isinstance(features, dict) or not features:
            raise ValueError("FeatureSpace: `features` must be a non-empty dict {name: feature type}. "
                             f"Received: features={features!r}")
        self.name = name or unique_name("feature_space")
        self.output_mode = output_mode
        self.crossing_dim = crossing_dim
        self.hashing_dim = hashing_dim
        self.num_discretization_bins = num_discretization_bins
        self.features = {n: self._standardize_feature(n, f) for n, f in features.items()}
        self.crosses = [self._standardize_cross(c) for c in (crosses or [])]
        self.crosses_by_name = {c.name: c for c in self.crosses}
        self.preprocessors = {n: f.preprocessor for n, f in self.features.items()}
        self.crossers = {c.name: HashedCrossing(c.crossing_dim, name=c.name) for c in self.crosses}
        self.one_hot_encoders: dict = {}
        self._is_adapted = False

    _BY_TYPE = {
        "float": lambda fs, n: fs.float(name=n),
        "float_normalized": lambda fs, n: fs.float_normalized(name=n),
        "float_rescaled": lambda fs, n: fs.float_rescaled(name=n),
        "float_discretized": lambda fs, n: fs.float_discretized(fs.num_discretization_bins, name=n),
        "integer_categorical": lambda fs, n: fs.integer_categorical(name=n),
        "string_categorical": lambda fs, n: fs.string_categorical(name=n),
        "integer_hashed": lambda fs, n: fs.integer_hashed(fs.hashing_dim, name=n),
        "string_hashed": lambda fs, n: fs.string_hashed(fs.hashing_dim, name=n),
    }

    def _standardize_feature(self, name: str, feature) -> Feature:
        if isinstance(feature, Feature):
            return feature
        if isinstance(feature, dict) and feature.get("class_name") == "Feature":
            return Feature.from_config(feature["config"])
        if isinstance(feature, str) and feature in self._BY_TYPE:
            return self._BY_TYPE[feature](self, name)
        raise ValueError(f"FeatureSpace: invalid type for feature {name!r}: expected one of "
                         f"{sorted(self._BY_TYPE)} or a FeatureSpace.feature(...). Received: {feature!r}")

    def _standardize_cross(self, cross) -> Cross:
        if isinstance(cross, dict) and cross.get("class_name") == "Cross":
            cross = Cross.from_config(cross["config"])
        if not isinstance(cross, Cross):
            cross = Cross(cross, self.crossing_dim)
        unknown = [n for n in cross.feature_names if n not in self.features]
        if unknown:
            raise ValueError(f"FeatureSpace: every feature in `crosses` must be in `features`; unknown {unknown} "
                             f"in cross {cross.feature_names}. Features: {sorted(self.features)}")
        return cross

    # ------------------------------------------------------------------ adapt
    def _adaptable_names(self) -> list[str]:
        return [n for n, p in self.preprocessors.items() if _adaptable(p)]

    def adapt(self, dataset) -> None:
        """Adapt every adaptable preprocessor (vocabularies, means, bin boundaries) on
        ``dataset``: a dict of arrays/lists, an iterable of dicts (or ``(dict, label)`` pairs),
        or a map-style dataset of dicts."""
        names = self._adaptable_names()
        batches = feature_batches(dataset, names) if names else {}
        for n in names:
            dtype = self.features[n].dtype
            self.preprocessors[n].adapt(iter([_typed(b, dtype) for b in batches[n]]))
        self._is_adapted = True
        self.one_hot_encoders = {}

    def _check_if_adapted(self) -> None:
        if not self._is_adapted:
            if any(_needs_adapt(p) for p in self.preprocessors.values()):
                raise ValueError("You need to call `.adapt(dataset)` on the FeatureSpace before you can start "
                                 "using it.")
            self._is_adapted = True

    # ------------------------------------------------------------------ call
    def _encoder(self, name: str, spec, layer):
        if spec.output_mode != "one_hot":
            return None
        if name not in self.one_hot_encoders:
            depth = _cardinality(layer)
            if depth is None:
                raise ValueError(f"Feature {name!r} has output_mode='one_hot', but the size of its preprocessor's "
                                 "output space is unknown, so it cannot be one-hot encoded. Try output_mode='int'.")
            self.one_hot_encoders[name] = CategoryEncoding(num_tokens=depth, output_mode="multi_hot")
        return self.one_hot_encoders[name]

    def _encode(self, name: str, spec, layer, value):
        encoder = self._encoder(name, spec, layer)
        if encoder is None:
            return value
        if value.is_floating_point():
            raise ValueError(f"Feature {name!r} has output_mode='one_hot', so its preprocessor must return "
                             f"integers; it returns {value.dtype}.")
        return encoder(value)

    def _inputs(self, data) -> tuple[dict, bool]:
        if not isinstance(data, dict):
            raise ValueError(f"A FeatureSpace can only be called with a dict. Received: data of type "
                             f"{type(data).__name__}")
        missing = [n for n in self.features if n not in data]
        if missing:
            raise ValueError(f"FeatureSpace: the data has no feature(s) {missing}; it has {sorted(data)}.")
        arrays = {n: _as_numpy(data[n]) for n in self.features}
        rebatched = any(a.ndim == 0 for a in arrays.values())
        return {n: _typed(_column(a), self.features[n].dtype) for n, a in arrays.items()}, rebatched

    def __call__(self, data):
        """Encode a dict of raw features (see the class docstring)."""
        self._check_if_adapted()
        inputs, rebatched = self._inputs(data)
        pre = {n: self.preprocessors[n](x) for n, x in inputs.items()}
        crossed = {c.name: self.crossers[c.name]([pre[n] for n in c.feature_names]) for c in self.crosses}
        out = {n: self._encode(n, self.features[n], self.preprocessors[n], pre[n]) for n in sorted(pre)}
        out.update({n: self._encode(n, self.crosses_by_name[n], self.crossers[n], crossed[n]) for n in sorted(crossed)})
        if self.output_mode == "dict":
            return {n: v.squeeze(0) if rebatched and v.dim() == 2 and v.shape[0] == 1 else v for n, v in out.items()}
        for n, v in out.items():
            if not v.is_floating_point():
                raise ValueError(f"Cannot concatenate features because feature {n!r} has not been encoded (it has "
                                 f"dtype {v.dtype}). Consider using output_mode='dict'.")
        merged = torch.cat([v.to(torch.float32) for v in out.values()], dim=-1)
        return merged.squeeze(0) if rebatched else merged

    # ------------------------------------------------------------------ functional models
    def _probe(self) -> dict:
        blank = {"float32": [0.0], "string": [""]}
        return self({n: blank.get(f.dtype, [0]) for n, f in self.features.items()})

    def get_encoded_features(self):
        """``Input`` tensors of the encoded features (one, or a dict in ``"dict"`` mode): the
        inputs of the model trained on ``feature_space(raw)``."""
        self._check_if_adapted()
        probe = self._probe()
        if self.output_mode == "concat":
            return Input(shape=tuple(probe.shape[1:]), name=f"{self.name}_encoded")
        return {n: Input(shape=tuple(v.shape[1:]), dtype=str(v.dtype).replace("torch.", ""), name=n)
                for n, v in probe.items()}

    def get_inputs(self) -> dict:
        """``Input`` tensors of the raw numeric features, shape ``(1,)``. String features have
        none (torch has no string tensors): encode them with ``feature_space(raw)`` first."""
        self._check_if_adapted()
        strings = [n for n, f in self.features.items() if f.dtype == "string"]
        if strings:
            raise TypeError(f"FeatureSpace.get_inputs(): the string feature(s) {strings} cannot be model inputs "
                            "(torch has no string tensors). help: build the model on get_encoded_features() and "
                            "predict with model.predict(feature_space(raw_data)).")
        return {n: Input(shape=(1,), dtype=f.dtype, name=n) for n, f in self.features.items()}

    # ------------------------------------------------------------------ saving
    def get_config(self) -> dict:
        """The constructor arguments, each preprocessor's adapted state included."""
        return {
            "features": {n: {"class_name": "Feature", "config": f.get_config()} for n, f in self.features.items()},
            "output_mode": self.output_mode,
            "crosses": [{"class_name": "Cross", "config": c.get_config()} for c in self.crosses],
            "crossing_dim": self.crossing_dim, "hashing_dim": self.hashing_dim,
            "num_discretization_bins": self.num_discretization_bins, "name": self.name,
        }

    @classmethod
    def from_config(cls, config: dict) -> FeatureSpace:
        """Rebuild a FeatureSpace (adapted, if it was) from :meth:`get_config`."""
        return cls(**config)

    def save(self, filepath) -> None:
        """Write the FeatureSpace, adapted state included, as JSON (no code, no pickle)."""
        payload = {"format": _FORMAT, "version": 1, "adapted": self._is_adapted, "config": self.get_config()}
        with atomic_write(os.fspath(filepath), "w") as f:
            json.dump(payload, f)

    @classmethod
    def load(cls, filepath) -> FeatureSpace:
        """Read a file written by :meth:`save`."""
        with open(os.fspath(filepath), encoding="utf-8") as f:
            payload = json.load(f)
        if not isinstance(payload, dict) or payload.get("format") != _FORMAT:
            raise ValueError(f"{os.fspath(filepath)!r} is not a FeatureSpace file written by FeatureSpace.save().")
        space = cls.from_config(payload["config"])
        space._is_adapted = bool(payload.get("adapted"))
        return space
