"""Coarse-grained reference data of sheared-glass MD runs, in the layout of ``load_cuzr()``.

:func:`md_reference` reads the dumps of :func:`bayescal.md.glass.shear_glass` runs with
:func:`bayescal.coarse.iter_dump`, coarse-grains them with :func:`bayescal.coarse.coarse_grain`
(settings that suit the system's units from :func:`default_coarse_options`) and adds the shear
stress per snapshot.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import xarray as xr

from bayescal.coarse.fields import CoarseGrainOptions, coarse_grain
from bayescal.coarse.lammps_dump import iter_dump
from bayescal.errors import InputDataError
from bayescal.md.glass import GlassRun, System

__all__ = ["default_coarse_options", "md_reference"]


def default_coarse_options(system: System, **kwargs: Any) -> CoarseGrainOptions:
    """Coarse-graining settings that suit a system's units (LJ: sigma; CuZr: Å -> nm)."""
    if system == "lj2d":
        base: dict[str, Any] = {
            "dims": 2,
            "cutoff": 1.6,
            "length_scale": 1.0,
            "length_units": "sigma",
            "units": {"pe": "epsilon/atom"},
            "shape": (8, 8),
        }
    else:
        base = {"dims": 3, "cutoff": 3.8, "shape": (8, 8)}
    return CoarseGrainOptions(**(base | kwargs))


def md_reference(
    runs: GlassRun | Sequence[GlassRun], options: CoarseGrainOptions | None = None
) -> xr.Dataset:
    """Coarse-grained fields and the stress curve of MD runs, in the layout of ``load_cuzr()``.

    Parameters
    ----------
    runs : GlassRun or sequence of GlassRun
        From :func:`shear_glass`; several give a leading ``realization`` dim.
    options : CoarseGrainOptions, optional
        Default :func:`default_coarse_options` for the runs' system.

    Returns
    -------
    xarray.Dataset
        As :func:`bayescal.coarse.coarse_grain`, plus ``stress([realization,] stress_frame)``
        (``-pxy``: GPa for CuZr, epsilon/sigma^2 for LJ) with coord ``stress_strain``.
    """
    many = not isinstance(runs, GlassRun)
    items: list[GlassRun] = [runs] if isinstance(runs, GlassRun) else list(runs)
    if not items:
        raise InputDataError("md_reference needs at least one GlassRun.")
    system = items[0].options["system"]
    opt = options or default_coarse_options(system)
    frames = [iter_dump(r.dump) for r in items] if many else iter_dump(items[0].dump)
    ds = coarse_grain(frames, opt)
    stress = np.stack([r.stress for r in items])
    dims: tuple[str, ...] = ("realization", "stress_frame") if many else ("stress_frame",)
    units = "GPa" if system == "cuzr" else "epsilon/sigma^2"
    ds["stress"] = (
        dims,
        stress if many else stress[0],
        {"units": units, "long_name": "shear stress -pxy (MD)"},
    )
    ds = ds.assign_coords(
        stress_strain=(
            "stress_frame",
            items[0].curve_strain,
            {"units": "1", "long_name": "applied shear strain"},
        )
    )
    ds.attrs["md_options"] = str(items[0].options)
    ds.attrs["source"] = "bayescal.md.glass.shear_glass (LAMMPS)"
    return ds
