"""Independent MD realizations of one sheared 2D Lennard-Jones glass, made by this project.

Every realization is the same glass protocol (:data:`LJ2D_GLASS`: a 2D 65:35 Kob–Andersen-type
binary LJ mixture at number density 1.2, melted, quenched, then sheared at a constant rate with
:func:`bayescal.md.glass.shear_glass`) with different LAMMPS seeds: realization ``r`` uses
``SeedSequence(md_seed).spawn(R)[r]``. Each is coarse-grained (:data:`LJ2D_COARSE`: per-atom
shear strain and potential energy on a periodic grid, with standard deviations) into the layout
of :func:`bayescal.datasets.load_cuzr`, and the realizations are stacked on a ``realization``
dim without moving their bands (a forward model that starts from each realization's own initial
PE field must see the band where that field puts it).

The package ships one such dataset, ``data/lj2d_realizations.nc`` (:func:`load_lj2d`); the
command and seeds that made it are in its attrs, and :func:`generate_lj2d` (command line:
``bayescal md-realizations``) makes it again. Reduced LJ units: lengths in sigma, energies in
epsilon, stresses in epsilon / sigma^2, time in tau.
"""

from __future__ import annotations

import dataclasses
import importlib.resources
import logging
import os
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from bayescal.coarse.alignment import stack_realizations
from bayescal.coarse.fields import CoarseGrainOptions
from bayescal.errors import InputDataError
from bayescal.io import write_netcdf_atomic
from bayescal.md.glass import GlassOptions

__all__ = [
    "LJ2D_COARSE",
    "LJ2D_GLASS",
    "LJ2D_GRID",
    "LJ2D_MD_SEED",
    "LJ2D_REALIZATIONS",
    "generate_lj2d",
    "lj2d_coarse",
    "lj2d_path",
    "lj2d_reference",
    "load_lj2d",
    "shear_modulus",
]

logger = logging.getLogger(__name__)

#: The glass protocol of every realization (reduced LJ units).
LJ2D_GLASS = GlassOptions(
    system="lj2d",
    n_atoms=5000,
    t_melt=1.0,
    t_glass=0.01,
    melt_steps=10000,
    quench_steps=300000,
    shear_steps=150000,
    max_strain=0.45,
    n_frames=31,
    stress_points=301,
    dt=0.005,
)

#: Cells per side of the coarse-graining grid.
LJ2D_GRID = 16

#: Root seed of the shipped realizations.
LJ2D_MD_SEED = 2026

#: Number of shipped realizations.
LJ2D_REALIZATIONS = 6

_FILENAME = "lj2d_realizations.nc"


def lj2d_coarse(grid: int = LJ2D_GRID, method: str = "gp") -> CoarseGrainOptions:
    """The coarse-graining of the realizations: shear strain and PE per cell, with std."""
    from bayescal.md.reference import default_coarse_options

    return default_coarse_options(
        "lj2d", method=method, shape=(grid, grid), quantities={"pe": "c_pe"}
    )


#: The coarse-graining of the shipped realizations.
LJ2D_COARSE = lj2d_coarse()


def lj2d_path() -> Path:
    """Path of the shipped dataset inside the installed package."""
    return Path(str(importlib.resources.files("bayescal.datasets") / "data" / _FILENAME))


def load_lj2d(path: str | os.PathLike[str] | None = None) -> xr.Dataset:
    """The shipped (or a regenerated) set of 2D LJ glass realizations, loaded into memory.

    Parameters
    ----------
    path : path-like, optional
        A file written by :func:`generate_lj2d` (default: the one in the package).

    Returns
    -------
    xarray.Dataset
        ``gamma_xy``, ``gamma_xy_std``, ``pe``, ``pe_std`` with dims ``(realization, frame, y,
        x)``, ``stress(realization, stress_frame)`` [epsilon/sigma^2] with coord
        ``stress_strain``; attrs record the MD protocol, seeds, coarse-graining, box size
        [sigma], strain rate [1/tau] and the command that made it.

    Raises
    ------
    InputDataError
        The file is missing or lacks the variables above.
    """
    file = Path(path) if path is not None else lj2d_path()
    if not file.is_file():
        raise InputDataError(
            f"no LJ realizations at {file}; make them with `bayescal md-realizations --out {file}`."
        )
    with xr.open_dataset(file, engine="h5netcdf") as ds:
        data = ds.load()
    missing = {"gamma_xy", "pe", "stress"} - set(data.data_vars)
    if missing or "realization" not in data.dims:
        raise InputDataError(
            f"{file} is not a set of LJ realizations: missing {sorted(missing)} or the "
            "'realization' dim."
        )
    return data


def lj2d_reference(
    cache: str | os.PathLike[str],
    *,
    realization: int,
    realizations: int,
    md_seed: int = LJ2D_MD_SEED,
    glass: GlassOptions = LJ2D_GLASS,
    coarse: CoarseGrainOptions = LJ2D_COARSE,
) -> xr.Dataset:
    """One realization, run and coarse-grained through the MD cache (a killed run is redone).

    Realization ``r`` has the LAMMPS seeds of ``SeedSequence(md_seed).spawn(realizations)[r]``.
    """
    from bayescal.md.cache import cached_reference

    Path(cache).mkdir(parents=True, exist_ok=True)
    if not 0 <= realization < realizations:
        raise InputDataError(f"realization must be in [0, {realizations}); got {realization}.")
    return cached_reference(cache, glass, coarse, md_seed=md_seed, realization=realization)


