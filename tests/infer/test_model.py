"""The PyMC model's log density equals the documented formulas (no sampling)."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.stats
from synthetic_evaluations import LOWER, UPPER, make_evaluations

from bayescal.errors import InputDataError
from bayescal.infer import FloorLikelihood, PosteriorOptions, build_model, prepare

D = 2
pytestmark = pytest.mark.usefixtures("pytensor_fast_compile")


@pytest.fixture(scope="module")
def data():
    opts = PosteriorOptions(likelihood="floor", pooling="complete")
    return prepare(make_evaluations(n_seeds=2, n_per_seed=20, d=D), opts, rng=0)


def _logit(u):
    return np.log(u) - np.log1p(-u)


@pytest.mark.parametrize("likelihood", ["floor", "gibbs"])
def test_logp_equals_formula(data, likelihood):
    import pymc as pm

    opts = PosteriorOptions(
        pooling="complete",
        likelihood=likelihood,
        floor=FloorLikelihood(temperature=0.5),
        priors={
            "beta": ("normal", 8.0, 1.5),
            "u0": lambda name, lower, upper, dims=None: pm.Uniform(name, lower, upper, dims=dims),
        },
    )
    model = build_model(data, opts)
    assert set(model.coords) == {"param"}
    logp = model.compile_logp(jacobian=False)
    theta = np.array([7.5, -3.37])
    unit = (theta - LOWER[:D]) / (UPPER[:D] - LOWER[:D])
    point = {"beta_interval__": _logit(unit[0]), "u0_interval__": _logit(unit[1])}
    a, b = (LOWER[0] - 8.0) / 1.5, (UPPER[0] - 8.0) / 1.5
    expected = scipy.stats.truncnorm.logpdf(theta[0], a, b, loc=8.0, scale=1.5)
    expected += -np.log(UPPER[1] - LOWER[1])
    mean, var = data.emulators[0].predict(unit)
    if likelihood == "floor":
        sigma = 0.13
        point["sigma_log__"] = np.log(sigma)
        expected += scipy.stats.lognorm.logpdf(sigma, 0.5, scale=opts.floor.model_error_scale)
        expected += scipy.stats.norm.logpdf(data.floors[0], mean, np.sqrt(var + sigma**2))
    else:
        expected += -np.exp(mean) / 0.5  # transform "log": d = exp(m)
    # PyMC's truncated-normal normaliser differs from scipy's by ~1e-8 (erf approximations)
    assert float(logp(point)) == pytest.approx(float(expected), rel=0, abs=1e-7)


def test_unknown_prior_name(data):
    opts = PosteriorOptions(likelihood="floor", pooling="complete", priors={"bta": ("uniform",)})
    with pytest.raises(InputDataError, match="unknown parameters"):
        build_model(data, opts)


def test_floor_is_best_training_value(data):
    em = data.emulators[0]
    assert data.floors[0] == em.y.min()
    np.testing.assert_allclose(
        (data.best_theta[0] - LOWER[:D]) / (UPPER[:D] - LOWER[:D]), em.x[np.argmin(em.y)]
    )


def _reparam(to_search=lambda v: {"u0": -v["v"] / 10.0}):
    from bayescal.infer import Reparametrization

    return Reparametrization(
        names=("beta", "v"), lower=(LOWER[0], 33.60), upper=(UPPER[0], 33.95), to_search=to_search
    )


def test_reparam_logp_is_prior_on_sampled_times_emulator_at_searched(data):
    """Uniform prior on the sampled (beta, v); the emulator sees u0 = -v / 10."""
    opts = PosteriorOptions(likelihood="floor", pooling="complete", reparam=_reparam())
    model = build_model(data, opts)
    assert {"beta", "v", "u0", "sigma"} <= set(model.named_vars)
    assert "u0" in [d.name for d in model.deterministics]
    logp = model.compile_logp(jacobian=False)
    beta, v, sigma = 7.5, 33.7, 0.13
    u_beta = (beta - LOWER[0]) / (UPPER[0] - LOWER[0])
    point = {
        "beta_interval__": _logit(u_beta),
        "v_interval__": _logit((v - 33.60) / 0.35),
        "sigma_log__": np.log(sigma),
    }
    unit = np.array([u_beta, (-v / 10 - LOWER[1]) / (UPPER[1] - LOWER[1])])
    mean, var = data.emulators[0].predict(unit)
    expected = -np.log(UPPER[0] - LOWER[0]) - np.log(0.35)
    expected += scipy.stats.lognorm.logpdf(sigma, 0.5, scale=opts.floor.model_error_scale)
    expected += scipy.stats.norm.logpdf(data.floors[0], mean, np.sqrt(var + sigma**2))
    # the PyTensor emulator equals GPEmulator.predict to ~1e-8 (tests/emulate)
    assert float(logp(point)) == pytest.approx(float(expected), rel=0, abs=1e-6)


def test_reparam_errors(data):
    with pytest.raises(InputDataError, match=r"must return exactly \['u0'\]; got \['w'\]"):
        opts = PosteriorOptions(
            likelihood="floor", pooling="complete", reparam=_reparam(lambda v: {"w": 1})
        )
        build_model(data, opts)
    with pytest.raises(InputDataError, match=r"need 2\.0 < 1\.0"):
        from bayescal.infer import Reparametrization

        Reparametrization(names=("a",), lower=(2.0,), upper=(1.0,), to_search=dict)


@pytest.mark.parametrize("pooling", ["partial", "none"])
def test_reparam_per_seed_variables(pooling):
    opts = PosteriorOptions(likelihood="floor", pooling=pooling, reparam=_reparam())
    per_seed = prepare(make_evaluations(n_seeds=2, n_per_seed=12, d=D), opts, rng=0)
    model = build_model(per_seed, opts)
    names = set(model.named_vars)
    assert {"beta_seed", "v_seed", "u0_seed"} <= names
    assert ({"beta", "v", "u0", "tau"} <= names) == (pooling == "partial")
    assert list(model.coords["param"]) == ["beta", "v"]
    point = model.initial_point()
    assert np.isfinite(model.compile_logp()(point))


def test_noise_error_scale_is_the_emulator_noise_sd(data):
    em = data.emulators[0]
    opts = PosteriorOptions(
        likelihood="floor", pooling="complete", floor=FloorLikelihood(model_error_scale="noise")
    )
    noise_sd = np.sqrt(em.noise) * em.y_std
    assert opts.floor.error_scale([noise_sd]) == pytest.approx(max(noise_sd, 1e-3))
    assert opts.floor.error_scale([0.0, 0.0]) == 1e-3
    model = build_model(data, opts)
    logp = model.compile_logp(vars=[model["sigma"]], jacobian=False)
    point = model.initial_point() | {"sigma_log__": np.log(0.02)}
    want = scipy.stats.lognorm.logpdf(0.02, 0.5, scale=opts.floor.error_scale([noise_sd]))
    assert float(logp(point)) == pytest.approx(want, abs=1e-7)
    with pytest.raises(InputDataError, match="model_error_scale must be > 0"):
        FloorLikelihood(model_error_scale=0.0)


def test_fixed_model_error_is_a_constant_sigma(data):
    opts = PosteriorOptions(
        likelihood="floor",
        pooling="complete",
        floor=FloorLikelihood(model_error_scale=0.07, model_error_spread=0.0),
    )
    model = build_model(data, opts)
    assert "sigma" not in {v.name for v in model.free_RVs}
    logp = model.compile_logp(jacobian=False)
    unit = np.array([0.4, 0.6])
    point = {"beta_interval__": _logit(unit[0]), "u0_interval__": _logit(unit[1])}
    mean, var = data.emulators[0].predict(unit)
    expected = -np.log(UPPER[:D] - LOWER[:D]).sum()
    expected += scipy.stats.norm.logpdf(data.floors[0], mean, np.sqrt(var + 0.07**2))
    assert float(logp(point)) == pytest.approx(float(expected), abs=1e-7)


def test_floor_emulators_are_capped_gibbs_ones_not():
    ev = make_evaluations(n_seeds=1, n_per_seed=20, d=D)
    d = ev["discrepancy"].values
    z = np.log(d[(ev["status"].values == 0) & np.isfinite(d)])
    floor = prepare(
        ev,
        PosteriorOptions(
            likelihood="floor", pooling="complete", floor=FloorLikelihood(emulator_cap=0.2)
        ),
        rng=0,
    )
    np.testing.assert_allclose(floor.emulators[0].y, np.minimum(z, z.min() + 0.2))
    gibbs = prepare(
        ev,
        PosteriorOptions(
            pooling="complete", likelihood="gibbs", floor=FloorLikelihood(emulator_cap=0.2)
        ),
        rng=0,
    )
    np.testing.assert_allclose(gibbs.emulators[0].y, z)


def test_seeds_far_above_the_best_floor_are_left_out():
    from bayescal.errors import ConvergenceWarning

    ev = make_evaluations(n_seeds=3, n_per_seed=20, d=D)
    stuck = ev["seed"].values == 1
    ev["discrepancy"].values[stuck] *= 1.5  # log floor 0.405 above the others
    with pytest.warns(ConvergenceWarning, match=r"seeds \[1\] left out"):
        tolerant = FloorLikelihood(tolerance=0.2)
        data = prepare(ev, PosteriorOptions(likelihood="floor", floor=tolerant), rng=0)
    assert data.seeds == (0, 2) and data.excluded_seeds == (1,)
    kept = prepare(ev, PosteriorOptions(likelihood="floor"), rng=0)
    assert kept.seeds == (0, 1, 2) and kept.excluded_seeds == ()
    # the Gibbs likelihood uses no floor, hence drops nothing
    gibbs = prepare(ev, PosteriorOptions(likelihood="gibbs"), rng=0)
    assert gibbs.seeds == (0, 1, 2)
