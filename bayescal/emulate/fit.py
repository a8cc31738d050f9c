"""Fitting the GP emulator with BoTorch (marginal likelihood), frozen into a ``GPEmulator``."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

import numpy as np

from bayescal.emulate.gp import GPEmulator, Transform
from bayescal.emulate.gp_fit import EMULATOR_PRIORS, fit_matern52_gp
from bayescal.errors import InputDataError

if TYPE_CHECKING:
    from botorch.models import SingleTaskGP
    from botorch.models.transforms.outcome import Standardize

__all__ = ["fit_emulator"]


def _transform(d: np.ndarray, transform: Transform) -> np.ndarray:
    if transform == "log":
        if np.any(d <= 0):
            raise InputDataError(
                "transform='log' needs a strictly positive discrepancy; got min "
                f"{float(d.min())!r}. Use transform='none' or add an offset."
            )
        return np.log(d)
    if transform == "none":
        return d
    raise InputDataError(f"transform must be 'log' or 'none'; got {transform!r}.")


def fit_emulator(
    x_unit: np.ndarray,
    y: np.ndarray,
    *,
    transform: Transform = "log",
    cap: float | None = None,
    rng: int | np.random.Generator | None = None,
) -> GPEmulator:
    """Fit a GP emulator of a discrepancy by maximising the marginal likelihood.

    ``transform="log"`` (default) emulates ``log d``: a discrepancy is positive, spans orders of
    magnitude and rises steeply away from its minimum, so ``log d`` is closer to a stationary
    GP and its predictions back-transform to positive values. ``"none"`` emulates ``d`` itself
    (used when ``d`` is a smooth quadratic misfit, as in the calibration tests).

    The GP is :func:`~bayescal.emulate.gp_fit.fit_matern52_gp` with
    :data:`~bayescal.emulate.gp_fit.EMULATOR_PRIORS` and no input transform, frozen into a
    ``GPEmulator`` of its hyperparameters.

    Parameters
    ----------
    x_unit : array_like, shape (n, d)
        Evaluated points mapped to the unit cube.
    y : array_like, shape (n,)
        Discrepancy at those points (finite; ``> 0`` for ``transform="log"``).
    transform : {"log", "none"}
        Scale on which the GP is fitted.
    cap : float or None
        Emulate ``min(g(d), min g(d) + cap)`` instead of ``g(d)``: values more than ``cap``
        above the best (on the emulated scale) are clipped. A discrepancy that is flat far
        from its minimum but jumps by a cliff somewhere (the CuZr study: ``log d`` from -0.45
        to 1.4 within 3 % of the chi0 range, and flat within 0.1 over the rest) forces a
        stationary GP to a short lengthscale everywhere, so between evaluations it reverts to
        its mean and lets a posterior wander; clipping the cliff keeps the model smooth where
        a posterior can put mass. Only for uses that never need values above the cap (the
        floor likelihood); None (default) fits the values as they are.
    rng : int, numpy Generator or None
        Seed of BoTorch's random restarts (fitting is otherwise deterministic).

    Returns
    -------
    GPEmulator
        The frozen emulator; its predictions equal the BoTorch posterior's (latent, no noise).

    Raises
    ------
    InputDataError
        On shape mismatch, non-finite values, fewer than 3 points or a bad transform.
    """
    x = np.asarray(x_unit, dtype=np.float64)
    d = np.asarray(y, dtype=np.float64).reshape(-1)
    if x.ndim != 2 or x.shape[0] != d.shape[0]:
        raise InputDataError(
            f"x_unit must have shape (n, d) and y shape (n,); got {x.shape} and {d.shape}."
        )
    if x.shape[0] < 3:
        raise InputDataError(f"need at least 3 evaluations to fit an emulator; got {x.shape[0]}.")
    if not (np.all(np.isfinite(x)) and np.all(np.isfinite(d))):
        raise InputDataError("x_unit and y must be finite; drop failed evaluations first.")
    z = _transform(d, transform)
    if cap is not None:
        if not cap > 0:
            raise InputDataError(f"cap must be > 0 or None; got {cap!r}.")
        z = np.minimum(z, z.min() + cap)
    seed = int(np.random.default_rng(rng).integers(2**31 - 1))
    model = fit_matern52_gp(
        x, z, priors=EMULATOR_PRIORS, input_bounds=None, seed=seed, label="emulator"
    )
    return _freeze(model, x, z, transform)


def _freeze(model: SingleTaskGP, x: np.ndarray, z: np.ndarray, transform: Transform) -> GPEmulator:
    """The fitted BoTorch model's hyperparameters and training data as a ``GPEmulator``."""
    tf = cast("Standardize", model.outcome_transform)  # fit_matern52_gp builds a Standardize
    return GPEmulator(
        x=x,
        y=z,
        lengthscale=model.covar_module.base_kernel.lengthscale.detach().numpy().ravel(),
        outputscale=float(model.covar_module.outputscale.detach()),
        noise=float(model.likelihood.noise.detach().reshape(-1)[0]),
        mean_constant=float(model.mean_module.constant.detach()),
        y_mean=float(tf.means.detach().reshape(-1)[0]),
        y_std=float(tf.stdvs.detach().reshape(-1)[0]),
        transform=transform,
    )