def generate_lj2d(
    out: str | os.PathLike[str],
    *,
    realizations: int = LJ2D_REALIZATIONS,
    md_seed: int = LJ2D_MD_SEED,
    cache: str | os.PathLike[str] | None = None,
    workers: int = 1,
    glass: GlassOptions = LJ2D_GLASS,
    coarse: CoarseGrainOptions = LJ2D_COARSE,
    command: str = "",
) -> xr.Dataset:
    """Run (or read from ``cache``) R realizations, coarse-grain them and write one netCDF file.

    Parameters
    ----------
    out : path-like
        The dataset file (written atomically).
    realizations : int
        R independent realizations.
    md_seed : int
        Root seed; realization ``r`` uses ``SeedSequence(md_seed).spawn(R)[r]``.
    cache : path-like, optional
        Folder of the MD runs and their coarse-grainings (default ``<out>.cache``): an
        interrupted generation resumes from the realizations already there.
    workers : int
        Realizations run at once, one process and one core each.
    glass, coarse : GlassOptions, CoarseGrainOptions
        The MD protocol and the coarse-graining.
    command : str
        The command line recorded in the attrs (default: this function's call).

    Returns
    -------
    xarray.Dataset
        What was written (see :func:`load_lj2d`).
    """
    if realizations < 1 or workers < 1:
        raise InputDataError(
            f"realizations and workers must be >= 1; got {realizations}, {workers}."
        )
    target = Path(out)
    folder = Path(cache) if cache is not None else target.with_name(target.name + ".cache")
    kw: dict[str, Any] = {
        "realizations": realizations,
        "md_seed": md_seed,
        "glass": glass,
        "coarse": coarse,
    }
    if workers == 1:
        parts = [lj2d_reference(folder, realization=r, **kw) for r in range(realizations)]
    else:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            futures = [
                pool.submit(lj2d_reference, folder, realization=r, **kw)
                for r in range(realizations)
            ]
            parts = [f.result() for f in futures]
    data = stack_realizations(parts, align_bands=False)
    data.attrs = _attrs(parts[0], kw, command)
    write_netcdf_atomic(data, target)
    logger.info("wrote %s (%d realizations)", target, realizations)
    return data


def _attrs(first: xr.Dataset, kw: dict[str, Any], command: str) -> dict[str, Any]:
    glass: GlassOptions = kw["glass"]
    side = max(4, round(np.sqrt(glass.n_atoms)))
    attrs = {k: v for k, v in first.attrs.items() if k not in ("realization", "md_seed")}
    call = command or (
        f"bayescal md-realizations --out FILE --realizations {kw['realizations']} "
        f"--md-seed {kw['md_seed']}"
    )
    rate = glass.max_strain / (glass.shear_steps * glass.dt)
    return attrs | {
        "title": "Coarse-grained MD realizations of a sheared 2D binary LJ glass",
        "command": call,
        "md_seed": kw["md_seed"],
        "seeds": f"realization r: numpy SeedSequence({kw['md_seed']}).spawn(R)[r]",
        "glass_options": repr(dataclasses.asdict(glass)),
        "coarse_options": repr(kw["coarse"]),
        "n_atoms": side * side,
        "box_size": side / np.sqrt(1.2),
        "box_size_units": "sigma",
        "strain_rate": rate,
        "strain_rate_units": "1/tau",
        "units": "reduced LJ: sigma, epsilon, tau; stress epsilon/sigma^2",
    }


def shear_modulus(data: xr.Dataset, *, max_strain: float = 0.02) -> float:
    """Elastic shear modulus: the least-squares slope of the mean stress curve up to a strain.

    Parameters
    ----------
    data : xarray.Dataset
        ``stress([realization,] stress_frame)`` with coord ``stress_strain`` (engineering shear
        strain, so the slope is the shear modulus mu).
    max_strain : float
        Largest strain of the fit (the elastic part of the curve).

    Returns
    -------
    float
        mu, in the unit of ``stress``.

    Raises
    ------
    InputDataError
        Fewer than 3 points up to ``max_strain``, or a slope that is not positive.
    """
    stress = data["stress"]
    if "realization" in stress.dims:
        stress = stress.mean("realization")
    strain = np.asarray(data["stress_strain"].values, dtype=float)
    keep = strain <= max_strain
    if keep.sum() < 3:
        raise InputDataError(
            f"shear_modulus needs >= 3 stress points up to strain {max_strain}; got {keep.sum()}."
        )
    slope = float(np.polyfit(strain[keep], np.asarray(stress.values)[keep], 1)[0])
    if not slope > 0:
        raise InputDataError(f"the initial stress-strain slope is not positive: {slope!r}.")
    return slope
