"""On-disk results: the evaluation store and provenance attributes.

``DIR/evaluations.nc`` holds every forward evaluation of a study (dims ``eval``, ``param``):
``theta`` (physical), ``unit`` (unit cube, what the optimizer saw), ``discrepancy`` and its terms,
``status``, ``message``, ``seed`` (index of the EGO run), ``batch`` (ask/tell round of that run),
``realization`` (index of the reference realization it was compared with; files written before it
existed read as 0), ``wall_s``, ``model_stress(eval, frame)`` and the compared field snapshots
``output_<var>(eval, snapshot_<var>, y, x)`` (:mod:`bayescal.compared_outputs`). Each append
rewrites the file through a temporary file and an atomic rename, so a killed run leaves the last
complete state; an append first merges what another writer put on disk since (the run directory
lock, :class:`bayescal.run_lock.RunLock`, normally keeps other writers out).

The attribute ``study_fingerprint_parts`` (JSON) holds one hash per part of the problem
(:meth:`bayescal.study.Study.fingerprint_parts`); a store is resumed only by a study whose parts
all agree, and a refusal names the parts that differ. Files take the user's umask.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
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

from bayescal.errors import CorruptStoreError, InputDataError

__all__ = [
    "PER_REALIZATION_ATTR",
    "EvaluationStore",
    "check_fingerprint",
    "content_digest",
    "open_evaluations",
    "provenance_attrs",
    "remove_stale_temporaries",
    "write_netcdf_atomic",
]

logger = logging.getLogger(__name__)

_ENGINE: Final = "h5netcdf"

#: Attribute of an evaluation store: 1 when its forward runs started from each data
#: realization's own inputs (``Study.forward_per_realization``), so that an evaluation is
#: comparable with its own realization only.
PER_REALIZATION_ATTR: Final = "forward_per_realization"
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
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600 whatever the umask
        ds.to_netcdf(tmp, engine=_ENGINE)
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def remove_stale_temporaries(directory: str | os.PathLike) -> list[Path]:
    """Delete temporary files that a killed :func:`write_netcdf_atomic` left in ``directory``.

    Call only while holding the directory's lock (no other writer can be mid-write).
    """
    directory = Path(directory)
    patterns = (".*.nc.*.tmp", "*.nc.tmp-*", "*/.*.nc.*.tmp")  # */: e.g. refinement/
    stale = sorted({p for pat in patterns for p in directory.glob(pat)})
    for path in stale:
        path.unlink(missing_ok=True)
        logger.info("removed the temporary file %s of an interrupted write", path)
    return stale


def content_digest(ds: xr.Dataset) -> str:
    """Short SHA-256 of a dataset's variables and coordinates (names, dims, dtypes, values).

    Attributes are left out: two datasets with the same numbers have the same digest.
    """
    h = hashlib.sha256()
    for name in sorted(map(str, ds.variables)):
        var = ds.variables[name]
        values = np.ascontiguousarray(var.values)
        h.update(json.dumps([name, list(map(str, var.dims)), str(values.dtype)]).encode())
        if values.dtype.kind == "O":
            h.update(repr(values.tolist()).encode())
        else:
            h.update(values.tobytes())
    return h.hexdigest()[:16]


#: Variables every evaluation store has.
_REQUIRED = ("theta", "unit", "discrepancy", "status", "seed", "batch")


def open_evaluations(path: str | os.PathLike) -> xr.Dataset:
    """Read and check ``evaluations.nc``.

    Raises
    ------
    InputDataError
        ``path`` does not exist.
    CorruptStoreError
        The file cannot be read (truncated, not netCDF), lacks a required variable, or holds
        values an evaluation cannot have: a status outside the known codes, unit coordinates
        outside [0, 1], ``theta`` that disagrees with ``unit`` and the stored bounds, or a
        negative or non-finite discrepancy where the status is OK.
    """
    from bayescal.optimize.status import EvalStatus

    path = Path(path)
    if not path.exists():
        raise InputDataError(f"no evaluations found: {path} does not exist.")
    try:
        with xr.open_dataset(path, engine=_ENGINE) as ds:
            data = ds.load()
    except Exception as exc:  # h5py/netCDF raise OSError, ValueError, KeyError, ...
        raise CorruptStoreError(
            f"{path} cannot be read ({type(exc).__name__}: {exc}); it is truncated or not a "
            f"bayescal store. Restore it from a copy, or start again in another --out directory."
        ) from exc
    missing = [v for v in _REQUIRED if v not in data]
    if missing:
        raise CorruptStoreError(f"{path} lacks the variables {missing} of an evaluation store.")
    _check_values(data, path, {int(s) for s in EvalStatus}, int(EvalStatus.OK))
    return data


def _check_values(data: xr.Dataset, path: Path, codes: set[int], ok_code: int) -> None:
    status = data["status"].values
    bad = ~np.isin(status, list(codes))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise CorruptStoreError(f"{path}: evaluation {i} has the unknown status {status[i]}.")
    unit = np.asarray(data["unit"].values, dtype=float)
    outside = ~((unit >= -1e-9) & (unit <= 1 + 1e-9)).all(axis=1)
    if outside.any():
        i = int(np.flatnonzero(outside)[0])
        raise CorruptStoreError(f"{path}: evaluation {i} has unit coordinates {unit[i]}.")
    lower, upper = data.attrs.get("param_lower"), data.attrs.get("param_upper")
    if lower is not None and upper is not None:
        lo, hi = np.asarray(lower, dtype=float), np.asarray(upper, dtype=float)
        theta = np.asarray(data["theta"].values, dtype=float)
        expected = lo + unit * (hi - lo)
        off = ~np.isclose(theta, expected, rtol=1e-6, atol=1e-9 * (hi - lo)).all(axis=1)
        if off.any():
            i = int(np.flatnonzero(off)[0])
            raise CorruptStoreError(
                f"{path}: evaluation {i} has theta {theta[i]}, which its unit coordinates and "
                f"the stored bounds put at {expected[i]}."
            )
    d = np.asarray(data["discrepancy"].values, dtype=float)
    wrong = (status == ok_code) & ~(np.isfinite(d) & (d >= 0))
    if wrong.any():
        i = int(np.flatnonzero(wrong)[0])
        raise CorruptStoreError(
            f"{path}: evaluation {i} is marked OK but its discrepancy is {d[i]} (a distance "
            f"is finite and >= 0)."
        )


#: What each part of a problem fingerprint covers, for refusal messages.
_PART_NAMES = {
    "name": "the study name",
    "parameters": "the parameter names or bounds",
    "fixed": "the fixed values",
    "derived": "the derived values",
    "constraint": "the known constraint",
    "reference": "the reference data",
    "forward": "the forward model",
    "discrepancy": "the discrepancy settings",
}


def check_fingerprint(stored: Mapping, parts: str | None, path: str | os.PathLike) -> None:
    """Refuse a store whose problem differs from a study's (JSON ``parts``), naming the parts.

    Parameters
    ----------
    stored : mapping
        The store's attributes (``study_fingerprint_parts`` where written).
    parts : str or None
        JSON of :meth:`bayescal.study.Study.fingerprint_parts` (None: nothing to compare).
    path : path
        The store, for messages.

    Raises
    ------
    InputDataError
        A part differs. A store written before fingerprint parts only logs a warning.
    """
    old_text = stored.get("study_fingerprint_parts")
    if not parts:
        return
    if not old_text:
        logger.warning(
            "%s was written before problem fingerprints: its reference data and forward model "
            "cannot be compared with this study's",
            path,
        )
        return
    old, new = json.loads(old_text), json.loads(parts)
    differ = [k for k in dict.fromkeys([*new, *old]) if old.get(k) != new.get(k)]
    if differ:
        what = ", ".join(_PART_NAMES.get(k, k) for k in differ)
        raise InputDataError(
            f"{path} was written for a different problem: {what} changed since. Use another "
            f"--out directory, or restore the study as it was."
        )


class EvaluationStore:
    """Append-only store of a study's evaluations in ``DIR/evaluations.nc``.

    Parameters
    ----------
    directory : path or None
        Output directory (created if missing); None keeps the evaluations in memory only.
    names : sequence of str
        Parameter names (the ``param`` coordinate).
    attrs : mapping
        Dataset attributes written with every append (study name, fingerprint, ...).
    """

    filename = "evaluations.nc"

    def __init__(
        self, directory: str | os.PathLike | None, names: tuple[str, ...], attrs: Mapping
    ) -> None:
        self.directory = None if directory is None else Path(directory)
        self.path = None if self.directory is None else self.directory / self.filename
        self.names = tuple(names)
        self.attrs = dict(attrs)
        self._data: xr.Dataset | None = None
        self._stamp: tuple[int, int, int] | None = None
        if self.path is not None and self.path.exists():
            self._data = self._open_existing()

    def _open_existing(self) -> xr.Dataset:
        assert self.path is not None  # only called for a store on disk
        data = open_evaluations(self.path)
        self._stamp = _stamp(self.path)
        stored = tuple(str(n) for n in data["param"].values)
        if stored != self.names:
            raise InputDataError(
                f"{self.path} holds parameters {stored}, the study has {self.names}; "
                f"use another --out directory."
            )
        check_fingerprint(data.attrs, self.attrs.get("study_fingerprint_parts"), self.path)
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
        """Append evaluations (dim ``eval``) and write the file atomically.

        When the file changed on disk since this store last read or wrote it (another writer),
        the evaluations on disk are read back first, so none is lost.
        """
        if self.path is not None and self.path.exists() and _stamp(self.path) != self._stamp:
            logger.warning("%s changed on disk since it was read; merging", self.path)
            self._data = self._open_existing()
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
        for var in data.variables.values():
            if np.issubdtype(var.dtype, np.datetime64):  # exact, whatever was read back
                var.encoding = {"units": "microseconds since 1970-01-01", "dtype": "int64"}
        self._data = data
        if self.path is not None:
            write_netcdf_atomic(data, self.path)
            self._stamp = _stamp(self.path)


def _stamp(path: Path) -> tuple[int, int, int]:
    """What identifies one version of a file: inode, size and modification time (ns)."""
    st = path.stat()
    return st.st_ino, st.st_size, st.st_mtime_ns
