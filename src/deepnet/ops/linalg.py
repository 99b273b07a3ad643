"""``keras.ops.linalg`` on torch tensors (``torch.linalg`` with Keras' argument names).

>>> dn.ops.linalg.det(torch.eye(2) * 2)
tensor(4.)
"""

from __future__ import annotations

import torch

from ._dispatch import as_tensor, keras_op
from ._dispatch import to_float as as_float

__all__ = [
    "cholesky", "cholesky_inverse", "det", "eig", "eigh", "inv", "jvp", "lstsq", "lu_factor",
    "matrix_rank", "norm", "pinv", "qr", "solve", "solve_triangular", "svd",
]


def _square(x: torch.Tensor, op: str) -> torch.Tensor:
    if x.ndim < 2 or x.shape[-1] != x.shape[-2]:
        raise ValueError(f"ops.linalg.{op} expects (batches of) square matrices; received shape "
                         f"{tuple(x.shape)}.")
    return x


@keras_op
def cholesky(x, upper=False):
    """The Cholesky factor of a symmetric positive-definite matrix (lower unless ``upper``).

    >>> dn.ops.linalg.cholesky(torch.tensor([[4.0, 0.0], [0.0, 9.0]]))
    tensor([[2., 0.],
            [0., 3.]])
    """
    return torch.linalg.cholesky(_square(as_float(x), "cholesky"), upper=upper)


@keras_op
def cholesky_inverse(x, upper=False):
    """The inverse of ``A`` from its Cholesky factor ``x`` (``A = x x^T``, or ``x^T x`` if upper).

    >>> dn.ops.linalg.cholesky_inverse(torch.tensor([[2.0, 0.0], [0.0, 1.0]]))
    tensor([[0.2500, 0.0000],
            [0.0000, 1.0000]])
    """
    return torch.cholesky_inverse(_square(as_float(x), "cholesky_inverse"), upper=upper)


@keras_op
def det(x):
    """The determinant of (a batch of) square matrices.

    >>> dn.ops.linalg.det(torch.tensor([[1.0, 2.0], [3.0, 4.0]]))
    tensor(-2.)
    """
    return torch.linalg.det(_square(as_float(x), "det"))


@keras_op
def eig(x):
    """Eigenvalues and eigenvectors of a general square matrix (complex results).

    >>> dn.ops.linalg.eig(torch.eye(2))[0]
    tensor([1.+0.j, 1.+0.j])
    """
    return torch.linalg.eig(_square(as_float(x), "eig"))


@keras_op
def eigh(x):
    """Eigenvalues (ascending) and eigenvectors of a symmetric (Hermitian) matrix.

    >>> dn.ops.linalg.eigh(torch.tensor([[2.0, 0.0], [0.0, 1.0]]))[0]
    tensor([1., 2.])
    """
    return torch.linalg.eigh(_square(as_float(x), "eigh"))


@keras_op
def inv(x):
    """The inverse of (a batch of) square matrices.

    >>> dn.ops.linalg.inv(torch.tensor([[2.0, 0.0], [0.0, 4.0]]))
    tensor([[0.5000, 0.0000],
            [0.0000, 0.2500]])
    """
    return torch.linalg.inv(_square(as_float(x), "inv"))


@keras_op
def lu_factor(x):
    """The LU factorisation ``(LU, pivots)`` of a square matrix, pivots 0-based as in Keras.

    >>> dn.ops.linalg.lu_factor(torch.tensor([[1.0, 2.0], [3.0, 4.0]]))[1]
    tensor([1, 1], dtype=torch.int32)
    """
    lu, pivots = torch.linalg.lu_factor(_square(as_float(x), "lu_factor"))
    return lu, pivots - 1


@keras_op
def norm(x, ord=None, axis=None, keepdims=False):
    """A vector or matrix norm (``numpy.linalg.norm``'s ``ord`` values) over ``axis``.

    >>> dn.ops.linalg.norm(torch.tensor([3.0, 4.0]))
    tensor(5.)
    """
    x = as_float(x)
    if isinstance(axis, list):
        axis = tuple(axis)
    return torch.linalg.norm(x, ord=ord, dim=axis, keepdim=keepdims)


