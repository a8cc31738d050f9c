"""Aligning the shear bands of coarse-grained realizations with the periodic box's symmetries.

Simple shear has two planes of maximum shear stress, so a small glass localises either in a band
along x (constant y) or along y (constant x, in box-frame coordinates), at a height that differs
between realizations. A model whose band runs along x compares with every realization once
:func:`align_band` has reflected a band along y across the diagonal and rolled the fields
periodically in y to centre the band; :func:`stack_realizations` stacks aligned realizations and
records what was done to each.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import xarray as xr

__all__ = ["align_band", "stack_realizations"]


def align_band(ds: xr.Dataset, *, from_strain: float = 0.15) -> tuple[xr.Dataset, bool, int]:
    """Use the periodic box's symmetries to put a realization's band along x, centred in y.

    The orientation is the one whose profile (``gamma_xy`` averaged along the band) varies more,
    summed over the frames from ``from_strain``; a band along y is reflected across the diagonal
    (x <-> y: ``gamma_xy`` is the symmetric shear strain, unchanged by the reflection, so the
    reflected field is the reflected problem's own). Then every field with a ``y`` dim is rolled
    periodically in y by whole cells so the band's circular mean position is at the box centre:
    the origin of a periodic box is arbitrary, and a centred band keeps a model's band centre
    away from the wrap-around (which would make its posterior bimodal).

    Parameters
    ----------
    ds : xarray.Dataset
        One realization with ``gamma_xy(frame, y, x)`` and coord ``strain(frame)``.
    from_strain : float
        Frames at this strain and beyond decide orientation and position.

    Returns
    -------
    ds : xarray.Dataset
        The aligned realization (same coords and dims order).
    reflected : bool
        Whether x and y were swapped.
    shift : int
        Cells rolled in +y; a model band at ``y0`` sits at ``y0 - shift * dy`` (mod box) in the
        MD box frame (after the reflection, if any).

    Raises
    ------
    ValueError
        A reflection is needed but the grid is not square with equal x and y coordinates.
    """
    g = ds["gamma_xy"].where(ds["strain"] >= from_strain, drop=True)
    along_x = float(g.mean("x").var("y").sum())  # band along x: profile in y
    along_y = float(g.mean("y").var("x").sum())
    reflected = along_y > along_x
    if reflected:
        if ds.sizes["x"] != ds.sizes["y"] or not np.allclose(ds["x"].values, ds["y"].values):
            raise ValueError("align_band needs a square grid with equal x and y coordinates.")
        swapped = ds.rename({"x": "_y"}).rename({"y": "x"}).rename({"_y": "y"})
        ds = swapped.assign_coords(x=ds["x"], y=ds["y"]).transpose(*ds["gamma_xy"].dims, ...)
        g = ds["gamma_xy"].where(ds["strain"] >= from_strain, drop=True)
    ny = ds.sizes["y"]
    profile = g.mean("x").sum("frame").values  # (ny,)
    phase = np.angle(np.sum(profile * np.exp(2j * np.pi * np.arange(ny) / ny)))
    centre = (phase / (2 * np.pi) * ny) % ny  # in cells, from cell 0
    shift = int(np.round((ny - 1) / 2 - centre)) % ny
    fields = [v for v in ds.data_vars if "y" in ds[v].dims]
    rolled = ds.assign({v: ds[v].roll(y=shift, roll_coords=False) for v in fields})
    return rolled, bool(reflected), shift


def stack_realizations(parts: Sequence[xr.Dataset], *, align_bands: bool = True) -> xr.Dataset:
    """Stack coarse-grained realizations on a ``realization`` dim, their bands aligned first.

    Parameters
    ----------
    parts : sequence of xarray.Dataset
        Realizations on the same grid and frames (as
        :func:`bayescal.md.cache.cached_references` gives them).
    align_bands : bool
        Align each realization's band first and record it in ``reflected`` and ``band_shift``.

    Returns
    -------
    xarray.Dataset
        The realizations stacked on ``realization`` (coord 0, ..., R - 1; the first part's
        attrs); with ``align_bands``, also ``reflected(realization)`` (int8, 1 = x and y were
        swapped) and ``band_shift(realization)`` (the roll in +y, in the units of ``y``).
    """
    reflected, shifts = [], []
    if align_bands:
        aligned = []
        for part in parts:
            moved, flipped, shift = align_band(part)
            aligned.append(moved)
            reflected.append(flipped)
            shifts.append(shift * float(moved["y"][1] - moved["y"][0]))
        parts = aligned
    ref = xr.concat(parts, dim="realization", coords="different", compat="equals", join="override")
    ref = ref.assign_coords(realization=np.arange(len(parts)))
    if align_bands:
        ref["reflected"] = (
            ("realization",),
            np.asarray(reflected, dtype=np.int8),
            {"long_name": "fields reflected x <-> y so the shear band runs along x (1 = yes)"},
        )
        units = parts[0]["y"].attrs.get("units", "sigma")
        ref["band_shift"] = (
            ("realization",),
            np.asarray(shifts),
            {
                "units": units,
                "long_name": "periodic roll in +y that centred the band (MD y = y - shift)",
            },
        )
    return ref
