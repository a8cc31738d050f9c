"""The shared GP fit: the emulator's and EGO's models, jitter retries, threads, outputs."""

from __future__ import annotations

import gpytorch
import numpy as np
import pytest
import torch

from bayescal.emulate import fit_emulator
from bayescal.emulate.gp_fit import (
    EMULATOR_PRIORS,
    JITTERS,
    SURROGATE_PRIORS,
    fit_matern52_gp,
    single_thread,
)
from bayescal.errors import InputDataError
from bayescal.optimize import fit_gp
from bayescal.optimize.surrogate import gaussian_likelihood, matern52_kernel


@pytest.fixture(scope="module")
def data() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    x = rng.random((20, 3))
    y = np.sin(3 * x[:, 0]) + x[:, 1] ** 2 - 0.5 * x[:, 2] + 0.01 * rng.standard_normal(20)
    return x, y


def _hyper(model) -> dict[str, np.ndarray]:
    return {
        "lengthscale": model.covar_module.base_kernel.lengthscale.detach().numpy(),
        "outputscale": model.covar_module.outputscale.detach().numpy(),
        "noise": model.likelihood.noise.detach().numpy(),
        "mean": model.mean_module.constant.detach().numpy(),
    }


def _assert_same(a: dict[str, np.ndarray], b: dict[str, np.ndarray]) -> None:
    for key in a:
        np.testing.assert_array_equal(a[key], b[key], err_msg=key)


def test_emulator_likelihood_is_botorchs_default():
    from botorch.models.utils.gpytorch_modules import (
        get_gaussian_likelihood_with_lognormal_prior,
    )

    ours, theirs = EMULATOR_PRIORS.likelihood(), get_gaussian_likelihood_with_lognormal_prior()
    p, q = ours.noise_covar.noise_prior, theirs.noise_covar.noise_prior
    assert type(p) is type(q)
    assert torch.equal(p.loc, q.loc) and torch.equal(p.scale, q.scale)
    c, k = ours.noise_covar.raw_noise_constraint, theirs.noise_covar.raw_noise_constraint
    assert float(c.lower_bound) == float(k.lower_bound)
    assert not c.enforced and not k.enforced  # no transform: L-BFGS-B keeps the bound
    assert torch.equal(ours.noise_covar.raw_noise, theirs.noise_covar.raw_noise)


def test_emulator_priors_are_botorchs_default_model(data):
    """EMULATOR_PRIORS without input transform is the SingleTaskGP BoTorch builds by default."""
    from botorch.fit import fit_gpytorch_mll
    from botorch.models import SingleTaskGP
    from botorch.models.transforms.outcome import Standardize
    from botorch.utils.sampling import manual_seed
    from gpytorch.kernels import MaternKernel, ScaleKernel
    from gpytorch.mlls import ExactMarginalLogLikelihood

    x, y = data
    plain = SingleTaskGP(
        torch.as_tensor(x),
        torch.as_tensor(y).unsqueeze(-1),
        covar_module=ScaleKernel(MaternKernel(nu=2.5, ard_num_dims=x.shape[1])),
        outcome_transform=Standardize(m=1),
    )
    with single_thread(), manual_seed(5):
        fit_gpytorch_mll(ExactMarginalLogLikelihood(plain.likelihood, plain))
    shared = fit_matern52_gp(x, y, priors=EMULATOR_PRIORS, input_bounds=None, seed=5)
    _assert_same(_hyper(shared), _hyper(plain))


def test_fit_emulator_freezes_the_shared_fit(data):
    x, y = data
    em = fit_emulator(x, y, transform="none", rng=3)
    seed = int(np.random.default_rng(3).integers(2**31 - 1))  # fit_emulator's seed from rng
    model = fit_matern52_gp(x, y, priors=EMULATOR_PRIORS, input_bounds=None, seed=seed)
    hyper = _hyper(model)
    np.testing.assert_array_equal(em.lengthscale, hyper["lengthscale"].ravel())
    assert em.outputscale == float(hyper["outputscale"])
    assert em.noise == float(hyper["noise"].ravel()[0])
    assert em.mean_constant == float(hyper["mean"])


def test_fit_gp_is_the_shared_fit_with_surrogate_priors(data):
    x, y = data
    bounds = np.array([np.zeros(3), np.ones(3)])
    model = fit_gp(x, y, input_bounds=bounds, seed=2)
    shared = fit_matern52_gp(x, y, priors=SURROGATE_PRIORS, input_bounds=bounds, seed=2)
    _assert_same(_hyper(model), _hyper(shared))
    bound = model.likelihood.noise_covar.raw_noise_constraint.lower_bound
    assert float(bound) == pytest.approx(1e-6)


