"""A disk cache of sheared-glass MD runs and their coarse-grained references.

MD is the slow step of a study on fresh glasses, so each run is stored once per (options, seed)
and each coarse-graining of it once per coarse-graining options, under keys that hash those
options (:func:`cache_key`):

- ``md-<key>/``: the dump of :func:`bayescal.md.glass.shear_glass` and ``run.json`` (strain,
  stress and options), written last so that a killed run leaves no complete entry;
- ``reference-<key>.nc``: one realization's :func:`bayescal.md.reference.md_reference`.

Reruns, reports and posterior steps of a study then read the files and never start LAMMPS.
Bump :data:`CACHE_VERSION` when the cached references would change for the same options.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
from collections.abc import Mapping
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from bayescal.coarse.fields import CoarseGrainOptions
from bayescal.io import write_netcdf_atomic
from bayescal.md.glass import GlassOptions, GlassRun, shear_glass
from bayescal.md.reference import md_reference

__all__ = ["CACHE_VERSION", "cache_key", "cached_glass", "cached_reference", "cached_references"]

logger = logging.getLogger(__name__)

#: Version of the cached references: part of their keys, so bumping it invalidates them.
CACHE_VERSION = 1


def cache_key(payload: Mapping[str, Any]) -> str:
    """A stable 16-hex-digit key of a JSON-able mapping (key order and non-JSON types aside).

    Parameters
    ----------
    payload : mapping
        Serialised as JSON with sorted keys; values JSON cannot hold are written as ``str``.

    Returns
    -------
    str
        The first 16 hex digits of the SHA-256 of that JSON.
    """
    text = json.dumps(payload, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _md_payload(options: GlassOptions) -> dict[str, Any]:
    """The MD options as keyed: a default ``stress_points`` is left out (keys from before it)."""
    payload = asdict(options)
    if not payload["stress_points"]:
        del payload["stress_points"]
    return payload


def _write_json_atomic(obj: dict[str, Any], path: Path) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    with os.fdopen(fd, "w") as fh:
        json.dump(obj, fh)
    os.replace(tmp, path)


def cached_glass(
    cache: str | os.PathLike, options: GlassOptions, seed: np.random.SeedSequence
) -> GlassRun:
    """One sheared glass: read from ``cache`` if this MD (options, seed) ran before, else run it.

    Parameters
    ----------
    cache : path-like
        The cache folder (must exist); the run goes to ``md-<key>/`` in it.
    options : GlassOptions
        The MD settings.
    seed : numpy.random.SeedSequence
        The run's seed; its entropy and spawn key are part of the key.

    Returns
    -------
    GlassRun
        The run, as :func:`bayescal.md.glass.shear_glass` returned it the first time.
    """
    key = cache_key({"md": _md_payload(options), "entropy": seed.entropy, "spawn": seed.spawn_key})
    folder = Path(cache) / f"md-{key}"
    done = folder / "run.json"
    if done.is_file():
        meta = json.loads(done.read_text())
        curve = meta.get("stress_strain")
        return GlassRun(
            dump=folder / "shear.dump",
            strain=np.asarray(meta["strain"]),
            stress=np.asarray(meta["stress"]),
            options=meta["options"],
            stress_strain=None if curve is None else np.asarray(curve),
        )
    logger.info("running MD %s (%d atoms)", folder.name, options.n_atoms)
    run = shear_glass(folder, options, rng=np.random.default_rng(seed), name="shear")
    meta = {"strain": run.strain.tolist(), "stress": run.stress.tolist(), "options": run.options}
    if run.stress_strain is not None:
        meta["stress_strain"] = run.stress_strain.tolist()
    _write_json_atomic(meta, done)  # written last: a killed run leaves no "done" marker
    return run


def cached_reference(
    cache: str | os.PathLike,
    options: GlassOptions,
    coarse: CoarseGrainOptions,
    *,
    md_seed: int,
    realization: int,
) -> xr.Dataset:
    """Realization ``realization`` of root seed ``md_seed``, coarse-grained (cached twice).

    The MD has seed ``SeedSequence(md_seed).spawn(realization + 1)[realization]`` (as
    :func:`cached_references`) and is itself cached by :func:`cached_glass`.

    Parameters
    ----------
    cache : path-like
        The cache folder (must exist); the reference goes to ``reference-<key>.nc`` in it, keyed
        by :data:`CACHE_VERSION`, the MD options, ``md_seed``, ``realization`` and ``coarse``.
    options : GlassOptions
        The MD settings.
    coarse : CoarseGrainOptions
        The coarse-graining.
    md_seed, realization : int
        Root seed and index of the realization.

    Returns
    -------
    xarray.Dataset
        :func:`bayescal.md.reference.md_reference` of the run, loaded into memory, with attrs
        ``realization`` and ``md_seed``.
    """
    payload = {
        "version": CACHE_VERSION,
        "md": _md_payload(options),
        "md_seed": md_seed,
        "realization": realization,
        "coarse": repr(coarse),
    }
    path = Path(cache) / f"reference-{cache_key(payload)}.nc"
    if not path.is_file():
        seed = np.random.SeedSequence(md_seed).spawn(realization + 1)[realization]
        ds = md_reference(cached_glass(cache, options, seed), coarse)
        ds.attrs |= {"realization": realization, "md_seed": md_seed}
        write_netcdf_atomic(ds, path)
    with xr.open_dataset(path, engine="h5netcdf") as ds:
        return ds.load()


def cached_references(
    cache: str | os.PathLike,
    options: GlassOptions,
    coarse: CoarseGrainOptions,
    *,
    realizations: int,
    md_seed: int,
) -> list[xr.Dataset]:
    """Independent realizations 0, ..., R - 1 of root seed ``md_seed`` (:func:`cached_reference`).

    Parameters
    ----------
    cache : path-like
        The cache folder; created if missing.
    options : GlassOptions
        The MD settings.
    coarse : CoarseGrainOptions
        The coarse-graining.
    realizations : int
        R; realization r has the seed ``SeedSequence(md_seed).spawn(R)[r]``.
    md_seed : int
        Root seed.

    Returns
    -------
    list of xarray.Dataset
        One coarse-grained reference per realization (stack them with
        :func:`bayescal.coarse.alignment.stack_realizations`).
    """
    Path(cache).mkdir(parents=True, exist_ok=True)
    return [
        cached_reference(cache, options, coarse, md_seed=md_seed, realization=r)
        for r in range(realizations)
    ]
