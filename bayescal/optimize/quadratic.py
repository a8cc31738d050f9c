"""Local quadratic model of the objective and its minimiser in a box (a model-based step).

A discrepancy whose model can match the data exactly (a twin experiment) has a *cone*-shaped
minimum: near the optimum ``d(x) ~ ||A (x - x*)||`` grows linearly in every direction, so a
Matérn GP (twice differentiable) on ``d`` or ``log d`` resolves it only slowly, and along a
narrow oblique valley (two parameters that trade off) an ARD kernel cannot align with it.
``d**2`` is then smooth and close to a quadratic form, whose minimiser a least-squares fit
finds in one step, as derivative-free trust-region methods do (Powell's NEWUOA/BOBYQA; Conn,
Scheinberg & Vicente, *Introduction to Derivative-Free Optimization*, SIAM 2009, ch. 10).
EGO adds this point to each local batch (``LocalSearch.quadratic``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize

__all__ = ["QuadraticModel", "fit_quadratic", "n_quadratic_terms", "quadratic_step"]


def n_quadratic_terms(dim: int) -> int:
    """Number of coefficients of a full quadratic in ``dim`` variables, ``(d + 1)(d + 2) / 2``."""
    return (dim + 1) * (dim + 2) // 2


@dataclass(frozen=True)
class QuadraticModel:
    """``m(x) = c + g.z + z.H.z / 2`` with ``z = (x - centre) / scale``.

    Attributes
    ----------
    centre : ndarray, shape (d,)
        Expansion point (unit-cube coordinates).
    scale : float
        Length that makes ``z`` of order 1 (conditioning of the fit).
    c : float
        Value at the centre.
    g : ndarray, shape (d,)
        Gradient in ``z``.
    H : ndarray, shape (d, d)
        Symmetric Hessian in ``z``.
    """

    centre: np.ndarray
    scale: float
    c: float
    g: np.ndarray
    H: np.ndarray

    def __call__(self, x: np.ndarray) -> np.ndarray:
        """Model values at points ``x`` (n, d) -> (n,)."""
        z = (np.atleast_2d(x) - self.centre) / self.scale
        return self.c + z @ self.g + 0.5 * np.einsum("ni,ij,nj->n", z, self.H, z)

    @property
    def convex(self) -> bool:
        """Whether the Hessian is positive definite (the model has a unique minimiser)."""
        return bool(np.linalg.eigvalsh(self.H).min() > 0)


def _design(z: np.ndarray) -> np.ndarray:
    n, d = z.shape
    iu = np.triu_indices(d)
    return np.concatenate([np.ones((n, 1)), z, z[:, iu[0]] * z[:, iu[1]]], axis=1)


def fit_quadratic(x: np.ndarray, y: np.ndarray, centre: np.ndarray) -> QuadraticModel | None:
    """Least-squares quadratic through ``(x, y)``, expanded about ``centre``.

    Parameters
    ----------
    x : ndarray, shape (n, d)
        Points (unit-cube coordinates); ``n`` must exceed :func:`n_quadratic_terms`.
    y : ndarray, shape (n,)
        Values.
    centre : ndarray, shape (d,)
        Expansion point (the incumbent).

    Returns
    -------
    QuadraticModel or None
        ``None`` when there are too few points or the points do not determine a quadratic
        (rank-deficient design).
    """
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    n, d = x.shape
    p = n_quadratic_terms(d)
    if n <= p:
        return None
    scale = float(np.max(np.abs(x - centre))) or 1.0
    z = (x - centre) / scale
    a = _design(z)
    coef, _, rank, _ = np.linalg.lstsq(a, y, rcond=None)
    if rank < p:
        return None
    h = np.zeros((d, d))
    h[np.triu_indices(d)] = coef[1 + d :]
    h = h + h.T  # off-diagonal z_i z_j coefficients are H_ij; the diagonal ones H_ii / 2
    return QuadraticModel(
        centre=np.asarray(centre, float), scale=scale, c=coef[0], g=coef[1 : 1 + d], H=h
    )


def quadratic_step(model: QuadraticModel, box: np.ndarray) -> np.ndarray:
    """Minimise ``model`` over ``box``: the Newton point if it is convex and inside, else L-BFGS-B.

    Parameters
    ----------
    model : QuadraticModel
        Fitted model.
    box : ndarray, shape (2, d)
        Lower and upper bounds (unit-cube coordinates).

    Returns
    -------
    ndarray, shape (d,)
        The minimiser inside the box (a box corner or face when the model is not convex).
    """
    s = model.scale
    lo, hi = (box[0] - model.centre) / s, (box[1] - model.centre) / s

    def fun(z: np.ndarray) -> tuple[float, np.ndarray]:
        hz = model.H @ z
        return float(model.g @ z + 0.5 * z @ hz), model.g + hz

    if model.convex:
        newton = np.linalg.solve(model.H, -model.g)
        if np.all((newton >= lo) & (newton <= hi)):
            return model.centre + s * newton
    z0 = np.clip(np.zeros_like(lo), lo, hi)
    res = minimize(
        fun,
        z0,
        jac=True,
        method="L-BFGS-B",
        bounds=list(zip(lo, hi, strict=True)),
        options={"ftol": 1e-14, "gtol": 1e-10},
    )
    return np.clip(model.centre + s * res.x, box[0], box[1])
