"""Emulator refinement at posterior draws (bayescal.study.refine) on the toy study."""

from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from bayescal.infer import PosteriorOptions, Refinement, Sampling
from bayescal.study import calibrate, load_study, run_posterior

TOY = Path(__file__).parents[2] / "studies" / "toy_shear_band.py"


@pytest.fixture(scope="module")
def refined(tmp_path_factory):
    study = load_study(TOY, n=16)
    out = tmp_path_factory.mktemp("refine")
    evaluations = calibrate(study, out, budget=12, seeds=2)
    mtime = (out / "evaluations.nc").stat().st_mtime_ns
    opts = PosteriorOptions(
        sampling=Sampling(draws=100, tune=100, chains=2),
        seed=0,
        refine=Refinement(rounds=2, points=3),
    )
    result = run_posterior(study, evaluations, out, options=opts, predictive_draws=0)
    return study, out, evaluations, mtime, opts, result


@pytest.mark.slow
def test_refinement_points_are_stored_apart_and_used(refined):
    study, out, evaluations, mtime, _, result = refined
    assert (out / "evaluations.nc").stat().st_mtime_ns == mtime  # EGO history untouched
    with xr.open_dataset(out / "refinement" / "evaluations.nc", engine="h5netcdf") as ds:
        extra = ds.load()
    assert extra.sizes["eval"] == 2 * 3  # rounds x points (pooled draws: one emulator set)
    assert sorted(np.unique(extra["batch"].values)) == [-2, -1]
    assert sorted(np.unique(extra["seed"].values)) == [0, 1]  # labels spread over the seeds
    # refinement points are posterior draws that satisfy the study's constraint (the
    # posterior itself does not know it: infeasible draws are replaced)
    assert np.all(study.feasible(extra["theta"].values))
    cd = result.idata.constant_data
    assert cd.sizes["eval"] == evaluations.sizes["eval"] + 6
    text = (out / "report" / "posterior.md").read_text()
    assert "emulators refined with 6 forward runs" in text
    assert text.count("emulator check, round") == 2


@pytest.mark.slow
def test_rerun_reuses_stored_rounds(refined):
    study, out, evaluations, _, opts, _ = refined
    result = run_posterior(study, evaluations, out, options=opts, predictive_draws=0)
    with xr.open_dataset(out / "refinement" / "evaluations.nc", engine="h5netcdf") as ds:
        assert ds.sizes["eval"] == 6
    assert "emulator_checks" not in result.idata.posterior.attrs  # nothing new to check
    assert result.idata.constant_data.sizes["eval"] == evaluations.sizes["eval"] + 6


def test_refine_smoke(tmp_path, fake_nuts):
    """Fast-tier smoke of the whole posterior step with one refinement round, prior draws in
    place of NUTS (tests/_fake_nuts.py): only the plumbing is checked; the slow tests above
    check what the rounds do with real chains."""
    study = load_study(TOY, n=16)
    evaluations = calibrate(study, tmp_path, budget=12, seeds=2)
    opts = PosteriorOptions(
        sampling=Sampling(draws=30, tune=30, chains=2, prior_draws=0),
        seed=0,
        refine=Refinement(rounds=1, points=2),
    )
    result = run_posterior(study, evaluations, tmp_path, options=opts, predictive_draws=0)
    with xr.open_dataset(tmp_path / "refinement" / "evaluations.nc", engine="h5netcdf") as ds:
        assert ds.sizes["eval"] == 1 * 2  # rounds x points (pooled draws: one emulator set)
    assert result.idata.constant_data.sizes["eval"] == evaluations.sizes["eval"] + 2
    assert result.idata.posterior.sizes["draw"] == 30
    assert "emulator check, round" in (tmp_path / "report" / "posterior.md").read_text()


def test_refine_options_checked():
    from bayescal.errors import InputDataError

    with pytest.raises(InputDataError, match=r"refine\.rounds must be >= 0; got -1"):
        Refinement(rounds=-1)
    with pytest.raises(InputDataError, match=r"refine\.points must be >= 1; got 0"):
        Refinement(points=0)
    with pytest.raises(InputDataError, match="refine must be a Refinement"):
        PosteriorOptions(refine={"rounds": 1})


def test_infeasible_posterior_draws_are_replaced(monkeypatch, caplog):
    import bayescal.plots.posterior as plots_posterior
    from bayescal.study.refine import _feasible_draws

    draws = np.arange(16.0).reshape(8, 2)  # 8 draws of 2 parameters; odd rows "infeasible"
    monkeypatch.setattr(plots_posterior, "posterior_draws", lambda *a, **k: draws)

    def even_rows(theta):
        return theta[:, 0] % 4 == 0

    got = _feasible_draws(None, 3, even_rows, None, np.random.default_rng(0))
    np.testing.assert_array_equal(got, draws[[0, 2, 4]])
    got = _feasible_draws(None, 5, even_rows, 1, np.random.default_rng(0))
    assert len(got) == 4 and "only 4 of 8 posterior draws of seed 1" in caplog.text


