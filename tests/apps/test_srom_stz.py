"""The SROM-of-STZ application (bayescal.apps.srom_stz) on a tiny fake calibration."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from bayescal.datasets import load_cuzr
from bayescal.errors import InputDataError
from bayescal.optimize import EvalStatus

NAMES = ("beta", "u0", "c0", "s_y")
LOWER = np.array([2.0, -3.395, 0.05, 0.8])
UPPER = np.array([15.0, -3.36, 1.0, 1.1])


@pytest.fixture(scope="module")
def study():
    from bayescal.apps import srom_stz

    return srom_stz


def _evaluations(rng: np.random.Generator) -> xr.Dataset:
    """Four seeds x 3 evaluations in the layout of EvaluationStore / best_per_seed.

    Seed 2's best set is seed 0's up to 1e-6 of the range (a duplicate); seed 3 failed
    throughout. Best discrepancies: seed 1 (0.5) < seed 0 (0.6) < seed 2 (0.61).
    """
    unit = rng.uniform(0.2, 0.8, size=(12, 4))
    disc = rng.uniform(1.0, 2.0, size=12)
    seed = np.repeat(np.arange(4), 3).astype(np.int32)
    status = np.full(12, int(EvalStatus.OK), dtype=np.int8)
    disc[[1, 3, 8]] = [0.6, 0.5, 0.61]
    unit[8] = unit[1] + 1e-6
    status[9:] = int(EvalStatus.FAILED)
    disc[9:] = np.nan
    return xr.Dataset(
        {
            "theta": (("eval", "param"), LOWER + unit * (UPPER - LOWER)),
            "unit": (("eval", "param"), unit),
            "discrepancy": (("eval",), disc),
            "status": (("eval",), status),
            "seed": (("eval",), seed),
            "batch": (("eval",), np.tile(np.arange(3), 4).astype(np.int32)),
        },
        coords={"eval": np.arange(12), "param": list(NAMES)},
        attrs={
            "study_name": "cuzr_stz",
            "study_fingerprint": "0123456789abcdef",
            "study_options": repr({"steps_per_frame": 5}),
            "param_lower": LOWER,
            "param_upper": UPPER,
        },
    )


@pytest.fixture
def run_dir(tmp_path) -> Path:
    d = tmp_path / "cuzr"
    d.mkdir()
    _evaluations(np.random.default_rng(0)).to_netcdf(d / "evaluations.nc", engine="h5netcdf")
    return d


@pytest.fixture
def fake_stz(study, monkeypatch):
    """Replace the STZ batch (minutes) by synthetic fields: the MD field, scaled and shifted."""
    md = load_cuzr()["gamma_xy"].transpose("frame", "y", "x").values
    y = np.linspace(0.0, 2.0 * np.pi, md.shape[1], endpoint=False)
    strain = np.linspace(0.0, 0.5, md.shape[0])
    calls: list[dict] = []

    def fake(params, *, simulate, reference=None, steps_per_frame=60, workers=1, to_centres=True):
        calls.append({"n": len(params), "steps_per_frame": steps_per_frame})
        return [
            md * (0.8 + 0.4 * (p["c0"] - 0.05) / 0.95)
            + 0.05 * (p["beta"] / 15.0) * strain[:, None, None] * np.sin(y)[None, :, None]
            for p in params
        ]

    monkeypatch.setattr(study, "stz_strain_fields", fake)
    return calls


def test_select_candidates_sorts_dedupes_and_cuts(study):
    ev = _evaluations(np.random.default_rng(0))
    c = study.select_candidates(ev)
    assert c["seed"].values.tolist() == [1, 0]  # seed 2 merged into 0, seed 3 failed
    assert c.attrs["merged"] == [2]
    np.testing.assert_allclose(c["discrepancy"].values, [0.5, 0.6])
    np.testing.assert_allclose(c["theta"].values[0], ev["theta"].values[3], rtol=0, atol=0)
    assert study.select_candidates(ev, top=1)["seed"].values.tolist() == [1]
    assert study.select_candidates(ev, dedupe_tol=1e-9)["seed"].values.tolist() == [1, 0, 2]
    with pytest.raises(InputDataError, match="top must be an int >= 1; got 0"):
        study.select_candidates(ev, top=0)
    failed = ev.assign(status=ev["status"] * 0 + int(EvalStatus.FAILED))
    with pytest.raises(InputDataError, match="no successful evaluation"):
        study.select_candidates(failed)


def test_run_writes_dataset_and_plots(study, run_dir, fake_stz):
    out = study.run(run_dir, samples=16, seed=3, progress=False)
    assert fake_stz == [{"n": 2, "steps_per_frame": 5}]  # one batch; calibration's option
    d = run_dir / "srom"
    assert {p.name for p in d.iterdir()} >= {"srom_stz.nc", "srom_fields.png", "srom_coverage.png"}
    with xr.open_dataset(d / "srom_stz.nc", engine="h5netcdf") as back:
        back = back.load()
    assert list(back["candidate"].values) == ["md", "model_0", "model_1"]
    assert back["candidate_seed"].values.tolist() == [-1, 1, 0]
    assert np.isnan(back["theta"].values[0]).all()
    assert back.attrs["run_dir"] == str(run_dir.resolve())
    assert back.attrs["calibration_fingerprint"] == "0123456789abcdef"
    assert json.loads(back.attrs["options"])["samples"] == 16
    assert [p["beta"] for p in json.loads(back.attrs["parameters"])] == pytest.approx(
        back["theta"].values[1:, 0]
    )
    assert 0.0 <= back.attrs["coverage"] <= 1.0
    assert back["coverage_at_strain"].sizes["applied_strain"] == 4
    assert back.attrs["coverage"] == pytest.approx(out.attrs["coverage"])
    text = study.summary(out)
    assert "model_0 (nominal)" in text and "seeds merged" in text and "0.05:" in text


def test_main_prints_summary_and_reports_errors(study, run_dir, fake_stz, tmp_path, capsys):
    out = tmp_path / "elsewhere"
    argv = [str(run_dir), "--out", str(out), "--samples", "8", "--top", "1", "--quiet"]
    assert study.main([*argv, "--steps-per-frame", "7"]) == 0
    assert fake_stz[-1] == {"n": 1, "steps_per_frame": 7}
    printed = capsys.readouterr().out
    assert "dispersion" in printed and "overall" in printed
    assert (out / "srom_stz.nc").is_file()
    assert study.main([str(tmp_path / "missing"), "--quiet"]) == 2
    assert "evaluations.nc" in capsys.readouterr().err