def test_fit_gp_with_several_outputs(data):
    x, y = data
    z = np.stack([y, np.cos(2 * x[:, 1]) + x[:, 0]], axis=1)
    bounds = np.array([np.zeros(3), np.ones(3)])
    model = fit_gp(x, z, input_bounds=bounds, seed=1)
    lengthscale = model.covar_module.base_kernel.lengthscale.detach().numpy()
    assert lengthscale.shape == (2, 1, 3)
    assert not np.array_equal(lengthscale[0], lengthscale[1])  # hyperparameters per output
    with torch.no_grad():
        post = model.posterior(torch.as_tensor(x[:4]))
    assert post.mean.shape == (4, 2)
    np.testing.assert_allclose(post.mean.numpy(), z[:4], atol=0.05)
    single = fit_gp(x, z[:, 1], input_bounds=bounds, seed=1)
    with torch.no_grad():
        mean1 = single.posterior(torch.as_tensor(x[:4])).mean.numpy()[:, 0]
    np.testing.assert_allclose(post.mean.numpy()[:, 1], mean1, atol=1e-3)


def test_surrogate_builders_carry_the_surrogate_priors():
    kernel = matern52_kernel(3, torch.Size([2]))
    assert kernel.base_kernel.lengthscale.shape == (2, 1, 3)
    prior = kernel.base_kernel.lengthscale_prior
    assert (float(prior.concentration), float(prior.rate)) == pytest.approx(
        (3.0, 6.0)
    )  # float32 priors
    prior = kernel.outputscale_prior
    assert (float(prior.concentration), float(prior.rate)) == pytest.approx(
        (2.0, 0.15)
    )  # float32 priors
    likelihood = gaussian_likelihood()
    prior = likelihood.noise_covar.noise_prior
    assert (float(prior.concentration), float(prior.rate)) == pytest.approx(
        (1.1, 0.05)
    )  # float32 priors
    assert float(likelihood.noise.detach()) == pytest.approx(1e-4)
    kernel = EMULATOR_PRIORS.kernel(3)
    assert not hasattr(kernel.base_kernel, "lengthscale_prior")
    assert not hasattr(kernel, "outputscale_prior")


def test_jitters_are_tried_in_turn_and_the_last_error_raised(data, monkeypatch):
    import botorch.fit

    x, y = data
    real = botorch.fit.fit_gpytorch_mll
    seen: list[float] = []

    def failing_twice(mll, **kwargs):
        seen.append(gpytorch.settings.cholesky_jitter.value(torch.float64))
        if len(seen) < 3:
            raise RuntimeError(f"attempt {len(seen)}")
        return real(mll, **kwargs)

    monkeypatch.setattr(botorch.fit, "fit_gpytorch_mll", failing_twice)
    fit_matern52_gp(x, y, priors=EMULATOR_PRIORS, input_bounds=None, seed=0)
    assert seen == list(JITTERS)

    attempts = iter(range(1, 10))

    def always_failing(mll, **kwargs):
        raise RuntimeError(f"attempt {next(attempts)}")

    monkeypatch.setattr(botorch.fit, "fit_gpytorch_mll", always_failing)
    with pytest.raises(RuntimeError, match="attempt 3"):
        fit_matern52_gp(x, y, priors=EMULATOR_PRIORS, input_bounds=None, seed=0)


def test_fit_runs_on_one_thread_and_restores_the_count(data, monkeypatch):
    import botorch.fit

    x, y = data
    real = botorch.fit.fit_gpytorch_mll
    threads: list[int] = []

    def recording(mll, **kwargs):
        threads.append(torch.get_num_threads())
        return real(mll, **kwargs)

    monkeypatch.setattr(botorch.fit, "fit_gpytorch_mll", recording)
    previous = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        fit_matern52_gp(x, y, priors=SURROGATE_PRIORS, input_bounds=None, seed=0)
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(previous)
    assert threads == [1]


def test_mismatched_rows_are_an_input_error(data):
    x, y = data
    with pytest.raises(InputDataError, match="shape"):
        fit_matern52_gp(x, y[:-1], priors=EMULATOR_PRIORS, input_bounds=None, seed=0)
