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


def test_new_member_follows_the_population_spread():
    """tau 0 gives the population itself; a large tau spreads members over the box."""
    from bayescal.infer.priors import new_member

    lower, upper = np.array([0.0, 10.0]), np.array([1.0, 30.0])
    pop = np.tile([0.3, 20.0], (4000, 1))
    same = new_member(pop, np.zeros_like(pop), lower, upper, rng=0)
    np.testing.assert_allclose(same, pop, rtol=1e-9)
    wide = new_member(pop, np.full_like(pop, 2.0), lower, upper, rng=0)
    assert np.all((wide > lower) & (wide < upper))
    # the median member is the population value (logit-symmetric spread)
    np.testing.assert_allclose(np.median(wide, axis=0), [0.3, 20.0], rtol=0.05)
    assert wide[:, 1].std() > 3.0


def test_member_draws_pick_pooled_own_or_new_parameters():
    import xarray as xr

    from bayescal.errors import InputDataError
    from bayescal.study.predictive import _member_draws

    class _Study:
        names = ("a",)
        bounds = np.array([[0.0, 1.0]])

    post = xr.Dataset(
        {
            "a": (("chain", "draw"), np.full((1, 5), 0.5)),
            "a_realization": (("chain", "draw", "realization"), np.full((1, 5, 2), 0.2)),
            "tau": (("chain", "draw", "param"), np.zeros((1, 5, 1))),
        },
        coords={"param": ["a"]},
    )
    flat = post.stack(sample=("chain", "draw"))
    idx, gen = np.arange(3), np.random.default_rng(0)
    assert np.all(_member_draws(_Study, flat, idx, "pooled", 0, gen) == 0.5)
    assert np.all(_member_draws(_Study, flat, idx, "realization", 1, gen) == 0.2)
    np.testing.assert_allclose(_member_draws(_Study, flat, idx, "new", 0, gen), 0.5)
    with pytest.raises(InputDataError, match="member must be"):
        _member_draws(_Study, flat, idx, "other", 0, gen)
