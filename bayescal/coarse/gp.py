"""Physics-guided GP coarse-graining: a parametric mean (a law) plus a squared-exponential GP.

Model (after Fang, Zhao, Sills & Ezzat, APL Machine Learning 2, 026112 (2024),
doi:10.1063/5.0190357): per-atom value ``v_a = m(r_a; beta) + g(r_a) + e_a`` with ``g`` a
zero-mean GP with periodic squared-exponential covariance ``s2 * k_x(dx) * k_y(dy)``,
``k(d) = sum_m exp(-(d + m L)^2 / (2 l^2))`` (the periodised kernel, positive definite), and
``e_a ~ N(0, sigma2)`` iid. The coarse field is the posterior of ``m + g`` at the cell centres:
mean and standard deviation.

Scalability (the approximation): atoms are first binned on a fine periodic grid and ``m + g`` is
taken as constant over a fine cell, located at the cell's atom centroid. Then the cell means
``ybar_c`` with counts ``n_c`` are sufficient: ``ybar_c ~ GP + N(0, sigma2 / n_c)``
(heteroscedastic), and the within-cell scatter adds ``SSW / (2 sigma2) + (N - C) / 2 log(2 pi
sigma2)`` to the negative log marginal likelihood. The exact GP runs on the ``C`` occupied fine
cells (default the output grid, at most ``max_cells``), so cost is ``O(N)`` + ``O(C^3)`` per
likelihood evaluation, independent of the atom count. Hyperparameters (length scales, signal
variance, noise variance) and the mean's parameters are learned together by maximising that
marginal likelihood with analytic gradients (L-BFGS-B), or the mean first by least squares and
the GP on its residuals (``mean_fit="sequential"``). The reported std is that of the latent field
given the fitted parameters (plug-in: parameter uncertainty is not propagated).
"""

from __future__ import annotations

import logging
import math
import warnings
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike
from scipy import linalg, optimize

from bayescal.coarse.grid import Grid, check_atoms
from bayescal.coarse.mean import MeanFunction
from bayescal.errors import InputDataError, NumericsWarning

__all__ = ["GPField", "GPOptions", "gp_field"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True, kw_only=True)
class GPOptions:
    """Options of :func:`gp_field`.

    Parameters
    ----------
    fine_shape : tuple of int, optional
        ``(ny, nx)`` of the fine grid of sufficient statistics (default: the output grid).
    max_cells : int
        Refuse fine grids with more cells (the dense GP is ``O(C^3)``).
    lengthscale : {"isotropic", "ard"}
        One length scale, or one per axis.
    mean_fit : {"joint", "sequential"}
        Learn the mean's parameters with the GP, or first (least squares) and then the GP on
        the residuals.
    noise : float, optional
        Fix the per-atom noise variance instead of learning it.
    maxiter : int
        L-BFGS-B iterations.
    """

    fine_shape: tuple[int, int] | None = None
    max_cells: int = 4096
    lengthscale: Literal["isotropic", "ard"] = "isotropic"
    mean_fit: Literal["joint", "sequential"] = "joint"
    noise: float | None = None
    maxiter: int = 200

    def __post_init__(self) -> None:
        if self.lengthscale not in ("isotropic", "ard"):
            raise InputDataError(
                f"lengthscale must be 'isotropic' or 'ard'; got {self.lengthscale!r}."
            )
        if self.mean_fit not in ("joint", "sequential"):
            raise InputDataError(
                f"mean_fit must be 'joint' or 'sequential'; got {self.mean_fit!r}."
            )
        if self.noise is not None and not self.noise > 0:
            raise InputDataError(f"noise must be positive or None; got {self.noise!r}.")


@dataclass(frozen=True, kw_only=True)
class GPField:
    """Result of :func:`gp_field`.

    Attributes
    ----------
    mean, std : ndarray, shape (ny, nx)
        Posterior mean and standard deviation of the field at the cell centres.
    params : dict of str to float
        ``lengthscale_x``, ``lengthscale_y`` (length units), ``signal_variance``,
        ``noise_variance`` (per atom, value units squared) and the mean law's parameters.
    nll : float
        Negative log marginal likelihood at the optimum (per-atom data, approximation above).
    n_cells : int
        Occupied fine cells used by the exact GP.
    converged : bool
        The optimiser's success flag.
    """

    mean: np.ndarray
    std: np.ndarray
    params: dict[str, float] = field(default_factory=dict)
    nll: float = math.nan
    n_cells: int = 0
    converged: bool = True


def _periodic_se(d: np.ndarray, period: float, ell: float) -> tuple[np.ndarray, np.ndarray]:
    """Periodised SE kernel and its derivative with respect to log(ell)."""
    dm = d - period * np.round(d / period)
    reach = int(np.floor(8.0 * ell / period + 0.5))  # images within 8 widths: error < 1e-14
    k = np.zeros_like(dm)
    dk = np.zeros_like(dm)
    for m in range(-reach, reach + 1):
        q = ((dm + m * period) / ell) ** 2
        e = np.exp(-0.5 * q)
        k += e
        dk += q * e
    return k, dk


