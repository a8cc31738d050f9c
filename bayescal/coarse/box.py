"""Periodic simulation boxes: LAMMPS bounds, the box matrix, fractional coordinates, images.

Convention: the box matrix ``H`` has the cell vectors **as rows**, ``a = H[0]``, ``b = H[1]``,
``c = H[2]``, so a position is ``r = origin + s @ H`` for fractional coordinates ``s``. LAMMPS
restricted triclinic boxes have ``a = (lx, 0, 0)``, ``b = (xy, ly, 0)``, ``c = (xz, yz, lz)``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import ArrayLike

from bayescal.errors import InputDataError

__all__ = ["Box", "box_from_lammps_bounds"]


@dataclass(frozen=True, kw_only=True)
class Box:
    """A (possibly triclinic) simulation box.

    Parameters
    ----------
    matrix : array_like, shape (3, 3)
        Cell vectors as rows (length units of the positions, e.g. Å).
    origin : array_like, shape (3,)
        Lower corner.
    periodic : tuple of bool, length 3
        Periodicity along a, b, c.
    """

    matrix: np.ndarray
    origin: np.ndarray = field(default_factory=lambda: np.zeros(3))
    periodic: tuple[bool, bool, bool] = (True, True, True)

    def __post_init__(self) -> None:
        h = np.asarray(self.matrix, dtype=float)
        o = np.asarray(self.origin, dtype=float)
        if h.shape != (3, 3) or not np.all(np.isfinite(h)):
            raise InputDataError(f"Box.matrix must be a finite 3 x 3 array; got {h!r}.")
        if o.shape != (3,) or not np.all(np.isfinite(o)):
            raise InputDataError(f"Box.origin must be 3 finite numbers; got {o!r}.")
        if not np.linalg.det(h) > 0.0:
            raise InputDataError(
                f"Box.matrix must have a positive determinant (right-handed cell); got {h!r}."
            )
        object.__setattr__(self, "matrix", h)
        object.__setattr__(self, "origin", o)
        object.__setattr__(self, "periodic", tuple(bool(p) for p in self.periodic))

    @classmethod
    def orthogonal(cls, lengths: ArrayLike, *, origin: ArrayLike = (0.0, 0.0, 0.0)) -> Box:
        """A rectangular box with sides ``lengths`` (3,) from ``origin``."""
        return cls(matrix=np.diag(np.asarray(lengths, dtype=float)), origin=np.asarray(origin))

    @property
    def lengths(self) -> np.ndarray:
        """``(lx, ly, lz)``: the diagonal of the matrix (LAMMPS box lengths)."""
        return np.diag(self.matrix).copy()

    @property
    def tilts(self) -> tuple[float, float, float]:
        """LAMMPS tilt factors ``(xy, xz, yz)``."""
        h = self.matrix
        return float(h[1, 0]), float(h[2, 0]), float(h[2, 1])

    @property
    def is_orthogonal(self) -> bool:
        """True if every off-diagonal entry is zero."""
        return bool(np.count_nonzero(self.matrix - np.diag(np.diag(self.matrix))) == 0)

    @property
    def volume(self) -> float:
        """Cell volume (length units cubed)."""
        return float(np.linalg.det(self.matrix))

    @property
    def widths(self) -> np.ndarray:
        """Perpendicular widths between opposite faces, shape (3,)."""
        inv = np.linalg.inv(self.matrix)
        return 1.0 / np.linalg.norm(inv, axis=0)

    def to_fractional(self, positions: ArrayLike) -> np.ndarray:
        """Fractional coordinates ``s`` of ``positions`` (..., 3), unwrapped."""
        r = np.asarray(positions, dtype=float)
        return np.linalg.solve(self.matrix.T, (r - self.origin).reshape(-1, 3).T).T.reshape(r.shape)

    def to_cartesian(self, fractional: ArrayLike) -> np.ndarray:
        """Positions ``origin + s @ H`` of fractional coordinates (..., 3)."""
        return self.origin + np.asarray(fractional, dtype=float) @ self.matrix

    def wrap(self, positions: ArrayLike) -> np.ndarray:
        """Positions mapped into the box along periodic directions, same shape."""
        s = self.to_fractional(positions)
        per = np.asarray(self.periodic)
        s[..., per] -= np.floor(s[..., per])
        return self.to_cartesian(s)

    def minimum_image(self, vectors: ArrayLike) -> np.ndarray:
        """Shortest periodic images of separation vectors (..., 3) (fractional rounding)."""
        s = np.asarray(vectors, dtype=float) @ np.linalg.inv(self.matrix)
        per = np.asarray(self.periodic)
        s[..., per] -= np.round(s[..., per])
        return s @ self.matrix


def box_from_lammps_bounds(
    bounds: ArrayLike, *, tilts: ArrayLike | None = None, periodic: tuple[bool, ...] = (True,) * 3
) -> Box:
    """Box of a LAMMPS dump's ``BOX BOUNDS`` block.

    Parameters
    ----------
    bounds : array_like, shape (3, 2)
        ``[[xlo_bound, xhi_bound], [ylo_bound, yhi_bound], [zlo_bound, zhi_bound]]`` as written
        in the dump (for a triclinic box these are the bounds of the enclosing orthogonal box).
    tilts : array_like, shape (3,), optional
        ``(xy, xz, yz)`` for a triclinic box.
    periodic : tuple of bool
        Periodicity along x, y, z.

    Returns
    -------
    Box

    Examples
    --------
    >>> box = box_from_lammps_bounds([[0, 10], [0, 5], [0, 2]], tilts=[1.0, 0.0, 0.0])
    >>> box.lengths.tolist(), box.tilts
    ([9.0, 5.0, 2.0], (1.0, 0.0, 0.0))
    """
    b = np.asarray(bounds, dtype=float)
    if b.shape != (3, 2):
        raise InputDataError(f"box bounds must have shape (3, 2); got {b.shape}.")
    xy, xz, yz = (0.0, 0.0, 0.0) if tilts is None else (float(t) for t in np.ravel(tilts))
    xlo = b[0, 0] - min(0.0, xy, xz, xy + xz)
    xhi = b[0, 1] - max(0.0, xy, xz, xy + xz)
    ylo = b[1, 0] - min(0.0, yz)
    yhi = b[1, 1] - max(0.0, yz)
    zlo, zhi = b[2]
    lx, ly, lz = xhi - xlo, yhi - ylo, zhi - zlo
    if min(lx, ly, lz) <= 0.0:
        raise InputDataError(
            f"box bounds give non-positive lengths ({lx}, {ly}, {lz}); bounds {b.tolist()}, "
            f"tilts {(xy, xz, yz)}."
        )
    matrix = np.array([[lx, 0.0, 0.0], [xy, ly, 0.0], [xz, yz, lz]])
    if len(periodic) != 3:
        raise InputDataError(f"periodic must give 3 flags (x, y, z); got {periodic!r}.")
    px, py, pz = periodic
    return Box(matrix=matrix, origin=np.array([xlo, ylo, zlo]), periodic=(px, py, pz))