def test_variance_ratio_is_small_where_trained_and_counts_the_outside_part():
    """A chaotic field block (an emulated outside part S): the ratio is the larger of the
    components' latent variance over sigma^2 and the emulator's variance of S over 2 nu tau^4,
    S's variance under the likelihood; small where the block was trained, large away from it."""
    import arviz as az

    from bayescal.infer.residual_model import residual_block
    from bayescal.study.refine import emulator_variance_ratio

    gen = np.random.default_rng(3)
    x = 0.5 * gen.random((30, 2))  # evaluations in one quarter of the box
    t = np.linspace(0, 1, 400)
    smooth = (x[:, 1:2] - 0.3) * np.sin(np.pi * t) / np.sqrt(200)
    chaos = (0.05 + 0.4 * x[:, :1]) * gen.standard_normal((30, 400)) / np.sqrt(400)
    block = residual_block(x, smooth + chaos, name="f", tail=False, rng=0)
    assert block.outside is not None
    sigma, tau = 0.05, 0.03

    def ratio(centre):
        draws = np.clip(centre + 0.02 * gen.standard_normal((1, 200, 2)), 0, 1)
        post = {
            "a": draws[..., 0],
            "b": draws[..., 1],
            "sigma_f": np.full((1, 200), sigma),
            "sigma_tail_f": np.full((1, 200), tau),
        }
        idata = az.from_dict(posterior=post)
        idata["posterior"].attrs["param_names"] = ["a", "b"]
        return emulator_variance_ratio(idata, [block], ["a", "b"], [0, 0], [1, 1])["f"]

    centre = np.array([[0.25, 0.25]])
    _, var = block.emulator.predict(centre)
    m, v = block.outside.predict(centre)
    var_s = float((np.expm1(v) * np.exp(2 * m + v))[0])
    expected = max(float(np.mean(var)) / sigma**2, var_s / (2 * block.outside_dof * tau**4))
    assert ratio(centre[0]) == pytest.approx(expected, rel=0.5)
    assert ratio(np.array([0.9, 0.9])) > 10 * ratio(centre[0])


def test_prediction_check_is_a_binomial_test_on_the_misses():
    from bayescal.study.refine import ResidualCheck, predictions_calibrated

    # 8 single-score runs: 2 outside 2 sd pass (p 0.048), 3 do not (p 0.0044)
    assert predictions_calibrated(6 / 8, 8)
    assert not predictions_calibrated(5 / 8, 8)
    # 8 runs x 14 scores: 9 misses pass (p 0.07), 12 do not (p 0.005), although both cover
    # more than the 8-run case's 75 %
    assert predictions_calibrated(1 - 9 / 112, 112)
    assert not predictions_calibrated(1 - 12 / 112, 112)
    assert predictions_calibrated(0.0, 0)  # nothing predicted: nothing to reject
    check = ResidualCheck(
        round=0,
        n=8,
        variance_ratio={"a": 0.01, "b": 0.01},
        score_rmse={"a": 0.1, "b": 0.1},
        coverage_2sd={"a": 1.0, "b": 1 - 12 / 112},
        predictions={"a": 8, "b": 112},
    )
    assert not check.calibrated()
    assert "within 2 sd 89 % of 112" in check.line()


def test_each_round_reports_the_posterior_it_drew_from():
    import arviz as az

    from bayescal.study.refine import ResidualCheck, posterior_moments

    rng = np.random.default_rng(0)
    draws = {
        "beta": 9.0 + 0.35 * rng.standard_normal((2, 4000)),
        "s_y": 0.92 + 0.018 * rng.standard_normal((2, 4000)),
        "sigma_stress": np.abs(rng.standard_normal((2, 4000))),
    }
    moments = posterior_moments(az.from_dict(posterior=draws), ["beta", "s_y"])
    assert list(moments) == ["beta", "s_y"]  # the searched names only, in their order
    assert moments["beta"] == pytest.approx((9.0, 0.35), rel=0.03)
    assert moments["s_y"] == pytest.approx((0.92, 0.018), rel=0.03)
    check = ResidualCheck(
        round=1,
        n=8,
        variance_ratio={"a": 0.01},
        score_rmse={},
        coverage_2sd={},
        moments={"beta": (9.0, 0.35), "s_y": (0.92, 0.018)},
    )
    assert check.line().endswith("posterior mean (sd) beta 9 (0.35), s_y 0.92 (0.018)")
