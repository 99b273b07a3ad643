"""deepnet.ops.numpy against keras.ops.numpy (torch backend) on random inputs, one table row per
op: values within rtol 1e-5 / atol 1e-6, and the same kind of result dtype (bool, int, float,
complex). Ops whose result is a valid but different answer are compared on what is defined
(EXCLUDED lists each with its reason)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

keras = pytest.importorskip("keras")
kops = keras.ops

from deepnet import ops  # noqa: E402

rng = np.random.default_rng(0)
F = rng.normal(size=(3, 4)).astype("float32")  # general floats
G = rng.normal(size=(3, 4)).astype("float32")
V = rng.normal(size=(4,)).astype("float32")  # a vector
W = rng.normal(size=(4,)).astype("float32")
P = rng.uniform(0.1, 3.0, size=(3, 4)).astype("float32")  # positive
U = rng.uniform(-0.9, 0.9, size=(3, 4)).astype("float32")  # inside (-1, 1)
BIG = rng.uniform(1.1, 4.0, size=(3, 4)).astype("float32")  # > 1
I = rng.integers(-5, 6, size=(3, 4)).astype("int32")  # noqa: E741
J = rng.integers(1, 8, size=(3, 4)).astype("int32")  # positive ints
B = rng.random((3, 4)) > 0.5
C = rng.random((3, 4)) > 0.5
N = F.copy()
N[0, 1] = N[2, 3] = np.nan  # floats with NaN
SQ = (rng.normal(size=(2, 3, 3)) + 3 * np.eye(3)).astype("float32")  # square matrices
S1 = np.sort(rng.normal(size=(6,)).astype("float32"))
SPECIAL = np.array([np.nan, np.inf, -np.inf, 0.0, -0.0, 1.5], dtype="float32")

# Element-wise unary ops: the input each one is tested on (its domain).
UNARY_INPUT = {
    "arccos": U, "arcsin": U, "arctanh": U, "arccosh": BIG, "log": P, "log10": P, "log2": P, "log1p": P,
    "sqrt": P, "bitwise_invert": I, "bitwise_not": I, "logical_not": B, "isfinite": SPECIAL, "isinf": SPECIAL,
    "isnan": SPECIAL, "isneginf": SPECIAL, "isposinf": SPECIAL, "signbit": SPECIAL,
}
UNARY = [
    "abs", "absolute", "angle", "arccos", "arccosh", "arcsin", "arcsinh", "arctan", "arctanh", "bitwise_invert",
    "bitwise_not", "cbrt", "ceil", "conj", "conjugate", "cos", "cosh", "deg2rad", "exp", "exp2", "expm1", "fabs",
    "floor", "i0", "imag", "isfinite", "isinf", "isnan", "isneginf", "isposinf", "isreal", "log", "log10",
    "log1p", "log2", "logical_not", "negative", "rad2deg", "real", "reciprocal", "sign", "signbit", "sin", "sinc",
    "sinh", "sqrt", "square", "tan", "tanh", "trunc",
]
BINARY_INPUT = {
    "bitwise_and": (I, J), "bitwise_or": (I, J), "bitwise_xor": (I, J), "bitwise_left_shift": (J, J),
    "bitwise_right_shift": (J, J), "left_shift": (J, J), "right_shift": (J, J), "gcd": (I, J), "lcm": (I, J),
    "logical_and": (B, C), "logical_or": (B, C), "logical_xor": (B, C), "floor_divide": (F, P), "mod": (F, P),
    "fmod": (F, P), "power": (P, F), "ldexp": (F, I), "divide_no_nan": (F, np.where(B, G, 0).astype("float32")),
}
BINARY = [
    "add", "arctan2", "bitwise_and", "bitwise_left_shift", "bitwise_or", "bitwise_right_shift", "bitwise_xor",
    "divide", "divide_no_nan", "equal", "floor_divide", "fmax", "fmin", "fmod", "gcd", "greater", "greater_equal",
    "heaviside", "hypot", "lcm", "ldexp", "left_shift", "less", "less_equal", "logaddexp", "logaddexp2",
    "logical_and", "logical_or", "logical_xor", "maximum", "minimum", "mod", "multiply", "nextafter", "not_equal",
    "power", "right_shift", "subtract", "true_divide",
]

# name -> list of (args, kwargs); each case runs in keras and deepnet.
CASES = {
    "add": [((I, 2), {}), ((I, 2.5), {}), ((F, V), {}), ((I, F), {})],
    "multiply": [((B, I), {})],
    "divide": [((I, J), {}), ((I, 2), {})],
    "round": [((F,), {}), ((F * 10,), {"decimals": 1}), ((I,), {})],
    "sum": [((F,), {}), ((F,), {"axis": 1}), ((I,), {"axis": (0, 1), "keepdims": True}), ((B,), {"axis": 0})],
    "prod": [((P,), {"axis": 0}), ((F,), {"keepdims": True})],
    "mean": [((F,), {"axis": -1}), ((I,), {}), ((F,), {"axis": (0, 1), "keepdims": True})],
    "var": [((F,), {"axis": 0})], "std": [((F,), {"axis": 1, "keepdims": True})],
    "max": [((F,), {"axis": 0}), ((F,), {"initial": 0.5}), ((I,), {"keepdims": True})],
    "min": [((F,), {"axis": 1}), ((F,), {"axis": 0, "initial": -0.5})],
    "amax": [((F,), {"axis": 1})], "amin": [((F,), {"axis": (0, 1)})], "ptp": [((F,), {"axis": 0})],
    "all": [((B,), {}), ((B,), {"axis": 1})], "any": [((B,), {"axis": 0, "keepdims": True})],
    "argmax": [((F,), {}), ((F,), {"axis": 1}), ((F,), {"axis": 0, "keepdims": True})],
    "argmin": [((F,), {"axis": -1})], "count_nonzero": [((I,), {}), ((I,), {"axis": 0})],
    "average": [((F,), {}), ((F,), {"axis": 1, "weights": V}), ((F,), {"axis": 0, "weights": P})],
    "median": [((F,), {}), ((F,), {"axis": 1, "keepdims": True})],
    "quantile": [((F, 0.3), {}), ((F, np.array([0.2, 0.7], "float32")), {"axis": 1}),
                 ((F, 0.5), {"axis": 0, "method": "nearest"})],
    "percentile": [((F, 30.0), {"axis": 0}), ((F, 50), {"keepdims": True})],
    "nanquantile": [((N, 0.4), {"axis": 1})], "nanpercentile": [((N, 60.0), {})],
    "nanmedian": [((N,), {"axis": 1})], "nansum": [((N,), {"axis": 0})], "nanprod": [((N,), {"axis": 1})],
    "nanmean": [((N,), {"axis": 1})], "nanvar": [((N,), {"axis": 1})], "nanstd": [((N,), {})],
    "nanmax": [((N,), {"axis": 1})], "nanmin": [((N,), {"axis": 0})], "nanargmax": [((N,), {"axis": 1})],
    "nanargmin": [((N,), {})], "nancumsum": [((N,), {"axis": 1})], "nancumprod": [((N,), {"axis": 0})],
    "cumsum": [((F,), {}), ((I,), {"axis": 1})], "cumprod": [((P,), {"axis": 0})],
    "arange": [((5,), {}), ((1.0, 3.0, 0.5), {}), ((2, 11, 3), {"dtype": "float32"})],
    "array": [(([1, 2],), {}), ((F,), {"dtype": "float64"})],
    "linspace": [((0, 1), {"num": 7}), ((-2.0, 3.0, 6), {"endpoint": False})],
    "logspace": [((0, 2, 5), {}), ((1, 3, 4), {"base": 2, "endpoint": False})],
    "geomspace": [((1, 100, 5), {}), ((2.0, 32.0, 5), {"endpoint": False})],
    "zeros": [(((2, 3),), {})], "ones": [(((2,),), {"dtype": "int32"})], "empty": [(((2,),), {})],
    "full": [(((2, 2), 3), {}), (((2,), 1.5), {"dtype": "float64"})],
    "zeros_like": [((I,), {})], "ones_like": [((F,), {"dtype": "int32"})], "empty_like": [((F,), {})],
    "full_like": [((I, 7), {}), ((F, 2.0), {})],
    "eye": [((3,), {}), ((3, 4), {"k": 1}), ((4, 3), {"k": -1})], "identity": [((3,), {})],
    "tri": [((3,), {}), ((3, 4), {"k": 1})],
    "meshgrid": [((V, W[:3]), {}), ((V, W[:3]), {"indexing": "ij"})],
    "vander": [((V,), {}), ((V,), {"N": 3, "increasing": True})],
    "bartlett": [((7,), {})], "blackman": [((7,), {})], "hamming": [((7,), {})], "hanning": [((7,), {})],
    "kaiser": [((7, 3.0), {})],
    "reshape": [((F, (4, 3)), {}), ((F, (-1,)), {})], "ravel": [((F,), {})],
    "transpose": [((F,), {}), ((SQ, (1, 0, 2)), {})], "swapaxes": [((SQ, 0, 2), {})],
    "moveaxis": [((SQ, 0, -1), {}), ((SQ, (0, 1), (2, 0)), {})],
    "expand_dims": [((F, 1), {}), ((F, (0, 3)), {})], "squeeze": [((F[None],), {}), ((F[:, None], 1), {})],
    "broadcast_to": [((V, (3, 4)), {})],
    "concatenate": [(([F, G],), {}), (([F, G],), {"axis": 1}), (([F, I],), {"axis": None})],
    "append": [((F, G), {}), ((F, G), {"axis": 0})],
    "stack": [(([F, G],), {}), (([F, G],), {"axis": -1})], "hstack": [(([F, G],), {})],
    "vstack": [(([F, G],), {})], "dstack": [(([F, G],), {})],
    "split": [((F, 2), {"axis": 1}), ((F, [1, 3]), {"axis": 1})], "array_split": [((F, 3), {"axis": 1})],
    "hsplit": [((F, 2), {})], "vsplit": [((F, 3), {})], "dsplit": [((SQ, 3), {})],
    "flip": [((F,), {}), ((F, 1), {})], "fliplr": [((F,), {})], "flipud": [((F,), {})],
    "roll": [((F, 2), {}), ((F, 1), {"axis": 1}), ((F, (1, -1)), {"axis": (0, 1)})],
    "rot90": [((F,), {}), ((SQ,), {"k": 3, "axes": (1, 2)})],
    "repeat": [((F, 2), {}), ((F, 3), {"axis": 0})], "tile": [((F, 2), {}), ((F, (2, 1)), {})],
    "take": [((F, np.array([0, 2, -1])), {"axis": 1}), ((F, np.array([[1, 5]])), {})],
    "take_along_axis": [((F, np.argsort(F, axis=1)), {"axis": 1})],
    "get_item": [((F, (slice(None), 1)), {}), ((F, np.array([0, 2])), {})],
    "clip": [((F, -0.5, 0.5), {}), ((I, -2, 3), {})],
    "where": [((B, F, G), {}), ((B, I, 1.5), {})],
    "nan_to_num": [((SPECIAL,), {}), ((SPECIAL,), {"nan": 1.0, "posinf": 9.0, "neginf": -9.0})],
    "pad": [((F, ((1, 0), (0, 2))), {}), ((F, 1), {"mode": "reflect"}), ((F, ((1, 1), (2, 2))), {"mode": "symmetric"}),
            ((F, ((0, 1), (1, 1))), {"mode": "edge"}), ((F, 2), {"mode": "constant", "constant_values": 3.0}),
            ((F, ((1, 2), (2, 1))), {"mode": "wrap"})],
    "diff": [((F,), {}), ((F,), {"n": 2, "axis": 0})],
    "diag": [((F,), {}), ((V,), {"k": 1}), ((F,), {"k": -1})], "diagflat": [((F,), {})],
    "diagonal": [((SQ,), {}), ((SQ,), {"offset": 1, "axis1": 1, "axis2": 2})],
    "tril": [((F,), {}), ((F,), {"k": 1})], "triu": [((F,), {"k": -1})],
    "copy": [((F,), {})], "ndim": [((SQ,), {})], "size": [((SQ,), {})], "view": [((F, "int32"), {})],
    "matmul": [((F, G.T), {}), ((SQ, SQ), {}), ((V, G.T), {})],
    "dot": [((V, W), {}), ((F, G.T), {}), ((SQ, V[:3]), {}), ((F, 2.0), {})],
    "vdot": [((F, G), {})], "inner": [((F, G), {}), ((V, W), {})], "outer": [((V, W), {})],
    "kron": [((F[:2, :2], G[:2, :3]), {})],
    "tensordot": [((F, G.T), {"axes": 1}), ((SQ, SQ), {"axes": ([1, 2], [2, 1])}), ((F, G), {})],
    "einsum": [(("ij,kj->ik", F, G), {}), (("bij->bji", SQ), {})],
    "cross": [((F[:, :3], G[:, :3]), {}), ((F[:, :2], G[:, :2]), {}), ((F[:3, :3], G[:3, :3]), {"axis": 0})],
    "trace": [((F,), {}), ((SQ,), {"offset": 1, "axis1": 1, "axis2": 2})],
    "slogdet": [((SQ,), {})],
    "sort": [((F,), {}), ((F,), {"axis": 0})], "argsort": [((F,), {}), ((F,), {"axis": 0})],
    "searchsorted": [((S1, V), {}), ((S1, S1), {"side": "right"})],
    "digitize": [((F, S1), {})],
    "bincount": [((np.array([0, 1, 1, 4]),), {}), ((np.array([0, 1, 1]),), {"weights": V[:3], "minlength": 5})],
    "histogram": [((V,), {}), ((V,), {"bins": 3, "range": (-1.0, 1.0)})],
    "correlate": [((V, W[:2]), {}), ((V, W[:3]), {"mode": "full"}), ((V, W[:3]), {"mode": "same"})],
    "corrcoef": [((F,), {})],
    "isclose": [((F, F + 1e-6), {}), ((N, N), {"equal_nan": True})], "allclose": [((F, G), {}), ((F, F), {})],
    "isin": [((I, J), {}), ((I, J), {"invert": True})],
    "nonzero": [((I,), {})],
    "select": [(([B, C], [F, G]), {"default": 0.5})],
    "trapezoid": [((F,), {}), ((F,), {"dx": 0.5, "axis": 0}), ((F, np.cumsum(P, axis=1)), {})],
    "unique": [((I,), {}), ((I,), {"return_counts": True, "return_inverse": True, "return_index": True})],
    "unravel_index": [((np.array([1, 7, 5]), (3, 4)), {})],
}
for _name in UNARY:
    CASES.setdefault(_name, [((UNARY_INPUT.get(_name, F),), {})])
for _name in BINARY:
    CASES.setdefault(_name, [(BINARY_INPUT.get(_name, (F, G)), {})])

# Names not compared numerically, with the reason.
EXCLUDED = {
    "argpartition": "any partition is a valid answer; checked for the partition property below",
    "vectorize": "takes a Python function; checked below",
}


# Cases where Keras' torch backend departs from NumPy (or raises): deepnet follows NumPy, and
# the case is compared with NumPy instead, with the reason.
NUMPY_REFERENCE = {
    ("average", 2): "Keras raises for weights of x's shape with an axis",
    ("concatenate", 2): "Keras raises for axis=None (NumPy flattens)",
    ("cross", 0): "Keras takes torch's first axis of length 3 instead of the last axis",
    ("cross", 1): "Keras returns 2-vectors for 2-D cross products (NumPy: the z component)",
    ("imag", 0): "Keras raises for real inputs (NumPy: zeros)",
    ("max", 2): "Keras drops keepdims when axis=None", ("prod", 1): "Keras drops keepdims when axis=None",
    ("pad", 1): "Keras pads only the last axes in reflect mode", ("pad", 2): "Keras pads symmetric as edge",
    ("pad", 3): "Keras does not know mode='edge'", ("pad", 5): "Keras does not know mode='wrap'",
    ("pad", 4): "Keras ignores constant_values for an int pad_width",
    ("unique", 1): "Keras raises for return_index with the torch backend",
    ("vdot", 0): "Keras raises for 2-D inputs (NumPy flattens)",
}


def _numpy(x):
    if isinstance(x, (tuple, list)):
        return [_numpy(v) for v in x]
    if isinstance(x, torch.Tensor):
        return x.detach().cpu().numpy()
    return np.asarray(x)


def _kind(dtype) -> str:
    return {"b": "bool", "i": "int", "u": "int", "f": "float", "c": "complex"}[np.dtype(dtype).kind]


def _compare(name, got, want):
    if isinstance(want, list) and not (name == "nonzero"):
        assert isinstance(got, list) and len(got) == len(want), f"{name}: {len(got)} outputs vs {len(want)}"
        for g, w in zip(got, want):
            _compare(name, g, w)
        return
    got, want = np.asarray(got), np.asarray(want)
    if name == "nonzero":  # Keras' torch backend stacks the index tensors; deepnet returns NumPy's tuple
        got = np.stack(got)
    assert got.shape == want.shape, f"{name}: shape {got.shape} vs keras {want.shape}"
    if name not in ("empty", "empty_like"):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6, equal_nan=True, err_msg=name)
    if want.dtype.kind in "biufc":
        assert _kind(got.dtype) == _kind(want.dtype), f"{name}: dtype {got.dtype} vs keras {want.dtype}"


PARAMS = [(name, i) for name in sorted(CASES) for i in range(len(CASES[name]))]


@pytest.mark.parametrize(("name", "case"), PARAMS, ids=[f"{n}-{i}" for n, i in PARAMS])
def test_matches_keras(name, case):
    args, kwargs = CASES[name][case]
    reference = getattr(np, name) if (name, case) in NUMPY_REFERENCE else getattr(kops, name)
    want = _numpy(reference(*args, **kwargs))
    got = _numpy(getattr(ops.numpy, name)(*args, **kwargs))
    _compare(name, got, want)


def test_every_numpy_name_is_in_the_table():
    names = set(ops.numpy.__all__)
    assert names == {n for n in dir(keras.ops.numpy) if not n.startswith("_")}
    missing = sorted(names - set(CASES) - set(EXCLUDED))
    assert not missing, f"ops.numpy names without a numerics case or an exclusion reason: {missing}"


def test_argpartition_partitions():
    x = torch.tensor(F[0])
    idx = ops.argpartition(x, 2)
    part = x[idx.long()]
    assert torch.all(part[:2] <= part[2]) and torch.all(part[3:] >= part[2])


def test_vectorize_maps_over_the_leading_axis():
    fn = ops.vectorize(lambda row: row.max())
    np.testing.assert_allclose(_numpy(fn(torch.tensor(F))), F.max(axis=1))


def test_python_scalars_and_numpy_in_torch_out():
    out = ops.add(np.ones(2, "float32"), 1)
    assert isinstance(out, torch.Tensor) and out.dtype == torch.float32
    assert ops.add(1, 2).dtype == torch.int32  # Keras: Python ints are int32
    assert ops.multiply(torch.ones(2, dtype=torch.int32), 1.5).dtype == torch.float32
    assert ops.mean(torch.tensor([1, 2])).dtype == torch.float32


def test_errors_name_the_op_and_the_argument():
    with pytest.raises(ValueError, match="squeeze.*axis 0 of length 3"):
        ops.squeeze(torch.ones(3, 1), axis=0)
    with pytest.raises(ValueError, match="indexing"):
        ops.meshgrid(torch.ones(2), indexing="yx")
    with pytest.raises(ValueError, match="equal sections"):
        ops.split(torch.ones(5), 2)
    with pytest.raises(TypeError, match="ldexp.*x2"):
        ops.ldexp(torch.ones(2), torch.ones(2))
