"""Dispersion identified from target QoI values (bayescal.srom.qoi_identification)."""

import numpy as np
import pytest

from bayescal.errors import ConvergenceWarning, InputDataError
from bayescal.srom import SROM
from bayescal.srom.qoi_identification import band_covers, identify_dispersion_by_qoi


def _rotations(angles):
    """Bases e1 rotated by ``angles`` in the (e1, e2) plane of R^4, shape (k, 4, 1)."""
    a = np.asarray(angles, dtype=float)
    Y = np.zeros((a.size, 4, 1))
    Y[:, 0, 0], Y[:, 1, 0] = np.cos(a), np.sin(a)
    return Y


def _srom():
    # symmetric candidates at +-0.1 rad: the tangent sum of weight w is (2 w_0 - 1) 0.1 e2
    return SROM.fit(_rotations([0.1, -0.1]), center=np.eye(4)[:, :1])


def _cos_angle(Y):
    return float(Y[0, 0])


def test_band_covers_uses_central_quantiles():
    v = np.linspace(0.0, 1.0, 101)
    np.testing.assert_array_equal(
        band_covers(v, [0.04, 0.06, 0.5, 0.94, 0.96], 0.9), [False, True, True, True, False]
    )


def test_identified_dispersion_is_the_first_covering_one_and_covers():
    """Targets at 0.05 and 0.2 rad need s in [2.1, 10]; the answer covers, smaller ones do not."""
    srom = _srom()
    targets = [np.cos(0.05), np.cos(0.2)]
    ident = identify_dispersion_by_qoi(srom, _cos_angle, targets, start=0.5, rng=3, n_samples=40)
    assert ident.covered
    assert band_covers(ident.values, targets, ident.level).all()
    lo, hi = ident.band
    assert lo <= np.cos(0.2) and hi >= np.cos(0.05)
    # every smaller dispersion tried misses a target (the search returns the smallest found)
    smaller = ident.tried < ident.dispersion
    assert smaller.any()
    for values in ident.samples[smaller]:
        assert not band_covers(values, targets, ident.level).all()
    # the angle is |2 w - 1| 0.1 s with w ~ U(0, 1): its 95 % quantile 0.095 s must reach 0.2
    # rad (s >= 2.1); the ladder 0.5 * 1.5^k first covers at 2.53, bisection goes below
    assert 0.5 * 1.5**3 < ident.dispersion <= 0.5 * 1.5**4 + 1e-12


def test_same_seed_same_result_and_start_already_covering():
    srom = _srom()
    targets = [np.cos(0.05), np.cos(0.1)]
    a = identify_dispersion_by_qoi(srom, _cos_angle, targets, start=4.0, rng=1)
    b = identify_dispersion_by_qoi(srom, _cos_angle, targets, start=4.0, rng=1)
    assert a.dispersion == b.dispersion == 4.0  # covers at the start: never goes below it
    np.testing.assert_array_equal(a.values, b.values)
    assert a.tried.tolist() == [4.0]


def test_unreachable_target_warns_and_keeps_largest():
    srom = _srom()
    with pytest.warns(ConvergenceWarning, match="no dispersion"):
        ident = identify_dispersion_by_qoi(
            srom, _cos_angle, [1.0, -2.0], start=1.0, max_dispersion=4.0, n_samples=8, rng=0
        )
    assert not ident.covered
    assert ident.dispersion == ident.tried.max() <= 4.0


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"level": 1.0}, "level"),
        ({"start": 0.0}, "start"),
        ({"factor": 1.0}, "factor"),
        ({"start": 2.0, "max_dispersion": 1.0}, "max_dispersion"),
        ({"n_samples": 1}, "n_samples"),
    ],
)
def test_bad_settings_raise(kwargs, match):
    with pytest.raises(InputDataError, match=match):
        identify_dispersion_by_qoi(_srom(), _cos_angle, [1.0], **kwargs)


def test_non_finite_qoi_and_targets_raise():
    with pytest.raises(InputDataError, match="targets"):
        identify_dispersion_by_qoi(_srom(), _cos_angle, [np.nan])
    with pytest.raises(InputDataError, match="non-finite"):
        identify_dispersion_by_qoi(_srom(), lambda Y: np.nan, [1.0], n_samples=2)
