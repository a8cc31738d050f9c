"""GP emulator: BoTorch agreement, PyTensor agreement and gradients, LOO, serialisation."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import xarray as xr

from bayescal.emulate import GPEmulator, fit_emulator, loo_error
from bayescal.errors import InputDataError

D = 4
pytestmark = pytest.mark.usefixtures("pytensor_fast_compile")


def branin_like(x: np.ndarray) -> np.ndarray:
    """Positive, anisotropic, minimum 0.05 at (0.3, 0.6, 0.5, 0.2)."""
    c = np.array([0.3, 0.6, 0.5, 0.2])
    w = np.array([4.0, 1.0, 9.0, 0.5])
    return 0.05 + np.sum(w * (x - c) ** 2, axis=-1) + 0.1 * np.sin(6 * x[..., 0]) ** 2


@pytest.fixture(scope="module")
def data() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    x = rng.random((40, D))
    return x, branin_like(x)


@pytest.fixture(scope="module")
def emulator(data) -> GPEmulator:
    return fit_emulator(*data, transform="log", rng=0)


def _botorch_fit(x: np.ndarray, z: np.ndarray, seed: int):
    """The documented recipe, written out with BoTorch's public API."""
    from botorch.fit import fit_gpytorch_mll
    from botorch.models import SingleTaskGP
    from botorch.models.transforms.outcome import Standardize
    from botorch.utils.sampling import manual_seed
    from gpytorch.kernels import MaternKernel, ScaleKernel
    from gpytorch.mlls import ExactMarginalLogLikelihood

    model = SingleTaskGP(
        torch.as_tensor(x),
        torch.as_tensor(z).unsqueeze(-1),
        covar_module=ScaleKernel(MaternKernel(nu=2.5, ard_num_dims=x.shape[1])),
        outcome_transform=Standardize(m=1),
    )
    with manual_seed(seed):
        fit_gpytorch_mll(ExactMarginalLogLikelihood(model.likelihood, model))
    return model.eval()


def test_numpy_and_pytensor_equal_botorch_posterior(data, emulator):
    import pytensor
    import pytensor.tensor as pt

    x, d = data
    seed = int(np.random.default_rng(0).integers(2**31 - 1))  # what fit_emulator derives
    model = _botorch_fit(x, np.log(d), seed)
    xt = np.random.default_rng(1).random((25, D))
    with torch.no_grad():
        post = model.posterior(torch.as_tensor(xt))
        mean_t = post.mean.numpy().ravel()
        var_t = post.variance.numpy().ravel()
    xs = pt.matrix("x", dtype="float64")
    mean_p, var_p = pytensor.function([xs], list(emulator.pytensor_mean_var(xs)))(xt)
    # float64 Cholesky algebra, same hyperparameters: agreement to 1e-8 (brief).
    for mean, var in (emulator.predict(xt), (mean_p, var_p)):
        np.testing.assert_allclose(mean, mean_t, rtol=0, atol=1e-8)
        np.testing.assert_allclose(var, var_t, rtol=0, atol=1e-8)


def test_pytensor_mean_var_equal_numpy(emulator):
    import pytensor
    import pytensor.tensor as pt

    xs = pt.matrix("x", dtype="float64")
    f = pytensor.function([xs], list(emulator.pytensor_mean_var(xs)))
    xt = np.random.default_rng(2).random((30, D))
    mean_p, var_p = f(xt)
    mean, var = emulator.predict(xt)
    np.testing.assert_allclose(mean_p, mean, rtol=0, atol=1e-10)
    np.testing.assert_allclose(var_p, var, rtol=0, atol=1e-10)


