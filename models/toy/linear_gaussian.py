"""A linear-Gaussian toy model, ``y = A @ theta (+ noise)``, with its closed-form posterior.

For simulation-based calibration and other checks of the inference layer: with a Gaussian prior
``theta ~ N(m0, P0)`` and Gaussian noise ``y | theta ~ N(A theta, diag(noise_sd**2))`` the
posterior is Gaussian with

    cov  = (P0^-1 + A^T S^-1 A)^-1,    mean = cov (P0^-1 m0 + A^T S^-1 y),   S = diag(noise_sd**2).

The design matrix ``A`` is fixed by ``(n_obs, n_params, seed)`` (standard normal entries from
``numpy.random.default_rng(seed)``). Parameters are named ``theta0, theta1, ...``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import NamedTuple

import numpy as np
import scipy.linalg
import xarray as xr
from numpy.typing import ArrayLike

from models.toy._params import broadcast_params, check_positive_int

__all__ = ["GaussianPosterior", "design_matrix", "param_names", "posterior", "simulate"]


class GaussianPosterior(NamedTuple):
    """Mean and covariance of a Gaussian posterior.

    Attributes
    ----------
    mean : ndarray, shape (..., n_params)
        Posterior mean (one per observation vector).
    cov : ndarray, shape (n_params, n_params)
        Posterior covariance (the same for every observation vector).
    """

    mean: np.ndarray
    cov: np.ndarray


def param_names(n_params: int) -> tuple[str, ...]:
    """Parameter names ``('theta0', ..., 'theta{n_params - 1}')``."""
    n_params = check_positive_int("n_params", n_params)
    return tuple(f"theta{i}" for i in range(n_params))


def design_matrix(n_obs: int = 10, n_params: int = 2, *, seed: int = 0) -> np.ndarray:
    """Return the fixed design matrix ``A``.

    Parameters
    ----------
    n_obs, n_params : int
        Shape of ``A``.
    seed : int
        Seed of ``numpy.random.default_rng``.

    Returns
    -------
    ndarray, shape (n_obs, n_params)
        Standard normal entries.

    Examples
    --------
    >>> design_matrix(3, 2).shape
    (3, 2)
    """
    n_obs = check_positive_int("n_obs", n_obs)
    n_params = check_positive_int("n_params", n_params)
    seed = check_positive_int("seed", seed, minimum=0)
    return np.random.default_rng(seed).standard_normal((n_obs, n_params))


def _noise_sd(noise_sd: ArrayLike, n_obs: int, *, allow_zero: bool) -> np.ndarray:
    sd = np.asarray(noise_sd, dtype=np.float64)
    if sd.ndim > 1 or (sd.ndim == 1 and sd.size != n_obs):
        raise ValueError(
            f"noise_sd must be a number or an array of shape ({n_obs},); got shape {sd.shape}."
        )
    ok = np.isfinite(sd) & ((sd >= 0) if allow_zero else (sd > 0))
    if not ok.all():
        rule = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"noise_sd must be finite and {rule}; got noise_sd={noise_sd!r}.")
    return np.broadcast_to(sd, (n_obs,))


def simulate(
    params: Mapping[str, ArrayLike],
    *,
    n_obs: int = 10,
    seed: int = 0,
    noise_sd: ArrayLike = 0.0,
    rng: int | np.random.Generator | None = None,
) -> xr.Dataset:
    """Evaluate ``y = A @ theta`` (plus optional Gaussian noise).

    Parameters
    ----------
    params : mapping of str to float or array_like of shape (n,)
        ``theta0, ..., theta{p-1}`` (all required; ``p`` is the number of entries). A 1-D array
        makes a batch (leading ``sample`` dim).
    n_obs : int
        Number of observations (rows of ``A``).
    seed : int
        Seed of the design matrix, see :func:`design_matrix`.
    noise_sd : float or array_like of shape (n_obs,)
        Standard deviation of additive Gaussian noise (0: noise free).
    rng : int, numpy.random.Generator or None
        Source of the noise draws.

    Returns
    -------
    xarray.Dataset
        ``y([sample,] obs)``, ``status([sample])`` (int8, 0 = ok), coord ``obs``; attrs
        ``model``, ``parameters`` (JSON), ``n_obs``, ``seed``, ``noise_sd``.

    Raises
    ------
    ValueError
        Wrong parameter names, non-finite values, or invalid options; the message names them.

    Examples
    --------
    >>> out = simulate({"theta0": [0.0, 1.0], "theta1": 2.0}, n_obs=4)
    >>> dict(out["y"].sizes)
    {'sample': 2, 'obs': 4}
    """
    n_params = len(params)
    if n_params == 0:
        raise ValueError("params is empty; give theta0, theta1, ...")
    names = param_names(n_params)
    p, batched = broadcast_params(params, names)
    a = design_matrix(n_obs, n_params, seed=seed)
    sd = _noise_sd(noise_sd, n_obs, allow_zero=True)
    theta = np.stack([p[k] for k in names], axis=-1)  # (S, p)
    y = theta @ a.T  # (S, n_obs)
    if np.any(sd > 0):
        y = y + sd * np.random.default_rng(rng).standard_normal(y.shape)
    out = xr.Dataset(
        {
            "y": (("sample", "obs"), y, {"units": "1", "long_name": "observation"}),
            "status": (
                ("sample",),
                np.zeros(y.shape[0], dtype=np.int8),
                {"long_name": "run status", "flag_values": [0], "flag_meanings": "ok"},
            ),
        },
        coords={"obs": np.arange(n_obs)},
        attrs={
            "model": "models.toy.linear_gaussian",
            "parameters": json.dumps(
                {k: v.tolist() if batched else float(v[0]) for k, v in p.items()}
            ),
            "n_obs": n_obs,
            "seed": seed,
            "noise_sd": sd.tolist(),
        },
    )
    return out if batched else out.isel(sample=0)


def posterior(
    y_obs: ArrayLike,
    noise_sd: ArrayLike,
    prior_mean: ArrayLike,
    prior_cov: ArrayLike,
    *,
    seed: int = 0,
    design: ArrayLike | None = None,
) -> GaussianPosterior:
    """Closed-form Gaussian posterior of ``theta`` given observations of the linear model.

    Parameters
    ----------
    y_obs : array_like, shape (..., n_obs)
        Observations; leading dims are independent data sets sharing the design.
    noise_sd : float or array_like of shape (n_obs,)
        Noise standard deviation (> 0).
    prior_mean : array_like, shape (n_params,)
        Prior mean.
    prior_cov : array_like, shape (n_params, n_params)
        Prior covariance (symmetric positive definite).
    seed : int
        Seed of the design matrix (as in :func:`simulate`); ignored when ``design`` is given.
    design : array_like of shape (n_obs, n_params), optional
        The design matrix ``A``; default :func:`design_matrix` ``(n_obs, n_params, seed=seed)``.

    Returns
    -------
    GaussianPosterior
        ``mean`` (..., n_params) and ``cov`` (n_params, n_params).

    Raises
    ------
    ValueError
        Inconsistent shapes, non-positive noise or a prior covariance that is not SPD.

    Examples
    --------
    >>> post = posterior(np.zeros(5), 1.0, np.zeros(2), np.eye(2))
    >>> post.mean.shape, post.cov.shape
    ((2,), (2, 2))
    """
    y = np.asarray(y_obs, dtype=np.float64)
    m0 = np.asarray(prior_mean, dtype=np.float64)
    p0 = np.asarray(prior_cov, dtype=np.float64)
    if y.ndim < 1 or not np.isfinite(y).all():
        raise ValueError(f"y_obs must be a finite array of shape (..., n_obs); got {y.shape}.")
    if m0.ndim != 1 or not np.isfinite(m0).all():
        raise ValueError(f"prior_mean must be a finite 1-D array; got shape {m0.shape}.")
    n_obs, n_params = y.shape[-1], m0.size
    if p0.shape != (n_params, n_params) or not np.allclose(p0, p0.T):
        raise ValueError(
            f"prior_cov must be symmetric of shape ({n_params}, {n_params}); got shape {p0.shape}."
        )
    a = (
        design_matrix(n_obs, n_params, seed=seed)
        if design is None
        else np.asarray(design, dtype=np.float64)
    )
    if a.shape != (n_obs, n_params):
        raise ValueError(f"design must have shape ({n_obs}, {n_params}); got {a.shape}.")
    sd = _noise_sd(noise_sd, n_obs, allow_zero=False)
    try:
        prior_chol = scipy.linalg.cho_factor(p0, lower=True)
    except np.linalg.LinAlgError:
        raise ValueError("prior_cov must be positive definite.") from None
    prior_prec = scipy.linalg.cho_solve(prior_chol, np.eye(n_params))
    aw = a / sd[:, None] ** 2  # S^-1 A, (n_obs, p)
    precision = prior_prec + a.T @ aw
    precision = 0.5 * (precision + precision.T)
    post_chol = scipy.linalg.cho_factor(precision, lower=True)
    cov = scipy.linalg.cho_solve(post_chol, np.eye(n_params))
    cov = 0.5 * (cov + cov.T)
    rhs = prior_prec @ m0 + y @ aw  # (..., p)
    mean = scipy.linalg.cho_solve(post_chol, rhs.reshape(-1, n_params).T).T.reshape(rhs.shape)
    return GaussianPosterior(mean=mean, cov=cov)
