"""On-disk results: the evaluation store and provenance attributes.

``DIR/evaluations.nc`` holds every forward evaluation of a study (dims ``eval``, ``param``):
``theta`` (physical), ``unit`` (unit cube, what the optimizer saw), ``discrepancy`` and its terms,
``status``, ``message``, ``seed`` (index of the EGO run), ``batch`` (ask/tell round of that run),
``realization`` (index of the reference realization it was compared with; files written before it
existed read as 0), ``wall_s``, ``model_stress(eval, frame)`` and the compared field snapshots
``output_<var>(eval, snapshot_<var>, y, x)`` (:mod:`bayescal.compared_outputs`). Each append
rewrites the file through a temporary file and an atomic rename, so a killed run leaves the last
complete state.
"""

from __future__ import annotations

import datetime as _dt
import logging
import os
import platform
import tempfile
from collections.abc import Mapping
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any, Final

import numpy as np
import xarray as xr

from bayescal.errors import InputDataError

__all__ = ["EvaluationStore", "provenance_attrs", "write_netcdf_atomic"]

logger = logging.getLogger(__name__)

_ENGINE: Final = "h5netcdf"
_PACKAGES = (
    "bayescal",
    "numpy",
    "scipy",
    "torch",
    "botorch",
    "gpytorch",
    "xarray",
    "pymc",
    "arviz",
)


def provenance_attrs(**extra: Any) -> dict[str, Any]:
    """Attributes recording when and with what a result was made (netCDF-safe values)."""
    attrs: dict[str, Any] = {
        "created_at": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "python": platform.python_version(),
    }
    for pkg in _PACKAGES:
        try:
            attrs[f"version_{pkg}"] = version(pkg)
        except PackageNotFoundError:
            continue
    for key, value in extra.items():
        attrs[key] = value if isinstance(value, str | int | float) else repr(value)
    return attrs


def write_netcdf_atomic(ds: xr.Dataset, path: str | os.PathLike) -> None:
    """Write ``ds`` to ``path`` through a temporary file and an atomic rename."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        ds.to_netcdf(tmp, engine=_ENGINE)
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


class EvaluationStore:
    """Append-only store of a study's evaluations in ``DIR/evaluations.nc``.

    Parameters
    ----------
    directory : path
        Output directory (created if missing).
    names : sequence of str
        Parameter names (the ``param`` coordinate).
    attrs : mapping
        Dataset attributes written with every append (study name, fingerprint, ...).
    """

    filename = "evaluations.nc"

    def __init__(
        self, directory: str | os.PathLike, names: tuple[str, ...], attrs: Mapping
    ) -> None:
        self.directory = Path(directory)
        self.path = self.directory / self.filename
        self.names = tuple(names)
        self.attrs = dict(attrs)
        self._data: xr.Dataset | None = None
        if self.path.exists():
            self._data = self._open_existing()

    def _open_existing(self) -> xr.Dataset:
        with xr.open_dataset(self.path, engine=_ENGINE) as ds:
            data = ds.load()
        stored = tuple(str(n) for n in data["param"].values)
        if stored != self.names:
            raise InputDataError(
                f"{self.path} holds parameters {stored}, the study has {self.names}; "
                f"use another --out directory."
            )
        fp_old, fp_new = data.attrs.get("study_fingerprint"), self.attrs.get("study_fingerprint")
        if fp_old and fp_new and fp_old != fp_new:
            raise InputDataError(
                f"{self.path} was written by a different study definition (fingerprint "
                f"{fp_old} vs {fp_new}); use another --out directory or the same options."
            )
        if "realization" not in data and "seed" in data:  # written before realizations
            data["realization"] = (
                ("eval",),
                np.zeros(data.sizes["eval"], dtype=np.int32),
                {"long_name": "index of the reference realization compared with"},
            )
        logger.info("resuming from %s with %d evaluations", self.path, data.sizes["eval"])
        return data

    @property
    def data(self) -> xr.Dataset | None:
        """Everything stored so far, or ``None``."""
        return self._data

    def __len__(self) -> int:
        return 0 if self._data is None else self._data.sizes["eval"]

    def for_seed(self, seed: int) -> xr.Dataset | None:
        """Evaluations of EGO run ``seed`` in the order they were made."""
        if self._data is None:
            return None
        sel = self._data.isel(eval=np.flatnonzero(self._data["seed"].values == seed))
        return sel if sel.sizes["eval"] else None

    def append(self, batch: xr.Dataset) -> None:
        """Append evaluations (dim ``eval``) and write the file atomically."""
        batch = batch.assign_coords(param=list(self.names))
        start = len(self)
        batch = batch.assign_coords(eval=np.arange(start, start + batch.sizes["eval"]))
        if self._data is None:
            data = batch
        else:
            data = xr.concat(
                [self._data, batch],
                dim="eval",
                data_vars="minimal",
                coords="minimal",
                compat="override",
                join="outer",
            )
        data.attrs = {**(self._data.attrs if self._data is not None else {}), **self.attrs}
        write_netcdf_atomic(data, self.path)
        self._data = data
