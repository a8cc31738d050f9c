"""End-to-end EGO calibration on the toy study: storage, resume, failures, executors."""

import dataclasses
import os
import signal
import subprocess
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pytest
import xarray as xr
from _shared_data import require_module

from bayescal.cli import main
from bayescal.errors import ForwardModelError
from bayescal.executors import make_executor
from bayescal.optimize import EvalStatus
from bayescal.study import StudySpec, calibrate, evaluate, load_study

TOY = Path(__file__).parents[2] / "studies" / "toy_shear_band.py"
OPTIONS = {"n": 16}


@pytest.fixture(scope="module")
def study():
    return load_study(TOY, **OPTIONS)


@pytest.fixture(scope="module")
def reference_run(study, tmp_path_factory):
    out = tmp_path_factory.mktemp("reference")
    return calibrate(study, out, budget=12, seeds=2)


def with_run(study, **settings):
    """The study with some of its run settings replaced."""
    return dataclasses.replace(study, run=dataclasses.replace(study.run, **settings))


def open_evaluations(path):
    with xr.open_dataset(Path(path) / "evaluations.nc", engine="h5netcdf") as ds:
        return ds.load()


def test_evaluations_file_layout(reference_run):
    ev = reference_run
    assert ev.sizes["eval"] == 24 and ev.sizes["param"] == 4
    assert list(ev["param"].values) == ["tau_peak", "tau_flow", "y0", "width"]
    for var in (
        "theta",
        "unit",
        "discrepancy",
        "status",
        "seed",
        "batch",
        "wall_s",
        "model_stress",
        "output_exy",
    ):
        assert var in ev, var
    assert sorted(np.unique(ev["seed"].values)) == [0, 1]
    assert (np.bincount(ev["seed"].values) == 12).all()
    assert ev.attrs["study_name"] == "toy_shear_band"
    assert "version_botorch" in ev.attrs


def test_stored_outputs_give_the_residuals_without_a_forward_run(study, reference_run):
    from bayescal.compared_outputs import residuals_from_outputs

    stored = reference_run  # what calibrate wrote to DIR/evaluations.nc
    got = residuals_from_outputs(study.discrepancy, study.reference_for(0), stored)
    ok = stored["status"].values == EvalStatus.OK
    assert got.shape[0] == 24 and np.isfinite(got[ok]).all() and np.isnan(got[~ok]).all()
    # the residuals of a fresh run, exactly (the kept outputs are float64)
    fresh = evaluate(study, stored["theta"].values[ok], residuals=True)["residual"].values
    np.testing.assert_array_equal(got[ok], fresh)


def test_cli_outputs_fills_a_store_written_without_them(tmp_path, capsys):
    """'bayescal outputs DIR' reruns the forward model where the kept outputs are missing."""
    out = tmp_path / "old"
    args = ["--budget", "6", "--seeds", "1", "--set", "n=16", "--quiet"]
    assert main(["run", str(TOY), "--out", str(out), *args, "--no-report", "--no-posterior"]) == 0
    full = open_evaluations(out)
    old = full.drop_vars(["output_exy", "snapshot_strain_exy"])
    old.to_netcdf(out / "evaluations.nc", engine="h5netcdf")
    capsys.readouterr()
    assert main(["outputs", str(out)]) == 0
    assert "6 of 6 evaluations lack kept outputs" in capsys.readouterr().out
    filled = open_evaluations(out)
    np.testing.assert_array_equal(filled["output_exy"].values, full["output_exy"].values)
    assert main(["outputs", str(out)]) == 0  # nothing left to do
    assert "0 of 6 evaluations lack" in capsys.readouterr().out


def test_seeds_differ_and_improve(reference_run):
    ev = reference_run
    first = [ev["theta"].values[ev["seed"].values == s][0] for s in (0, 1)]
    assert not np.allclose(first[0], first[1])
    ok = ev["status"].values == EvalStatus.OK
    assert np.nanmin(ev["discrepancy"].values[ok]) < np.nanmedian(ev["discrepancy"].values[ok])


def test_resume_equals_uninterrupted(study, reference_run, tmp_path):
    """Stop after a few rounds, restart on the same directory: same evaluations bit for bit."""
    rounds = []

    def stop_after_three(record):
        rounds.append(record)
        if len(rounds) == 3:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        calibrate(study, tmp_path, budget=12, seeds=2, callback=stop_after_three)
    assert open_evaluations(tmp_path).sizes["eval"] < 24
    resumed = calibrate(study, tmp_path, budget=12, seeds=2)
    for s in (0, 1):
        a = reference_run["theta"].values[reference_run["seed"].values == s]
        b = resumed["theta"].values[resumed["seed"].values == s]
        np.testing.assert_array_equal(a, b)


