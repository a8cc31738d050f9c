"""Input validation shared by the manifold functions (one place, used where input enters).

Every check raises :class:`bayescal.errors.InputDataError` naming the argument, showing the
offending value and saying what is valid.
"""

from __future__ import annotations

import numbers

import numpy as np
from numpy.typing import ArrayLike

from bayescal.errors import InputDataError
from bayescal.manifold.linalg import gram

__all__ = [
    "ORTHONORMAL_ATOL",
    "as_bases",
    "as_matrix_stack",
    "as_positive_int",
    "as_tall_stack",
    "as_weighted_stack",
    "broadcast_batch",
    "check_gram",
    "check_same_ambient",
]

#: Default tolerance on ``max |U^T U - I|`` for a basis to count as orthonormal.
ORTHONORMAL_ATOL = 1e-8


def as_matrix_stack(name: str, x: ArrayLike) -> np.ndarray:
    """Return ``x`` as a float64 array of shape ``(..., n, m)`` with finite entries.

    Parameters
    ----------
    name : str
        Argument name used in error messages.
    x : array_like, shape (..., n, m)
        Real input with at least two dimensions.

    Returns
    -------
    ndarray, shape (..., n, m)
        ``x`` as float64 (no copy when it already is).

    Raises
    ------
    InputDataError
        If ``x`` is not real, has fewer than two dims, an empty core or non-finite entries.
    """
    arr = np.asarray(x)
    if arr.dtype.kind not in "biuf":
        raise InputDataError(f"{name} must be a real array; got dtype {arr.dtype}.")
    arr = arr.astype(np.float64, copy=False)
    if arr.ndim < 2:
        raise InputDataError(
            f"{name} must have shape (..., n, m) with at least 2 dims; got shape {arr.shape}."
        )
    if arr.shape[-2] == 0 or arr.shape[-1] == 0:
        raise InputDataError(f"{name} has an empty core shape {arr.shape[-2:]}; need n, m >= 1.")
    if not np.isfinite(arr).all():
        bad = int(arr.size - np.count_nonzero(np.isfinite(arr)))
        raise InputDataError(
            f"{name} contains {bad} non-finite value(s) (NaN or inf); clean the input first."
        )
    return arr


def as_bases(
    name: str, U: ArrayLike, *, check: bool = True, atol: float = ORTHONORMAL_ATOL
) -> np.ndarray:
    """Return ``U`` as a float64 stack of orthonormal bases ``(..., n, p)`` with ``p <= n``.

    Parameters
    ----------
    name : str
        Argument name used in error messages.
    U : array_like, shape (..., n, p)
        Candidate bases.
    check : bool, default True
        Check finiteness and orthonormality; ``False`` only converts (for hot loops).
    atol : float, default ORTHONORMAL_ATOL
        Tolerance on ``max |U^T U - I|``.

    Returns
    -------
    ndarray, shape (..., n, p)

    Raises
    ------
    InputDataError
        Wrong dims, ``p > n``, non-finite entries or (with ``check``) a non-orthonormal basis.
    """
    if not check:
        arr = np.asarray(U, dtype=np.float64)
        if arr.ndim < 2:
            raise InputDataError(f"{name} must have shape (..., n, p); got shape {arr.shape}.")
        return arr
    arr = as_tall_stack(name, U)
    # One Gram matrix per basis checks both: a NaN or inf entry makes its column's diagonal
    # entry non-finite, so no separate isfinite pass over the (large) input is needed.
    with np.errstate(over="ignore", invalid="ignore"):  # non-finite results are handled
        G = gram(arr)
    check_gram(name, G, arr, atol=atol)
    return arr


def as_tall_stack(name: str, U: ArrayLike) -> np.ndarray:
    """Return ``U`` as a float64 stack ``(..., n, p)`` with ``1 <= p <= n``; no Gram check.

    The shape half of :func:`as_bases`, for callers that check orthonormality themselves
    chunk by chunk (with :func:`check_gram`) while the data is in cache.

    Raises
    ------
    InputDataError
        Non-real dtype, wrong dims or ``p > n``.
    """
    arr = np.asarray(U)
    if arr.dtype.kind not in "biuf":
        raise InputDataError(f"{name} must be a real array; got dtype {arr.dtype}.")
    arr = arr.astype(np.float64, copy=False)
    if arr.ndim < 2 or 0 in arr.shape[-2:]:
        raise InputDataError(f"{name} must have shape (..., n, p) with n, p >= 1; got {arr.shape}.")
    n, p = arr.shape[-2:]
    if p > n:
        raise InputDataError(
            f"{name} must be a tall basis (..., n, p) with p <= n; got n={n}, p={p}. "
            "Did you pass the transpose?"
        )
    return arr


