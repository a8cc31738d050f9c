"""Estimators of the MD application's quantities of interest (array core, no LAMMPS).

- :func:`mean_squared_displacement`, :func:`fit_diffusivity`, :func:`diffusivity`: the liquid's
  self-diffusivity ``D = slope / 6`` of the time- and atom-averaged MSD over a window of lags;
- :func:`vibrational_msd`: the solid's mean-squared vibrational displacement ``<u^2>`` about
  each atom's time-averaged position (Debye–Waller / Lindemann), the plateau of the MSD.

The full MD (:mod:`bayescal.md.candidates`) and the reduced-order MD
(:mod:`bayescal.md.reduced`) call the same functions, so the two are measured alike.

MSD fit window: the paper fits 1–11 ps of a 15 ps run (fractions 0.07–0.73 of the run). Our runs
are a few ps, so the window is given as fractions of the run, default ``(0.1, 0.6)``: in liquid
copper near 1600 K the ballistic regime and the cage rattling are over by ~0.3 ps (the velocity
autocorrelation has decayed), which the lower end clears for runs of 3 ps and more, and the upper
end keeps at least 40 % of the frames as time origins for every lag, where the paper's 0.73
leaves 27 % (the time-averaged MSD gets noisy as the number of origins falls).

Units: Å, ps.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import ArrayLike

from bayescal.errors import InputDataError

__all__ = [
    "A2PS_TO_CM2S",
    "DiffusivityFit",
    "check_window",
    "diffusivity",
    "fit_diffusivity",
    "mean_squared_displacement",
    "vibrational_msd",
]

A2PS_TO_CM2S = 1e-4
"""Å^2/ps -> cm^2/s."""


def _as_trajectory(positions: ArrayLike) -> np.ndarray:
    """``positions`` as a finite float array ``(..., T, N, d)`` with ``T >= 2``, or raise."""
    x = np.asarray(positions, dtype=float)
    if x.ndim < 3 or x.shape[-3] < 2 or not np.all(np.isfinite(x)):
        raise InputDataError(
            "positions must be a finite array of shape (..., T, N, d) with T >= 2; got shape "
            f"{x.shape}."
        )
    return x


def _without_drift(x: np.ndarray, masses: ArrayLike | None) -> np.ndarray:
    """``x`` (..., T, N, d) minus its mass-weighted centre of mass at each time."""
    w = np.ones(x.shape[-2]) if masses is None else np.asarray(masses, dtype=float)
    if w.shape != (x.shape[-2],) or np.any(w <= 0):
        raise InputDataError(f"masses must be positive with shape ({x.shape[-2]},).")
    com = np.einsum("...tnd,n->...td", x, w / w.sum())
    return x - com[..., :, None, :]


def check_window(window: tuple[float, float]) -> None:
    """Raise :class:`~bayescal.errors.InputDataError` unless ``window`` is 0 <= a < b <= 1."""
    if not (len(window) == 2 and 0.0 <= window[0] < window[1] <= 1.0):
        raise InputDataError(
            f"fit_window must be two fractions 0 <= start < stop <= 1; got {window!r}."
        )


def mean_squared_displacement(
    positions: ArrayLike,
    *,
    masses: ArrayLike | None = None,
    remove_drift: bool = True,
) -> np.ndarray:
    """Time- and atom-averaged mean-squared displacement of an unwrapped trajectory.

    ``MSD(m) = < |r_i(t + m) - r_i(t)|^2 >`` averaged over atoms ``i`` and all time origins
    ``t = 0 … T-1-m``, for every lag ``m = 0 … T-1``, computed exactly in ``O(T log T)`` per
    coordinate with the FFT autocorrelation (zero-padded, so not circular).

    Parameters
    ----------
    positions : array_like, shape (..., T, N, d)
        Unwrapped positions of ``N`` atoms at ``T`` equally spaced frames (any length unit).
    masses : array_like, shape (N,), optional
        For the centre-of-mass drift (default equal masses).
    remove_drift : bool
        Subtract the centre-of-mass displacement of each frame first.

    Returns
    -------
    ndarray, shape (..., T)
        MSD per lag, in the squared length unit; ``MSD[..., 0] == 0``.

    Examples
    --------
    >>> t = np.arange(5.0)
    >>> x = np.stack([t, 0 * t, 0 * t], -1)[:, None, :]  # one atom moving at unit speed
    >>> mean_squared_displacement(x, remove_drift=False)
    array([ 0.,  1.,  4.,  9., 16.])
    """
    x = _as_trajectory(positions)
    if remove_drift:
        x = _without_drift(x, masses)
    n_t = x.shape[-3]
    # (..., N, d, T): time last
    xt = np.moveaxis(x, -3, -1)
    sq = xt**2
    csum = np.concatenate([np.zeros((*sq.shape[:-1], 1)), np.cumsum(sq, axis=-1)], axis=-1)
    lags = np.arange(n_t)
    # sum_{k=0}^{T-1-m} |r_k|^2 + sum_{k=m}^{T-1} |r_k|^2
    s1 = csum[..., n_t - lags] + (csum[..., -1:] - csum[..., lags])
    spec = np.fft.rfft(xt, n=2 * n_t, axis=-1)
    s2 = np.fft.irfft(spec * spec.conj(), n=2 * n_t, axis=-1)[..., :n_t]
    per = (s1 - 2.0 * s2) / (n_t - lags)
    out = per.sum(axis=-2).mean(axis=-2)  # sum over d, mean over atoms
    out[..., 0] = 0.0
    return np.maximum(out, 0.0)


@dataclass(frozen=True, slots=True, kw_only=True)
class DiffusivityFit:
    """A straight-line fit ``MSD = slope * lag + intercept`` and ``D = slope / (2 d)``.

    Attributes
    ----------
    d_a2ps, d_cm2s : float
        Self-diffusivity in Å^2/ps and cm^2/s (1 Å^2/ps = 1e-4 cm^2/s).
    slope, intercept : float
        Of the fit, Å^2/ps and Å^2.
    window : tuple of float
        Lag-time window fitted, ps.
    lag : ndarray, shape (T,)
        Lag times, ps.
    msd : ndarray, shape (T,)
        MSD per lag, Å^2.
    """

    d_a2ps: float
    d_cm2s: float
    slope: float
    intercept: float
    window: tuple[float, float]
    lag: np.ndarray = field(repr=False)
    msd: np.ndarray = field(repr=False)


def fit_diffusivity(
    lag: ArrayLike,
    msd: ArrayLike,
    *,
    window: tuple[float, float],
    dims: int = 3,
) -> DiffusivityFit:
    """Diffusivity from a least-squares line through ``msd`` over ``window[0] <= lag <= window[1]``.

    Parameters
    ----------
    lag : array_like, shape (T,)
        Lag times, ps.
    msd : array_like, shape (T,)
        Mean-squared displacement, Å^2.
    window : tuple of float
        Lag-time window, ps (at least two lags inside).
    dims : int
        Spatial dimension ``d`` in ``D = slope / (2 d)``.

    Returns
    -------
    DiffusivityFit

    Examples
    --------
    >>> lag = np.linspace(0.0, 10.0, 11)
    >>> round(fit_diffusivity(lag, 6.0 * 0.5 * lag + 1.0, window=(2.0, 8.0)).d_a2ps, 12)
    0.5
    """
    t = np.asarray(lag, dtype=float)
    y = np.asarray(msd, dtype=float)
    if t.ndim != 1 or t.shape != y.shape:
        raise InputDataError(f"lag and msd must be 1-D of one length; got {t.shape}, {y.shape}.")
    sel = (t >= window[0] - 1e-12) & (t <= window[1] + 1e-12)
    if sel.sum() < 2:
        raise InputDataError(
            f"the fit window {window} ps holds {int(sel.sum())} lag(s); need >= 2 "
            "(longer run or more frames)."
        )
    if not np.all(np.isfinite(y[sel])):
        raise InputDataError("msd is not finite inside the fit window.")
    slope, intercept = np.polyfit(t[sel], y[sel], 1)
    d = float(slope) / (2 * dims)
    return DiffusivityFit(
        d_a2ps=d,
        d_cm2s=d * A2PS_TO_CM2S,
        slope=float(slope),
        intercept=float(intercept),
        window=(float(window[0]), float(window[1])),
        lag=t,
        msd=y,
    )


def diffusivity(
    positions: ArrayLike,
    times: ArrayLike,
    *,
    fit_window: tuple[float, float] = (0.1, 0.6),
    masses: ArrayLike | None = None,
    remove_drift: bool = True,
) -> DiffusivityFit:
    """Self-diffusivity of an unwrapped trajectory: MSD, then a line over a window of lags.

    Parameters
    ----------
    positions : array_like, shape (T, N, 3)
        Unwrapped positions, Å, at equally spaced ``times``.
    times : array_like, shape (T,)
        Frame times, ps.
    fit_window : tuple of float
        Window as fractions of the run ``times[-1] - times[0]`` (module docstring).
    masses : array_like, shape (N,), optional
        For the drift removal.
    remove_drift : bool
        Subtract the centre-of-mass motion.

    Returns
    -------
    DiffusivityFit
        ``D`` in Å^2/ps and cm^2/s, the fit and the MSD curve.
    """
    check_window(fit_window)
    x = np.asarray(positions, dtype=float)
    t = np.asarray(times, dtype=float)
    if x.ndim != 3 or t.shape != (x.shape[0],):
        raise InputDataError(
            f"positions must be (T, N, 3) with times (T,); got {x.shape} and {t.shape}."
        )
    steps = np.diff(t)
    if np.any(steps <= 0) or not np.allclose(steps, steps[0], rtol=1e-9, atol=0):
        raise InputDataError("times must increase in equal steps.")
    m = mean_squared_displacement(x, masses=masses, remove_drift=remove_drift)
    lag = t - t[0]
    span = lag[-1]
    return fit_diffusivity(
        lag, m, window=(fit_window[0] * span, fit_window[1] * span), dims=x.shape[-1]
    )


def vibrational_msd(
    positions: ArrayLike,
    *,
    masses: ArrayLike | None = None,
    discard: float = 0.0,
    remove_drift: bool = True,
) -> np.ndarray:
    """Mean-squared vibrational displacement ``<u^2>`` about the time-averaged positions.

    ``<u^2> = < |r_i(t) - rbar_i|^2 >`` averaged over atoms ``i`` and the kept frames ``t``,
    with ``rbar_i`` the time average of atom ``i`` over those frames: the Debye–Waller /
    Lindemann measure of a solid (``B = 8 pi^2 <u^2> / 3``), half the long-lag plateau of the
    MSD. It grows with temperature and falls with the stiffness of the potential; in a finite
    run it misses the vibrations slower than the run.

    Parameters
    ----------
    positions : array_like, shape (..., T, N, d)
        Unwrapped positions, Å, at equally spaced frames.
    masses : array_like, shape (N,), optional
        For the centre-of-mass drift (default equal masses).
    discard : float
        Fraction of the leading frames dropped (equilibration), in [0, 1).
    remove_drift : bool
        Subtract the centre-of-mass displacement of each frame first.

    Returns
    -------
    ndarray, shape (...)
        ``<u^2>``, Å^2 (a 0-d array for one trajectory).

    Examples
    --------
    >>> x = np.array([1.0, -1.0, 1.0, -1.0])[:, None, None] * np.array([1.0, 0.0, 0.0])
    >>> float(vibrational_msd(x, remove_drift=False))  # one atom at +-1 A about 0
    1.0
    """
    x = _as_trajectory(positions)
    if not 0.0 <= discard < 1.0:
        raise InputDataError(f"discard must be a fraction in [0, 1); got {discard!r}.")
    first = int(np.floor(discard * x.shape[-3]))
    x = x[..., min(first, x.shape[-3] - 2) :, :, :]
    if remove_drift:
        x = _without_drift(x, masses)
    u = x - x.mean(axis=-3, keepdims=True)
    return np.mean(np.sum(u**2, axis=-1), axis=(-2, -1))
