"""End to end: dumps of an affinely sheared configuration -> fields in the load_cuzr layout."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from bayescal.coarse import Box, CoarseGrainOptions, Frame, coarse_grain, iter_dump, write_dump
from bayescal.datasets import load_cuzr
from bayescal.errors import InputDataError

STRAINS = (0.0, 0.05, 0.1)


def sheared_run(rng: np.random.Generator, path: Path, n: int = 3000) -> Path:
    """A random 3D configuration sheared affinely (x += gamma y) with the box, wrapped."""
    box0 = Box.orthogonal([40.0, 40.0, 8.0])
    X = box0.to_cartesian(rng.uniform(0, 1, (n, 3)))
    pe = -3.4 + 0.01 * np.sin(2 * np.pi * X[:, 1] / 40.0) + rng.normal(0, 0.02, n)
    frames = []
    for k, g in enumerate(STRAINS):
        F = np.array([[1.0, g, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])
        box = Box(matrix=box0.matrix @ F.T, origin=box0.origin)
        frames.append(
            Frame(
                positions=box.wrap(X @ F.T),
                box=box,
                ids=np.arange(1, n + 1),
                columns={"type": np.ones(n, int), "c_pe": pe},
                timestep=1000 * k,
            )
        )
    write_dump(path, frames)
    return path


@pytest.fixture
def dump(tmp_path: Path, rng: np.random.Generator) -> Path:
    return sheared_run(rng, tmp_path / "run.dump")


@pytest.mark.parametrize("method", ["bin", "gaussian", "tophat", "gp"])
def test_layout_and_affine_strain(dump: Path, method: str) -> None:
    opts = CoarseGrainOptions(method=method, shape=(8, 8), cutoff=5.0)  # type: ignore[arg-type]
    ds = coarse_grain(iter_dump(dump), opts)
    ref = load_cuzr()
    for name in ("gamma_xy", "pe"):
        assert ds[name].dims == ref[name].dims == ("frame", "y", "x")
        assert ds[name].attrs["units"] == ref[name].attrs["units"]
        assert ds[f"{name}_std"].dims == ("frame", "y", "x")
    assert ds["x"].attrs["units"] == ref["x"].attrs["units"] == "nm"
    np.testing.assert_allclose(ds["strain"], STRAINS, atol=1e-12)
    np.testing.assert_allclose(ds["x"], (np.arange(8) + 0.5) * 0.5)  # 40 Å box, 8 cells, nm
    # an affine simple shear: every atom's gamma_xy = 2 E_xy is the applied strain
    want = np.broadcast_to(np.asarray(STRAINS)[:, None, None], ds["gamma_xy"].shape)
    np.testing.assert_allclose(ds["gamma_xy"], want, atol=1e-6)
    assert np.all(np.isfinite(ds["pe"])) and np.all(ds["pe_std"] >= 0)
    assert float(abs(ds["pe"] + 3.4).max()) < 0.02
    if method == "bin":
        assert int(ds["pe_count"].isel(frame=0).sum()) == 3000
    assert ds.attrs["method"] == method


def test_realizations(tmp_path: Path, rng: np.random.Generator) -> None:
    runs = [sheared_run(rng, tmp_path / f"r{k}.dump", n=1500) for k in range(2)]
    ds = coarse_grain([iter_dump(p) for p in runs], shape=(4, 4), cutoff=6.0, strain=False)
    assert ds["pe"].dims == ("realization", "frame", "y", "x")
    assert ds.sizes["realization"] == 2
    assert "gamma_xy" not in ds


def test_errors(dump: Path, rng: np.random.Generator) -> None:
    frames = list(iter_dump(dump))
    with pytest.raises(InputDataError, match="no frames"):
        coarse_grain([], shape=(4, 4))
    with pytest.raises(InputDataError, match="ids differ"):
        bad = Frame(
            positions=frames[1].positions[:-1],
            box=frames[1].box,
            ids=frames[1].ids[:-1],
            columns={"c_pe": frames[1].column("c_pe")[:-1]},
        )
        coarse_grain([frames[0], bad], shape=(4, 4), cutoff=5.0)
    with pytest.raises(InputDataError, match="column 'c_s4'"):
        coarse_grain(frames, shape=(4, 4), quantities={"s": "c_s4"}, cutoff=5.0)
    with pytest.raises(InputDataError, match="method"):
        CoarseGrainOptions(method="voronoi")  # type: ignore[arg-type]


def test_round_trip_netcdf(dump: Path, tmp_path: Path) -> None:
    ds = coarse_grain(iter_dump(dump), shape=(4, 4), cutoff=5.0)
    ds.to_netcdf(tmp_path / "f.nc", engine="h5netcdf")
    with xr.open_dataset(tmp_path / "f.nc", engine="h5netcdf") as back:
        xr.testing.assert_allclose(back.load(), ds)
