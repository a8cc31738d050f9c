"""InferenceData assembly and netCDF I/O: evaluations and emulators in ``constant_data``."""

from __future__ import annotations

import logging
import os
from importlib.metadata import PackageNotFoundError, version
from typing import Any

import arviz as az
import numpy as np
import xarray as xr

from bayescal.emulate import GPEmulator
from bayescal.errors import InputDataError
from bayescal.infer.model import CalibrationData

__all__ = [
    "constant_data",
    "emulators_from_idata",
    "provenance",
    "read_posterior",
    "write_posterior",
]

logger = logging.getLogger(__name__)

_EVAL_VARS = ("theta", "unit", "discrepancy", "status", "seed")
_PACKAGES = ("bayescal", "pymc", "pytensor", "arviz", "botorch", "gpytorch", "numpy", "xarray")


def _emulator_prefix(k: int) -> str:
    return f"emulator_{k}_"


def constant_data(evaluations: xr.Dataset, data: CalibrationData) -> xr.Dataset:
    """Collect the evaluations and the emulators into the ``constant_data`` dataset.

    Parameters
    ----------
    evaluations : xarray.Dataset
        The EGO evaluations (``theta``, ``unit``, ``discrepancy``, ``status``, ``seed`` are kept).
    data : CalibrationData
        The fitted emulators, floors and EGO optima.

    Returns
    -------
    xarray.Dataset
        Evaluation variables on dims ``eval``, ``param``; per emulator ``k`` the variables of
        :meth:`GPEmulator.to_dataset` with prefix ``emulator_<k>_``; ``emulator_seed``,
        ``floor(emulator)``, ``best_theta(emulator, param)``, ``lower``, ``upper(param)``.
    """
    keep = [v for v in _EVAL_VARS if v in evaluations]
    ds = evaluations[keep].reset_coords(drop=True)
    ds = ds.assign_coords(param=list(data.names))
    parts = [ds] + [
        em.to_dataset(_emulator_prefix(k)).assign_coords(param=list(data.names))
        for k, em in enumerate(data.emulators)
    ]
    out = xr.merge(parts, combine_attrs="drop_conflicts", compat="override")
    out["emulator_seed"] = ("emulator", np.asarray(data.seeds, dtype=np.int64))
    out["floor"] = ("emulator", data.floors)
    out["best_theta"] = (("emulator", "param"), data.best_theta)
    out["lower"] = ("param", data.lower)
    out["upper"] = ("param", data.upper)
    out.attrs = {k: v for k, v in out.attrs.items() if isinstance(v, (str, int, float))}
    out.attrs["n_emulators"] = len(data.emulators)
    return out


def emulators_from_idata(idata: az.InferenceData) -> list[GPEmulator]:
    """Rebuild the emulators stored in ``constant_data`` by :func:`constant_data`.

    Parameters
    ----------
    idata : arviz.InferenceData
        Output of :func:`bayescal.infer.posterior` (possibly read back from disk).

    Returns
    -------
    list of GPEmulator
        In the order of the ``emulator`` dim.
    """
    cd = idata["constant_data"]
    n = int(cd.sizes.get("emulator", 0))
    return [GPEmulator.from_dataset(cd, _emulator_prefix(k)) for k in range(n)]


def provenance(evaluations: xr.Dataset) -> dict[str, Any]:
    """Attrs for the output: study identity from the evaluations and package versions.

    Parameters
    ----------
    evaluations : xarray.Dataset
        Its ``study_name``, ``study_fingerprint`` and ``root_seed`` attrs are copied if present.

    Returns
    -------
    dict
        netCDF-safe attrs.
    """
    out: dict[str, Any] = {}
    for key in ("study_name", "study_fingerprint", "root_seed"):
        if key in evaluations.attrs:
            value = evaluations.attrs[key]
            out[key] = value if isinstance(value, (str, int, float)) else str(value)
    for pkg in _PACKAGES:
        try:
            out[f"{pkg}_version"] = version(pkg)
        except PackageNotFoundError:  # pragma: no cover - all are dependencies
            out[f"{pkg}_version"] = "unknown"
    return out


def write_posterior(idata: az.InferenceData, path: str | os.PathLike[str]) -> None:
    """Write ``idata`` as netCDF (h5netcdf), one group per InferenceData group, atomically.

    The file opens with ``arviz.from_netcdf`` and with ``xarray.open_dataset(path,
    group="posterior", engine="h5netcdf")``.

    Parameters
    ----------
    idata : arviz.InferenceData
        The posterior to store.
    path : str or path-like
        Destination, conventionally ``DIR/posterior.nc``.
    """
    if not isinstance(idata, az.InferenceData):
        raise InputDataError(f"idata must be an arviz.InferenceData; got {type(idata).__name__}.")
    # write beside and rename: an interrupted write never replaces a good file with a broken one
    final = os.fspath(path)
    tmp = f"{final}.tmp-{os.getpid()}"
    try:
        idata.to_netcdf(tmp, engine="h5netcdf")
        os.replace(tmp, final)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    logger.info("posterior written to %s", path)


def read_posterior(path: str | os.PathLike[str]) -> az.InferenceData:
    """Read a posterior written by :func:`write_posterior` (loaded into memory).

    Parameters
    ----------
    path : str or path-like
        The netCDF file.

    Returns
    -------
    arviz.InferenceData
    """
    return az.from_netcdf(os.fspath(path), engine="h5netcdf").load()
