"""deepnet.ops' core and math ops against keras.ops (torch backend): one row per top-level
Keras name that is in none of keras.ops.numpy / nn / image / linalg."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from deepnet.ops import core, math
from ops_parity import Row, check_row, coverage, keras, keras_names, rand

OURS = type("Ours", (), {n: staticmethod(getattr(m, n)) for m in (core, math) for n in m.__all__})


def x_(*shape, low=-3.0, high=3.0):
    return lambda rng: (rand(rng, *shape, low=low, high=high),)


def pair(*shape):
    return lambda rng: ((rand(rng, *shape), rand(rng, *shape)),)


def ids(rng):
    return np.array([0, 0, 2, 3, 3, 3], "int32")


ROWS = [
    Row("cast", x_(3, 4), {"dtype": "int32"}),
    Row("saturate_cast", x_(3, 4, low=-400, high=400), {"dtype": "uint8"}),
    Row("convert_to_tensor", x_(3, 4)),
    Row("convert_to_numpy", x_(3, 4)),
    Row("is_tensor", x_(2)),
    Row("dtype", x_(2)),
    Row("shape", x_(2, 5)),
    Row("stop_gradient", x_(3)),
    Row("unstack", x_(3, 4), {"axis": 1}),
    Row("slice", lambda r: (rand(r, 4, 5), (1, 2), (2, 3))),
    Row("slice_update", lambda r: (rand(r, 4, 5), (1, 2), rand(r, 2, 3))),
    Row("scatter", lambda r: (np.array([[0, 1], [2, 2], [0, 1]], "int32"), rand(r, 3), (3, 4))),
    Row("scatter_update", lambda r: (rand(r, 4, 3), np.array([[0, 1], [3, 2]], "int32"), rand(r, 2))),
    Row("scatter_update", lambda r: (rand(r, 4, 3), np.array([[0, 1], [0, 1]], "int32"), rand(r, 2)),
        {"reduction": "add"}),
    Row("scatter_update", lambda r: (rand(r, 4, 3), np.array([[0, 1], [3, 2]], "int32"), rand(r, 2)),
        {"reduction": "max"}),
    Row("cond", lambda r: (True, lambda: torch.ones(2), lambda: torch.zeros(2))),
    Row("switch", lambda r: (1, [lambda x: x + 1, lambda x: x * 2], rand(r, 3))),
    Row("while_loop", lambda r: (lambda i, s: i < 4, lambda i, s: (i + 1, s * 2.0),
                                 (0, rand(r, 3)))),
    Row("fori_loop", lambda r: (0, 5, lambda i, v: v + i, rand(r, 3))),
    Row("scan", lambda r: (lambda c, x: (c + x, c * x), rand(r, 2), rand(r, 5, 2))),
    Row("scan", lambda r: (lambda c, x: (c + x, c * x), rand(r, 2), rand(r, 5, 2)),
        {"reverse": True}),
    Row("associative_scan", lambda r: (lambda a, b: a + b, rand(r, 6, 2))),
    Row("associative_scan", lambda r: (lambda a, b: a * b, rand(r, 2, 5)), {"axis": 1,
                                                                             "reverse": True}),
    Row("map", lambda r: (lambda x: x.sum(), rand(r, 4, 3))),
    Row("vectorized_map", lambda r: (lambda x: x * x.sum(), rand(r, 4, 3))),
    Row("custom_gradient", excluded="a decorator: test_custom_gradient_sets_the_gradient checks it"),
    Row("rearrange", x_(2, 3, 4, 5), {"pattern": "b h w c -> b (c h) w"}),
    Row("rearrange", x_(2, 12), {"pattern": "b (h w) -> w b h", "h": 3}),
    Row("segment_sum", lambda r: (rand(r, 6, 2), ids(r))),
    Row("segment_max", lambda r: (rand(r, 6, 2), ids(r))),
    Row("segment_min", lambda r: (rand(r, 6), ids(r)), {"num_segments": 5}),
    Row("segment_prod", lambda r: (rand(r, 6), ids(r))),
    Row("top_k", x_(3, 6), {"k": 2}),
    Row("in_top_k", lambda r: (np.array([0, 3, 5], "int32"), rand(r, 3, 6), 2)),
    Row("logsumexp", x_(3, 4)),
    Row("logsumexp", x_(3, 4), {"axis": 1, "keepdims": True}),
    Row("cdist", lambda r: (rand(r, 2, 4, 3), rand(r, 2, 5, 3))),
    Row("extract_sequences", x_(2, 10), {"sequence_length": 4, "sequence_stride": 3}),
    Row("fft", pair(3, 8)),
    Row("fft2", pair(2, 4, 8), atol=1e-4),
    Row("ifft2", pair(2, 4, 8)),
    Row("rfft", x_(3, 8), {"fft_length": 8}, atol=1e-4),
    Row("irfft", pair(3, 5), {"fft_length": 8}),
    Row("stft", x_(2, 32), {"sequence_length": 8, "sequence_stride": 4, "fft_length": 8}, atol=1e-4),
    Row("stft", x_(32), {"sequence_length": 6, "sequence_stride": 3, "fft_length": 8,
                         "window": "hamming", "center": False}, atol=1e-4),
    Row("istft", lambda r: (keras.ops.stft(torch.from_numpy(rand(r, 2, 32)), 8, 4, 8),),
        {"sequence_length": 8, "sequence_stride": 4, "fft_length": 8}, atol=1e-4),
    Row("istft", lambda r: (keras.ops.stft(torch.from_numpy(rand(r, 32)), 6, 3, 8),),
        {"sequence_length": 6, "sequence_stride": 3, "fft_length": 8, "length": 30}, atol=1e-4),
    Row("rsqrt", x_(3, 4, low=0.1, high=4)),
    Row("erf", x_(3, 4)),
    Row("erfc", x_(3, 4)),
    Row("erfinv", x_(3, 4, low=-0.99, high=0.99), atol=1e-4),
    Row("logdet", lambda r: (rand(r, 2, 3, 3) + 3 * np.eye(3, dtype="float32"),)),
    Row("view_as_complex", x_(3, 2)),
    Row("view_as_real", lambda r: (rand(r, 3) + 1j * rand(r, 3),)),
]


def _core_names() -> set[str]:
    ops = keras.ops
    sub = [keras_names(m) for m in (ops.numpy, ops.nn, ops.image, ops.linalg)]
    return keras_names(ops) - set().union(*sub) - {"numpy", "nn", "image", "linalg"}


@pytest.mark.parametrize("row", ROWS, ids=[f"{r.name}-{i}" for i, r in enumerate(ROWS)])
def test_op_matches_keras(row):
    if row.excluded:
        pytest.skip(row.excluded)
    check_row(row, OURS, keras.ops)


def test_table_covers_the_core_and_math_ops():
    names = _core_names()
    assert len(names) >= 40, names
    ours = type("All", (), {"__all__": [*core.__all__, *math.__all__]})
    problems, implemented = coverage(ROWS, names, ours)
    assert not problems, problems
    assert implemented >= 0.95


def test_custom_gradient_sets_the_gradient():
    @core.custom_gradient
    def log1pexp(x):
        e = torch.exp(x)

        def grad(*args, upstream):
            return upstream * (1.0 - 1.0 / (1.0 + e))

        return torch.log(1.0 + e), grad

    x = torch.tensor([0.0, 2.0], requires_grad=True)
    log1pexp(x).sum().backward()
    torch.testing.assert_close(x.grad, torch.sigmoid(torch.tensor([0.0, 2.0])))


def test_istft_inverts_stft():
    x = torch.randn(2, 64)
    y = math.istft(math.stft(x, 16, 4, 16), 16, 4, 16, length=64)
    torch.testing.assert_close(y, x, atol=1e-4, rtol=1e-4)


@pytest.mark.parametrize("call, match", [
    (lambda: math.fft(torch.ones(3)), "tuple"),
    (lambda: math.stft(torch.ones(16), 8, 4, 4), "fft_length"),
    (lambda: core.scatter_update(torch.ones(3), torch.tensor([[0]]), torch.ones(1), "avg"),
     "reduction"),
    (lambda: core.rearrange(torch.ones(2, 3), "a b c -> a b c"), "axes"),
    (lambda: core.rearrange(torch.ones(2, 3), "a (b -> a b"), "unbalanced"),
])
def test_bad_arguments_raise(call, match):
    with pytest.raises(ValueError, match=match):
        call()
