"""GP surrogate of EGO: BoTorch ``SingleTaskGP`` with a Matérn-5/2 ARD kernel, float64."""

from __future__ import annotations

import logging
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import cast

import gpytorch
import numpy as np
import torch
from botorch.exceptions.warnings import OptimizationWarning
from botorch.fit import fit_gpytorch_mll
from botorch.models import SingleTaskGP
from botorch.models.transforms.input import Normalize
from botorch.models.transforms.outcome import Standardize
from botorch.utils.sampling import manual_seed
from gpytorch.constraints import GreaterThan
from gpytorch.kernels import MaternKernel, ScaleKernel
from gpytorch.likelihoods import GaussianLikelihood
from gpytorch.mlls import ExactMarginalLogLikelihood
from gpytorch.priors import GammaPrior
from linear_operator.utils.warnings import NumericalWarning

__all__ = ["fit_gp", "gaussian_likelihood", "matern52_kernel", "single_thread"]

logger = logging.getLogger(__name__)

DTYPE = torch.float64

#: Cholesky jitters tried in turn (the first is GPyTorch's float64 default).
_JITTERS = (1e-8, 1e-6, 1e-4)
#: Lower bound of the noise variance (standardised outputs).
_MIN_NOISE = 1e-6


@contextmanager
def single_thread() -> Iterator[None]:
    """Run torch on one intra-op thread inside the block, restoring the previous count after.

    EGO's matrices have at most a few hundred rows, where extra threads give no speed-up; on a
    shared 2-core machine they spin at OpenMP barriers (measured: one GP fit on 25 points took
    7.0 s CPU with 2 threads, 0.35-0.6 s with 1). One thread also makes the floating-point
    reductions, hence proposals, independent of the machine's core count, so a run resumed
    elsewhere continues bit for bit.
    """
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def matern52_kernel(dim: int, batch_shape: torch.Size = torch.Size()) -> ScaleKernel:  # noqa: B008
    """Return ``ScaleKernel(MaternKernel(nu=2.5, ard_num_dims=dim))`` with Gamma priors.

    Priors (on inputs scaled to the unit cube and standardised outputs) are BoTorch's long-time
    defaults for this kernel (Balandat et al., NeurIPS 2020): lengthscale ``Gamma(3, 6)`` (mode
    1/3, mean 1/2: smooth over a third of the box) and outputscale ``Gamma(2, 0.15)``.

    Parameters
    ----------
    dim : int
        Input dimension (one lengthscale per dimension).
    batch_shape : torch.Size
        One kernel per output of a multi-output model (``torch.Size([m])``).

    Returns
    -------
    gpytorch.kernels.ScaleKernel
        The covariance module.
    """
    base = MaternKernel(
        nu=2.5,
        ard_num_dims=dim,
        batch_shape=batch_shape,
        lengthscale_prior=GammaPrior(3.0, 6.0),
    )
    return ScaleKernel(base, batch_shape=batch_shape, outputscale_prior=GammaPrior(2.0, 0.15))


def gaussian_likelihood(batch_shape: torch.Size = torch.Size()) -> GaussianLikelihood:  # noqa: B008
    """Return a Gaussian likelihood for (nearly) deterministic simulators.

    Noise prior ``Gamma(1.1, 0.05)`` (BoTorch's long-time default, Balandat et al. 2020) with a
    lower bound of ``1e-6`` on the standardised noise variance. BoTorch's current default bound,
    ``1e-4``, corresponds to a noise standard deviation of 1 % of the spread of ``y``, which on
    Branin (spread ~50) is a hundred times the 1 % target near the minimum; with ``1e-6`` EGO
    reached Branin's 1 % target in 13-36 evaluations over 4 seeds instead of 28-41.
    """
    return GaussianLikelihood(
        batch_shape=batch_shape,
        noise_prior=GammaPrior(1.1, 0.05),
        noise_constraint=GreaterThan(_MIN_NOISE, transform=None, initial_value=1e-4),
    )


def fit_gp(
    x: np.ndarray,
    z: np.ndarray,
    *,
    input_bounds: np.ndarray,
    seed: int,
) -> SingleTaskGP:
    """Fit a ``SingleTaskGP`` by maximising the marginal likelihood (MAP with the priors).

    Parameters
    ----------
    x : ndarray, shape (n, d)
        Training inputs in the unit cube.
    z : ndarray, shape (n,) or (n, m)
        Training outputs (already transformed; EGO passes minus the objective). With ``m``
        columns the model has ``m`` independent outputs, each with its own hyperparameters.
    input_bounds : ndarray, shape (2, d)
        Bounds of the ``Normalize`` input transform (the unit cube, or the local box).
    seed : int
        Seed of BoTorch's internal random restarts (``fit_gpytorch_mll`` resamples the
        hyperparameters from their priors after a failed attempt, from the global torch RNG;
        ``manual_seed`` restores that RNG afterwards).

    Returns
    -------
    SingleTaskGP
        The fitted model in eval mode.

    Raises
    ------
    Exception
        The last fitting or Cholesky error if every jitter in ``1e-8, 1e-6, 1e-4`` failed.
    """
    train_x = torch.as_tensor(x, dtype=DTYPE)
    train_y = torch.as_tensor(z, dtype=DTYPE)
    train_y = train_y.unsqueeze(-1) if train_y.ndim == 1 else train_y
    m = train_y.shape[-1]
    batch = torch.Size([m]) if m > 1 else torch.Size()
    bounds = torch.as_tensor(input_bounds, dtype=DTYPE)
    dim = train_x.shape[-1]
    error: Exception | None = None
    for jitter in _JITTERS:
        model = SingleTaskGP(
            train_x,
            train_y,
            likelihood=gaussian_likelihood(batch),
            covar_module=matern52_kernel(dim, batch),
            input_transform=Normalize(d=dim, bounds=bounds),
            outcome_transform=Standardize(m=m),
        )
        mll = ExactMarginalLogLikelihood(model.likelihood, model)
        try:
            with (
                manual_seed(seed),
                gpytorch.settings.cholesky_jitter(float_value=jitter, double_value=jitter),
                warnings.catch_warnings(),
            ):
                # Failed L-BFGS attempts are retried by BoTorch itself; its warnings about them
                # are expected noise here.
                warnings.simplefilter("ignore", OptimizationWarning)
                # "A not p.d., added jitter": the jitter is the remedy, nothing to report.
                warnings.simplefilter("ignore", NumericalWarning)
                fit_gpytorch_mll(mll)
                # Force the Cholesky factor now so that a non-PD kernel fails here.
                model.posterior(train_x[:1]).variance  # noqa: B018
        except Exception as exc:  # BoTorch/GPyTorch/linalg raise several unrelated types
            logger.debug("GP fit failed with jitter %g: %r", jitter, exc)
            error = exc
            continue
        model.eval()
        logger.debug(
            "GP fit on %d points: lengthscales %s",
            len(x),
            np.array2string(
                model.covar_module.base_kernel.lengthscale.detach().numpy().ravel(), precision=3
            ),
        )
        return model
    raise cast(Exception, error)  # the loop ran at least once: set by the last except
