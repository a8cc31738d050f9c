"""The data predictive of the stress curve (bayescal.study.predictive): band, coverage, peak."""

from __future__ import annotations

import numpy as np
import pytest

from bayescal.study.predictive import StressPredictive


def _predictive(error_sd: float) -> StressPredictive:
    rng = np.random.default_rng(0)
    strain = np.linspace(0.0, 0.5, 51)
    truth = 1.5 * np.exp(-(((strain - 0.1) / 0.05) ** 2)) + 0.9 * (strain > 0.1)
    model = np.tile(truth, (20, 1))
    data = (model[None] + error_sd * rng.standard_normal((200, 20, 51))).reshape(-1, 51)
    ref_strain = np.linspace(0.0, 0.6, 301)  # beyond the model's range: not counted
    reference = np.interp(ref_strain, strain, truth) + error_sd * rng.standard_normal(301)
    return StressPredictive(
        strain=strain,
        model=model,
        data=data,
        reference=reference,
        reference_strain=ref_strain,
        error_sd=error_sd,
    )


def test_a_calibrated_band_covers_its_level():
    pred = _predictive(0.02)
    assert pred.coverage(0.9) == pytest.approx(0.9, abs=0.06)
    lo, med, hi = pred.band(0.9)
    assert np.all(lo < med) and np.all(med < hi)
    model = pred.band(0.9, of="model")
    np.testing.assert_allclose(model[0], model[2])  # the runs alone have no spread here


def test_median_peak_and_summary():
    pred = _predictive(0.01)
    peak, at = pred.median_peak()
    truth = pred.model[0]
    assert peak == pytest.approx(truth.max(), abs=0.01)
    assert at == pytest.approx(pred.strain[np.argmax(truth)], abs=0.011)
    assert "covers" in pred.summary() and "median peak" in pred.summary()


def test_an_overconfident_band_misses_the_data():
    pred = _predictive(0.02)
    narrow = StressPredictive(
        strain=pred.strain,
        model=pred.model,
        data=np.repeat(pred.model, 10, axis=0),
        reference=pred.reference,
        reference_strain=pred.reference_strain,
        error_sd=0.0,
    )
    assert narrow.coverage(0.9) < 0.2