def test_pytensor_gradient_matches_finite_differences(emulator):
    import pytensor
    import pytensor.tensor as pt

    xv = pt.vector("x", dtype="float64")
    mean, var = emulator.pytensor_mean_var(xv)
    grad = pytensor.function([xv], [pt.grad(mean, xv), pt.grad(var, xv)])
    rng = np.random.default_rng(3)
    h = 1e-6
    # include a training point: the kernel is differentiable there (r = 0)
    for x0 in [*rng.random((4, D)), emulator.x[5]]:
        g_mean, g_var = grad(x0)
        steps = h * np.eye(D)
        fd_mean = (emulator.predict(x0 + steps)[0] - emulator.predict(x0 - steps)[0]) / (2 * h)
        fd_var = (emulator.predict(x0 + steps)[1] - emulator.predict(x0 - steps)[1]) / (2 * h)
        # central differences: truncation O(h^2) and round-off O(eps / h) ~ 1e-9
        np.testing.assert_allclose(g_mean, fd_mean, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(g_var, fd_var, rtol=1e-5, atol=1e-6)


def test_loo_closed_form_equals_refits(emulator):
    loo = loo_error(emulator)
    fields = ("lengthscale", "outputscale", "noise", "mean_constant", "y_mean", "y_std")
    hyper = {f: getattr(emulator, f) for f in fields}
    for i in range(emulator.n_train):
        keep = np.arange(emulator.n_train) != i
        em_i = GPEmulator(x=emulator.x[keep], y=emulator.y[keep], transform="log", **hyper)
        mean, var = em_i.predict(emulator.x[i])
        var = var + emulator.noise * emulator.y_std**2  # a noisy training value is predicted
        np.testing.assert_allclose(loo.mean[i], mean, rtol=0, atol=1e-8)
        np.testing.assert_allclose(loo.var[i], var, rtol=1e-8, atol=1e-12)
    assert loo.rmse == pytest.approx(np.sqrt(np.mean((emulator.y - loo.mean) ** 2)))


def test_loo_is_informative(emulator):
    loo = loo_error(emulator)
    # log d spans ~3 units on this design; a useful emulator errs by a small fraction of that
    assert loo.rmse < 0.1 * np.ptp(emulator.y)
    # z-scores of a calibrated GP: most within +-1.96 (lenient: n = 40, smooth function)
    assert loo.coverage_95 > 0.8


def test_serialisation_round_trip(tmp_path, emulator):
    path = tmp_path / "emu.nc"
    emulator.to_dataset("emulator_0_").to_netcdf(path, engine="h5netcdf")
    back = GPEmulator.from_dataset(xr.open_dataset(path, engine="h5netcdf"), "emulator_0_")
    xt = np.random.default_rng(4).random((10, D))
    np.testing.assert_array_equal(back.alpha, emulator.alpha)
    for a, b in zip(back.predict(xt), emulator.predict(xt), strict=True):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-14)


def test_fit_is_deterministic(data, emulator):
    again = fit_emulator(*data, transform="log", rng=0)
    np.testing.assert_array_equal(again.lengthscale, emulator.lengthscale)


def test_batch_shapes(emulator):
    mean, var = emulator.predict(np.full((2, 3, D), 0.5))
    assert mean.shape == var.shape == (2, 3)
    mean0, _ = emulator.predict(np.full(D, 0.5))
    assert mean0.shape == ()


@pytest.mark.parametrize(
    ("x", "y", "kw", "match"),
    [
        (np.zeros((5, 2)), np.ones(4), {}, "shape"),
        (np.zeros((2, 2)), np.ones(2), {}, "at least 3"),
        (np.random.default_rng(0).random((5, 2)), np.array([1, 2, 0, 1, 1.0]), {}, "positive"),
        (np.random.default_rng(0).random((5, 2)), np.array([1, np.nan, 1, 1, 1]), {}, "finite"),
        (np.random.default_rng(0).random((5, 2)), np.ones(5), {"transform": "sqrt"}, "transform"),
    ],
)
def test_bad_input(x, y, kw, match):
    with pytest.raises(InputDataError, match=match):
        fit_emulator(x, y, **kw)


def test_cap_clips_values_far_above_the_minimum(data):
    x, d = data
    z = np.log(d)
    capped = fit_emulator(x, d, transform="log", cap=0.5, rng=0)
    np.testing.assert_allclose(capped.y, np.minimum(z, z.min() + 0.5))
    assert capped.y.min() == z.min() and np.any(z > z.min() + 0.5)
    # a cap above every value changes nothing
    same = fit_emulator(x, d, transform="log", cap=10.0, rng=0)
    np.testing.assert_array_equal(same.y, z)
    with pytest.raises(InputDataError, match="cap must be > 0"):
        fit_emulator(x, d, cap=0.0)
