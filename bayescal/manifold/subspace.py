"""Orthonormal bases of the dominant column space of (stacks of) matrices."""

from __future__ import annotations

from typing import cast, overload

import numpy as np
from numpy.typing import ArrayLike

from bayescal.errors import InputDataError
from bayescal.manifold.validate import as_matrix_stack, as_positive_int

__all__ = ["canonical_signs", "principal_subspace", "subspace"]


def canonical_signs(U: ArrayLike) -> np.ndarray:
    """Flip column signs so the largest-magnitude entry of each column is positive.

    Parameters
    ----------
    U : array_like, shape (..., n, p)
        Bases (any columns; the span is unchanged).

    Returns
    -------
    ndarray, shape (..., n, p)
        ``U`` with each column multiplied by +1 or -1. Ties in magnitude go to the first row.

    Examples
    --------
    >>> canonical_signs(np.array([[0.6], [-0.8]]))
    array([[-0.6],
           [ 0.8]])
    """
    arr = np.asarray(U, dtype=np.float64)
    idx = np.abs(arr).argmax(axis=-2)[..., None, :]
    pivot = np.take_along_axis(arr, idx, axis=-2)
    return arr * np.where(pivot < 0, -1.0, 1.0)


def principal_subspace(
    X: ArrayLike,
    rank: int | None = None,
    *,
    energy: float | None = None,
    tol: float | None = None,
    center: bool = False,
) -> tuple[np.ndarray, int, np.ndarray]:
    r"""Dominant left singular subspace of ``X``, with the rank used and the singular values.

    The one implementation behind :func:`subspace` and :func:`bayescal.srom.pod_basis` (the
    proper-orthogonal-decomposition basis of snapshots): one SVD of ``X`` (after subtracting
    the mean column when ``center``), a rank from ``rank``, ``energy`` or ``tol`` (exactly one),
    and the sign convention of :func:`canonical_signs`. For batched input one common rank is
    used: the largest rank any matrix of the batch asks for, so every basis in the batch has the
    same shape.

    Parameters
    ----------
    X : array_like, shape (..., n, m)
        Snapshot matrices (columns are snapshots); leading dims are a batch.
    rank : int, optional
        Number of singular vectors kept, ``1 <= rank <= min(n, m)``.
    energy : float, optional
        Fraction in (0, 1]: keep the smallest ``r`` with
        :math:`\sum_{i \le r} s_i^2 \ge \text{energy} \sum_i s_i^2`
        (``energy = 1 - tol_pod`` for a discarded-energy fraction ``tol_pod``).
    tol : float, optional
        Relative threshold >= 0: keep the singular values :math:`s_i > \text{tol}\, s_1`
        (at least one).
    center : bool, default False
        Subtract the mean column (over snapshots) before the SVD.

    Returns
    -------
    basis : ndarray, shape (..., n, r)
        Orthonormal columns, ordered by decreasing singular value, with the sign convention of
        :func:`canonical_signs` (equal inputs give equal bases).
    rank_used : int
        The common rank ``r``.
    singular_values : ndarray, shape (..., min(n, m))
        All singular values of the (centred) matrices, decreasing.

    Raises
    ------
    InputDataError
        Not exactly one of ``rank``/``energy``/``tol``; a value out of range; malformed ``X``;
        ``energy``/``tol`` on an all-zero (centred) matrix (no dominant subspace).

    Examples
    --------
    >>> X = np.array([[1.0, 5.0], [2.0, 0.0], [0.0, 2.0]])
    >>> basis, r, s = principal_subspace(X, energy=0.9, center=True)
    >>> basis, r, s.round(3).tolist()
    (array([[ 0.81649658],
           [-0.40824829],
           [ 0.40824829]]), 1, [3.464, 0.0])
    """
    given = [k for k, v in (("rank", rank), ("energy", energy), ("tol", tol)) if v is not None]
    if len(given) != 1:
        raise InputDataError(
            f"give exactly one of rank, energy or tol; got {', '.join(given) or 'none'}."
        )
    arr = as_matrix_stack("X", X)
    n, m = arr.shape[-2:]
    kmax = min(n, m)
    if rank is not None:
        r = as_positive_int("rank", rank, upper=kmax, context=f" for {n} x {m} snapshots")
    elif energy is not None and not 0.0 < energy <= 1.0:
        raise InputDataError(f"energy must be in (0, 1]; got {energy!r}.")
    elif tol is not None and not tol >= 0.0:
        raise InputDataError(f"tol must be a float >= 0; got {tol!r}.")
    if center:
        arr = arr - arr.mean(axis=-1, keepdims=True)
    left, s, _ = np.linalg.svd(arr, full_matrices=False)
    if rank is None:
        s_flat = s.reshape(-1, kmax)
        if not (s_flat[:, 0] > 0).all():
            raise InputDataError(
                f"X contains an all-zero{' (centred)' if center else ''} matrix: energy/tol "
                "cannot choose a rank; pass rank= instead."
            )
        if energy is not None:
            power = s_flat**2
            frac = np.cumsum(power, axis=-1) / power.sum(axis=-1, keepdims=True)
            slack = 4 * kmax * np.finfo(np.float64).eps  # so energy=1 is not lost to rounding
            ranks = 1 + np.sum(frac < energy - slack, axis=-1)
        else:
            ranks = np.maximum(np.sum(s_flat > cast(float, tol) * s_flat[:, :1], axis=-1), 1)
        r = int(min(ranks.max(), kmax))
    return canonical_signs(left[..., :r]), r, s


