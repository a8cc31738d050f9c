"""Composite EGO (bayescal.optimize.composite): the discrepancy map, the surrogate, the search."""

import logging

import numpy as np
import pytest
import torch

from bayescal.errors import InputDataError
from bayescal.optimize import EGO, EGOOptions
from bayescal.optimize.composite import fit_residual_surrogate, procrustes_discrepancy

PARTS = (10, 10, 10)
TRUTH = np.array([0.3, 0.7])
MODES = np.random.default_rng(0).standard_normal((2, 40))


def residuals(x: np.ndarray) -> np.ndarray:
    """Three 10-entry 'snapshot' parts and a 10-entry 'stress' part, zero at TRUTH."""
    return np.tanh((x - TRUTH) @ MODES)


def test_procrustes_discrepancy_adds_part_norms_and_stress_magnitudes():
    r = np.random.default_rng(1).standard_normal((5, 40))
    expected = sum(np.linalg.norm(r[:, 10 * i : 10 * i + 10], axis=1) for i in range(3))
    expected += np.abs(r[:, 30:]).sum(axis=1)
    np.testing.assert_allclose(procrustes_discrepancy(r, PARTS), expected)
    np.testing.assert_allclose(procrustes_discrepancy(-r, PARTS), expected)  # sign-free
    assert procrustes_discrepancy(np.zeros(40), PARTS) == 0.0
    with pytest.raises(InputDataError, match="exceed"):
        procrustes_discrepancy(r, (30, 20))


def test_surrogate_reproduces_training_discrepancies_and_predicts_new_ones():
    rng = np.random.default_rng(2)
    x = rng.random((30, 2))
    r = residuals(x)
    sur = fit_residual_surrogate(x, r, PARTS, input_bounds=np.array([[0.0, 0], [1, 1]]), seed=0)
    assert sur.best_log_d == pytest.approx(np.log(procrustes_discrepancy(r, PARTS).min()))
    test = rng.random((20, 2))
    with torch.no_grad():
        mean = sur.model.posterior(torch.as_tensor(test, dtype=torch.float64)).mean
        predicted = np.exp(sur.log_discrepancy(mean).numpy())
    true = procrustes_discrepancy(residuals(test), PARTS)
    # the map is applied to the emulated parts: relative errors of a few per cent
    np.testing.assert_allclose(predicted, true, rtol=0.1)


@pytest.mark.slow  # 20 evaluations of each EGO: about 10 s
def test_composite_beats_the_scalar_gp_on_a_least_squares_cone():
    best = {}
    for surrogate in ("scalar", "composite"):
        opts = EGOOptions(surrogate=surrogate, batch_size=2, log_y=True, num_restarts=4)
        ego = EGO(2, options=opts, seed=0, residual_parts=PARTS)
        for _ in range(10):
            x = ego.ask()
            r = residuals(x)
            ego.tell(x, procrustes_discrepancy(r, PARTS), residuals=r)
        best[surrogate] = ego.best[1]
    # measured: 0.0013 composite, 0.076 scalar after 20 evaluations
    assert best["composite"] < 0.01 < best["scalar"]


def test_composite_needs_residual_parts_and_falls_back_without_residuals(caplog):
    with pytest.raises(InputDataError, match="residual_parts"):
        EGO(2, options=EGOOptions(surrogate="composite"))
    with pytest.raises(InputDataError, match="surrogate"):
        EGOOptions(surrogate="vector")
    opts = EGOOptions(surrogate="composite", n_init=6, num_restarts=2, raw_samples=64)
    ego = EGO(2, options=opts, seed=0, residual_parts=PARTS)
    for k in range(6):
        x = ego.ask()
        r = residuals(x) if k else None  # the first evaluation's residuals are missing
        ego.tell(x, procrustes_discrepancy(residuals(x), PARTS), residuals=r)
    with caplog.at_level(logging.INFO, logger="bayescal.optimize.ego"):
        assert ego.ask().shape == (1, 2)
    assert "scalar GP instead of the composite one" in caplog.text
    with pytest.raises(InputDataError, match="residuals"):
        ego.tell(x, np.ones(1), residuals=np.ones((2, 40)))
