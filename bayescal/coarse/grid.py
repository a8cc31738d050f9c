"""Periodic grids and the local-average coarse-graining methods: binning and kernel windows.

Coordinates are those of the box frame (for a sheared triclinic box, fractional coordinates
times the box lengths, the frame that shears with the box): a periodic rectangle
``[x0, x0 + lx) x [y0, y0 + ly)`` split into ``ny x nx`` cells, field arrays indexed ``[y, x]``.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike

from bayescal.coarse.box import Box
from bayescal.errors import InputDataError, InputDataWarning

__all__ = [
    "Grid",
    "Kernel",
    "bin_average",
    "box_frame_xy",
    "check_atoms",
    "kernel_average",
    "periodic_kernel_1d",
]

Kernel = Literal["gaussian", "tophat"]


@dataclass(frozen=True, kw_only=True)
class Grid:
    """A cell-centred periodic grid.

    Parameters
    ----------
    lx, ly : float
        Periods (length units of the positions).
    nx, ny : int
        Cells along x and y.
    x0, y0 : float
        Lower corner.
    """

    lx: float
    ly: float
    nx: int = 32
    ny: int = 32
    x0: float = 0.0
    y0: float = 0.0

    def __post_init__(self) -> None:
        if not (self.lx > 0 and self.ly > 0 and np.isfinite(self.lx) and np.isfinite(self.ly)):
            raise InputDataError(f"Grid periods must be positive; got lx={self.lx}, ly={self.ly}.")
        for key in ("nx", "ny"):
            v = getattr(self, key)
            if int(v) != v or v < 1:
                raise InputDataError(f"Grid.{key} must be a positive int; got {v!r}.")

    @classmethod
    def from_box(cls, box: Box, *, nx: int = 32, ny: int = 32) -> Grid:
        """The x-y grid of a box (box-frame lengths ``lx``, ``ly``, origin at the box corner)."""
        lx, ly, _ = box.lengths
        return cls(
            lx=float(lx),
            ly=float(ly),
            nx=nx,
            ny=ny,
            x0=float(box.origin[0]),
            y0=float(box.origin[1]),
        )

    @property
    def shape(self) -> tuple[int, int]:
        """``(ny, nx)``."""
        return (int(self.ny), int(self.nx))

    @property
    def x(self) -> np.ndarray:
        """Cell-centre x coordinates, shape (nx,)."""
        return self.x0 + (np.arange(self.nx) + 0.5) * (self.lx / self.nx)

    @property
    def y(self) -> np.ndarray:
        """Cell-centre y coordinates, shape (ny,)."""
        return self.y0 + (np.arange(self.ny) + 0.5) * (self.ly / self.ny)

    def wrap(self, xy: np.ndarray) -> np.ndarray:
        """Positions (n, 2) mapped into the periodic rectangle."""
        lo = np.array([self.x0, self.y0])
        per = np.array([self.lx, self.ly])
        return lo + np.mod(xy - lo, per)

    def cell_index(self, xy: np.ndarray) -> np.ndarray:
        """Flat cell index ``iy * nx + ix`` of each position (n,)."""
        w = self.wrap(xy)
        ix = np.minimum(((w[:, 0] - self.x0) * (self.nx / self.lx)).astype(np.int64), self.nx - 1)
        iy = np.minimum(((w[:, 1] - self.y0) * (self.ny / self.ly)).astype(np.int64), self.ny - 1)
        return iy * self.nx + ix


def box_frame_xy(positions: ArrayLike, box: Box) -> np.ndarray:
    """x-y coordinates in the frame that shears with the box, shape (n, 2).

    ``origin[:2] + s[:, :2] * (lx, ly)`` from fractional coordinates ``s``; for an orthogonal box
    these are the Cartesian x, y.
    """
    s = box.to_fractional(np.asarray(positions, dtype=float))
    return box.origin[:2] + s[:, :2] * box.lengths[:2]


def check_atoms(xy: ArrayLike, values: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """Per-atom in-plane positions and values as finite float arrays, or raise.

    Parameters
    ----------
    xy : array_like, shape (n, 2) or (n, 3)
        Positions (only x, y are kept).
    values : array_like, shape (n,)
        One value per atom.

    Returns
    -------
    xy : ndarray, shape (n, 2)
    values : ndarray, shape (n,)

    Raises
    ------
    InputDataError
        Shapes that do not match, or non-finite entries.
    """
    p = np.asarray(xy, dtype=float)
    v = np.asarray(values, dtype=float)
    if p.ndim != 2 or p.shape[1] < 2 or v.shape != (p.shape[0],):
        raise InputDataError(
            f"positions must have shape (n, 2|3) and values (n,); got {p.shape}, {v.shape}."
        )
    if not (np.all(np.isfinite(p[:, :2])) and np.all(np.isfinite(v))):
        raise InputDataError("positions and values must be finite (drop invalid atoms first).")
    return p[:, :2], v


def bin_average(
    xy: ArrayLike, values: ArrayLike, grid: Grid
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Cell averages of a per-atom quantity.

    Parameters
    ----------
    xy : array_like, shape (n, 2) or (n, 3)
        Box-frame positions (only x, y used; wrapped periodically).
    values : array_like, shape (n,)
        Per-atom values.
    grid : Grid
        The cells.

    Returns
    -------
    mean : ndarray, shape (ny, nx)
        Cell average (NaN in empty cells).
    count : ndarray of int, shape (ny, nx)
        Atoms per cell.
    sem : ndarray, shape (ny, nx)
        Standard error of the cell mean, ``std / sqrt(count)`` (NaN below 2 atoms).
    """
    p, v = check_atoms(xy, values)
    idx = grid.cell_index(p)
    size = grid.nx * grid.ny
    cnt = np.bincount(idx, minlength=size)
    s1 = np.bincount(idx, weights=v, minlength=size)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = s1 / cnt
        dev = v - mean[idx]
        ss = np.bincount(idx, weights=dev * dev, minlength=size)
        sem = np.sqrt(ss / (cnt - 1) / cnt)
    sem[cnt < 2] = np.nan
    if (cnt == 0).any():
        warnings.warn(
            f"{int((cnt == 0).sum())} empty cells (NaN); use a coarser grid.",
            InputDataWarning,
            stacklevel=2,
        )
    return mean.reshape(grid.shape), cnt.reshape(grid.shape), sem.reshape(grid.shape)


