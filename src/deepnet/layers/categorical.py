"""Categorical preprocessing layers: CategoryEncoding, Hashing, HashedCrossing, Discretization.

None of them has weights. They take tensors, NumPy arrays or Python lists (``Hashing`` and
``HashedCrossing`` also strings) and return torch tensors. ``Hashing`` and ``HashedCrossing``
compute the same hashes as Keras (FarmHash ``Fingerprint64``; SipHash-2-4 with a ``salt``), so
a model trained on Keras-hashed features gets the same bins. ``Discretization.adapt`` uses
Keras' approximate-quantile summary, so the learned ``bin_boundaries`` equal Keras'.

``sparse=True`` is refused: like Keras' PyTorch backend, deepnet has no sparse outputs.
"""

from __future__ import annotations

import numpy as np
import torch

from ..utils.validation import Interval, NoneOr, Options, Real, validate_params
from ._checks import BOOL, NON_NEGATIVE_INT, POSITIVE_INT
from ._encoding import DataLayer, as_array, encode, encoded_shape, iter_batches
from ._hashing import fingerprint64, fingerprint_cat64, hash_bins, to_bytes
from ._lookup import SALT, float_list, refuse_sparse

__all__ = ["CategoryEncoding", "Discretization", "HashedCrossing", "Hashing"]

_ENCODINGS = ("one_hot", "multi_hot", "count")
_CROSS_KEY = 0xDECAFCAFFE  # TensorFlow's default key of the hashed cross


def _mode(value: str) -> str:
    return "multi_hot" if value == "binary" else value


def _int_tensor(owner, x) -> torch.Tensor:
    if isinstance(x, torch.Tensor):
        if x.is_floating_point() or x.is_complex():
            raise TypeError(f"{type(owner).__name__} {owner.name!r} expects integer indices; received a "
                            f"{x.dtype} tensor. help: cast with .long() first.")
        return x
    arr = as_array(owner, x)
    if arr.dtype.kind not in "biu":
        raise TypeError(f"{type(owner).__name__} {owner.name!r} expects integer indices; received values "
                        f"of dtype {arr.dtype}.")
    return torch.as_tensor(arr)


class CategoryEncoding(DataLayer):
    """Encodes integer indices in ``[0, num_tokens)`` as one-hot, multi-hot or count vectors.

    Args:
        num_tokens: the number of categories (the output's last axis).
        output_mode: ``"multi_hot"`` (default; one vector per sample, the input's last axis
            being the sample), ``"one_hot"`` (one vector per index) or ``"count"``.
        sparse: must be False (no sparse outputs in deepnet).

    Call ``layer(indices, count_weights=None)``: in ``"count"`` mode ``count_weights`` (shape of
    ``indices``) weights each occurrence. Weights: none.

    >>> dn.layers.CategoryEncoding(num_tokens=4, output_mode="one_hot")([3, 0])
    tensor([[0., 0., 0., 1.],
            [1., 0., 0., 0.]])
    """

    @validate_params({"num_tokens": POSITIVE_INT, "output_mode": Options(("multi_hot", "one_hot", "count", "binary")),
                      "sparse": BOOL})
    def __init__(self, num_tokens=None, output_mode="multi_hot", sparse=False, **kwargs):
        super().__init__(**kwargs)
        refuse_sparse(self, sparse)
        self.num_tokens = num_tokens
        self.output_mode = _mode(output_mode)
        self.sparse = sparse

    def call(self, inputs, count_weights=None):
        if count_weights is not None and self.output_mode != "count":
            raise ValueError(f"CategoryEncoding {self.name!r}: `count_weights` is only used when output_mode="
                             f"'count'; received output_mode={self.output_mode!r}.")
        return encode(_int_tensor(self, inputs), self.output_mode, self.num_tokens, self.dtype, count_weights)

    def compute_output_shape(self, input_shape, count_weights=None):
        return encoded_shape(input_shape, self.output_mode, self.num_tokens)

    def get_config(self):
        return {**super().get_config(), "num_tokens": self.num_tokens, "output_mode": self.output_mode,
                "sparse": self.sparse}


