"""A reference of several data realizations: seed k calibrates against realization k % R."""

import warnings
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from bayescal.discrepancy import Discrepancy, FieldTerm
from bayescal.errors import InputDataError, InputDataWarning, StudyDefinitionError
from bayescal.io import EvaluationStore
from bayescal.optimize import EGOOptions, EvalStatus
from bayescal.study import Parameter, RunSettings, Study, calibrate, evaluate
from bayescal.study.calibrate import _check_stored_realizations
from bayescal.study.report import write_report
from bayescal.summary import best_per_seed, format_table
from models.toy import shear_band

N, FRAMES, BUDGET = 16, 51, 16
#: the two realizations are made at different true parameters
TRUTHS = ({"tau_peak": 1.3, "y0": 10.0}, {"tau_peak": 2.1, "y0": 28.0})
BOUNDS = {"tau_peak": (1.0, 2.5), "y0": (5.0, 35.0)}
FIXED = {k: v for k, v in shear_band.DEFAULT_PARAMS.items() if k not in BOUNDS}


def simulate(p):
    return shear_band.simulate(p, nx=N, ny=N, n_frames=FRAMES)


def reference_of(params) -> xr.Dataset:
    """Toy output in the layout of ``load_cuzr()`` (as studies/toy_shear_band.py)."""
    out = simulate(FIXED | params)
    return xr.Dataset(
        {
            "gamma_xy": (2.0 * out["exy"]).assign_attrs(units="1"),
            "stress": ("stress_frame", out["stress"].values, {"units": "GPa"}),
        },
        coords={"stress_strain": ("stress_frame", out["strain"].values)},
    )


def make_study(reference: xr.Dataset, seeds: int | None = None) -> Study:
    return Study(
        name="toy_realizations",
        parameters=tuple(Parameter(name=k, lower=lo, upper=hi) for k, (lo, hi) in BOUNDS.items()),
        forward=simulate,
        reference=reference,
        discrepancy=Discrepancy(fields=(FieldTerm(ranks=(2, 2, 3, 3, 3, 3, 3, 4, 4)),)),
        fixed=FIXED,
        run=RunSettings(ego=EGOOptions(n_init=6), budget=BUDGET, seeds=seeds),
    )


@pytest.fixture(scope="module")
def reference() -> xr.Dataset:
    return xr.concat([reference_of(t) for t in TRUTHS], dim="realization")


@pytest.fixture(scope="module")
def study(reference) -> Study:
    return make_study(reference)


@pytest.fixture(scope="module")
def run(study, tmp_path_factory):
    out = tmp_path_factory.mktemp("realizations")
    return out, calibrate(study, out)


def open_evaluations(path: Path) -> xr.Dataset:
    with xr.open_dataset(path / "evaluations.nc", engine="h5netcdf") as ds:
        return ds.load()


def test_default_seeds_one_per_realization(study):
    assert study.realizations == 2 and study.run.seeds == 2
    np.testing.assert_array_equal(study.realization_of([0, 1, 2, 3]), [0, 1, 0, 1])
    with pytest.warns(InputDataWarning, match=r"realizations \[1\] are not calibrated"):
        make_study(study.reference, seeds=1)


def test_evaluate_per_sample_realization(study):
    """Each set is compared with its own realization; batched equals one call per set."""
    theta = np.array([[TRUTHS[i][k] for k in BOUNDS] for i in (0, 0, 1, 1)])
    real = np.array([0, 1, 0, 1])
    out = evaluate(study, theta, real)
    d = out["discrepancy"].values
    np.testing.assert_array_equal(out["realization"].values, real)
    assert d[0] < 1e-10 and d[3] < 1e-10  # each truth matches its own realization exactly
    assert min(d[1], d[2]) > 0.05  # and not the other one
    for i in range(4):
        one = evaluate(study, theta[i : i + 1], int(real[i]))
        np.testing.assert_allclose(one["discrepancy"].values[0], d[i], rtol=1e-12, atol=1e-15)
    # None means realization 0
    np.testing.assert_allclose(evaluate(study, theta[[0, 2]])["discrepancy"].values, d[[0, 2]])
    with pytest.raises(StudyDefinitionError, match=r"realization must be in \[0, 1\]"):
        evaluate(study, theta, [0, 1, 2, 0])
    with pytest.raises(StudyDefinitionError, match="one per parameter set"):
        evaluate(study, theta, [0, 1])


def test_discrepancy_needs_one_realization(reference):
    model = simulate(FIXED | TRUTHS[0])
    with pytest.raises(InputDataError, match="one realization at a time"):
        Discrepancy(fields=(FieldTerm(ranks=(2,) * 9),))(reference, model)