def periodic_kernel_1d(
    d: np.ndarray, period: float, width: float, kernel: Kernel = "gaussian"
) -> np.ndarray:
    """Kernel weights of separations ``d`` summed over periodic images.

    Gaussian: ``sum_m exp(-(d + m L)^2 / (2 w^2))``; top hat: ``1`` where the minimum-image
    ``|d| <= w / 2`` (a window of full width ``w``, at most the period).
    """
    if kernel == "tophat":
        dm = d - period * np.round(d / period)
        return (np.abs(dm) <= 0.5 * width).astype(float)
    reach = int(np.floor(8.0 * width / period + 0.5))  # images within 8 widths: error < 1e-14
    dm = d - period * np.round(d / period)
    out = np.zeros_like(dm)
    for m in range(-reach, reach + 1):
        out += np.exp(-0.5 * ((dm + m * period) / width) ** 2)
    return out


def kernel_average(
    xy: ArrayLike,
    values: ArrayLike,
    grid: Grid,
    *,
    width: float,
    kernel: Kernel = "gaussian",
    chunk: int = 65536,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Nadaraya–Watson (kernel-weighted) average at the cell centres, periodic.

    The separable kernel ``k(dx) k(dy)`` makes each chunk of atoms two small matrix products,
    ``Ky @ diag(v) @ Kx^T``: cost ``O(n (nx + ny) + n nx ny)`` flops, memory bounded by ``chunk``.

    Parameters
    ----------
    xy, values, grid
        As :func:`bin_average`.
    width : float
        Gaussian standard deviation, or the full side of the square top-hat (moving) window
        (length units).
    kernel : {"gaussian", "tophat"}
        Kernel; the top hat is the moving-window average.
    chunk : int
        Atoms per block.

    Returns
    -------
    mean : ndarray, shape (ny, nx)
        Weighted average (NaN where a top-hat window holds no atom).
    sem : ndarray, shape (ny, nx)
        Standard error ``sqrt(var_w * sum w^2) / sum w`` with the weighted variance ``var_w``.
    weight : ndarray, shape (ny, nx)
        Sum of weights (the kernel's effective count).
    """
    p, v = check_atoms(xy, values)
    if kernel not in ("gaussian", "tophat"):
        raise InputDataError(f"kernel must be 'gaussian' or 'tophat'; got {kernel!r}.")
    if not (width > 0) or (kernel == "tophat" and width > min(grid.lx, grid.ly)):
        raise InputDataError(f"width must be positive and at most the period; got {width!r}.")
    sums = np.zeros((5, grid.ny, grid.nx))
    for start in range(0, p.shape[0], chunk):
        sl = slice(start, start + chunk)
        kx = periodic_kernel_1d(p[sl, 0][None, :] - grid.x[:, None], grid.lx, width, kernel)
        ky = periodic_kernel_1d(p[sl, 1][None, :] - grid.y[:, None], grid.ly, width, kernel)
        vv = v[sl]
        sums[0] += ky @ kx.T
        sums[1] += (ky * vv) @ kx.T
        sums[2] += (ky * vv * vv) @ kx.T
        sums[3] += (ky * ky) @ (kx * kx).T
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = sums[1] / sums[0]
        var = np.maximum(sums[2] / sums[0] - mean**2, 0.0)
        sem = np.sqrt(var * sums[3]) / sums[0]
    if (sums[0] == 0).any():
        warnings.warn(
            f"{int((sums[0] == 0).sum())} empty windows (NaN); widen the window.",
            InputDataWarning,
            stacklevel=2,
        )
    return mean, sem, sums[0]
