"""Fitting a Matérn-5/2 ARD GP with BoTorch: the one code path of EGO's surrogate and the emulator.

Both the surrogate of :mod:`bayescal.optimize` and the emulator of :func:`bayescal.emulate.
fit_emulator` are a BoTorch ``SingleTaskGP`` in float64 with a constant mean, a
``ScaleKernel(MaternKernel(nu=2.5, ard_num_dims=d))`` covariance, a Gaussian likelihood and a
``Standardize`` outcome transform, fitted by :func:`fit_matern52_gp` (MAP of the marginal
likelihood). What differs between them is stated in a :class:`GPPriors`: the priors of the
kernel and of the noise, and the noise's lower bound; the input transform differs through
``input_bounds``. :data:`SURROGATE_PRIORS` and :data:`EMULATOR_PRIORS` are the two models in use.

Torch, GPyTorch and BoTorch are imported on first use, so importing this module stays cheap.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, cast

import numpy as np

from bayescal.errors import InputDataError

if TYPE_CHECKING:
    import torch
    from botorch.models import SingleTaskGP
    from gpytorch.kernels import ScaleKernel
    from gpytorch.likelihoods import GaussianLikelihood
    from gpytorch.priors import Prior

__all__ = [
    "EMULATOR_PRIORS",
    "JITTERS",
    "SURROGATE_PRIORS",
    "GPPriors",
    "Gamma",
    "LogNormal",
    "PriorSpec",
    "fit_matern52_gp",
    "single_thread",
]

logger = logging.getLogger(__name__)

#: Cholesky jitters tried in turn (the first is GPyTorch's float64 default).
JITTERS = (1e-8, 1e-6, 1e-4)


@dataclass(frozen=True, slots=True)
class Gamma:
    """Gamma prior ``Gamma(concentration, rate)`` (mean ``concentration / rate``).

    Attributes
    ----------
    concentration : float
        Shape parameter.
    rate : float
        Inverse scale parameter.
    """

    concentration: float
    rate: float

    def build(self) -> Prior:
        """Return a new ``gpytorch.priors.GammaPrior`` with these parameters."""
        from gpytorch.priors import GammaPrior

        return GammaPrior(self.concentration, self.rate)


@dataclass(frozen=True, slots=True)
class LogNormal:
    """Log-normal prior: ``log`` of the variable is ``Normal(loc, scale)``.

    Attributes
    ----------
    loc : float
        Mean of the logarithm.
    scale : float
        Standard deviation of the logarithm.
    """

    loc: float
    scale: float

    def build(self) -> Prior:
        """Return a new ``gpytorch.priors.LogNormalPrior`` with these parameters."""
        from gpytorch.priors import LogNormalPrior

        return LogNormalPrior(loc=self.loc, scale=self.scale)


#: A prior of a GP hyperparameter, built afresh for every model (GPyTorch priors are modules
#: that a model moves to its dtype, so one instance must not be shared between models).
PriorSpec = Gamma | LogNormal


@dataclass(frozen=True, slots=True, kw_only=True)
class GPPriors:
    """Priors and noise bound of a Matérn-5/2 ARD GP on unit-cube inputs, standardised outputs.

    Attributes
    ----------
    lengthscale : Gamma, LogNormal or None
        Prior of every ARD lengthscale; None: none (maximum likelihood).
    outputscale : Gamma, LogNormal or None
        Prior of the kernel variance; None: none (maximum likelihood).
    noise : Gamma or LogNormal
        Prior of the Gaussian noise variance.
    noise_min : float
        Lower bound of the noise variance (a ``GreaterThan`` constraint without transform).
    noise_init : float or None
        Initial noise variance of the optimisation; None: the mode of the ``noise`` prior.
    """

    lengthscale: PriorSpec | None
    outputscale: PriorSpec | None
    noise: PriorSpec
    noise_min: float
    noise_init: float | None = None

    def kernel(self, dim: int, batch_shape: torch.Size | None = None) -> ScaleKernel:
        """Return ``ScaleKernel(MaternKernel(nu=2.5, ard_num_dims=dim))`` with these priors.

        Parameters
        ----------
        dim : int
            Input dimension (one lengthscale per dimension).
        batch_shape : torch.Size or None
            One kernel per output of a multi-output model (``torch.Size([m])``); None: one.

        Returns
        -------
        gpytorch.kernels.ScaleKernel
            The covariance module.
        """
        import torch
        from gpytorch.kernels import MaternKernel, ScaleKernel

        batch = torch.Size() if batch_shape is None else batch_shape
        base = MaternKernel(
            nu=2.5,
            ard_num_dims=dim,
            batch_shape=batch,
            lengthscale_prior=None if self.lengthscale is None else self.lengthscale.build(),
        )
        outputscale_prior = None if self.outputscale is None else self.outputscale.build()
        return ScaleKernel(base, batch_shape=batch, outputscale_prior=outputscale_prior)

    def likelihood(self, batch_shape: torch.Size | None = None) -> GaussianLikelihood:
        """Return a Gaussian likelihood with this noise prior, bound and initial value.

        Parameters
        ----------
        batch_shape : torch.Size or None
            One noise per output of a multi-output model (``torch.Size([m])``); None: one.

        Returns
        -------
        gpytorch.likelihoods.GaussianLikelihood
        """
        import torch
        from gpytorch.constraints import GreaterThan
        from gpytorch.likelihoods import GaussianLikelihood

        prior = self.noise.build()
        init = prior.mode if self.noise_init is None else self.noise_init
        return GaussianLikelihood(
            batch_shape=torch.Size() if batch_shape is None else batch_shape,
            noise_prior=prior,
            noise_constraint=GreaterThan(self.noise_min, transform=None, initial_value=init),
        )


SURROGATE_PRIORS = GPPriors(
    lengthscale=Gamma(3.0, 6.0),
    outputscale=Gamma(2.0, 0.15),
    noise=Gamma(1.1, 0.05),
    noise_min=1e-6,
    noise_init=1e-4,
)
"""EGO's surrogate: BoTorch's long-time default priors with a low noise bound.

