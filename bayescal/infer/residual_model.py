"""Kennedy–O'Hagan likelihood of the emulated residual blocks (not yet the posterior's default).

For each residual block ``b`` (a field term's snapshots, the stress curve) the data say that the
residual vector is zero. The model's residual at ``theta`` is emulated as
``r_b(theta) ~ c_b + Phi_b w_b(theta) + tail`` (:class:`bayescal.emulate.ComponentEmulator`),
and the observation carries a model-form error ``delta_b ~ N(0, sigma_b^2 I)`` (learned) plus the
data's measured noise. In the basis of the block:

- component ``j``: ``z_bj = phi_bj^T (0 - c_b) ~ N(w_bj(theta), s_bj^2(theta) + sigma_b^2 + n_bj)``
  with ``s_bj^2`` the emulator's variance and ``n_bj`` the noise variance of that component;
- the part outside the basis, ``t_b = ||(I - Phi_b Phi_b^T) c_b||^2`` over ``m_b - k_b``
  directions, is the mismatch no parameter explains: ``N(0, sigma_b^2 + tail_b)`` per direction,
  with ``tail_b`` the emulator's truncation variance per direction. It keeps ``sigma_b`` from
  shrinking below what the data show.

References: Kennedy & O'Hagan, JRSS B 63 (2001); Higdon, Gattiker, Williams & Rightley,
JASA 103 (2008), principal-component emulators of multivariate output.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import ArrayLike

from bayescal._pytensor_blas import configure_pytensor_blas
from bayescal.compared_outputs import residual_blocks_from_outputs
from bayescal.discrepancy import Discrepancy
from bayescal.emulate import ComponentEmulator, fit_components
from bayescal.errors import InputDataError
from bayescal.noise import StressNoise

if TYPE_CHECKING:
    import pymc as pm
    import xarray as xr

__all__ = ["ResidualBlock", "build_residual_model", "residual_block", "residual_blocks"]


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class ResidualBlock:
    """One block's emulator and the data's side of its likelihood.

    Attributes
    ----------
    emulator : ComponentEmulator
    target : ndarray, shape (k,)
        Scores of the observed residual (zero): ``-basis^T center``.
    noise_var : ndarray, shape (k,)
        Measured observation-noise variance of each component (zeros: not measured, and
        ``sigma_b`` then carries noise and model error together).
    tail_sq : float
        Squared norm of the observed residual outside the basis.
    tail_dof : int
        Directions outside the basis, ``m - k``.
    sigma_scale : float
        Scale of the half-normal prior of ``sigma_b`` (residual units per entry).
    """

    emulator: ComponentEmulator
    target: np.ndarray
    noise_var: np.ndarray
    tail_sq: float
    tail_dof: int
    sigma_scale: float

    @property
    def name(self) -> str:
        """The block's name (the emulator's)."""
        return self.emulator.name

    @property
    def tail_var(self) -> float:
        """The emulator's truncation variance per direction outside the basis."""
        return self.emulator.tail_variance / max(self.tail_dof, 1)


def residual_block(
    x_unit: ArrayLike,
    residuals: ArrayLike,
    *,
    name: str,
    noise_cov: ArrayLike | None = None,
    variance: float = 0.99,
    rng: int | np.random.Generator | None = None,
) -> ResidualBlock:
    """Fit a block's component emulator and compute the data's side of its likelihood.

    Parameters
    ----------
    x_unit : array_like, shape (n, d)
        Evaluated points (all EGO seeds together) in the unit cube.
    residuals : array_like, shape (n, m)
        The block's residual vectors there (finite rows only).
    name : str
        Block name.
    noise_cov : array_like, shape (m, m) or (m,), optional
        Covariance (or per-entry variance) of the data's noise in this block; None: not measured.
    variance : float
        Variance fraction the principal components keep.
    rng : int, numpy Generator or None
        Seed of the GP fits.

    Returns
    -------
    ResidualBlock
        ``sigma_scale`` is the best evaluation's residual RMS per entry: a weakly informative
        scale (the model error is not larger than the best fit's misfit by much).
    """
    r = np.asarray(residuals, dtype=np.float64)
    emulator = fit_components(x_unit, r, name=name, variance=variance, rng=rng)
    basis, center = emulator.basis, emulator.center
    target = -(basis.T @ center)
    outside = -center - basis @ target  # (I - Phi Phi^T)(0 - c)
    m, k = basis.shape
    if noise_cov is None:
        noise_var = np.zeros(k)
    else:
        cov = np.asarray(noise_cov, dtype=np.float64)
        if cov.shape not in ((m,), (m, m)):
            raise InputDataError(
                f"noise_cov of block {name!r} must have shape ({m},) or ({m}, {m}); "
                f"got {cov.shape}."
            )
        cov = np.diag(cov) if cov.ndim == 1 else cov
        noise_var = np.einsum("mj,mn,nj->j", basis, cov, basis)
    best = np.sqrt(np.mean(r**2, axis=1)).min()
    return ResidualBlock(
        emulator=emulator,
        target=target,
        noise_var=noise_var,
        tail_sq=float(outside @ outside),
        tail_dof=m - k,
        sigma_scale=float(max(best, 1e-12)),
    )


