"""Snapshot matrices of MD trajectories, their POD bases, and sign alignment of bases.

Layout: a configuration of ``N`` atoms in ``d`` dimensions is a vector of ``n_dof = N d``
entries, atom-major (row ``a * d + c`` is component ``c`` of atom ``a``); a snapshot matrix has
one column per frame. POD bases are the leading left singular vectors, so they live in the same
``n_dof`` space and can be compared on the Stiefel manifold.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from numpy.typing import ArrayLike
from scipy.optimize import linear_sum_assignment

from bayescal.errors import InputDataError
from bayescal.manifold import principal_subspace
from bayescal.manifold.stiefel import orthonormalize
from bayescal.manifold.validate import as_matrix_stack

__all__ = ["Alignment", "align_signs", "pod_basis", "snapshot_matrix"]

Alignment = Literal["sign", "permute", "procrustes"]


def _as_frames(name: str, x: ArrayLike) -> np.ndarray:
    arr = np.asarray(x)
    if arr.dtype.kind not in "biuf":
        raise InputDataError(f"{name} must be a real array; got dtype {arr.dtype}.")
    arr = arr.astype(np.float64, copy=False)
    if arr.ndim != 3 or 0 in arr.shape:
        raise InputDataError(
            f"{name} must have shape (T, N, d) (frames, atoms, components); got {arr.shape}."
        )
    if not np.isfinite(arr).all():
        raise InputDataError(f"{name} contains non-finite values (NaN or inf).")
    return arr


def snapshot_matrix(
    positions: ArrayLike,
    *,
    velocities: ArrayLike | None = None,
    masses: ArrayLike | None = None,
    gamma: float = 0.0,
    reference: ArrayLike | None = None,
) -> np.ndarray:
    r"""Snapshot matrix of displacements (and optionally weighted momenta) of a trajectory.

    Column ``t`` is the displacement :math:`u_t = x_t - x_\mathrm{ref}` of frame ``t``
    flattened atom-major (x, y, z of atom 0, then of atom 1, ...). With ``gamma > 0`` the
    momenta :math:`p_t = M v_t` scaled by ``gamma`` are appended as ``T`` further **columns**
    (not rows), ``S = [u_0 ... u_{T-1}, gamma p_0 ... gamma p_{T-1}]``: the POD basis then still
    lives in the ``n_dof`` displacement space, and ``gamma`` (units of displacement per
    momentum) weighs how much the momenta shape it. Positions must be unwrapped (no jumps
    across periodic boundaries).

    Parameters
    ----------
    positions : array_like, shape (T, N, d)
        Atom positions per frame.
    velocities : array_like, shape (T, N, d), optional
        Atom velocities per frame; required when ``gamma > 0``.
    masses : array_like, shape (N,) or scalar, optional
        Atom masses; default 1 for every atom.
    gamma : float, default 0.0
        Weight of the momentum columns, >= 0; 0 gives displacements only.
    reference : array_like, shape (N, d), optional
        Reference configuration; default frame 0 (so column 0 is zero).

    Returns
    -------
    ndarray, shape (N d, T) or (N d, 2 T) with momenta

    Raises
    ------
    InputDataError
        Wrong shapes, non-finite values, negative ``gamma`` or ``gamma > 0`` without
        velocities.

    Examples
    --------
    >>> x = np.array([[[0.0, 0.0], [1.0, 0.0]], [[0.1, 0.0], [1.0, 0.2]]])
    >>> snapshot_matrix(x)
    array([[0. , 0.1],
           [0. , 0. ],
           [0. , 0. ],
           [0. , 0.2]])
    >>> snapshot_matrix(x, velocities=np.ones_like(x), masses=[1.0, 2.0], gamma=0.5).shape
    (4, 4)
    """
    pos = _as_frames("positions", positions)
    T, N, d = pos.shape
    if reference is None:
        ref = pos[0]
    else:
        ref = np.asarray(reference, dtype=np.float64)
        if ref.shape != (N, d) or not np.isfinite(ref).all():
            raise InputDataError(
                f"reference must be a finite array of shape (N, d) = {(N, d)}; got {ref.shape}."
            )
    S = (pos - ref).reshape(T, N * d).T
    if not (np.isfinite(gamma) and gamma >= 0):
        raise InputDataError(f"gamma must be a finite float >= 0; got {gamma!r}.")
    if gamma == 0:
        return S
    if velocities is None:
        raise InputDataError(
            f"gamma={gamma} > 0 appends momentum columns and needs velocities; pass velocities= "
            "or gamma=0."
        )
    vel = _as_frames("velocities", velocities)
    if vel.shape != pos.shape:
        raise InputDataError(
            f"velocities must have the shape of positions {pos.shape}; got {vel.shape}."
        )
    if masses is None:
        m = np.ones(N)
    else:
        if np.shape(masses) not in ((), (N,)):
            raise InputDataError(
                f"masses must be a scalar or of shape ({N},); got shape {np.shape(masses)}."
            )
        m = np.broadcast_to(np.asarray(masses, dtype=np.float64), (N,))
    if not (np.isfinite(m).all() and (m > 0).all()):
        raise InputDataError("masses must be finite and > 0.")
    P = (vel * m[None, :, None]).reshape(T, N * d).T
    return np.concatenate([S, gamma * P], axis=1)


def pod_basis(
    S: ArrayLike, *, tol: float = 1e-4, rank: int | None = None, center: bool = True
) -> tuple[np.ndarray, int, np.ndarray]:
    r"""Proper-orthogonal-decomposition basis of snapshot matrices.

    The basis is the leading left singular vectors of ``S`` (after subtracting the mean
    column when ``center``), with the sign convention of
    :func:`bayescal.manifold.canonical_signs`: it is
    :func:`bayescal.manifold.principal_subspace` with ``energy = 1 - tol``. Without ``rank``,
    the rank is the smallest ``r`` whose discarded energy fraction is at most ``tol``:
    :math:`\sum_{i > r} s_i^2 / \sum_i s_i^2 \le \text{tol}`. For a batch one common rank is
    used (the largest any matrix asks for). Note that ``tol`` here is an energy fraction, not
    the singular-value ratio ``tol`` of :func:`bayescal.manifold.subspace`.

    Parameters
    ----------
    S : array_like, shape (..., n, m)
        Snapshot matrices (one column per snapshot).
    tol : float, default 1e-4
        Discarded-energy fraction in (0, 1), used when ``rank`` is None.
    rank : int, optional
        Number of modes, ``1 <= rank <= min(n, m)``; overrides ``tol``.
    center : bool, default True
        Subtract the mean column (over snapshots) first.

    Returns
    -------
    basis : ndarray, shape (..., n, r)
        Orthonormal POD modes, by decreasing singular value.
    rank : int
        ``r``.
    singular_values : ndarray, shape (..., min(n, m))
        All singular values of the (centred) snapshot matrix.

    Raises
    ------
    InputDataError
        Malformed ``S``, ``tol``/``rank`` out of range, or all-zero snapshots with ``tol``.

    Examples
    --------
    >>> S = np.diag([3.0, 2.0, 1e-3])
    >>> basis, r, s = pod_basis(S, tol=1e-4, center=False)
    >>> r, basis.shape, s.round(3).tolist()
    (2, (3, 2), [3.0, 2.0, 0.001])
    """
    arr = as_matrix_stack("S", S)
    if rank is not None:
        return principal_subspace(arr, rank, center=center)
    if not 0.0 < tol < 1.0:
        raise InputDataError(f"tol must be a discarded-energy fraction in (0, 1); got {tol!r}.")
    return principal_subspace(arr, energy=1.0 - tol, center=center)


def _column_order(overlap: np.ndarray) -> np.ndarray:
    """Column order of Phi that matches reference column j with Phi column order[j]."""
    _, assigned = linear_sum_assignment(overlap, maximize=True)  # Phi column i -> ref column
    return np.argsort(assigned)


def align_signs(Phi: ArrayLike, reference: ArrayLike, *, method: Alignment = "sign") -> np.ndarray:
    r"""Align the columns of bases to a reference basis.

    Parameters
    ----------
    Phi : array_like, shape (..., n, r)
        Bases to align; leading dims broadcast with those of ``reference``.
    reference : array_like, shape (..., n, r)
        Reference bases.
    method : {"sign", "permute", "procrustes"}, default "sign"
        ``"sign"``: flip column ``j`` when :math:`\phi_j^T \psi_j < 0`. ``"permute"``: first
        reorder the columns to maximise :math:`\sum_j |\phi_{\pi(j)}^T \psi_j|` (linear
        assignment; for modes whose order swaps between models), then fix signs.
        ``"procrustes"``: replace ``Phi`` by :math:`\Phi Q` with the orthogonal :math:`Q`
        closest to :math:`\Phi^T \Psi` (same span, basis closest to the reference).

    Returns
    -------
    ndarray, shape (..., n, r)
        The aligned bases (same column space as ``Phi``).

    Raises
    ------
    InputDataError
        Shapes that differ or do not broadcast, or an unknown method.

    Examples
    --------
    >>> e = np.eye(3)
    >>> align_signs(np.stack([-e[:, 1], e[:, 0]], axis=1), e[:, :2], method="permute")
    array([[1., 0.],
           [0., 1.],
           [0., 0.]])
    """
    P = as_matrix_stack("Phi", Phi)
    R = as_matrix_stack("reference", reference)
    if P.shape[-2:] != R.shape[-2:]:
        raise InputDataError(
            f"Phi and reference must have the same core shape (n, r); got {P.shape} and {R.shape}."
        )
    try:
        batch = np.broadcast_shapes(P.shape[:-2], R.shape[:-2])
    except ValueError:
        raise InputDataError(
            f"leading dims of Phi {P.shape[:-2]} and reference {R.shape[:-2]} do not broadcast."
        ) from None
    n, r = P.shape[-2:]
    P = np.broadcast_to(P, (*batch, n, r))
    R = np.broadcast_to(R, (*batch, n, r))
    if method == "procrustes":
        return P @ orthonormalize(np.swapaxes(P, -1, -2) @ R)
    if method == "permute":
        overlap = np.abs(np.swapaxes(P, -1, -2) @ R).reshape(-1, r, r)
        perms = np.stack([_column_order(o) for o in overlap])  # no batched assignment solver
        P = np.take_along_axis(P.reshape(-1, n, r), perms[:, None, :], axis=-1).reshape(P.shape)
    elif method != "sign":
        raise InputDataError(f"method must be 'sign', 'permute' or 'procrustes'; got {method!r}.")
    dots = np.sum(P * R, axis=-2)
    return P * np.where(dots < 0, -1.0, 1.0)[..., None, :]