@keras_op
def qr(x, mode="reduced"):
    """The QR decomposition ``(q, r)``; ``mode`` is "reduced" or "complete".

    >>> q, r = dn.ops.linalg.qr(torch.eye(2))
    >>> r.abs()
    tensor([[1., 0.],
            [0., 1.]])
    """
    if mode not in ("reduced", "complete"):
        raise ValueError("ops.linalg.qr: `mode` must be 'reduced' or 'complete'. "
                         f"Received: mode={mode!r}")
    return torch.linalg.qr(as_float(x), mode=mode)


@keras_op
def solve(a, b):
    """Solves ``a @ x = b`` for ``x`` (``a`` square).

    >>> dn.ops.linalg.solve(torch.eye(2) * 2, torch.tensor([[2.0], [4.0]]))
    tensor([[1.],
            [2.]])
    """
    return torch.linalg.solve(_square(as_float(a), "solve"), as_float(b))


@keras_op
def solve_triangular(a, b, lower=False):
    """Solves ``a @ x = b`` for a triangular ``a`` (upper unless ``lower``); ``b`` may be a
    vector.

    >>> dn.ops.linalg.solve_triangular(torch.tensor([[2.0, 0.0], [1.0, 1.0]]),
    ...                                torch.tensor([2.0, 3.0]), lower=True)
    tensor([1., 2.])
    """
    a, b = _square(as_float(a), "solve_triangular"), as_float(b)
    if b.ndim == a.ndim - 1:
        return torch.linalg.solve_triangular(a, b.unsqueeze(-1), upper=not lower).squeeze(-1)
    return torch.linalg.solve_triangular(a, b, upper=not lower)


@keras_op
def svd(x, full_matrices=True, compute_uv=True):
    """The singular value decomposition ``(u, s, vh)``, or only ``s`` if not ``compute_uv``.

    >>> dn.ops.linalg.svd(torch.eye(2) * 3, compute_uv=False)
    tensor([3., 3.])
    """
    x = as_float(x)
    if not compute_uv:
        return torch.linalg.svdvals(x)
    return torch.linalg.svd(x, full_matrices=full_matrices)


@keras_op
def lstsq(a, b, rcond=None):
    """The least-squares solution ``x`` of ``a @ x = b``; ``rcond`` cuts small singular values
    as in NumPy.

    >>> dn.ops.linalg.lstsq(torch.tensor([[1.0], [1.0]]), torch.tensor([[1.0], [3.0]]))
    tensor([[2.]])
    """
    a, b = as_float(a), as_float(b)
    if rcond is None:
        return torch.linalg.lstsq(a, b).solution
    if a.device.type != "cpu":  # only the QR driver exists there: cut through the pseudo-inverse
        return torch.linalg.pinv(a, rtol=rcond) @ b
    return torch.linalg.lstsq(a, b, rcond=rcond, driver="gelsd").solution


@keras_op
def matrix_rank(x, tol=None):
    """The rank of a matrix: singular values above ``tol`` (absolute; default NumPy's).

    >>> dn.ops.linalg.matrix_rank(torch.tensor([[1.0, 2.0], [2.0, 4.0]]))
    tensor(1, dtype=torch.int32)
    """
    return torch.linalg.matrix_rank(as_float(x), atol=tol).to(torch.int32)


@keras_op
def pinv(x, rcond=None):
    """The Moore-Penrose pseudo-inverse; ``rcond`` is the relative cut-off of singular values.

    >>> dn.ops.linalg.pinv(torch.tensor([[2.0, 0.0], [0.0, 0.0]]))
    tensor([[0.5000, 0.0000],
            [0.0000, 0.0000]])
    """
    return torch.linalg.pinv(as_float(x), rtol=rcond)


def jvp(fun, primals, tangents, has_aux=False):
    """Forward-mode derivative: ``(fun(*primals), J @ tangents)`` (and ``aux`` if ``has_aux``).

    >>> dn.ops.linalg.jvp(lambda x: x ** 2, (torch.tensor([3.0]),), (torch.tensor([1.0]),))
    (tensor([9.]), tensor([6.]))
    """
    primals = tuple(as_tensor(p) for p in primals)
    tangents = tuple(as_tensor(t) for t in tangents)
    return torch.func.jvp(fun, primals, tangents, has_aux=has_aux)