def residual_blocks(
    evaluations: xr.Dataset,
    discrepancy: Discrepancy,
    reference: xr.Dataset,
    *,
    stress_noise: StressNoise | None = None,
    variance: float = 0.99,
    rng: int | np.random.Generator | None = None,
) -> list[ResidualBlock]:
    """Residual blocks of a run's evaluations (all EGO seeds: one training set).

    Parameters
    ----------
    evaluations : xarray.Dataset
        ``DIR/evaluations.nc`` with kept outputs (:mod:`bayescal.compared_outputs`) and ``unit``.
    discrepancy : Discrepancy
        Defines the blocks (field terms, stress term).
    reference : xarray.Dataset
        The data of one realization.
    stress_noise : StressNoise or None
        Measured noise of the reference stress curve (:func:`bayescal.noise.stress_noise`),
        mapped onto the stress block through :meth:`StressTerm.residual_map`; None leaves the
        stress block's noise to its ``sigma``. Field blocks have no measured noise here (one
        realization): their ``sigma`` carries noise and model error together.
    variance : float
        Variance fraction kept by each block's principal components.
    rng : int, numpy Generator or None
        Seed of the GP fits.

    Returns
    -------
    list of ResidualBlock
        In :func:`bayescal.compared_outputs.block_names` order.
    """
    blocks = residual_blocks_from_outputs(discrepancy, reference, evaluations)
    unit = np.asarray(evaluations["unit"].values, dtype=np.float64)
    ok = np.all([np.isfinite(b).all(axis=1) for b in blocks.values()], axis=0)
    gen = np.random.default_rng(rng)
    out = []
    for name, r in blocks.items():
        cov = None
        if name == "stress" and stress_noise is not None and discrepancy.stress is not None:
            nearest, scale = discrepancy.stress.residual_map(
                reference, evaluations["strain"].values
            )
            cov = scale[:, None] * stress_noise.covariance(nearest) * scale[None, :]
        out.append(
            residual_block(
                unit[ok],
                r[ok],
                name=name,
                noise_cov=cov,
                variance=variance,
                rng=int(gen.integers(2**31 - 1)),
            )
        )
    return out


def build_residual_model(
    blocks: Sequence[ResidualBlock],
    *,
    names: Sequence[str],
    lower: ArrayLike,
    upper: ArrayLike,
    coords: Mapping[str, Sequence[str]] | None = None,
) -> pm.Model:
    """PyMC model of the parameters given the residual blocks (one realization of the data).

    Parameters
    ----------
    blocks : sequence of ResidualBlock
        Their emulators must share the parameter box.
    names : sequence of str
        Parameter names, in unit-cube column order.
    lower, upper : array_like, shape (d,)
        The box (uniform prior).
    coords : mapping, optional
        Extra model coordinates.

    Returns
    -------
    pymc.Model
        Free variables: each parameter by name (uniform on its bounds) and ``sigma_<block>``;
        observed ``z_<block>`` (component scores); potential ``tail_<block>`` (block names with
        characters other than letters, digits and ``_`` replaced by ``_``).
    """
    configure_pytensor_blas()
    import pymc as pm
    import pytensor.tensor as pt

    lo, hi = np.asarray(lower, dtype=np.float64), np.asarray(upper, dtype=np.float64)
    if not (len(names) == lo.shape[0] == hi.shape[0]) or not np.all(lo < hi):
        raise InputDataError(f"need one lower < upper per name; got {list(names)}, {lo}, {hi}.")
    if not blocks:
        raise InputDataError("build_residual_model needs at least one residual block.")
    with pm.Model(coords={"param": list(names), **(coords or {})}) as model:
        theta = [pm.Uniform(n, lower=a, upper=b) for n, a, b in zip(names, lo, hi, strict=True)]
        unit = (pt.stack(theta) - lo) / (hi - lo)
        for b in blocks:
            label = re.sub(r"\W", "_", b.name)  # "gamma_xy:exy" -> "gamma_xy_exy"
            sigma = pm.HalfNormal(f"sigma_{label}", sigma=b.sigma_scale)
            mean, var = b.emulator.pytensor_mean_var(unit)
            sd = pt.sqrt(var + sigma**2 + b.noise_var)
            pm.Normal(f"z_{label}", mu=mean, sigma=sd, observed=b.target)
            if b.tail_dof:
                tail = sigma**2 + b.tail_var
                pm.Potential(
                    f"tail_{label}",
                    -0.5 * b.tail_sq / tail - 0.5 * b.tail_dof * pt.log(2 * np.pi * tail),
                )
    return model
