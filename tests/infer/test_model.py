"""The PyMC model's log density equals the documented formulas (no sampling)."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.stats
from synthetic_evaluations import LOWER, UPPER, make_evaluations

from bayescal.errors import InputDataError
from bayescal.infer import PosteriorOptions, build_model, prepare

D = 2


@pytest.fixture(scope="module")
def data():
    opts = PosteriorOptions(pooling="complete")
    return prepare(make_evaluations(n_seeds=2, n_per_seed=20, d=D), opts, rng=0)


def _logit(u):
    return np.log(u) - np.log1p(-u)


@pytest.mark.parametrize("likelihood", ["floor", "gibbs"])
def test_logp_equals_formula(data, likelihood):
    import pymc as pm

    opts = PosteriorOptions(
        pooling="complete",
        likelihood=likelihood,
        temperature=0.5,
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
        expected += scipy.stats.lognorm.logpdf(sigma, 0.5, scale=opts.model_error_scale)
        expected += scipy.stats.norm.logpdf(data.floors[0], mean, np.sqrt(var + sigma**2))
    else:
        expected += -np.exp(mean) / 0.5  # transform "log": d = exp(m)
    # PyMC's truncated-normal normaliser differs from scipy's by ~1e-8 (erf approximations)
    assert float(logp(point)) == pytest.approx(float(expected), rel=0, abs=1e-7)


def test_unknown_prior_name(data):
    opts = PosteriorOptions(pooling="complete", priors={"bta": ("uniform",)})
    with pytest.raises(InputDataError, match="unknown parameters"):
        build_model(data, opts)


def test_floor_is_best_training_value(data):
    em = data.emulators[0]
    assert data.floors[0] == em.y.min()
    np.testing.assert_allclose(
        (data.best_theta[0] - LOWER[:D]) / (UPPER[:D] - LOWER[:D]), em.x[np.argmin(em.y)]
    )