@pytest.mark.slow
def test_cli_run_survives_sigkill(tmp_path):
    """Kill the CLI mid-run with SIGKILL; rerunning completes with no evaluation lost."""
    out = tmp_path / "run"
    cmd = [
        sys.executable,
        "-m",
        "bayescal.cli",
        "run",
        str(TOY),
        "--out",
        str(out),
        "--budget",
        "12",
        "--seeds",
        "1",
        "--set",
        "n=16",
        "--quiet",
        "--no-report",
        "--no-posterior",
    ]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    seen = 0
    while time.time() < deadline and proc.poll() is None:
        if (out / "evaluations.nc").exists():
            try:
                seen = open_evaluations(out).sizes["eval"]
            except OSError:  # caught between writes: the file itself is renamed atomically
                seen = 0
            if seen >= 5:
                break
        time.sleep(0.05)
    if proc.poll() is None:
        os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    before = open_evaluations(out)
    assert 0 < before.sizes["eval"] <= 12
    assert subprocess.run(cmd, check=False).returncode == 0
    after = open_evaluations(out)
    assert after.sizes["eval"] == 12
    n = before.sizes["eval"]
    np.testing.assert_array_equal(after["theta"].values[:n], before["theta"].values)


def test_failures_are_recorded_not_fatal(study, tmp_path):
    """A forward model that raises in part of the box: FAILED rows, the run goes on."""
    import dataclasses

    def flaky(p):
        if np.any(p["width"] > 8.0):
            raise RuntimeError("diverged")
        return study.forward(p)

    broken = dataclasses.replace(study, forward=flaky)
    ev = calibrate(broken, tmp_path, budget=12, seeds=1)
    status = ev["status"].values
    assert ev.sizes["eval"] == 12
    wide = ev["theta"].sel(param="width").values > 8.0
    assert wide.any(), "the design should reach the failing region"
    assert (status[wide] == EvalStatus.FAILED).all()
    assert (status[~wide] == EvalStatus.OK).all()
    assert all("diverged" in m for m in ev["message"].values[wide])


def test_a_forward_model_bug_stops_the_run_after_the_batch_is_saved(study, tmp_path):
    import dataclasses

    def buggy(p):
        return study.forward(p) + "stress"  # TypeError: a bug, not a failure at a point

    with pytest.raises(ForwardModelError, match="programming error") as info:
        calibrate(dataclasses.replace(study, forward=buggy), tmp_path, budget=12, seeds=1)
    assert "Traceback" in str(info.value) and "in buggy" in str(info.value)
    saved = open_evaluations(tmp_path)
    assert saved.sizes["eval"] == 1  # the first batch (q = 1, one seed), then the stop
    assert (saved["status"].values == EvalStatus.FAILED).all()


def test_a_batch_that_fails_everywhere_stops_the_run(study, tmp_path):
    import dataclasses

    def broken(p):
        raise RuntimeError("license server unreachable")

    with pytest.raises(ForwardModelError, match="none of the 3 so far worked") as info:
        calibrate(dataclasses.replace(study, forward=broken), tmp_path, budget=12, seeds=1)
    assert "license server unreachable" in str(info.value)
    assert open_evaluations(tmp_path).sizes["eval"] == 3
    with pytest.raises(ForwardModelError, match="every evaluation of a batch of 4 failed"):
        calibrate(
            dataclasses.replace(study, forward=broken),
            tmp_path / "q4",
            budget=12,
            seeds=2,
            batch_size=2,
        )


def test_cli_shows_a_forward_model_bug(tmp_path, capsys):
    study_file = tmp_path / "buggy.py"
    study_file.write_text(
        "import dataclasses\n"
        "import importlib.util\n"
        f"spec = importlib.util.spec_from_file_location('toy', {str(TOY)!r})\n"
        "toy = importlib.util.module_from_spec(spec)\n"
        "spec.loader.exec_module(toy)\n"
        "def build():\n"
        "    study = toy.build(n=16)\n"
        "    return dataclasses.replace(study, forward=lambda p: len(p) + 'x')\n"
    )
    assert main(["run", str(study_file), "--out", str(tmp_path / "out"), "--seeds", "1"]) == 2
    err = capsys.readouterr().err
    assert "programming error" in err and "TypeError" in err and "Traceback" in err