Lengthscale ``Gamma(3, 6)`` (mode 1/3, mean 1/2: smooth over a third of the box), outputscale
``Gamma(2, 0.15)`` and noise ``Gamma(1.1, 0.05)`` (Balandat et al., NeurIPS 2020), fitted on
inputs normalised to the search box. The noise variance is bounded below by ``1e-6``
(standardised) and starts at ``1e-4``: simulators are (nearly) deterministic, and a bound of
``1e-4`` (a noise standard deviation of 1 % of the spread of ``y``) would blur the minimum of a
wide-ranging objective (``benchmarks/ego_hartmann.py`` and the Branin tests measure it).
"""

EMULATOR_PRIORS = GPPriors(
    lengthscale=None,
    outputscale=None,
    noise=LogNormal(-4.0, 1.0),
    noise_min=1e-4,
    noise_init=None,
)
"""The posterior's emulator: maximum likelihood for the kernel, BoTorch's default noise model.

No prior on the lengthscales and outputscale; the likelihood is the one ``SingleTaskGP`` builds
when given none (BoTorch 0.18, Hvarfner et al. 2024): noise prior ``LogNormal(-4, 1)``,
starting at its mode ``exp(-5)``, bounded below by ``1e-4`` (standardised). The noise floor is
the emulator's nugget: it keeps the frozen Cholesky of :class:`bayescal.emulate.GPEmulator`
well conditioned, and the fitted emulators stored with posteriors were made with this model.
"""


@contextmanager
def single_thread() -> Iterator[None]:
    """Run torch on one intra-op thread inside the block, restoring the previous count after.

    GP matrices here have at most a few hundred rows, where extra threads give no speed-up; on a
    shared 2-core machine they spin at OpenMP barriers. One thread also makes the floating-point
    reductions, hence fits and EGO's proposals, independent of the machine's core count, so a
    run resumed elsewhere continues bit for bit.
    """
    import torch

    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def fit_matern52_gp(
    x: np.ndarray,
    y: np.ndarray,
    *,
    priors: GPPriors,
    input_bounds: np.ndarray | None,
    seed: int,
    label: str = "GP",
) -> SingleTaskGP:
    """Fit a Matérn-5/2 ARD ``SingleTaskGP`` in float64 by maximising the marginal likelihood.

    The model has a constant mean, the kernel and likelihood of ``priors``, a ``Normalize``
    input transform to ``input_bounds`` (none if None) and a ``Standardize`` outcome transform.
    BoTorch's ``fit_gpytorch_mll`` runs under ``manual_seed(seed)`` on one torch thread; after
    it the posterior at one training point forces the Cholesky factor, so that a kernel matrix
    that is not positive definite fails inside the fit. A failed attempt is repeated on a new
    model with the next Cholesky jitter of :data:`JITTERS`.

    Parameters
    ----------
    x : ndarray, shape (n, d)
        Training inputs.
    y : ndarray, shape (n,) or (n, m)
        Training outputs. With ``m`` columns the model has ``m`` independent outputs, each with
        its own hyperparameters.
    priors : GPPriors
        Priors and noise bound (:data:`SURROGATE_PRIORS` or :data:`EMULATOR_PRIORS`).
    input_bounds : ndarray, shape (2, d), or None
        Bounds of the ``Normalize`` input transform; None: no input transform (``x`` already in
        the unit cube).
    seed : int
        Seed of BoTorch's internal random restarts (``fit_gpytorch_mll`` resamples the
        hyperparameters from their priors after a failed attempt, from the global torch RNG;
        ``manual_seed`` restores that RNG afterwards).
    label : str
        Name of the model in log messages.

    Returns
    -------
    botorch.models.SingleTaskGP
        The fitted model in eval mode.

    Raises
    ------
    InputDataError
        If ``x`` is not 2-D or ``y`` has another number of rows.
    Exception
        The last fitting or Cholesky error if every jitter failed.
    """
    import gpytorch
    import torch
    from botorch.exceptions.warnings import OptimizationWarning
    from botorch.fit import fit_gpytorch_mll
    from botorch.models import SingleTaskGP
    from botorch.models.transforms.input import Normalize
    from botorch.models.transforms.outcome import Standardize
    from botorch.utils.sampling import manual_seed
    from gpytorch.mlls import ExactMarginalLogLikelihood
    from linear_operator.utils.warnings import NumericalWarning

    train_x = torch.as_tensor(x, dtype=torch.float64)
    train_y = torch.as_tensor(y, dtype=torch.float64)
    train_y = train_y.unsqueeze(-1) if train_y.ndim == 1 else train_y
    if train_x.ndim != 2 or train_y.ndim != 2 or train_x.shape[0] != train_y.shape[0]:
        raise InputDataError(
            "x must have shape (n, d) and y shape (n,) or (n, m); got "
            f"{tuple(train_x.shape)} and {tuple(np.shape(y))}."
        )
    n, dim = train_x.shape
    m = train_y.shape[-1]
    batch = torch.Size([m]) if m > 1 else torch.Size()
    bounds = None if input_bounds is None else torch.as_tensor(input_bounds, dtype=torch.float64)
    error: Exception | None = None
    with single_thread():
        for jitter in JITTERS:
            model = SingleTaskGP(
                train_x,
                train_y,
                likelihood=priors.likelihood(batch),
                covar_module=priors.kernel(dim, batch),
                input_transform=None if bounds is None else Normalize(d=dim, bounds=bounds),
                outcome_transform=Standardize(m=m),
            )
            mll = ExactMarginalLogLikelihood(model.likelihood, model)
            try:
                with (
                    manual_seed(seed),
                    gpytorch.settings.cholesky_jitter(float_value=jitter, double_value=jitter),
                    warnings.catch_warnings(),
                ):
                    # Failed L-BFGS attempts are retried by BoTorch itself; its warnings about
                    # them are expected noise here.
                    warnings.simplefilter("ignore", OptimizationWarning)
                    # "A not p.d., added jitter": the jitter is the remedy, nothing to report.
                    warnings.simplefilter("ignore", NumericalWarning)
                    fit_gpytorch_mll(mll)
                    # Force the Cholesky factor now so that a non-PD kernel fails here.
                    model.posterior(train_x[:1]).variance  # noqa: B018
            except Exception as exc:  # BoTorch/GPyTorch/linalg raise several unrelated types
                logger.debug("%s fit failed with jitter %g: %r", label, jitter, exc)
                error = exc
                continue
            model.eval()
            logger.debug(
                "%s fit on %d points: lengthscales %s, noise %s",
                label,
                n,
                np.array2string(
                    model.covar_module.base_kernel.lengthscale.detach().numpy().ravel(),
                    precision=3,
                ),
                np.array2string(model.likelihood.noise.detach().numpy().ravel(), precision=3),
            )
            return model
    raise cast(Exception, error)  # the loop ran at least once: set by the last except