class Hashing(DataLayer):
    """Hashes strings or integers into ``num_bins`` bins (Keras' hashes, see the module doc).

    Args:
        num_bins: number of bins, including the mask bin when ``mask_value`` is set.
        mask_value: inputs equal to it go to bin 0 (the others to ``1..num_bins-1``).
        salt: None (FarmHash ``Fingerprint64``), an int or two ints (SipHash-2-4 keyed by them).
        output_mode: ``"int"`` (default), ``"one_hot"``, ``"multi_hot"`` or ``"count"``.
        sparse: must be False.

    Integers are hashed as their decimal text and floats are first truncated, as in Keras.
    Output: ``int64`` bins (``dtype`` default) or float vectors. Weights: none.

    >>> dn.layers.Hashing(num_bins=3)([["A"], ["B"], ["C"]])
    tensor([[1],
            [0],
            [1]])
    """

    @validate_params({"num_bins": POSITIVE_INT, "mask_value": None, "salt": SALT,
                      "output_mode": Options(("int",) + _ENCODINGS), "sparse": BOOL})
    def __init__(self, num_bins, mask_value=None, salt=None, output_mode="int", sparse=False, **kwargs):
        if kwargs.get("dtype") is None:
            kwargs["dtype"] = "int64" if output_mode == "int" else "float32"
        super().__init__(**kwargs)
        refuse_sparse(self, sparse, output_mode)
        if output_mode == "int" and self.dtype not in (torch.int32, torch.int64):
            raise ValueError(f"Hashing: with output_mode='int', `dtype` must be 'int32' or 'int64'. Received: "
                             f"dtype={kwargs['dtype']!r}")
        self.num_bins = num_bins
        self.mask_value = mask_value
        self.salt = [salt, salt] if isinstance(salt, int) else (list(salt) if salt is not None else None)
        self.strong_hash = salt is not None
        self.output_mode = output_mode
        self.sparse = sparse

    def call(self, inputs):
        values = as_array(self, inputs)
        bins = self.num_bins
        mask = None
        if self.mask_value is not None and bins > 1:
            bins -= 1
            mask = values == self.mask_value
        if values.dtype.kind == "f":
            values = values.astype(np.int64)
        out = hash_bins(values, bins, self.salt)
        if mask is not None:
            out = np.where(mask, 0, out + 1)
        return encode(torch.as_tensor(out), self.output_mode, self.num_bins, self.dtype)

    def compute_output_shape(self, input_shape):
        return encoded_shape(input_shape, self.output_mode, self.num_bins)

    def _output_dtype(self, args, kwargs):
        return self.dtype

    def get_config(self):
        return {**super().get_config(), "num_bins": self.num_bins, "salt": self.salt, "mask_value": self.mask_value,
                "output_mode": self.output_mode, "sparse": self.sparse}


