"""Atomic strain: per-atom deformation gradient, Green–Lagrange strain, shear, Falk–Langer D2min.

For atom ``i`` with reference neighbours ``j`` (within ``cutoff`` in the reference frame, periodic
images included), the deformation gradient minimises ``sum_j |d_ij - F_i d0_ij|^2`` over the
reference separations ``d0_ij`` and current separations ``d_ij``:
``F_i = Y_i X_i^{-1}`` with ``X_i = sum_j d0 d0^T`` and ``Y_i = sum_j d d0^T``; the minimum is the
non-affine squared displacement ``D2min_i`` (Falk & Langer, Phys. Rev. E 57, 7192 (1998); a sum
over neighbours, not normalised). Current separations are taken as the periodic image nearest the
one predicted by the box's own deformation, so atoms re-wrapped across the boundary and large
box tilts are handled. All atoms are processed at once (batched solves, no loop over atoms).
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass
from typing import Literal

import numpy as np
from scipy.spatial import cKDTree

from bayescal.coarse.box import Box
from bayescal.errors import InputDataError, InputDataWarning

__all__ = ["AtomicStrain", "StrainMeasure", "atomic_strain", "neighbor_pairs"]

logger = logging.getLogger(__name__)

StrainMeasure = Literal["green_lagrange", "infinitesimal"]


@dataclass(frozen=True, kw_only=True)
class AtomicStrain:
    """Per-atom strain of one configuration relative to a reference.

    Attributes
    ----------
    F : ndarray, shape (n, d, d)
        Deformation gradients (``d`` = 2 or 3); NaN where ``valid`` is False.
    strain : ndarray, shape (n, d, d)
        Strain tensor: Green–Lagrange ``(F^T F - I) / 2`` or infinitesimal ``(F + F^T) / 2 - I``.
    shear : ndarray, shape (n,)
        Von Mises shear strain of ``strain`` (3D: sqrt(exy² + exz² + eyz² + ((exx-eyy)² +
        (exx-ezz)² + (eyy-ezz)²) / 6); 2D: sqrt(exy² + (exx-eyy)² / 2)).
    d2min : ndarray, shape (n,)
        Non-affine squared displacement (length units squared).
    n_neighbors : ndarray of int, shape (n,)
        Reference neighbours used.
    valid : ndarray of bool, shape (n,)
        False where the neighbourhood does not span ``d`` dimensions.
    """

    F: np.ndarray
    strain: np.ndarray
    shear: np.ndarray
    d2min: np.ndarray
    n_neighbors: np.ndarray
    valid: np.ndarray

    @property
    def exy(self) -> np.ndarray:
        """Tensor shear strain component ``strain[:, 0, 1]`` (engineering ``gamma_xy = 2 exy``)."""
        return self.strain[:, 0, 1]


def _image_shifts(box: Box, cutoff: float, dims: int) -> np.ndarray:
    """Integer lattice shifts (m, 3) whose images can lie within ``cutoff`` of the box."""
    reach = np.zeros(3, dtype=int)
    for k in range(dims):
        if box.periodic[k]:
            reach[k] = int(np.ceil(cutoff / box.widths[k]))
    axes = [np.arange(-r, r + 1) for r in reach]
    return np.stack(np.meshgrid(*axes, indexing="ij"), axis=-1).reshape(-1, 3)


def neighbor_pairs(
    positions: np.ndarray, box: Box, cutoff: float, *, dims: int = 3
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """All pairs within ``cutoff`` in a periodic (possibly triclinic) box.

    Parameters
    ----------
    positions : ndarray, shape (n, 3)
        Cartesian positions (wrapped or not).
    box : Box
        The box; periodic images of every atom are generated through its matrix.
    cutoff : float
        Neighbour distance (length units).
    dims : {2, 3}
        2 uses only x and y (a quasi-2D cell; no images along z, z ignored).

    Returns
    -------
    i, j : ndarray of int, shape (p,)
        Atom indices of each ordered pair (both ``(i, j)`` and ``(j, i)`` appear).
    shift : ndarray of int, shape (p, 3)
        Lattice shift of ``j``'s image: ``d0 = r_j + shift @ H - r_i``.
    d0 : ndarray, shape (p, dims)
        Separation vectors.
    """
    n = positions.shape[0]
    frac = box.to_fractional(positions)
    per = np.asarray(box.periodic)
    if dims == 2:
        per = per & np.array([True, True, False])
    frac[:, per] -= np.floor(frac[:, per])
    wrapped = box.to_cartesian(frac)
    shifts = _image_shifts(box, cutoff, dims)
    slack = cutoff / box.widths
    images, owner, owner_shift = [], [], []
    for s in shifts:  # at most 27 image blocks, not a loop over atoms
        f = frac + s
        inside = ((f >= -slack) & (f <= 1.0 + slack))[:, per]
        keep = np.all(inside, axis=1) if s.any() else np.ones(n, bool)
        if dims == 2:
            keep &= s[2] == 0
        idx = np.flatnonzero(keep)
        images.append(wrapped[idx] + s @ box.matrix)
        owner.append(idx)
        owner_shift.append(np.broadcast_to(s, (idx.size, 3)))
    ghost = np.concatenate(images)[:, :dims]
    gown = np.concatenate(owner)
    gshift = np.concatenate(owner_shift)
    pairs = cKDTree(wrapped[:, :dims]).sparse_distance_matrix(
        cKDTree(ghost), cutoff, output_type="ndarray"
    )
    i = pairs["i"].astype(np.int64)
    g = pairs["j"].astype(np.int64)
    j = gown[g]
    self_pair = (i == j) & ~gshift[g].any(axis=1)
    i, g, j = i[~self_pair], g[~self_pair], j[~self_pair]
    # shift relative to the original (unwrapped) positions
    unwrap_shift = np.rint(frac - box.to_fractional(positions)).astype(np.int64)
    shift = gshift[g] + unwrap_shift[j] - unwrap_shift[i]
    d0 = ghost[g] - wrapped[i, :dims]
    return i, j, shift, d0


def atomic_strain(
    reference: np.ndarray,
    current: np.ndarray,
    *,
    box0: Box,
    box: Box | None = None,
    cutoff: float,
    dims: Literal[2, 3] = 3,
    measure: StrainMeasure = "green_lagrange",
) -> AtomicStrain:
    """Per-atom deformation gradient, strain, von Mises shear and D2min.

    Parameters
    ----------
    reference, current : array_like, shape (n, 3)
        Positions of the same atoms in the same order (sort frames by id first).
    box0 : Box
        Reference box.
    box : Box, optional
        Current box (default ``box0``).
    cutoff : float
        Neighbour cutoff in the reference configuration (length units); typically the first
        minimum of g(r) or a bit beyond.
    dims : {2, 3}
        2 for quasi-2D cells: only x, y components; neighbours found in the x-y plane.
    measure : {"green_lagrange", "infinitesimal"}
        Strain measure.

    Returns
    -------
    AtomicStrain

    Raises
    ------
    InputDataError
        Shapes differ, non-finite positions, a non-positive cutoff.

    Warns
    -----
    InputDataWarning
        Some atoms have too few neighbours to define ``F`` (their results are NaN).
    """
    X = np.asarray(reference, dtype=float)
    Xc = np.asarray(current, dtype=float)
    box = box0 if box is None else box
    if X.ndim != 2 or X.shape[1] != 3 or X.shape != Xc.shape:
        raise InputDataError(
            f"reference and current must both have shape (n, 3); got {X.shape}, {Xc.shape}."
        )
    if not (np.all(np.isfinite(X)) and np.all(np.isfinite(Xc))):
        raise InputDataError("positions must be finite.")
    if dims not in (2, 3):
        raise InputDataError(f"dims must be 2 or 3; got {dims!r}.")
    if measure not in ("green_lagrange", "infinitesimal"):
        raise InputDataError(
            f"measure must be 'green_lagrange' or 'infinitesimal'; got {measure!r}."
        )
    if not (np.isfinite(cutoff) and cutoff > 0.0):
        raise InputDataError(f"cutoff must be a positive length; got {cutoff!r}.")
    i, j, shift, d0 = neighbor_pairs(X, box0, cutoff, dims=dims)
    n = X.shape[0]
    # current separation: the image of j nearest the box-affine prediction of d0
    affine = np.linalg.solve(box0.matrix, box.matrix)  # row vectors: d0 @ affine
    raw = Xc[j] - Xc[i] + shift @ box.matrix
    pred = np.zeros_like(raw)
    pred[:, :dims] = d0
    pred = pred @ affine if dims == 3 else _planar(pred, affine)
    hinv = np.linalg.inv(box.matrix)
    lattice = np.rint((pred - raw) @ hinv)
    lattice[:, ~np.asarray(box.periodic)] = 0.0
    if dims == 2:
        lattice[:, 2] = 0.0
    d = (raw + lattice @ box.matrix)[:, :dims]
    # per-atom sums X_i = sum d0 d0^T, Y_i = sum d d0^T (bincount per component)
    Xs = np.empty((n, dims, dims))
    Ys = np.empty((n, dims, dims))
    for a in range(dims):
        for b in range(dims):
            Xs[:, a, b] = np.bincount(i, weights=d0[:, a] * d0[:, b], minlength=n)
            Ys[:, a, b] = np.bincount(i, weights=d[:, a] * d0[:, b], minlength=n)
    nn = np.bincount(i, minlength=n)
    scale = np.trace(Xs, axis1=1, axis2=2) / dims
    det = np.linalg.det(Xs / np.where(scale > 0, scale, 1.0)[:, None, None])
    valid = (nn >= dims) & (det > 1e-8)
    eye = np.eye(dims)
    Xsafe = np.where(valid[:, None, None], Xs, eye)
    F = np.linalg.solve(Xsafe, np.swapaxes(Ys, 1, 2))  # X F^T = Y^T  (X symmetric)
    F = np.swapaxes(F, 1, 2)
    resid = d - np.einsum("pab,pb->pa", F[i], d0)
    d2 = np.bincount(i, weights=np.einsum("pa,pa->p", resid, resid), minlength=n).astype(float)
    if measure == "green_lagrange":
        E = 0.5 * (np.einsum("nka,nkb->nab", F, F) - eye)
    else:
        E = 0.5 * (F + np.swapaxes(F, 1, 2)) - eye
    shear = _von_mises(E)
    if not valid.all():
        warnings.warn(
            f"{int((~valid).sum())} of {n} atoms have neighbourhoods that do not span {dims} "
            f"dimensions within cutoff {cutoff}; their strain is NaN (increase the cutoff).",
            InputDataWarning,
            stacklevel=2,
        )
        for arr in (F, E):
            arr[~valid] = np.nan
        shear[~valid] = np.nan
        d2[~valid] = np.nan
    return AtomicStrain(F=F, strain=E, shear=shear, d2min=d2, n_neighbors=nn, valid=valid)


def _planar(vec: np.ndarray, affine: np.ndarray) -> np.ndarray:
    """Apply the in-plane block of ``affine`` to the x, y part of ``vec`` (p, 3)."""
    out = np.zeros_like(vec)
    out[:, :2] = vec[:, :2] @ affine[:2, :2]
    return out


def _von_mises(E: np.ndarray) -> np.ndarray:
    """Von Mises shear strain of symmetric strain tensors (n, d, d)."""
    if E.shape[-1] == 2:
        return np.sqrt(E[:, 0, 1] ** 2 + 0.5 * (E[:, 0, 0] - E[:, 1, 1]) ** 2)
    xx, yy, zz = E[:, 0, 0], E[:, 1, 1], E[:, 2, 2]
    off = E[:, 0, 1] ** 2 + E[:, 0, 2] ** 2 + E[:, 1, 2] ** 2
    return np.sqrt(off + ((xx - yy) ** 2 + (xx - zz) ** 2 + (yy - zz) ** 2) / 6.0)
