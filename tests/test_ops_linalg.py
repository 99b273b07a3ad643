"""deepnet.ops.linalg against keras.ops.linalg (torch backend): one row per Keras name."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import deepnet.ops.linalg as linalg
from ops_parity import Row, check_row, coverage, keras, keras_names, rand


def spd(rng, n=4, batch=2):
    a = rand(rng, batch, n, n)
    return a @ a.transpose(0, 2, 1) + n * np.eye(n, dtype="float32")


def chol(rng):
    return np.linalg.cholesky(spd(rng)).astype("float32")


def square(rng):
    return (rand(rng, 2, 4, 4) + 3 * np.eye(4, dtype="float32"),)


def sign_free(ours, theirs):
    """Eigen/singular vectors are defined up to sign (or phase): compare magnitudes."""
    for o, t in zip(ours, theirs):
        np.testing.assert_allclose(np.abs(o), np.abs(t), atol=1e-4)


ROWS = [
    Row("cholesky", lambda r: (spd(r),)),
    Row("cholesky", lambda r: (spd(r),), {"upper": True}),
    Row("cholesky_inverse", lambda r: (chol(r),), atol=1e-4),
    Row("det", square),
    Row("eig", square, compare=sign_free),
    Row("eigh", lambda r: (spd(r),), compare=sign_free),
    Row("inv", square, atol=1e-4),
    Row("lu_factor", square),
    Row("norm", lambda r: (rand(r, 3, 4),)),
    Row("norm", lambda r: (rand(r, 3, 4),), {"ord": 1, "axis": 1, "keepdims": True}),
    Row("norm", lambda r: (rand(r, 2, 3, 4),), {"ord": "fro", "axis": (1, 2)}),
    Row("pinv", lambda r: (rand(r, 4, 3),), atol=1e-4),
    Row("qr", lambda r: (rand(r, 5, 3),), compare=sign_free),
    Row("qr", lambda r: (rand(r, 5, 3),), {"mode": "complete"}, compare=sign_free),
    Row("solve", lambda r: (*square(r), rand(r, 2, 4, 2)), atol=1e-4),
    Row("solve_triangular", lambda r: (np.tril(square(r)[0]), rand(r, 2, 4)), {"lower": True},
        atol=1e-4),
    Row("solve_triangular", lambda r: (np.triu(square(r)[0]), rand(r, 2, 4, 3)), atol=1e-4),
    Row("svd", lambda r: (rand(r, 4, 3),), compare=sign_free),
    Row("svd", lambda r: (rand(r, 4, 3),), {"compute_uv": False}),
    Row("lstsq", lambda r: (rand(r, 6, 3), rand(r, 6, 2)), atol=1e-4),
    Row("lstsq", lambda r: (rand(r, 6, 3), rand(r, 6, 2), 1e-3), atol=1e-4),
    Row("matrix_rank", lambda r: (np.array([[1, 2, 3], [2, 4, 6], [1, 0, 0]], "float32"),)),
    Row("jvp", lambda r: (torch.sin, (rand(r, 5),), (rand(r, 5),))),
]


@pytest.mark.parametrize("row", ROWS, ids=[f"{r.name}-{i}" for i, r in enumerate(ROWS)])
def test_op_matches_keras(row):
    if row.excluded:
        pytest.skip(row.excluded)
    check_row(row, linalg, keras.ops.linalg)


def test_table_covers_keras_ops_linalg():
    problems, implemented = coverage(ROWS, keras_names(keras.ops.linalg), linalg)
    assert not problems, problems
    assert implemented >= 0.95


def test_factorisations_reconstruct():
    x = torch.randn(5, 3)
    u, s, vh = linalg.svd(x, full_matrices=False)
    torch.testing.assert_close(u @ torch.diag(s) @ vh, x, atol=1e-5, rtol=1e-5)
    q, r = linalg.qr(x)
    torch.testing.assert_close(q @ r, x, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("call, match", [
    (lambda: linalg.inv(torch.ones(2, 3)), "square"),
    (lambda: linalg.qr(torch.ones(2, 2), mode="full"), "mode"),
])
def test_bad_arguments_raise(call, match):
    with pytest.raises(ValueError, match=match):
        call()
