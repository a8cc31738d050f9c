"""Principal-component emulator of residual vectors (bayescal.emulate.components)."""

from __future__ import annotations

import numpy as np
import pytest

from bayescal.emulate import fit_components
from bayescal.emulate.components import loo_skill
from bayescal.errors import InputDataError

pytestmark = pytest.mark.usefixtures("pytensor_fast_compile")


def _residuals(x: np.ndarray, rng: np.random.Generator, noise: float = 0.0) -> np.ndarray:
    """200-entry residuals spanned by three orthogonal modes with uncorrelated weights."""
    t = np.linspace(0, 1, 200)
    raw = np.stack([np.sin(2 * np.pi * t), np.cos(3 * np.pi * t), t**2 - 0.3], axis=1)
    modes = 10 * np.linalg.qr(raw)[0].T  # (3, 200), orthogonal
    u, v = x[:, 0] - 0.5, x[:, 1] - 0.5  # uncorrelated, and so is their product
    coef = np.stack([u, v, 4 * u * v], axis=1)
    return coef @ modes + noise * rng.standard_normal((len(x), 200))


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    x = rng.random((30, 2))
    return x, _residuals(x, rng, noise=1e-4)


def test_three_directions_hold_the_variance(data):
    x, r = data
    em = fit_components(x, r, name="block", rng=0)
    assert em.n_components == 3
    assert em.explained >= 0.99 and em.tail_variance < 1e-3 * np.mean(
        np.sum((r - r.mean(0)) ** 2, 1)
    )
    np.testing.assert_allclose(em.basis.T @ em.basis, np.eye(3), atol=1e-12)
    # projecting and rebuilding a training residual loses only the noise
    rebuilt = em.center + em.project(r) @ em.basis.T
    assert np.abs(rebuilt - r).max() < 1e-3


def test_predicts_held_out_residuals(data):
    x, r = data
    em = fit_components(x, r, rng=0)
    rng = np.random.default_rng(1)
    x_new = rng.random((10, 2))
    truth = _residuals(x_new, rng)
    err = np.linalg.norm(em.predict_residual(x_new) - truth, axis=1)
    scale = np.linalg.norm(truth - truth.mean(0), axis=1).mean()
    assert err.mean() < 0.05 * scale
    mean, var = em.predict(x_new)
    assert mean.shape == var.shape == (10, 3) and np.all(var >= 0)


def test_more_variance_keeps_more_components(data):
    x, r = data
    coarse = fit_components(x, r, variance=0.6, rng=0)
    fine = fit_components(x, r, variance=1.0, max_components=5, min_skill=None, rng=0)
    assert coarse.n_components < 3 < fine.n_components <= 5


def test_components_without_predictive_skill_are_dropped(data):
    """Noise in extra directions (a chaotic simulator's share) gets no GP: the smooth
    components are kept and the noise counts in the tail variance."""
    x, r = data
    gen = np.random.default_rng(3)
    noise = gen.standard_normal((x.shape[0], 40)) * 0.3 * r.std()
    noisy = np.hstack([r, noise])
    em = fit_components(x, noisy, variance=0.999, rng=0)
    every = fit_components(x, noisy, variance=0.999, min_skill=None, rng=0)
    assert em.n_components < every.n_components
    assert all(loo_skill(gp) >= 0.5 for gp in em.gps)
    assert em.tail_variance > every.tail_variance
    # the kept directions lie in the smooth residuals' columns, not in the noise
    assert np.linalg.norm(em.basis[r.shape[1] :, 0]) < 0.3


def test_weakly_predictable_block_keeps_its_best_component(data, caplog):
    """No component reaches R^2 0.5: the most predictable one stays (a warning), and pure
    noise, with no skill at all, is refused."""
    x, r = data
    gen = np.random.default_rng(5)
    weak = r[:, :1] + gen.standard_normal((x.shape[0], 1)) * 1.2 * r[:, :1].std()
    with caplog.at_level("WARNING", logger="bayescal.emulate.components"):
        em = fit_components(x, weak, rng=0, min_skill=0.99)
    assert em.n_components == 1 and "no component reaches" in caplog.text
    assert 0.0 < loo_skill(em.gps[0]) < 0.99
    noise = gen.standard_normal((x.shape[0], 3))
    with pytest.raises(InputDataError, match="is predictable"):
        fit_components(x, noise, rng=0)


def test_pytensor_expressions_equal_numpy(data):
    import pytensor
    import pytensor.tensor as pt

    x, r = data
    em = fit_components(x, r, rng=0)
    xs = pt.vector("x")
    f = pytensor.function([xs], list(em.pytensor_mean_var(xs)))
    point = np.array([0.3, 0.7])
    mean, var = f(point)
    np_mean, np_var = em.predict(point)
    np.testing.assert_allclose(mean, np_mean, rtol=1e-10, atol=1e-12)
    # the variance is outputscale - |L^-1 k|^2, a difference of close numbers: summation order
    # alone moves it by ~1e-7 relative
    np.testing.assert_allclose(var, np_var, rtol=1e-6, atol=1e-10)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"variance": 0.0}, "variance must be in"),
        ({"variance": 1.5}, "variance must be in"),
    ],
)
def test_bad_options(data, kwargs, match):
    x, r = data
    with pytest.raises(InputDataError, match=match):
        fit_components(x, r, **kwargs)


def test_bad_inputs(data):
    x, r = data
    with pytest.raises(InputDataError, match=r"\(n, d\)"):
        fit_components(x, r[:-1])
    bad = r.copy()
    bad[3, 5] = np.nan
    with pytest.raises(InputDataError, match="finite"):
        fit_components(x, bad)
    with pytest.raises(InputDataError, match="do not vary"):
        fit_components(x, np.ones_like(r), name="flat")
    with pytest.raises(InputDataError, match="has 200 entries"):
        fit_components(x, r, rng=0).project(np.zeros(5))
