r"""Linear constraints :math:`B^T Y = 0` on orthonormal bases (fixed DOFs, zero net translation).

A constraint matrix :math:`B \in \mathbb{R}^{n \times k}` restricts the Stiefel manifold
St(n, p) (:mod:`bayescal.manifold.stiefel`) to the bases whose columns lie in the null space of
:math:`B^T`: :func:`constrain` projects bases onto it and re-orthonormalises them;
:func:`translation_constraint` and :func:`fixed_dofs_constraint` build the two common
constraint matrices; :func:`constraint_basis` orthonormalises a constraint matrix.

All functions are batched over leading dims ``(..., n, p)`` of the bases.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from bayescal.errors import InputDataError
from bayescal.manifold.stiefel import Orthonormalization, orthonormalize
from bayescal.manifold.validate import as_matrix_stack

__all__ = [
    "constrain",
    "constraint_basis",
    "fixed_dofs_constraint",
    "translation_constraint",
]


def constraint_basis(B: ArrayLike, *, n: int | None = None) -> np.ndarray:
    """Orthonormal basis of the range of a constraint matrix ``B`` (constraint ``B^T Y = 0``).

    Parameters
    ----------
    B : array_like, shape (n, k)
        Constraint matrix; its columns are the directions every basis column must be
        orthogonal to. Linearly dependent columns are allowed (rank is detected).
    n : int, optional
        Expected number of rows (ambient dimension), checked when given.

    Returns
    -------
    ndarray, shape (n, rank(B))

    Raises
    ------
    InputDataError
        ``B`` not 2-D, non-finite, all zero, or with the wrong number of rows.

    Examples
    --------
    >>> constraint_basis(np.array([[2.0], [0.0]]))
    array([[1.],
           [0.]])
    """
    Ba = as_matrix_stack("constraint", B)
    if Ba.ndim != 2:
        raise InputDataError(f"constraint must have shape (n, k); got shape {Ba.shape}.")
    if n is not None and Ba.shape[0] != n:
        raise InputDataError(
            f"constraint must have n = {n} rows (one per degree of freedom); got shape {Ba.shape}."
        )
    U, s, _ = np.linalg.svd(Ba, full_matrices=False)
    if not s[0] > 0:
        raise InputDataError("constraint is all zero; pass None for no constraint.")
    rank = int(np.sum(s > max(Ba.shape) * np.finfo(np.float64).eps * s[0]))
    Ub = U[:, :rank]
    return Ub * np.where(Ub[np.abs(Ub).argmax(axis=0), np.arange(rank)] < 0, -1.0, 1.0)


def constrain(Y: ArrayLike, B: ArrayLike, *, method: Orthonormalization = "polar") -> np.ndarray:
    r"""Project bases onto the constraint :math:`B^T Y = 0` and re-orthonormalise.

    :math:`Y \leftarrow \operatorname{orth}\big((I - P_B) Y\big)` with :math:`P_B` the
    orthogonal projector onto the range of ``B``. The orthonormalisation works inside the
    column space of the projected matrix, so the result satisfies the constraint to round-off
    (about 1e-15). Bases that already satisfy it are returned unchanged (up to round-off).

    Parameters
    ----------
    Y : array_like, shape (..., n, p)
        Bases (orthonormal or not).
    B : array_like, shape (n, k)
        Constraint matrix, e.g. :func:`translation_constraint` or
        :func:`fixed_dofs_constraint`.
    method : {"polar", "qr"}, default "polar"
        Orthonormalisation, see :func:`orthonormalize`.

    Returns
    -------
    ndarray, shape (..., n, p)
        Orthonormal bases with ``B^T result = 0``.

    Raises
    ------
    InputDataError
        Incompatible shapes, ``n - rank(B) < p``, or a basis that loses rank when projected.

    Examples
    --------
    >>> B = np.ones((3, 1))
    >>> Y = constrain(np.eye(3)[:, :1], B)
    >>> np.round(B.T @ Y, 12)
    array([[0.]])
    """
    Ya = as_matrix_stack("Y", Y)
    n, p = Ya.shape[-2:]
    Qb = constraint_basis(B, n=n)
    if n - Qb.shape[1] < p:
        raise InputDataError(
            f"constraint of rank {Qb.shape[1]} leaves {n - Qb.shape[1]} free directions in "
            f"R^{n}, fewer than the p = {p} basis columns."
        )
    Z = Ya - Qb @ (Qb.T @ Ya)
    out = orthonormalize(Z, method=method)
    return out - Qb @ (Qb.T @ out)  # remove the last round-off along B


def translation_constraint(n_atoms: int, dim: int = 3) -> np.ndarray:
    """Constraint matrix of zero net translation for atom-major displacement vectors.

    Row ``a * dim + c`` is degree of freedom ``c`` (x, y, z) of atom ``a``, the layout of
    :func:`bayescal.srom.snapshot_matrix`; column ``c`` sums component ``c`` over all atoms, so
    ``B^T Y = 0`` makes every mode free of rigid translation.

    Parameters
    ----------
    n_atoms : int
        Number of atoms, >= 1.
    dim : int, default 3
        Spatial dimension, >= 1.

    Returns
    -------
    ndarray, shape (n_atoms * dim, dim)

    Examples
    --------
    >>> translation_constraint(2, 2)
    array([[1., 0.],
           [0., 1.],
           [1., 0.],
           [0., 1.]])
    """
    for name, v in (("n_atoms", n_atoms), ("dim", dim)):
        if isinstance(v, bool) or not isinstance(v, int | np.integer) or v < 1:
            raise InputDataError(f"{name} must be an int >= 1; got {v!r}.")
    return np.tile(np.eye(int(dim)), (int(n_atoms), 1))


def fixed_dofs_constraint(n_dof: int, dofs: ArrayLike) -> np.ndarray:
    """Constraint matrix that pins degrees of freedom: ``B^T Y = 0`` zeroes those rows of Y.

    Parameters
    ----------
    n_dof : int
        Number of rows of the bases.
    dofs : array_like of int, shape (k,)
        Indices of the fixed rows (distinct, in ``[0, n_dof)``).

    Returns
    -------
    ndarray, shape (n_dof, k)
        Columns of the identity.

    Examples
    --------
    >>> fixed_dofs_constraint(3, [1])
    array([[0.],
           [1.],
           [0.]])
    """
    if isinstance(n_dof, bool) or not isinstance(n_dof, int | np.integer) or n_dof < 1:
        raise InputDataError(f"n_dof must be an int >= 1; got {n_dof!r}.")
    idx = np.asarray(dofs)
    if (
        idx.ndim != 1
        or idx.size == 0
        or idx.dtype.kind not in "iu"
        or idx.min() < 0
        or idx.max() >= n_dof
        or np.unique(idx).size != idx.size
    ):
        raise InputDataError(
            f"dofs must be distinct integer indices in [0, {n_dof}); got {np.asarray(dofs)!r}."
        )
    return np.eye(int(n_dof))[:, idx]