def test_process_pool_matches_inline(study, reference_run, tmp_path):
    spec = StudySpec(str(TOY), tuple(OPTIONS.items()))
    with ProcessPoolExecutor(2) as pool:
        ev = calibrate(study, tmp_path, budget=12, seeds=2, executor=pool, spec=spec)
    np.testing.assert_allclose(
        ev["discrepancy"].values, reference_run["discrepancy"].values, rtol=1e-12
    )


def test_dask_executor_matches_inline(study, reference_run, tmp_path):
    require_module("distributed")
    executor = make_executor(workers=2, scheduler="local")
    try:
        spec = StudySpec(str(TOY), tuple(OPTIONS.items()))
        ev = calibrate(study, tmp_path, budget=6, seeds=2, executor=executor, spec=spec)
    finally:
        executor.bayescal_client.close()
    mine = reference_run.isel(eval=np.flatnonzero(reference_run["batch"].values < 6))
    np.testing.assert_allclose(
        np.sort(ev["discrepancy"].values), np.sort(mine["discrepancy"].values), rtol=1e-12
    )


def test_cli_end_to_end_with_report(tmp_path, capsys):
    out = tmp_path / "cli"
    code = main(
        [
            "run",
            str(TOY),
            "--out",
            str(out),
            "--budget",
            "8",
            "--seeds",
            "1",
            "--set",
            "n=16",
            "--quiet",
            "--no-posterior",
        ]
    )
    assert code == 0
    printed = capsys.readouterr().out
    assert "tau_peak" in printed and "truth" in printed
    for name in (
        "summary.txt",
        "convergence.png",
        "parameter_traces.png",
        "fields.png",
        "stress_strain.png",
    ):
        assert (out / "report" / name).stat().st_size > 0, name
    assert not (out / "posterior.nc").exists()
    assert main(["report", str(out)]) == 0


def test_cli_posterior_smoke(tmp_path, capsys, fake_nuts):
    """Fast-tier smoke of 'bayescal run' through the posterior and 'bayescal posterior DIR', prior
    draws in place of NUTS (tests/_fake_nuts.py); test_cli_posterior_step runs real chains."""
    from bayescal.infer import read_posterior

    out = tmp_path / "cli"
    args = ["--set", "n=16", "--set", "draws=50", "--set", "tune=50", "--quiet"]
    code = main(["run", str(TOY), "--out", str(out), "--budget", "12", "--seeds", "2", *args])
    printed = capsys.readouterr()
    assert code == 1  # 4 x 50 draws cannot reach ESS 400
    assert "posterior diagnostics failed" in printed.err
    assert "| tau_peak |" in printed.out
    first = read_posterior(out / "posterior.nc").posterior
    assert first.sizes["draw"] == 50
    assert (out / "report" / "posterior.md").stat().st_size > 0
    before = (out / "evaluations.nc").stat().st_mtime_ns
    assert main(["posterior", str(out), "--seed", "5", "--quiet", "--per-seed"]) == 1
    assert (out / "evaluations.nc").stat().st_mtime_ns == before
    again = read_posterior(out / "posterior.nc").posterior
    assert again.attrs["sampler_seed"] != first.attrs["sampler_seed"]
    # one posterior per EGO seed from its own evaluations, as a table of intervals
    rows = (out / "report" / "per_seed.md").read_text().splitlines()
    assert rows[2].startswith("| seed | tau_peak |")
    assert [r.split("|")[1].strip() for r in rows[4:]] == ["0", "1"]


