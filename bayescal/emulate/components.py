"""Principal-component emulator of residual vectors: one GP per leading component.

A residual vector ``r(theta)`` (a block of :meth:`bayescal.discrepancy.Discrepancy.residuals`:
one field term's snapshots, or the stress curve) has hundreds to thousands of entries but varies
over the parameter box in a few directions. Following Higdon et al. (JASA 2008), the residuals of
all evaluations are centred and reduced to the principal directions that hold a given fraction of
their variance; each component score ``w_j(theta) = phi_j^T (r(theta) - c)`` gets its own GP
(:func:`bayescal.emulate.fit_emulator`, ``transform="none"``). Unlike the discrepancy itself,
whose norm has a cone at an exact match, the scores are smooth in the parameters.
"""

from __future__ import annotations

import dataclasses
import logging
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import ArrayLike

from bayescal.emulate.fit import fit_emulator
from bayescal.emulate.gp import GPEmulator
from bayescal.errors import InputDataError

if TYPE_CHECKING:
    import pytensor.tensor as pt

logger = logging.getLogger(__name__)

__all__ = ["ComponentEmulator", "fit_components", "loo_skill", "principal_components"]

#: Unskilled components in a row after which no further component is tried.
_MAX_MISSES = 3


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class ComponentEmulator:
    """GPs of the leading principal-component scores of one residual block.

    Attributes
    ----------
    name : str
        The block (e.g. ``"gamma_xy:exy"`` or ``"stress"``).
    center : ndarray, shape (m,)
        Mean residual of the training evaluations.
    basis : ndarray, shape (m, k)
        Orthonormal principal directions, by decreasing variance.
    gps : tuple of GPEmulator, length k
        One GP per score ``basis[:, j] @ (r - center)``.
    explained : float
        Fraction of the training residuals' variance (about ``center``) the k directions hold.
    tail_variance : float
        Mean squared norm per evaluation of the discarded part (the truncation error and the
        components without predictive skill).
    """

    name: str
    center: np.ndarray
    basis: np.ndarray
    gps: tuple[GPEmulator, ...]
    explained: float
    tail_variance: float

    @property
    def n_components(self) -> int:
        """Number of emulated components ``k``."""
        return int(self.basis.shape[1])

    def project(self, residuals: ArrayLike) -> np.ndarray:
        """Scores of residual vectors, shape ``(..., k)``, from ``(..., m)``."""
        r = np.asarray(residuals, dtype=np.float64)
        if r.shape[-1] != self.basis.shape[0]:
            raise InputDataError(
                f"block {self.name!r} has {self.basis.shape[0]} entries; got shape {r.shape}."
            )
        return (r - self.center) @ self.basis

    def predict(self, x_unit: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
        """Emulated scores at points of the unit cube.

        Parameters
        ----------
        x_unit : array_like, shape (..., d)

        Returns
        -------
        mean, var : ndarray, shape (..., k)
            Latent GP mean and variance of each score.
        """
        parts = [gp.predict(np.asarray(x_unit, dtype=np.float64)) for gp in self.gps]
        mean = np.stack([p[0] for p in parts], axis=-1)
        var = np.stack([p[1] for p in parts], axis=-1)
        return mean, var

    def predict_residual(self, x_unit: ArrayLike) -> np.ndarray:
        """Emulated mean residual vector, shape ``(..., m)``."""
        mean, _ = self.predict(x_unit)
        return self.center + mean @ self.basis.T

    def pytensor_mean_var(self, x: pt.TensorLike) -> tuple[pt.TensorVariable, pt.TensorVariable]:
        """Score means and variances as PyTensor expressions of a point ``x`` (shape ``(d,)``).

        Returns
        -------
        mean, var : TensorVariable, shape (k,)
        """
        from bayescal.emulate.pytensor_gp import gp_mean_var_stacked

        return gp_mean_var_stacked(x, self.gps)


def principal_components(
    r: np.ndarray, *, variance: float, max_components: int | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Leading principal components of the rows of ``r``.

    Parameters
    ----------
    r : ndarray, shape (n, m)
    variance : float
        Keep the fewest components whose share of the variance reaches this fraction.
    max_components : int or None
        At most this many (and at most ``n - 1``; at least one).

    Returns
    -------
    center : ndarray, shape (m,)
    directions : ndarray, shape (k, m)
        Orthonormal rows, by decreasing variance.
    scores : ndarray, shape (n, k)
    power : ndarray, shape (min(n, m),)
        Squared singular values of the centred rows (all of them).
    """
    center = r.mean(axis=0)
    _, s, vt = np.linalg.svd(r - center, full_matrices=False)
    power = s**2
    total = float(power.sum())
    k = 1
    if total > 0.0:
        k = int(np.searchsorted(np.cumsum(power) / total, variance * (1 - 1e-12)) + 1)
    limit = min(r.shape[0] - 1, max_components or r.shape[0])
    k = max(1, min(k, limit))
    return center, vt[:k], (r - center) @ vt[:k].T, power


def fit_components(
    x_unit: ArrayLike,
    residuals: ArrayLike,
    *,
    name: str = "residual",
    variance: float = 0.99,
    max_components: int | None = None,
    min_skill: float | None = 0.5,
    rng: int | np.random.Generator | None = None,
) -> ComponentEmulator:
    """Reduce residual vectors to principal components and fit one GP per component.

    Parameters
    ----------
    x_unit : array_like, shape (n, d)
        Evaluated points in the unit cube.
    residuals : array_like, shape (n, m)
        Their residual vectors (one block), finite (drop failed evaluations first).
    name : str
        Name of the block, kept on the emulator.
    variance : float in (0, 1]
        Keep the fewest leading components that hold at least this fraction of the variance.
    max_components : int or None
        Upper bound on the number of components (at most ``n - 1`` in any case).
    min_skill : float or None
        Drop components whose GP predicts its own training scores with a leave-one-out R^2
        (:func:`loo_skill`) below this, and stop after three such components in a row. Their
        variation is not a function of the parameters that the points resolve (a chaotic
        simulator's output, or too few points): it counts in ``tail_variance`` instead of
        getting a GP that interpolates noise with short lengthscales. When no component
        reaches it, the most predictable one is kept (with a warning) if its R^2 is positive.
        None keeps every component the variance criterion selects.
    rng : int, numpy Generator or None
        Seed of the GP fits.

    Returns
    -------
    ComponentEmulator

    Raises
    ------
    InputDataError
        Shapes that disagree, non-finite values, fewer than 3 evaluations, ``variance``
        outside (0, 1], residuals that do not vary at all, or no component with a positive
        leave-one-out R^2.

    Examples
    --------
    >>> x = np.linspace(0, 1, 12)[:, None]
    >>> r = np.hstack([np.sin(3 * x), np.cos(3 * x), np.sin(3 * x) + 0.5 * np.cos(3 * x)])
    >>> em = fit_components(x, r, name="demo", rng=0)
    >>> em.n_components, round(em.explained, 3)
    (2, 1.0)
    """
    x = np.asarray(x_unit, dtype=np.float64)
    r = np.asarray(residuals, dtype=np.float64)
    if x.ndim != 2 or r.ndim != 2 or x.shape[0] != r.shape[0]:
        raise InputDataError(
            f"x_unit must be (n, d) and residuals (n, m); got {x.shape} and {r.shape}."
        )
    if x.shape[0] < 3:
        raise InputDataError(f"need at least 3 evaluations; got {x.shape[0]}.")
    if not (np.isfinite(x).all() and np.isfinite(r).all()):
        raise InputDataError("x_unit and residuals must be finite; drop failed evaluations.")
    if not 0.0 < variance <= 1.0:
        raise InputDataError(f"variance must be in (0, 1]; got {variance!r}.")
    center, vt, scores, power = principal_components(
        r, variance=variance, max_components=max_components
    )
    total = float(power.sum())
    if total <= 0.0:
        raise InputDataError(f"the residuals of block {name!r} do not vary over the points.")
    k = scores.shape[1]
    gen = np.random.default_rng(rng)
    kept: list[int] = []
    gps: list[GPEmulator] = []
    misses: list[tuple[float, int, GPEmulator]] = []
    for j in range(k):
        gp = fit_emulator(x, scores[:, j], transform="none", rng=int(gen.integers(2**31 - 1)))
        skill = loo_skill(gp) if min_skill is not None else 1.0
        if min_skill is not None and skill < min_skill:
            misses.append((skill, j, gp))
            if len(misses) == _MAX_MISSES:
                break
            continue
        kept.append(j)
        gps.append(gp)
    if not kept:
        skill, j, gp = max(misses, key=lambda m: m[0])
        if skill <= 0.0:
            raise InputDataError(
                f"no principal component of block {name!r} is predictable from the evaluated "
                f"points (leave-one-out R^2 <= 0 for the leading {len(misses)})."
            )
        # the block still enters the likelihood, weakly: the GP's variance is large there
        logger.warning(
            "block %s: no component reaches leave-one-out R^2 %.2f; keeping component %d "
            "(R^2 %.2f), whose emulator variance carries what the points do not resolve",
            name,
            min_skill,
            j,
            skill,
        )
        kept, gps = [j], [gp]
    return ComponentEmulator(
        name=name,
        center=center,
        basis=vt[kept].T,
        gps=tuple(gps),
        explained=float(power[kept].sum() / total),
        tail_variance=float((total - power[kept].sum()) / x.shape[0]),
    )


def loo_skill(gp: GPEmulator) -> float:
    """Leave-one-out R^2 of a fitted GP on its own training points (closed form).

    With ``K`` the training covariance (noise included) and ``alpha = K^{-1} y``, the
    leave-one-out residual of point ``i`` is ``alpha_i / (K^{-1})_ii`` (Rasmussen & Williams,
    2006, eq. 5.12); the skill is ``1 - mean(residual^2) / var(y)`` on the standardised scale.
    """
    import scipy.linalg

    n = gp.n_train
    k_inv = scipy.linalg.cho_solve((gp.chol, True), np.eye(n))
    loo = gp.alpha / np.diag(k_inv)
    y = (gp.y - gp.y_mean) / gp.y_std - gp.mean_constant
    spread = float(np.var(y))
    return 1.0 - float(np.mean(loo**2)) / spread if spread > 0 else 0.0
