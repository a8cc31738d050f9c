"""The end-to-end MD study (studies/md_shear_band.py): LAMMPS -> GP fields -> EGO -> posterior."""

from pathlib import Path

import numpy as np
import pytest
import xarray as xr

import bayescal.md.cache
from bayescal.coarse.alignment import align_band
from bayescal.study import evaluate, load_study
from bayescal.study.load import import_study_file

STUDY = Path(__file__).parents[2] / "studies" / "md_shear_band.py"
#: a tiny MD: 256 atoms, 1,400 steps per realization (a few seconds)
TINY = {
    "n_atoms": 256,
    "melt_steps": 200,
    "quench_steps": 600,
    "shear_steps": 600,
    "n_frames": 7,
    "max_strain": 0.3,
    "grid": 8,
}


def _study_module():
    return import_study_file(STUDY)


def test_build_tiny_study(require_lammps, tmp_path, monkeypatch):
    """Two realizations coarse-grained by GP; the model matches the MD grid, box and frames."""
    cache = tmp_path / "cache"
    study = load_study(STUDY, cache_dir=str(cache), **TINY)
    ref = study.reference
    assert study.realizations == 2 and study.run.seeds == 2
    assert ref["gamma_xy"].dims == ("realization", "frame", "y", "x")
    assert ref["gamma_xy_std"].shape == (2, 7, 8, 8)
    assert np.all(ref["gamma_xy_std"].isel(frame=slice(1, None)).values > 0)
    assert ref["stress"].dims == ("realization", "stress_frame")
    assert ref["stress"].attrs["units"] == "epsilon/sigma^2"
    assert set(ref["reflected"].values) <= {0, 1} and ref["band_shift"].attrs["units"] == "sigma"
    # independent realizations: different glasses
    assert not np.allclose(ref["stress"].values[0], ref["stress"].values[1])
    # the forward model lives on the MD's grid, box and frames
    theta = study.from_unit(np.full((1, study.dim), 0.5))
    out = study.forward(study.model_inputs(theta))
    np.testing.assert_allclose(out["x"].values, ref["x"].values, rtol=1e-12)
    np.testing.assert_allclose(out["y"].values, ref["y"].values, rtol=1e-12)
    np.testing.assert_allclose(out["strain"].values, ref["strain"].values, atol=1e-8)
    assert study.fixed["mu"] > 0 and study.fixed["soft"] >= 0
    # one evaluation against each realization
    res = evaluate(study, np.repeat(theta, 2, axis=0), [0, 1])
    assert np.isfinite(res["discrepancy"].values).all()
    assert res["discrepancy"].values[0] != res["discrepancy"].values[1]
    # cached: a rebuild reads the files and never starts LAMMPS
    files = sorted(p.name for p in cache.iterdir())
    module = _study_module()

    def no_md(*args, **kwargs):
        raise AssertionError("MD rerun despite the cache")

    monkeypatch.setattr(bayescal.md.cache, "shear_glass", no_md)
    again = module.build(cache_dir=str(cache), **TINY)
    xr.testing.assert_identical(again.reference, ref)
    assert sorted(p.name for p in cache.iterdir()) == files
    # another coarse-graining of the same MD reuses the dumps
    binned = module.build(cache_dir=str(cache), method="bin", **TINY)
    assert "gamma_xy_count" in binned.reference


def test_align_band_reflects_and_centres():
    """A band along y is reflected to run along x and rolled to the box centre."""
    n = 8
    coords = (np.arange(n) + 0.5) * 2.0
    field = np.zeros((3, n, n))
    field[:, :, 1] = np.array([0.0, 1.0, 2.0])[:, None]  # band along y at x cell 1, growing
    ds = xr.Dataset(
        {"gamma_xy": (("frame", "y", "x"), field), "stress": ("stress_frame", np.zeros(3))},
        coords={"strain": ("frame", [0.0, 0.2, 0.4]), "y": coords, "x": coords},
    )
    aligned, reflected, shift = align_band(ds)
    assert reflected and shift == 2  # cell 1 -> cell 3 (the centre of 0..7 is 3.5)
    prof = aligned["gamma_xy"].isel(frame=-1).mean("x").values
    assert int(np.argmax(prof)) == 3 and np.allclose(aligned["gamma_xy"].isel(frame=-1)[3], 2.0)
    assert aligned["gamma_xy"].dims == ("frame", "y", "x")
    same, flipped, zero = align_band(aligned)
    assert not flipped and zero == 0
    xr.testing.assert_identical(same, aligned)


@pytest.mark.slow
def test_cli_runs_md_study(require_lammps, tmp_path, capsys):
    """``bayescal run`` on a tiny MD: EGO per realization, posterior, report files (~2 min)."""
    from bayescal.cli import main

    out = tmp_path / "run"
    options = [f"--set={k}={v}" for k, v in TINY.items()]
    options += [f"--set=cache_dir={tmp_path / 'cache'}", "--set=draws=300", "--set=tune=300"]
    rc = main(["run", str(STUDY), "--out", str(out), "--budget", "20", "--quiet", *options])
    printed = capsys.readouterr().out
    assert rc in (0, 1), printed  # 1: the posterior's diagnostics failed (results still written)
    with xr.open_dataset(out / "evaluations.nc", engine="h5netcdf") as ds:
        ev = ds.load()
    assert ev.sizes["eval"] == 40
    np.testing.assert_array_equal(ev["realization"].values, ev["seed"].values % 2)
    assert (out / "posterior.nc").is_file()
    for name in (
        "summary.txt",
        "fields.png",
        "stress_strain_realization1.png",
        "posterior.md",
        "posterior_trace.png",
    ):
        assert (out / "report" / name).is_file(), name
    assert "realization" in (out / "report" / "summary.txt").read_text().splitlines()[0]
    # report and posterior reuse the cached MD
    assert main(["report", str(out)]) == 0
