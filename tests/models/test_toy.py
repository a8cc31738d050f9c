"""Tests of the toy forward models (models/toy)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import scipy.linalg

from models.toy import linear_gaussian, shear_band
from models.toy.shear_band import BOUNDS, DEFAULT_PARAMS, PARAM_NAMES

REPO = Path(__file__).resolve().parents[2]


def _random_params(rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
    """Draw ``n`` valid parameter sets inside BOUNDS (tau_flow <= tau_peak)."""
    p = {k: rng.uniform(*BOUNDS[k], size=n) for k in PARAM_NAMES}
    p["tau_flow"] = np.minimum(p["tau_flow"], p["tau_peak"])
    return p


# --- shear band: shapes and contract ---------------------------------------------------------


def test_shear_band_unbatched_dims() -> None:
    out = shear_band.simulate()
    assert out["exy"].dims == ("frame", "y", "x")
    assert out["exy"].shape == (101, 32, 32)
    assert out["stress"].dims == ("frame",)
    assert out["status"].dims == ()
    assert int(out["status"]) == 0
    np.testing.assert_allclose(out["strain"], 0.005 * np.arange(101), rtol=0, atol=1e-15)
    np.testing.assert_array_equal(out["x"], 1.25 * (np.arange(32) + 0.5))
    assert out["x"].attrs["units"] == "nm"
    assert out["exy"].attrs["units"] == "1"
    assert out["stress"].attrs["units"] == "GPa"
    assert json.loads(out.attrs["parameters"]) == DEFAULT_PARAMS


def test_shear_band_batched_dims_and_options() -> None:
    out = shear_band.simulate({"mu": [15.0, 20.0, 25.0]}, n_frames=11, nx=8, ny=6, box=10.0)
    assert out["exy"].dims == ("sample", "frame", "y", "x")
    assert out["exy"].shape == (3, 11, 6, 8)
    assert out["stress"].shape == (3, 11)
    assert out["status"].dims == ("sample",)
    assert out["status"].dtype == np.int8
    assert not out["status"].values.any()
    np.testing.assert_allclose(out["y"], (np.arange(6) + 0.5) * 10 / 6)
    # a batch of one keeps the sample dim
    assert shear_band.simulate({"mu": [15.0]})["exy"].dims[0] == "sample"


def test_shear_band_batch_equals_loop() -> None:
    rng = np.random.default_rng(0)
    params = _random_params(rng, 5)
    batch = shear_band.simulate(params)
    for i in range(5):
        one = shear_band.simulate({k: float(v[i]) for k, v in params.items()})
        np.testing.assert_allclose(batch["exy"][i], one["exy"], rtol=1e-13, atol=1e-15)
        np.testing.assert_allclose(batch["stress"][i], one["stress"], rtol=1e-13, atol=1e-15)


def test_shear_band_mean_strain_is_applied_over_two() -> None:
    params = _random_params(np.random.default_rng(1), 20)
    out = shear_band.simulate(params)
    mean = out["exy"].mean(("y", "x"))
    np.testing.assert_allclose(mean, out["strain"].broadcast_like(mean) / 2, rtol=0, atol=1e-13)


def test_shear_band_stress_peak() -> None:
    # mu = 20 GPa, tau_peak = 1.6 GPa: the peak is at strain 0.08, frame 16
    out = shear_band.simulate({"mu": 20.0, "tau_peak": 1.6, "tau_flow": 1.0, "soft": 30.0})
    stress = out["stress"].values
    assert stress.max() == pytest.approx(1.6, abs=1e-12)
    assert int(stress.argmax()) == 16
    assert stress[-1] == pytest.approx(1.0 + 0.6 * np.exp(-30.0 * 0.42), rel=1e-12)
    # random parameters: the peak is tau_peak up to one frame of elastic loading
    params = _random_params(np.random.default_rng(2), 50)
    out = shear_band.simulate(params)
    reached = params["tau_peak"] / params["mu"] <= 0.5
    peak = out["stress"].max("frame").values
    assert np.all(peak <= params["tau_peak"] + 1e-12)
    lowest = params["tau_peak"] - params["mu"] * 0.005 - 1e-12
    np.testing.assert_array_less(lowest[reached], peak[reached])


def test_shear_band_elastic_then_localised() -> None:
    out = shear_band.simulate({"mu": 20.0, "tau_peak": 1.6, "y0": 10.0, "width": 3.0})
    exy = out["exy"].values
    # before and at the peak the field is uniform (elastic)
    uniform = np.broadcast_to(out["strain"].values[:17, None, None] / 2, exy[:17].shape)
    np.testing.assert_allclose(exy[:17], uniform, rtol=0, atol=1e-15)
    # afterwards the strain concentrates in a band centred at y0 and is not rank one
    last = out["exy"].isel(frame=-1)
    assert float(last["y"][int(last.mean("x").argmax("y"))]) == pytest.approx(10.0, abs=1.25)
    assert np.linalg.matrix_rank(last.values, tol=1e-8) > 2
    assert exy.min() >= 0.0


def test_shear_band_y0_is_periodic() -> None:
    a = shear_band.simulate({"y0": 5.0})
    b = shear_band.simulate({"y0": 45.0})
    np.testing.assert_allclose(a["exy"], b["exy"], rtol=0, atol=1e-14)


def test_shear_band_profile_columns_have_unit_mean() -> None:
    w = shear_band.band_profile([3.0, 39.0], [0.5, 15.0])
    assert w.shape == (2, 32, 32)
    np.testing.assert_allclose(w.mean(axis=1), 1.0, rtol=0, atol=1e-13)


def test_shear_band_output_works_with_discrepancy() -> None:
    from bayescal.datasets import load_cuzr
    from bayescal.discrepancy import Discrepancy

    d = Discrepancy()(load_cuzr(), shear_band.simulate({"y0": [21.8, 5.0]}))
    assert d["discrepancy"].shape == (2,)
    assert np.isfinite(d["discrepancy"].values).all()


@pytest.mark.parametrize(
    ("params", "options", "match"),
    [
        ({"mu": -1.0}, {}, r"parameter 'mu' must be > 0; got mu=-1.0 at sample 0"),
        ({"tau_peak": [1.0, 0.0]}, {}, r"'tau_peak' must be > 0; got tau_peak=0.0 at sample 1"),
        ({"tau_flow": 2.0, "tau_peak": 1.5}, {}, r"'tau_flow' must be <= tau_peak; got tau_flow=2"),
        ({"tau_flow": -0.1}, {}, r"'tau_flow' must be > 0"),
        ({"soft": -1.0}, {}, r"'soft' must be >= 0; got soft=-1.0"),
        ({"width": 0.0}, {}, r"'width' must be > 0; got width=0.0"),
        ({"mu": float("nan")}, {}, r"'mu' must be finite; got mu=nan"),
        ({"y0": [1.0, np.inf]}, {}, r"'y0' must be finite; got y0=inf at sample 1"),
        ({"Mu": 1.0}, {}, r"unknown parameter 'Mu'. Did you mean 'mu'\?"),
        ({"mu": np.ones((2, 2))}, {}, r"'mu' must be a number or a 1-D array; got shape \(2, 2\)"),
        ({"mu": "abc"}, {}, r"'mu' must be a number or a 1-D array; got 'abc'"),
        ({"mu": []}, {}, r"'mu' is an empty batch"),
        ({"mu": [1.0, 2.0], "soft": [1.0, 2.0, 3.0]}, {}, r"'soft' has batch length 3 but 'mu'"),
        ({}, {"n_frames": 1}, r"option 'n_frames' must be an int >= 2; got 1"),
        ({}, {"nx": 3.5}, r"option 'nx' must be an int"),
        ({}, {"box": 0.0}, r"option 'box' must be a finite number > 0; got 0.0"),
        ({}, {"max_strain": float("nan")}, r"option 'max_strain'"),
    ],
)
def test_shear_band_bad_input(params: dict, options: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        shear_band.simulate(params, **options)


def test_models_do_not_import_bayescal() -> None:
    code = (
        "import sys, models.toy; models.toy.shear_band.simulate(); "
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'bayescal'))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO
    )
    assert result.stdout.strip() == "[]"


# --- linear Gaussian -------------------------------------------------------------------------


def test_linear_simulate_shapes_and_values() -> None:
    a = linear_gaussian.design_matrix(6, 3, seed=4)
    out = linear_gaussian.simulate({"theta0": 1.0, "theta1": -2.0, "theta2": 0.5}, n_obs=6, seed=4)
    assert out["y"].dims == ("obs",)
    np.testing.assert_allclose(out["y"], a @ [1.0, -2.0, 0.5], rtol=1e-14)
    batch = linear_gaussian.simulate(
        {"theta0": [1.0, 0.0], "theta1": [-2.0, 3.0], "theta2": 0.5}, n_obs=6, seed=4
    )
    assert batch["y"].dims == ("sample", "obs")
    assert batch["status"].dims == ("sample",)
    np.testing.assert_allclose(batch["y"][0], out["y"], rtol=1e-14)
    np.testing.assert_allclose(batch["y"][1], a @ [0.0, 3.0, 0.5], rtol=1e-14)


def test_linear_simulate_noise_is_seeded() -> None:
    params = {"theta0": [0.0] * 2000, "theta1": 0.0}
    a = linear_gaussian.simulate(params, noise_sd=0.3, rng=7)
    b = linear_gaussian.simulate(params, noise_sd=0.3, rng=7)
    np.testing.assert_array_equal(a["y"], b["y"])
    # 20,000 draws: the sample sd is within 3 % of 0.3 (its standard error is 0.5 %)
    assert float(a["y"].std()) == pytest.approx(0.3, rel=0.03)


@pytest.mark.parametrize(
    ("params", "options", "match"),
    [
        ({"theta0": 1.0, "theta2": 1.0}, {}, r"unknown parameter 'theta2'"),
        ({"beta": 1.0}, {}, r"unknown parameter 'beta'"),
        ({}, {}, "params is empty"),
        ({"theta0": np.nan}, {}, r"'theta0' must be finite"),
        ({"theta0": 1.0}, {"n_obs": 0}, r"option 'n_obs' must be an int >= 1; got 0"),
        ({"theta0": 1.0}, {"noise_sd": -1.0}, r"noise_sd must be finite and >= 0"),
        ({"theta0": 1.0}, {"noise_sd": [1.0, 2.0]}, r"noise_sd must be a number or an array"),
    ],
)
def test_linear_bad_input(params: dict, options: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        linear_gaussian.simulate(params, **options)


@pytest.fixture
def linear_problem() -> dict:
    rng = np.random.default_rng(3)
    n_obs = 5
    a = linear_gaussian.design_matrix(n_obs, 2, seed=11)
    theta = np.array([0.7, -0.4])
    noise_sd = 0.8
    y = a @ theta + noise_sd * rng.standard_normal(n_obs)
    return {
        "a": a,
        "y": y,
        "noise_sd": noise_sd,
        "m0": np.array([0.5, -0.3]),
        "p0": np.array([[1.0, 0.3], [0.3, 0.5]]),
    }


def test_posterior_matches_brute_force_quadrature(linear_problem: dict) -> None:
    pb = linear_problem
    post = linear_gaussian.posterior(pb["y"], pb["noise_sd"], pb["m0"], pb["p0"], seed=11)
    # unnormalised log posterior on a 601 x 601 grid spanning +-7 prior sd (the posterior is
    # narrower); midpoint quadrature of a Gaussian on such a grid is accurate to ~1e-10
    sd0 = np.sqrt(np.diag(pb["p0"]))
    g0 = np.linspace(pb["m0"][0] - 7 * sd0[0], pb["m0"][0] + 7 * sd0[0], 601)
    g1 = np.linspace(pb["m0"][1] - 7 * sd0[1], pb["m0"][1] + 7 * sd0[1], 601)
    t0, t1 = np.meshgrid(g0, g1, indexing="ij")
    theta = np.stack([t0, t1], axis=-1)  # (601, 601, 2)
    r = theta - pb["m0"]
    log_prior = -0.5 * np.einsum("...i,ij,...j->...", r, np.linalg.inv(pb["p0"]), r)
    resid = pb["y"] - theta @ pb["a"].T
    log_lik = -0.5 * np.sum(resid**2, axis=-1) / pb["noise_sd"] ** 2
    logp = log_prior + log_lik
    w = np.exp(logp - logp.max())
    w /= w.sum()
    mean = np.einsum("ij,ijk->k", w, theta)
    d = theta - mean
    cov = np.einsum("ij,ijk,ijl->kl", w, d, d)
    np.testing.assert_allclose(post.mean, mean, rtol=0, atol=1e-8)
    np.testing.assert_allclose(post.cov, cov, rtol=0, atol=1e-8)


def test_posterior_matches_gaussian_conditioning(linear_problem: dict) -> None:
    pb = linear_problem
    a, p0, m0 = pb["a"], pb["p0"], pb["m0"]
    post = linear_gaussian.posterior(pb["y"], pb["noise_sd"], m0, p0, design=a)
    # joint Gaussian of (theta, y): condition on y (Kalman-gain form, a different formula)
    s = a @ p0 @ a.T + pb["noise_sd"] ** 2 * np.eye(len(pb["y"]))
    gain = scipy.linalg.solve(s, a @ p0, assume_a="pos").T
    np.testing.assert_allclose(post.mean, m0 + gain @ (pb["y"] - a @ m0), rtol=0, atol=1e-12)
    np.testing.assert_allclose(post.cov, p0 - gain @ a @ p0, rtol=0, atol=1e-12)


def test_posterior_batched_over_observations(linear_problem: dict) -> None:
    pb = linear_problem
    ys = pb["y"] + np.arange(3)[:, None] * 0.1  # (3, n_obs)
    post = linear_gaussian.posterior(ys, pb["noise_sd"], pb["m0"], pb["p0"], seed=11)
    assert post.mean.shape == (3, 2)
    for i in range(3):
        one = linear_gaussian.posterior(ys[i], pb["noise_sd"], pb["m0"], pb["p0"], seed=11)
        np.testing.assert_allclose(post.mean[i], one.mean, rtol=0, atol=1e-14)
        np.testing.assert_allclose(post.cov, one.cov, rtol=0, atol=1e-14)


def test_posterior_is_consistent_with_simulate() -> None:
    # noise-free data from simulate + tiny noise_sd: the posterior mean is the true theta
    theta = {"theta0": 0.3, "theta1": -1.2, "theta2": 2.0}
    y = linear_gaussian.simulate(theta, n_obs=8, seed=5)["y"].values
    post = linear_gaussian.posterior(y, 1e-6, np.zeros(3), np.eye(3), seed=5)
    np.testing.assert_allclose(post.mean, list(theta.values()), rtol=0, atol=1e-9)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"noise_sd": 0.0}, "noise_sd must be finite and > 0"),
        ({"prior_cov": np.eye(3)}, r"prior_cov must be symmetric of shape \(2, 2\)"),
        ({"prior_cov": [[1.0, 2.0], [2.0, 1.0]]}, "prior_cov must be positive definite"),
        ({"prior_mean": np.zeros((2, 1))}, "prior_mean must be a finite 1-D array"),
        ({"y_obs": np.array([np.nan, 1.0, 2.0])}, "y_obs must be a finite array"),
        ({"design": np.ones((2, 2))}, r"design must have shape \(3, 2\)"),
    ],
)
def test_posterior_bad_input(kwargs: dict, match: str) -> None:
    args = {
        "y_obs": np.zeros(3),
        "noise_sd": 1.0,
        "prior_mean": np.zeros(2),
        "prior_cov": np.eye(2),
    } | kwargs
    with pytest.raises(ValueError, match=match):
        linear_gaussian.posterior(**args)