class HashedCrossing(DataLayer):
    """Crosses two or more categorical features into ``num_bins`` bins (the hash of the tuple
    of values), with Keras' hash (TensorFlow's ``sparse.cross_hashed``).

    Args:
        num_bins: number of bins.
        output_mode: ``"int"`` (default) or ``"one_hot"``.
        sparse: must be False.

    Call on a list/tuple of features of equal shape ``()``, ``(batch,)`` or ``(batch, 1)``;
    strings are fingerprinted, integers enter the cross as they are. Weights: none.

    >>> layer = dn.layers.HashedCrossing(num_bins=5)
    >>> layer((np.array(["A", "B", "A"]), np.array([101, 101, 102])))
    tensor([1, 4, 3])
    """

    @validate_params({"num_bins": POSITIVE_INT, "output_mode": Options(("int", "one_hot")), "sparse": BOOL})
    def __init__(self, num_bins, output_mode="int", sparse=False, **kwargs):
        if kwargs.get("dtype") is None and output_mode == "int":
            kwargs["dtype"] = "int64"
        super().__init__(**kwargs)
        refuse_sparse(self, sparse, output_mode)
        self.num_bins = num_bins
        self.output_mode = output_mode
        self.sparse = sparse

    def __call__(self, *args, **kwargs):
        if args and isinstance(args[0], tuple):
            args = (list(args[0]), *args[1:])
        return super().__call__(*args, **kwargs)

    def _features(self, inputs) -> list[np.ndarray]:
        if not isinstance(inputs, (list, tuple)) or len(inputs) < 2:
            raise ValueError(f"HashedCrossing {self.name!r} must be called on a list or tuple of at least two "
                             f"features; received {type(inputs).__name__}.")
        arrays = [as_array(self, x) for x in inputs]
        shape = arrays[0].shape
        if len(shape) > 2 or (len(shape) == 2 and shape[-1] != 1) or any(a.shape != shape for a in arrays):
            raise ValueError(f"HashedCrossing {self.name!r}: every feature must have the same shape (), "
                             f"(batch,) or (batch, 1); received shapes {[a.shape for a in arrays]}.")
        return arrays

    def call(self, inputs):
        arrays = self._features(inputs)
        shape = arrays[0].shape
        columns = [a.ravel().tolist() for a in arrays]
        out = np.empty(len(columns[0]), dtype=np.int64)
        for i, row in enumerate(zip(*columns)):
            h = _CROSS_KEY
            for v in row:
                h = fingerprint_cat64(h, fingerprint64(to_bytes(v)) if isinstance(v, (str, bytes)) else int(v) & (2**64 - 1))
            out[i] = h % self.num_bins
        return encode(torch.as_tensor(out.reshape(shape)), self.output_mode, self.num_bins, self.dtype)

    def compute_output_shape(self, input_shape):
        return encoded_shape(input_shape[0], self.output_mode, self.num_bins)

    def _output_dtype(self, args, kwargs):
        return self.dtype

    def get_config(self):
        return {**super().get_config(), "num_bins": self.num_bins, "output_mode": self.output_mode,
                "sparse": self.sparse}


# --------------------------------------------------------------------------- Discretization


def _summarize(values: np.ndarray, epsilon: float) -> np.ndarray:
    """Every ``step``-th sorted value with weight ``step`` (Keras' quantile summary)."""
    values = np.sort(values.reshape(-1))
    step = max(values.size / (1.0 / epsilon), 1)
    picked = values[int(step - 1)::int(step)]
    return np.stack([picked, np.ones_like(picked) * step])


def _compress(summary: np.ndarray, epsilon: float) -> np.ndarray:
    if summary.shape[1] * epsilon < 1:
        return summary
    percents = epsilon + np.arange(0.0, 1.0, epsilon)
    cum = summary[1].cumsum()
    cum_percents = cum / cum[-1]
    bins = np.interp(percents, cum_percents, summary[0])
    cum = np.interp(percents, cum_percents, cum)
    return np.stack((bins, cum - np.concatenate(([0], cum[:-1])))).astype("float32")


