"""STZ against independent 2D LJ glass realizations (studies/lj_stz.py, md-realizations)."""

from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from bayescal import calibrate
from bayescal.apps.md_realizations import main as md_realizations
from bayescal.datasets import load_lj2d, shear_modulus
from bayescal.errors import InputDataError
from bayescal.md.glass import GlassOptions
from bayescal.study import evaluate, load_study

STUDY = Path(__file__).parents[2] / "studies" / "lj_stz.py"


def test_shear_modulus_is_the_initial_slope():
    strain = np.linspace(0.0, 0.1, 101)
    curves = np.stack([17.0 * strain + 0.01 * r for r in range(3)])
    curves[:, strain > 0.03] = 0.5  # plastic flow is not fitted
    data = xr.Dataset(
        {"stress": (("realization", "stress_frame"), curves)},
        coords={"stress_strain": ("stress_frame", strain)},
    )
    assert shear_modulus(data) == pytest.approx(17.0, rel=1e-9)
    with pytest.raises(InputDataError, match="needs >= 3 stress points"):
        shear_modulus(data, max_strain=0.001)


def test_stress_points_must_divide_the_shear():
    with pytest.raises(InputDataError, match="stress_points - 1 must divide"):
        GlassOptions(shear_steps=1000, n_frames=5, stress_points=7)


def test_shipped_realizations_layout():
    data = load_lj2d()
    assert data.sizes["realization"] >= 6
    assert data["gamma_xy"].dims == ("realization", "frame", "y", "x")
    assert {"gamma_xy_std", "pe", "pe_std"} <= set(data.data_vars)
    assert data["stress"].dims == ("realization", "stress_frame")
    assert "bayescal md-realizations" in data.attrs["command"]
    # independent seeds: no two realizations share an initial PE field
    pe0 = data["pe"].isel(frame=0).values.reshape(data.sizes["realization"], -1)
    assert np.min(np.abs(np.corrcoef(pe0) - np.eye(len(pe0))).max(axis=1)) < 0.9


def test_study_runs_each_realization_from_its_own_field():
    """One parameter set, two realizations: different initial PE fields, different runs."""
    study = load_study(STUDY, frames=30, steps_per_frame=10)
    assert study.forward_per_realization and study.realizations >= 6
    theta = np.array([[1.0, 0.15, 0.4, 0.5 * float(study.reference["stress"].max())]] * 2)
    out = evaluate(study, theta, [0, 1])
    assert np.all(out["status"].values == 0) and np.all(np.isfinite(out["discrepancy"].values))
    snaps = [v for v in out.data_vars if str(v).startswith("output_")]
    first = out[snaps[0]].values
    assert not np.allclose(first[0], first[1])
    held = load_study(STUDY, holdout=0, frames=30, steps_per_frame=10)
    assert held.realizations == study.realizations - 1


@pytest.mark.slow
def test_tiny_realizations_calibrate_end_to_end(require_lammps, tmp_path):
    """Two 400-atom realizations made by the command, then EGO and the pooled posterior."""
    data = tmp_path / "lj.nc"
    assert md_realizations(["--out", str(data), "--tiny", "--realizations", "2"]) == 0
    study = load_study(STUDY, data=str(data), budget=8, n_init=5, draws=200)
    cal = calibrate(study, tmp_path / "run")
    ev = cal.evaluations
    assert ev.attrs["forward_per_realization"] == 1
    assert set(np.unique(ev["realization"].values)) == {0, 1}
    post = cal.posterior["posterior"]
    assert post["beta_realization"].sizes["realization"] == 2 and "beta" in post
    report = tmp_path / "run" / "report"
    names = ("fields_realization1.png", "stress_strain_realization1.png", "posterior.md")
    for name in (*names, "posterior_predictive_realization1.png"):
        assert (report / name).is_file(), name
