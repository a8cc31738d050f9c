"""GP surrogate of EGO: BoTorch ``SingleTaskGP`` with a Matérn-5/2 ARD kernel, float64.

The fit itself is :func:`bayescal.emulate.gp_fit.fit_matern52_gp`, shared with the posterior's
emulator; the surrogate is that GP with :data:`~bayescal.emulate.gp_fit.SURROGATE_PRIORS` and
inputs normalised to the search box.
"""

from __future__ import annotations

import numpy as np
import torch
from botorch.models import SingleTaskGP
from gpytorch.kernels import ScaleKernel
from gpytorch.likelihoods import GaussianLikelihood

from bayescal.emulate.gp_fit import SURROGATE_PRIORS, fit_matern52_gp, single_thread

__all__ = ["DTYPE", "fit_gp", "gaussian_likelihood", "matern52_kernel", "single_thread"]

#: Floating-point type of the surrogate's tensors.
DTYPE = torch.float64


def matern52_kernel(dim: int, batch_shape: torch.Size = torch.Size()) -> ScaleKernel:  # noqa: B008
    """Return the surrogate's ``ScaleKernel(MaternKernel(nu=2.5, ard_num_dims=dim))``.

    Priors (on inputs scaled to the unit cube and standardised outputs) are those of
    :data:`~bayescal.emulate.gp_fit.SURROGATE_PRIORS`: lengthscale ``Gamma(3, 6)`` and
    outputscale ``Gamma(2, 0.15)``.

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
    return SURROGATE_PRIORS.kernel(dim, batch_shape)


def gaussian_likelihood(batch_shape: torch.Size = torch.Size()) -> GaussianLikelihood:  # noqa: B008
    """Return the surrogate's Gaussian likelihood for (nearly) deterministic simulators.

    Noise prior ``Gamma(1.1, 0.05)`` with a lower bound of ``1e-6`` on the standardised noise
    variance, starting at ``1e-4`` (:data:`~bayescal.emulate.gp_fit.SURROGATE_PRIORS`).

    Parameters
    ----------
    batch_shape : torch.Size
        One noise per output of a multi-output model (``torch.Size([m])``).

    Returns
    -------
    gpytorch.likelihoods.GaussianLikelihood
    """
    return SURROGATE_PRIORS.likelihood(batch_shape)


def fit_gp(
    x: np.ndarray,
    z: np.ndarray,
    *,
    input_bounds: np.ndarray,
    seed: int,
) -> SingleTaskGP:
    """Fit EGO's surrogate by maximising the marginal likelihood (MAP with the priors).

    :func:`~bayescal.emulate.gp_fit.fit_matern52_gp` with
    :data:`~bayescal.emulate.gp_fit.SURROGATE_PRIORS` and a ``Normalize`` input transform to
    ``input_bounds``.

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
        Seed of BoTorch's internal random restarts.

    Returns
    -------
    SingleTaskGP
        The fitted model in eval mode.

    Raises
    ------
    Exception
        The last fitting or Cholesky error if every jitter in ``1e-8, 1e-6, 1e-4`` failed.
    """
    return fit_matern52_gp(
        x, z, priors=SURROGATE_PRIORS, input_bounds=input_bounds, seed=seed, label="GP"
    )
