"""Noise of a stress curve measured from its own fluctuations (bayescal.noise)."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from bayescal.datasets import load_cuzr
from bayescal.errors import InputDataError
from bayescal.noise import stress_noise


def _curve(stress: np.ndarray, strain: np.ndarray) -> xr.Dataset:
    return xr.Dataset(
        {"stress": ("stress_frame", stress)}, coords={"stress_strain": ("stress_frame", strain)}
    )


def test_recovers_ar1_noise_on_a_smooth_trend():
    rng = np.random.default_rng(3)
    e = np.linspace(0, 0.5, 4001)
    sd, rho = 0.015, 0.8
    noise = np.empty_like(e)
    noise[0] = sd * rng.standard_normal()
    for i in range(1, e.size):  # stationary AR(1)
        noise[i] = rho * noise[i - 1] + sd * np.sqrt(1 - rho**2) * rng.standard_normal()
    trend = 0.95 + 0.3 * np.exp(-e / 0.05)
    got = stress_noise(_curve(trend + noise, e), window=101)
    assert got.sd == pytest.approx(sd, rel=0.1)
    assert got.acf[1] == pytest.approx(rho, abs=0.05)
    cov = got.covariance(np.arange(0, 40, 2))
    np.testing.assert_allclose(np.diag(cov), got.sd**2, rtol=1e-6)
    assert np.linalg.eigvalsh(cov).min() > -1e-12


def test_cuzr_curve():
    """The bundled MD curve: scatter 0.012-0.017 GPa about a smooth fit in the flow regime,
    lag-1 autocorrelation about 0.87 at its 501-point resolution, nearly none 5 points apart
    (the spacing of the 101 compared frames)."""
    got = stress_noise(load_cuzr())
    assert 0.011 < got.sd < 0.018
    assert got.acf[1] == pytest.approx(0.87, abs=0.03)
    cov = got.covariance([0, 5, 10])
    assert abs(cov[0, 1] / cov[0, 0]) < 0.2


def test_errors():
    e = np.linspace(0, 0.5, 101)
    with pytest.raises(InputDataError, match="need 102"):
        stress_noise(_curve(np.ones_like(e), e))
    with pytest.raises(InputDataError, match="odd number"):
        stress_noise(_curve(np.ones_like(e), e), window=10)
    with pytest.raises(InputDataError, match="'stress_strain' coordinate"):
        stress_noise(xr.Dataset({"stress": ("f", np.ones(5))}))
