"""Least-squares fit of the shear-band model's stress curve to a measured one.

The stress of :mod:`models.toy.shear_band` depends on ``mu``, ``tau_peak``, ``tau_flow`` and
``soft`` only (linear to the peak, exponential softening after it), so these four are seen in a
stress–strain curve alone: a study can fix some of them (say ``mu`` and ``soft``) from the fit
before calibrating the rest against fields and stress together.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike
from scipy.optimize import least_squares

__all__ = ["fit_stress_shape", "stress_curve"]


def stress_curve(
    strain: ArrayLike, mu: float, tau_peak: float, tau_flow: float, soft: float
) -> np.ndarray:
    """The shear-band model's stress at ``strain``: elastic to the peak, then softening.

    Parameters
    ----------
    strain : array_like
        Applied engineering shear strain.
    mu, tau_peak, tau_flow, soft : float
        Elastic slope, peak and flow stress, softening rate (as :mod:`models.toy.shear_band`).

    Returns
    -------
    ndarray
        ``mu * strain`` up to ``tau_peak / mu``, then
        ``tau_flow + (tau_peak - tau_flow) * exp(-soft * (strain - tau_peak / mu))``.
    """
    strain = np.asarray(strain, dtype=float)
    past = strain - tau_peak / mu
    soft_part = tau_flow + (tau_peak - tau_flow) * np.exp(-soft * np.maximum(past, 0.0))
    return np.where(past <= 0, mu * strain, soft_part)


def fit_stress_shape(strain: ArrayLike, stress: ArrayLike) -> dict[str, float]:
    """Least-squares fit of :func:`stress_curve` to a measured stress–strain curve.

    Starts from a peak at strain 0.05, the curve's maximum as ``tau_peak``, the mean of its last
    third as ``tau_flow`` and ``soft = 20``; bounds keep all four positive (``soft`` >= 0), the
    stresses below ten times the maximum (plus one) and ``soft`` below 500.

    Parameters
    ----------
    strain, stress : array_like, shape (n,)
        The measured curve (say, realization-averaged MD stress per snapshot strain).

    Returns
    -------
    dict of str to float
        ``mu``, ``tau_peak``, ``tau_flow``, ``soft`` at the least-squares optimum.
    """
    strain = np.asarray(strain, dtype=float)
    stress = np.asarray(stress, dtype=float)
    top = float(np.max(stress))
    x0 = [top / 0.05, top, float(np.mean(stress[-len(stress) // 3 :])), 20.0]
    lo, hi = [1e-3, 1e-3, 1e-3, 0.0], [1e3, 10 * top + 1, 10 * top + 1, 500.0]
    fit = least_squares(
        lambda x: stress_curve(strain, *x) - stress, np.clip(x0, lo, hi), bounds=(lo, hi)
    )
    return dict(zip(("mu", "tau_peak", "tau_flow", "soft"), map(float, fit.x), strict=True))