@pytest.mark.slow
def test_cli_posterior_step(tmp_path, capsys):
    """EGO then the posterior through the CLI; 'bayescal posterior DIR' redoes only that step."""
    from bayescal.infer import read_posterior

    out = tmp_path / "cli"
    args = ["--set", "n=16", "--set", "draws=100", "--set", "tune=100", "--quiet"]
    code = main(["run", str(TOY), "--out", str(out), "--budget", "16", "--seeds", "2", *args])
    printed = capsys.readouterr()
    # 4 x 100 draws cannot reach ESS 400: the CLI must say so and exit with status 1
    assert code == 1
    assert "posterior diagnostics failed" in printed.err
    assert "| tau_peak |" in printed.out
    idata = read_posterior(out / "posterior.nc")
    assert idata.posterior.sizes["draw"] == 100
    assert {"posterior", "sample_stats", "prior", "constant_data"} <= set(idata.groups())
    for name in (
        "posterior.md",
        "posterior_trace.png",
        "posterior_pair.png",
        "posterior_predictive.png",
    ):
        assert (out / "report" / name).stat().st_size > 0, name
    assert "94 % HDI" in (out / "report" / "posterior.md").read_text()
    before = (out / "evaluations.nc").stat().st_mtime_ns
    assert main(["posterior", str(out), "--seed", "5", "--quiet"]) == 1
    assert (out / "evaluations.nc").stat().st_mtime_ns == before
    assert (
        read_posterior(out / "posterior.nc").posterior.attrs["sampler_seed"]
        != (idata.posterior.attrs["sampler_seed"])
    )
    assert main(["posterior", str(tmp_path / "missing")]) == 2


def test_cli_reports_bad_option(tmp_path, capsys):
    code = main(["run", str(TOY), "--out", str(tmp_path), "--set", "tau_pek=2"])
    assert code == 2
    assert "unknown option" in capsys.readouterr().err
    cuzr = Path(__file__).parents[2] / "studies" / "cuzr_stz.py"
    code = main(["run", str(cuzr), "--out", str(tmp_path), "--set", "search=beta"])
    assert code == 2
    assert "build(search='beta') rejected its options: search must be" in capsys.readouterr().err


def test_polish_refines_the_incumbent_within_the_budget(study, reference_run, tmp_path):
    """The last `polish` evaluations go to Gauss-Newton from EGO's incumbent: same EGO part
    as without, the whole budget used, and the best value no worse (judged by d itself)."""
    import dataclasses

    polished = with_run(study, ego=dataclasses.replace(study.run.ego, polish=5))
    ev = calibrate(polished, tmp_path, budget=12, seeds=2)
    assert ev.sizes["eval"] == 24
    for k in (0, 1):
        mine = ev["seed"].values == k
        ref = reference_run["seed"].values == k
        d, d_ref = ev["discrepancy"].values[mine], reference_run["discrepancy"].values[ref]
        np.testing.assert_allclose(d[:7], d_ref[:7], rtol=1e-12)  # EGO until the polish
        assert np.nanmin(d) <= np.nanmin(d_ref[:7])
    # resuming a finished polished run adds nothing
    again = calibrate(polished, tmp_path, budget=12, seeds=2)
    assert again.sizes["eval"] == 24


def test_a_fractional_local_start_follows_the_run_budget(study, tmp_path):
    """local.start=BudgetShare(0.5) with a budget of 12 is the run that goes local after 6
    evaluations (the study's share is resolved against calibrate's budget, not a budget of the
    study file)."""
    import dataclasses

    from bayescal.optimize import BudgetShare, LocalSearch

    def local_from(value):
        ego = dataclasses.replace(study.run.ego, local=LocalSearch(start=value))
        return with_run(study, ego=ego, budget=40)

    by_fraction = calibrate(local_from(BudgetShare(0.5)), tmp_path / "fraction", budget=12, seeds=1)
    by_count = calibrate(local_from(6), tmp_path / "count", budget=12, seeds=1)
    global_only = calibrate(local_from(20), tmp_path / "global", budget=12, seeds=1)
    d = [r["discrepancy"].values for r in (by_fraction, by_count, global_only)]
    np.testing.assert_array_equal(d[0], d[1])
    assert not np.array_equal(d[0], d[2])


@pytest.mark.slow  # composite EGO on the toy study, twice: about 40 s
def test_composite_search_resumes_bit_for_bit(study, tmp_path):
    """Residual vectors are recomputed from the kept outputs when a composite run resumes."""
    import dataclasses

    options = dataclasses.replace(study.run.ego, surrogate="composite")
    composite = with_run(study, ego=options)
    full = calibrate(composite, tmp_path / "full", budget=14, seeds=1)
    calibrate(composite, tmp_path / "part", budget=10, seeds=1)
    resumed = calibrate(composite, tmp_path / "part", budget=14, seeds=1)
    np.testing.assert_array_equal(full["theta"].values, resumed["theta"].values)
    scalar = calibrate(study, tmp_path / "scalar", budget=14, seeds=1)
    assert not np.array_equal(full["theta"].values[10:], scalar["theta"].values[10:])
