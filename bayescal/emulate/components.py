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
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import ArrayLike

from bayescal.emulate.fit import fit_emulator
from bayescal.emulate.gp import GPEmulator
from bayescal.errors import InputDataError

if TYPE_CHECKING:
    import pytensor.tensor as pt

__all__ = ["ComponentEmulator", "fit_components"]


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
        Mean squared norm per evaluation of the discarded part (the truncation error).
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
        import pytensor.tensor as pt

        parts = [gp.pytensor_mean_var(x) for gp in self.gps]
        return pt.stack([p[0] for p in parts]), pt.stack([p[1] for p in parts])


def fit_components(
    x_unit: ArrayLike,
    residuals: ArrayLike,
    *,
    name: str = "residual",
    variance: float = 0.99,
    max_components: int | None = None,
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
    rng : int, numpy Generator or None
        Seed of the GP fits.

    Returns
    -------
    ComponentEmulator

    Raises
    ------
    InputDataError
        Shapes that disagree, non-finite values, fewer than 3 evaluations, ``variance``
        outside (0, 1], or residuals that do not vary at all.

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
    center = r.mean(axis=0)
    _, s, vt = np.linalg.svd(r - center, full_matrices=False)
    power = s**2
    total = float(power.sum())
    if total <= 0.0:
        raise InputDataError(f"the residuals of block {name!r} do not vary over the points.")
    cumulative = np.cumsum(power) / total
    k = int(np.searchsorted(cumulative, variance * (1 - 1e-12)) + 1)
    limit = min(x.shape[0] - 1, max_components or x.shape[0])
    k = max(1, min(k, limit))
    basis = vt[:k].T
    scores = (r - center) @ basis
    gen = np.random.default_rng(rng)
    gps = tuple(
        fit_emulator(x, scores[:, j], transform="none", rng=int(gen.integers(2**31 - 1)))
        for j in range(k)
    )
    return ComponentEmulator(
        name=name,
        center=center,
        basis=basis,
        gps=gps,
        explained=float(cumulative[k - 1]),
        tail_variance=float(power[k:].sum() / x.shape[0]),
    )