class _Stats:
    """Sufficient statistics of atoms binned on a fine grid (occupied cells only)."""

    def __init__(self, p: np.ndarray, v: np.ndarray, fine: Grid) -> None:
        idx = fine.cell_index(p)
        size = fine.nx * fine.ny
        cnt = np.bincount(idx, minlength=size)
        occ = np.flatnonzero(cnt)
        cx = fine.x[occ % fine.nx]
        cy = fine.y[occ // fine.nx]
        ox = p[:, 0] - fine.x[idx % fine.nx]
        oy = p[:, 1] - fine.y[idx // fine.nx]
        ox -= fine.lx * np.round(ox / fine.lx)
        oy -= fine.ly * np.round(oy / fine.ly)
        n = cnt[occ].astype(float)
        self.n = n
        self.x = cx + np.bincount(idx, weights=ox, minlength=size)[occ] / n
        self.y = cy + np.bincount(idx, weights=oy, minlength=size)[occ] / n
        self.ybar = np.bincount(idx, weights=v, minlength=size)[occ] / n
        dev = v - np.bincount(idx, weights=v, minlength=size)[idx] / cnt[idx]
        self.ssw = float(np.dot(dev, dev))
        self.N = int(p.shape[0])


def _nll(
    theta: np.ndarray,
    st: _Stats,
    mean: MeanFunction,
    beta0: np.ndarray,
    grid: Grid,
    opts: GPOptions,
    dist: tuple[np.ndarray, np.ndarray],
) -> tuple[float, np.ndarray]:
    iso = opts.lengthscale == "isotropic"
    nl = 1 if iso else 2
    lx = math.exp(theta[0])
    ly = lx if iso else math.exp(theta[1])
    s2 = math.exp(theta[nl])
    fixed_noise = opts.noise is not None
    sig2 = float(opts.noise) if opts.noise is not None else math.exp(theta[nl + 1])
    beta = theta[nl + 1 + (not fixed_noise) :] if (mean.fit and opts.mean_fit == "joint") else beta0
    kx, dkx = _periodic_se(dist[0], grid.lx, lx)
    ky, dky = _periodic_se(dist[1], grid.ly, ly)
    R = kx * ky
    C = st.n.size
    K = s2 * R
    K[np.diag_indices(C)] += sig2 / st.n + 1e-10 * s2
    try:
        L = linalg.cho_factor(K, lower=True, check_finite=False)
    except linalg.LinAlgError:
        return 1e300, np.zeros_like(theta)
    r = st.ybar - mean(st.x, st.y, beta)
    alpha = linalg.cho_solve(L, r, check_finite=False)
    Kinv = linalg.cho_solve(L, np.eye(C), check_finite=False)
    dof = st.N - C
    nll = (
        0.5 * r @ alpha
        + np.log(np.diag(L[0])).sum()
        + 0.5 * C * math.log(2 * math.pi)
        + 0.5 * st.ssw / sig2
        + 0.5 * dof * math.log(2 * math.pi * sig2)
    )
    W = np.outer(alpha, alpha) - Kinv
    grad = []
    gx = -0.5 * np.sum(W * (s2 * dkx * ky))
    gy = -0.5 * np.sum(W * (s2 * kx * dky))
    grad += [gx + gy] if iso else [gx, gy]
    grad.append(-0.5 * np.sum(W * (s2 * R)))
    if not fixed_noise:
        grad.append(-0.5 * np.sum(np.diag(W) * sig2 / st.n) + 0.5 * dof - 0.5 * st.ssw / sig2)
    if mean.fit and opts.mean_fit == "joint":
        grad.extend(-(mean.jacobian(st.x, st.y, beta).T @ alpha))
    return float(nll), np.asarray(grad, dtype=float)


def gp_field(
    xy: ArrayLike,
    values: ArrayLike,
    grid: Grid,
    *,
    mean: MeanFunction | None = None,
    options: GPOptions | None = None,
) -> GPField:
    """Coarse-grain a per-atom quantity with a physics-guided GP (see the module docstring).

    Parameters
    ----------
    xy : array_like, shape (n, 2) or (n, 3)
        Box-frame positions (x, y used; periodic in ``grid``).
    values : array_like, shape (n,)
        Per-atom values.
    grid : Grid
        Output grid (cell centres); its periods define the periodic domain.
    mean : MeanFunction, optional
        The GP mean (default a learned constant).
    options : GPOptions, optional
        Fine grid, length-scale mode, fitting mode.

    Returns
    -------
    GPField
        Mean and std fields (ny, nx), learned parameters.
    """
    p, v = check_atoms(xy, values)
    mean = MeanFunction.constant(float(np.mean(v))) if mean is None else mean
    opts = GPOptions() if options is None else options
    fy, fx = opts.fine_shape or grid.shape
    if fx * fy > opts.max_cells:
        raise InputDataError(
            f"fine grid {fy} x {fx} has more than max_cells={opts.max_cells} cells; use a coarser "
            "fine_shape or raise max_cells (cost grows as cells cubed)."
        )
    fine = Grid(lx=grid.lx, ly=grid.ly, nx=fx, ny=fy, x0=grid.x0, y0=grid.y0)
    st = _Stats(p, v, fine)
    if st.n.size < 4:
        raise InputDataError(f"need atoms in at least 4 fine cells; got {st.n.size}.")
    dist = (st.x[:, None] - st.x[None, :], st.y[:, None] - st.y[None, :])
    # mean law first: weighted least squares on the cell means (start or final, per mean_fit)
    beta0 = np.asarray(mean.init, dtype=float)
    if mean.fit:
        w = np.sqrt(st.n)
        ls = optimize.least_squares(lambda b: w * (st.ybar - mean(st.x, st.y, b)), beta0)
        beta0 = ls.x
    resid = st.ybar - mean(st.x, st.y, beta0)
    sig2_0 = opts.noise or (st.ssw / max(st.N - st.n.size, 1)) or float(np.var(st.ybar)) or 1.0
    s2_0 = max(float(np.var(resid)) - float(np.mean(sig2_0 / st.n)), 1e-3 * sig2_0)
    cell = min(grid.lx / fx, grid.ly / fy)
    half = 0.5 * min(grid.lx, grid.ly)
    nl = 1 if opts.lengthscale == "isotropic" else 2
    joint = mean.fit and opts.mean_fit == "joint"
    tail = ([] if opts.noise is not None else [math.log(sig2_0)]) + (list(beta0) if joint else [])
    lo_ell, hi_ell = math.log(0.5 * cell), math.log(half)
    vscale = max(float(np.var(st.ybar)), sig2_0 / float(np.mean(st.n)), 1e-300)
    bounds: list[tuple[float | None, float | None]] = [(lo_ell, hi_ell)] * nl
    bounds.append((math.log(vscale * 1e-8), math.log(vscale * 1e4)))
    if opts.noise is None:
        bounds.append((math.log(sig2_0 * 1e-4), math.log(sig2_0 * 1e4)))
    bounds += [(None, None)] * (len(beta0) if joint else 0)
    args = (st, mean, beta0, grid, opts, dist)
    starts = [
        np.array([max(math.log(f * half), lo_ell)] * nl + [math.log(s2_0)] + tail)
        for f in (0.1, 0.25, 0.5)
    ]
    theta0 = min(starts, key=lambda t: _nll(t, *args)[0])
    res = optimize.minimize(
        _nll,
        theta0,
        args=args,
        jac=True,
        method="L-BFGS-B",
        bounds=bounds,
        options={"maxiter": opts.maxiter},
    )
    if not res.success:
        warnings.warn(
            f"GP hyperparameter fit did not converge: {res.message}", NumericsWarning, stacklevel=2
        )
    th = res.x
    lx = math.exp(th[0])
    ly = lx if nl == 1 else math.exp(th[1])
    s2 = math.exp(th[nl])
    sig2 = float(opts.noise) if opts.noise is not None else math.exp(th[nl + 1])
    beta = th[nl + 1 + (opts.noise is None) :] if joint else beta0
    # prediction at the cell centres
    kx = _periodic_se(dist[0], grid.lx, lx)[0]
    ky = _periodic_se(dist[1], grid.ly, ly)[0]
    K = s2 * kx * ky
    K[np.diag_indices(st.n.size)] += sig2 / st.n + 1e-10 * s2
    L = linalg.cholesky(K, lower=True)
    alpha = linalg.cho_solve((L, True), st.ybar - mean(st.x, st.y, beta))
    gx, gy = np.meshgrid(grid.x, grid.y)
    gx, gy = gx.ravel(), gy.ravel()
    ks = s2 * (
        _periodic_se(gx[:, None] - st.x[None, :], grid.lx, lx)[0]
        * _periodic_se(gy[:, None] - st.y[None, :], grid.ly, ly)[0]
    )
    mu = mean(gx, gy, beta) + ks @ alpha
    V = linalg.solve_triangular(L, ks.T, lower=True)
    prior = (
        s2
        * _periodic_se(np.zeros(1), grid.lx, lx)[0][0]
        * _periodic_se(np.zeros(1), grid.ly, ly)[0][0]
    )
    var = np.maximum(prior - np.einsum("ij,ij->j", V, V), 0.0)
    params = {
        "lengthscale_x": lx,
        "lengthscale_y": ly,
        "signal_variance": s2,
        "noise_variance": sig2,
    } | {n: float(b) for n, b in zip(mean.names, beta, strict=True)}
    logger.debug("gp_field: %d cells, params %s, nll %.6g", st.n.size, params, res.fun)
    return GPField(
        mean=mu.reshape(grid.shape),
        std=np.sqrt(var).reshape(grid.shape),
        params=params,
        nll=float(res.fun),
        n_cells=int(st.n.size),
        converged=bool(res.success),
    )