def as_weighted_stack(
    name: str, Us: ArrayLike, weights: ArrayLike | None, *, check: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """Validate a set of k bases ``(k, n, p)`` and its weights; return both, weights summing to 1.

    Parameters
    ----------
    name : str
        Argument name of the bases, used in error messages.
    Us : array_like, shape (k, n, p)
        Orthonormal bases (checked as :func:`as_bases` does when ``check``).
    weights : array_like, shape (k,), or None
        Finite non-negative weights with a positive sum; None for equal weights.
    check : bool, default True

    Returns
    -------
    bases : ndarray, shape (k, n, p)
    w : ndarray, shape (k,)
        Normalised weights.

    Raises
    ------
    InputDataError
        Malformed bases, a stack that is not 3-D, or bad weights.
    """
    arr = as_bases(name, Us, check=check)
    if arr.ndim != 3:
        raise InputDataError(f"{name} must have shape (k, n, p); got shape {arr.shape}.")
    k = arr.shape[0]
    if weights is None:
        return arr, np.full(k, 1.0 / k)
    w = np.asarray(weights, dtype=np.float64)
    if w.shape != (k,) or not np.isfinite(w).all() or (w < 0).any() or not w.sum() > 0:
        raise InputDataError(
            f"weights must be {k} finite non-negative numbers with a positive sum; "
            f"got {np.asarray(weights)!r}."
        )
    return arr, w / w.sum()


def check_gram(
    name: str,
    G: np.ndarray,
    block: np.ndarray,
    *,
    atol: float = ORTHONORMAL_ATOL,
    offset: int = 0,
    batch_shape: tuple[int, ...] | None = None,
) -> None:
    """Raise unless the Gram matrices ``G = U^T U`` of ``block`` are the identity to ``atol``.

    Parameters
    ----------
    name : str
        Argument name used in error messages.
    G : ndarray, shape (..., p, p)
        Gram matrices of ``block`` (modified in place).
    block : ndarray, shape (..., n, p)
        The bases, used only to word the message for non-finite input.
    atol : float, default ORTHONORMAL_ATOL
        Tolerance on ``max |U^T U - I|``.
    offset : int, default 0
        Flat batch index of ``G[0]`` when ``G`` is one chunk of a flattened stack.
    batch_shape : tuple of int, optional
        Batch shape of the whole stack, to report the offending index in it; default
        ``G.shape[:-2]``.

    Raises
    ------
    InputDataError
        Non-finite entries (a NaN or inf makes a diagonal entry of ``G`` non-finite) or a
        non-orthonormal basis.
    """
    p = G.shape[-1]
    G[..., np.arange(p), np.arange(p)] -= 1.0
    err = np.abs(G).max(axis=(-2, -1))
    if not np.isfinite(err).all():
        as_matrix_stack(name, block)  # raises the NaN/inf message
    worst = float(err.max())
    if not worst <= atol:  # also catches NaN from overflowing finite entries
        where = ""
        shape = err.shape if batch_shape is None else batch_shape
        if shape:
            index = np.unravel_index(offset + int(err.argmax()), shape)
            where = f" at batch index {tuple(int(i) for i in index)}"
        raise InputDataError(
            f"{name} is not orthonormal: max |U^T U - I| = {worst:.3g}{where} > atol={atol:g}. "
            "Orthonormalise it first, e.g. bayescal.manifold.subspace(X, rank=p)."
        )


def check_same_ambient(names: tuple[str, str], U: np.ndarray, V: np.ndarray) -> None:
    """Raise if two stacks of bases live in different ambient dimensions ``n``.

    Parameters
    ----------
    names : tuple of str
        The two argument names.
    U, V : ndarray, shape (..., n, p) and (..., n, q)
        Bases to compare.

    Raises
    ------
    InputDataError
        If ``U.shape[-2] != V.shape[-2]``.
    """
    if U.shape[-2] != V.shape[-2]:
        raise InputDataError(
            f"{names[0]} and {names[1]} must have the same number of rows n; got "
            f"{names[0]}.shape={U.shape} and {names[1]}.shape={V.shape}."
        )


def broadcast_batch(names: tuple[str, str], U: np.ndarray, V: np.ndarray) -> tuple[int, ...]:
    """Broadcast the leading (batch) dims of two stacks of matrices.

    Parameters
    ----------
    names : tuple of str
        The two argument names.
    U, V : ndarray, shape (..., n, p) and (..., n, q)
        Stacks whose leading dims must broadcast.

    Returns
    -------
    tuple of int
        The broadcast batch shape.

    Raises
    ------
    InputDataError
        If the leading dims do not broadcast.
    """
    try:
        return np.broadcast_shapes(U.shape[:-2], V.shape[:-2])
    except ValueError:
        raise InputDataError(
            f"leading (batch) dims of {names[0]} {U.shape[:-2]} and {names[1]} "
            f"{V.shape[:-2]} do not broadcast."
        ) from None


def as_positive_int(name: str, value: object, *, upper: int, context: str = "") -> int:
    """Return ``value`` as an int in ``[1, upper]``.

    Parameters
    ----------
    name : str
        Argument name used in error messages.
    value : object
        Candidate integer (``bool`` is rejected).
    upper : int
        Largest valid value.
    context : str, optional
        Appended to the message, e.g. ``" for 32 x 32 snapshots"``.

    Returns
    -------
    int

    Raises
    ------
    InputDataError
        If ``value`` is not an integer in ``[1, upper]``.
    """
    if (
        isinstance(value, bool)
        or not isinstance(value, numbers.Integral)
        or not 1 <= int(value) <= upper
    ):
        raise InputDataError(f"{name} must be an int in [1, {upper}]{context}; got {value!r}.")
    return int(value)
