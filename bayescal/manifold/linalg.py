"""Small batched linear-algebra kernels shared by the manifold modules."""

from __future__ import annotations

import numpy as np

__all__ = ["gram"]

#: Matrices per block in :func:`gram` (a block of 1024 x 16 bases is 1 MiB, cache-resident).
_GRAM_BLOCK = 16


def gram(A: np.ndarray) -> np.ndarray:
    """Gram matrices ``A^T A`` of a stack, at general matrix-multiply speed.

    numpy dispatches ``A.mT @ A`` (same buffer) to BLAS ``syrk``, which for the tall thin
    matrices used here is markedly slower in OpenBLAS than ``gemm`` on the same data. Copying
    a cache-sized block first makes numpy call ``gemm``; the result is the same to rounding.

    Parameters
    ----------
    A : ndarray, shape (..., n, p)
        Float64 stack.

    Returns
    -------
    ndarray, shape (..., p, p)

    Examples
    --------
    >>> gram(np.array([[1.0, 2.0], [3.0, 4.0]]))
    array([[10., 14.],
           [14., 20.]])
    """
    n, p = A.shape[-2:]
    flat = A.reshape(-1, n, p)
    out = np.empty((flat.shape[0], p, p))
    buf = np.empty((min(_GRAM_BLOCK, flat.shape[0]), n, p))
    for start in range(0, flat.shape[0], _GRAM_BLOCK):
        sl = slice(start, min(start + _GRAM_BLOCK, flat.shape[0]))
        block = buf[: sl.stop - sl.start]
        np.copyto(block, flat[sl])
        np.matmul(np.swapaxes(flat[sl], -1, -2), block, out=out[sl])
    return out.reshape((*A.shape[:-2], p, p))