def test_each_seed_recovers_its_realization(run):
    """Seed 0 finds truth 0, seed 1 truth 1 (budget 16; within 10 % of each range)."""
    _, ev = run
    assert ev.sizes["eval"] == 2 * BUDGET
    assert ev["realization"].dtype == np.int32
    np.testing.assert_array_equal(ev["realization"].values, ev["seed"].values % 2)
    best = best_per_seed(ev)
    np.testing.assert_array_equal(best["realization"].values, [0, 1])
    width = np.array([hi - lo for lo, hi in BOUNDS.values()])
    for k, truth in enumerate(TRUTHS):
        found = best["theta"].values[k]
        want = np.array([truth[n] for n in BOUNDS])
        other = np.array([TRUTHS[1 - k][n] for n in BOUNDS])
        assert np.all(np.abs(found - want) <= 0.1 * width), (k, found, want)
        assert np.linalg.norm((found - want) / width) < np.linalg.norm((found - other) / width)
    table = format_table(best)
    assert table.splitlines()[0].split()[:2] == ["seed", "realization"]


def test_resume_equals_uninterrupted(study, run, tmp_path):
    """Stop after two rounds, restart: the same evaluations and realizations bit for bit.

    A smaller budget only ends the runs earlier, so the result is the full run's first rounds.
    """
    _, full = run
    budget, rounds = 10, []

    def stop(record):
        rounds.append(record)
        if len(rounds) == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        calibrate(study, tmp_path, budget=budget, callback=stop)
    assert open_evaluations(tmp_path).sizes["eval"] < 2 * budget
    resumed = calibrate(study, tmp_path, budget=budget)
    assert resumed.sizes["eval"] == 2 * budget
    for var in ("theta", "seed", "realization", "discrepancy"):
        np.testing.assert_array_equal(resumed[var].values, full[var].values[: 2 * budget])


def test_resume_refuses_other_realization_layout(reference, tmp_path):
    """Three seeds over two realizations put seed 2 on realization 0; one realization cannot.

    The changed reference is what the fingerprint names; with the fingerprint check passed
    (same parts), the stored realization layout is checked too.
    """
    calibrate(make_study(reference, seeds=3), tmp_path, budget=2)
    single = make_study(reference.isel(realization=0))
    with pytest.raises(InputDataError, match="the reference data changed"):
        calibrate(single, tmp_path, budget=3, seeds=3)
    store = EvaluationStore(tmp_path, single.names, {})  # no fingerprint: layout check only
    with pytest.raises(InputDataError, match="seed 1 was compared with realization 1"):
        _check_stored_realizations(single, store)


def test_old_file_without_realization_resumes(reference, tmp_path):
    """Files written before ``realization`` existed load, resume and read as realization 0."""
    single = make_study(reference.isel(realization=0))
    calibrate(single, tmp_path, budget=7, seeds=1)
    old = open_evaluations(tmp_path).drop_vars("realization")
    old.to_netcdf(tmp_path / "evaluations.nc", engine="h5netcdf")
    ev = calibrate(single, tmp_path, budget=8, seeds=1)
    assert ev.sizes["eval"] == 8
    assert ev["realization"].dtype == np.int32 and not ev["realization"].values.any()


def test_reference_realization_not_on_compared_variables(reference):
    """A realization dim only on a variable the discrepancy ignores is an error."""
    single = reference.isel(realization=0)
    bad = single.assign(pe=(("realization", "frame", "y", "x"), np.zeros((3, FRAMES, N, N))))
    with pytest.raises(StudyDefinitionError, match=r"size 3 \(on \['pe'\]\)"):
        make_study(bad)
    empty = reference.isel(realization=slice(0, 0))
    with pytest.raises(StudyDefinitionError, match="size 0"):
        make_study(empty)
    # shared stress (no realization dim) with per-realization fields is fine
    shared = reference.assign(stress=reference["stress"].isel(realization=0))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert make_study(shared).realizations == 2


def test_report_with_realizations(study, run):
    out, ev = run
    table = write_report(study, ev, out)
    assert "realization" in table.splitlines()[0]
    for name in (
        "summary.txt",
        "convergence.png",
        "fields.png",
        "stress_strain.png",
        "stress_strain_realization0.png",
        "stress_strain_realization1.png",
    ):
        assert (out / "report" / name).is_file(), name
    assert ev["status"].values.tolist().count(int(EvalStatus.OK)) == ev.sizes["eval"]