@overload
def subspace(X: ArrayLike, rank: int, *, energy: None = None, tol: None = None) -> np.ndarray: ...
@overload
def subspace(
    X: ArrayLike, rank: None = None, *, energy: float | None = None, tol: float | None = None
) -> tuple[np.ndarray, int]: ...


def subspace(
    X: ArrayLike,
    rank: int | None = None,
    *,
    energy: float | None = None,
    tol: float | None = None,
) -> np.ndarray | tuple[np.ndarray, int]:
    r"""Orthonormal basis of the span of the leading left singular vectors of ``X``.

    Give exactly one of ``rank``, ``energy`` or ``tol``. With ``energy`` or ``tol`` the rank is
    chosen from the singular values and returned alongside the basis. The basis is that of
    :func:`principal_subspace` (uncentred), which also returns the singular values.

    Parameters
    ----------
    X : array_like, shape (..., n, m)
        Snapshot matrices (columns are snapshots); leading dims are a batch.
    rank : int, optional
        Number of singular vectors kept, ``1 <= rank <= min(n, m)``.
    energy : float, optional
        Fraction in (0, 1]: keep the smallest ``r`` with
        :math:`\sum_{i \le r} s_i^2 \ge \text{energy} \sum_i s_i^2`.
    tol : float, optional
        Relative threshold >= 0: keep the singular values :math:`s_i > \text{tol}\, s_1`
        (at least one).

    Returns
    -------
    basis : ndarray, shape (..., n, r)
        Orthonormal columns, ordered by decreasing singular value, with the sign convention of
        :func:`canonical_signs` (equal inputs give equal bases). For a batch one common rank is
        used: the largest any matrix asks for.
    rank_used : int
        Only with ``energy`` or ``tol``: the common rank ``r``.

    Raises
    ------
    InputDataError
        Not exactly one of ``rank``/``energy``/``tol``; a value out of range; malformed ``X``;
        ``energy``/``tol`` on an all-zero matrix (no dominant subspace).

    Examples
    --------
    >>> X = np.diag([3.0, 2.0, 1e-12])
    >>> subspace(X, 2)
    array([[1., 0.],
           [0., 1.],
           [0., 0.]])
    >>> basis, r = subspace(X, tol=1e-8)
    >>> r, basis.shape
    (2, (3, 2))
    >>> subspace(X, energy=0.5)[1]
    1
    """
    basis, r, _ = principal_subspace(X, rank, energy=energy, tol=tol)
    return basis if rank is not None else (basis, r)
