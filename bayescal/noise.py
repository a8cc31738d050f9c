"""Observation noise measured from the data: the stress curve's own fluctuations.

An MD stress–strain curve of a small glass fluctuates about its mean response; in the flow
regime those fluctuations are the observation noise of the stress term. :func:`stress_noise`
measures them as the scatter about a smooth (Savitzky–Golay) fit and their empirical
autocorrelation, so that a likelihood can use their covariance between the compared frames
instead of treating neighbouring frames as independent.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import xarray as xr
from numpy.typing import ArrayLike

from bayescal.errors import InputDataError

__all__ = ["StressNoise", "stress_noise"]


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class StressNoise:
    """Stationary noise of a stress curve sampled on its own strain grid.

    Attributes
    ----------
    sd : float
        Standard deviation of the fluctuations (GPa).
    acf : ndarray, shape (L,)
        Autocorrelation at lags ``0 .. L-1`` points of the curve (``acf[0] = 1``), cut at its
        first non-positive value.
    """

    sd: float
    acf: np.ndarray

    def covariance(self, indices: ArrayLike) -> np.ndarray:
        """Noise covariance between points ``indices`` of the curve, shape ``(k, k)``, GPa^2.

        Lags beyond the measured autocorrelation are uncorrelated; the matrix is made positive
        semi-definite by clipping negative eigenvalues (a cut autocorrelation need not be).
        """
        idx = np.asarray(indices, dtype=np.int64)
        lag = np.abs(idx[:, None] - idx[None, :])
        rho = np.where(lag < len(self.acf), self.acf[np.minimum(lag, len(self.acf) - 1)], 0.0)
        w, v = np.linalg.eigh(self.sd**2 * rho)
        return (v * np.clip(w, 0.0, None)) @ v.T


def stress_noise(
    reference: xr.Dataset,
    *,
    variable: str = "stress",
    strain: str = "stress_strain",
    flow_from: float = 0.15,
    window: int = 51,
) -> StressNoise:
    """Measure the noise of a reference stress curve in its flow regime.

    Parameters
    ----------
    reference : xarray.Dataset
        Holds ``variable`` (1-D, GPa) with coordinate ``strain``.
    variable, strain : str
        Names of the stress variable and of its strain coordinate.
    flow_from : float
        Strain from which the curve is in steady flow (the peak and the elastic branch are
        trends, not noise).
    window : int
        Odd number of points of the quadratic Savitzky–Golay fit that is taken as the mean
        response.

    Returns
    -------
    StressNoise

    Raises
    ------
    InputDataError
        Missing variables, or fewer than ``2 * window`` points in the flow regime.
    """
    from scipy.signal import savgol_filter

    if variable not in reference or strain not in reference[variable].coords:
        raise InputDataError(
            f"stress_noise needs {variable!r} with a {strain!r} coordinate in the reference."
        )
    s = np.asarray(reference[variable].values, dtype=np.float64)
    e = np.asarray(reference[variable][strain].values, dtype=np.float64)
    if window < 5 or window % 2 == 0:
        raise InputDataError(f"window must be an odd number >= 5; got {window}.")
    flow = e >= flow_from
    if flow.sum() < 2 * window:
        raise InputDataError(
            f"only {int(flow.sum())} points at strain >= {flow_from}; need {2 * window}."
        )
    scatter = (s - savgol_filter(s, window, 2))[flow]
    scatter = scatter - scatter.mean()
    n = scatter.size
    auto = np.correlate(scatter, scatter, mode="full")[n - 1 :] / np.arange(n, 0, -1)
    acf = auto / auto[0]
    cut = int(np.argmax(acf <= 0)) if np.any(acf <= 0) else n
    return StressNoise(sd=float(np.sqrt(auto[0])), acf=acf[:cut].copy())
