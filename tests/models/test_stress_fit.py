"""The stress-curve fit of the shear-band toy model (models/toy/stress_fit.py)."""

from __future__ import annotations

import numpy as np
import pytest

from models.toy import shear_band
from models.toy.stress_fit import fit_stress_shape, stress_curve

TRUTH = {"mu": 20.0, "tau_peak": 1.6, "tau_flow": 1.0, "soft": 30.0}


def test_stress_curve_is_the_models_stress() -> None:
    out = shear_band.simulate(TRUTH, n_frames=31, max_strain=0.45, nx=4, ny=4)
    np.testing.assert_allclose(
        stress_curve(out["strain"].values, **TRUTH), out["stress"].values, rtol=1e-12
    )


def test_fit_recovers_known_parameters() -> None:
    strain = np.linspace(0.0, 0.45, 31)
    fit = fit_stress_shape(strain, stress_curve(strain, **TRUTH))
    assert list(fit) == ["mu", "tau_peak", "tau_flow", "soft"]
    for name, value in TRUTH.items():
        assert fit[name] == pytest.approx(value, rel=1e-6), name


def test_fit_with_noise_is_close() -> None:
    strain = np.linspace(0.0, 0.45, 31)
    noisy = stress_curve(strain, **TRUTH) + np.random.default_rng(0).normal(0.0, 0.02, 31)
    fit = fit_stress_shape(strain, noisy)
    assert fit["mu"] == pytest.approx(TRUTH["mu"], rel=0.1)
    assert fit["tau_peak"] == pytest.approx(TRUTH["tau_peak"], rel=0.05)
    assert fit["tau_flow"] == pytest.approx(TRUTH["tau_flow"], rel=0.05)
    assert fit["soft"] == pytest.approx(TRUTH["soft"], rel=0.3)