class Discretization(DataLayer):
    """Buckets numbers by boundaries: ``x`` goes to bucket ``i`` when
    ``bin_boundaries[i-1] <= x < bin_boundaries[i]``.

    Args:
        bin_boundaries: sorted boundaries (``len + 1`` buckets), or None to learn them with
            :meth:`adapt`.
        num_bins: the number of buckets :meth:`adapt` learns (approximate quantiles).
        epsilon: the quantile summary's error tolerance (Keras' algorithm).
        output_mode: ``"int"`` (default, ``int32`` bucket indices), ``"one_hot"``,
            ``"multi_hot"`` or ``"count"``.
        sparse: must be False.

    Weights: none; learned boundaries are stored in the config (``bin_boundaries``).

    >>> dn.layers.Discretization(bin_boundaries=[0.0, 1.0])(torch.tensor([-0.5, 0.0, 0.5, 2.0]))
    tensor([0, 1, 1, 2], dtype=torch.int32)
    """

    @validate_params({"bin_boundaries": NoneOr(float_list("a sorted list of numbers")),
                      "num_bins": NoneOr(NON_NEGATIVE_INT), "epsilon": Interval(Real, 0, 1, closed="right"),
                      "output_mode": Options(("int",) + _ENCODINGS), "sparse": BOOL})
    def __init__(self, bin_boundaries=None, num_bins=None, epsilon=0.01, output_mode="int", sparse=False, **kwargs):
        super().__init__(**kwargs)
        refuse_sparse(self, sparse, output_mode)
        if (num_bins is None) == (bin_boundaries is None):
            raise ValueError("Discretization: set exactly one of `bin_boundaries` and `num_bins`. Received: "
                             f"bin_boundaries={bin_boundaries!r}, num_bins={num_bins!r}")
        if bin_boundaries is not None and any(b > a for b, a in zip(bin_boundaries, bin_boundaries[1:])):
            raise ValueError(f"Discretization: `bin_boundaries` must be sorted. Received: {bin_boundaries!r}")
        self.bin_boundaries = bin_boundaries
        self.num_bins = num_bins
        self.epsilon = epsilon
        self.output_mode = output_mode
        self.sparse = sparse

    def adapt(self, data, steps=None) -> None:
        """Learn ``num_bins - 1`` boundaries (approximate quantiles) from ``data``: an array, a
        tensor, a list, or an iterable of batches."""
        if self.num_bins is None:
            raise ValueError(f"Discretization {self.name!r} was created with `bin_boundaries`; create it with "
                             "`num_bins` to learn boundaries with adapt().")
        summary = np.zeros((2, 0), dtype="float32")
        for batch in iter_batches(self, data, steps):
            values = as_array(self, batch).astype("float32")
            merged = np.concatenate((summary, _summarize(values, self.epsilon)), axis=1)
            summary = _compress(merged[:, np.argsort(merged[0], kind="stable")], self.epsilon)
        if summary.shape[1] == 0:
            raise ValueError(f"Discretization {self.name!r}.adapt() received no data.")
        self.bin_boundaries = _compress(summary, 1.0 / self.num_bins)[0, :-1].tolist()

    def call(self, inputs):
        if self.bin_boundaries is None:
            raise ValueError(f"Discretization {self.name!r} has no bin boundaries: pass `bin_boundaries` or call "
                             "adapt(data) first.")
        x = inputs if isinstance(inputs, torch.Tensor) else torch.as_tensor(as_array(self, inputs))
        boundaries = torch.tensor(self.bin_boundaries, dtype=torch.float64, device=x.device)
        indices = torch.bucketize(x.to(torch.float64), boundaries, right=True)
        dtype = torch.int32 if self.output_mode == "int" else self.dtype
        return encode(indices, self.output_mode, self._depth(), dtype)

    def _depth(self) -> int:
        return len(self.bin_boundaries) + 1 if self.bin_boundaries is not None else self.num_bins

    def compute_output_shape(self, input_shape):
        return encoded_shape(input_shape, self.output_mode, self._depth())

    def _output_dtype(self, args, kwargs):
        return torch.int32 if self.output_mode == "int" else self.dtype

    def get_config(self):
        return {**super().get_config(), "bin_boundaries": self.bin_boundaries, "num_bins": self.num_bins,
                "epsilon": self.epsilon, "output_mode": self.output_mode, "sparse": self.sparse}

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        boundaries = config.pop("bin_boundaries", None)
        if config.get("num_bins") is None:
            config["bin_boundaries"] = boundaries
            return cls(**config)
        layer = cls(**config)
        layer.bin_boundaries = boundaries
        return layer
