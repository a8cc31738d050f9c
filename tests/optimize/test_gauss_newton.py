"""Gauss-Newton polish (bayescal.optimize.gauss_newton) on residual functions with known minima."""

import numpy as np
import pytest

from bayescal.errors import InputDataError
from bayescal.optimize.gauss_newton import GaussNewtonOptions, GaussNewtonPolish

TRUTH = np.array([0.3, 0.6, 0.45])


def _valley(X):
    """A zero-residual, ill-conditioned linear valley (condition number 100) in 3-d."""
    A = np.array([[100.0, 0.0, 0.0], [1.0, 1.0, 0.0], [0.0, 0.9, 1.0]])
    return (np.atleast_2d(X) - TRUTH) @ A.T


def _drive(gn, residual, budget):
    used = 0
    while used < budget:
        X = gn.ask()
        if len(X) == 0:
            break
        R = residual(X)
        gn.tell(X, np.linalg.norm(R, axis=1), R)
        used += len(X)
    return used


def test_linear_valley_is_solved_in_one_iteration():
    """Exact Jacobian of a linear residual: one step lands on the minimum (cone of |r|)."""
    gn = GaussNewtonPolish([0.9, 0.1, 0.9])
    used = _drive(gn, _valley, 1 + 3 + 3)
    x, y = gn.best
    assert used == 7 and gn.iterations == 1
    np.testing.assert_allclose(x, TRUTH, atol=1e-9)
    assert y < 1e-8


def test_nonlinear_residual_converges_and_never_gets_worse():
    """Rosenbrock residuals from a far start: the incumbent improves monotonically to 1e-6."""

    def rosen(X):
        z = 4.0 * np.atleast_2d(X) - 2.0  # unit cube -> [-2, 2]^2, minimum at (1, 1)
        return np.stack([10.0 * (z[:, 1] - z[:, 0] ** 2), 1.0 - z[:, 0]], axis=1)

    gn = GaussNewtonPolish([0.2, 0.9])
    history = []
    for _ in range(60):
        X = gn.ask()
        if len(X) == 0:
            break
        R = rosen(X)
        gn.tell(X, np.linalg.norm(R, axis=1), R)
        history.append(gn.best[1])
    assert np.all(np.diff(history) <= 0)
    np.testing.assert_allclose(gn.best[0], [0.75, 0.75], atol=1e-6)


def test_bounds_and_failures():
    """Steps are clipped to the cube; a failed start stops; failed differences are dropped."""
    gn = GaussNewtonPolish([1.0, 0.5, 0.5])
    X = gn.ask()
    gn.tell(X, [1.0], _valley(X))
    X = gn.ask()
    assert X[0, 0] < 1.0  # the difference step goes inwards at the upper bound
    R = _valley(X)
    R[1] = np.nan  # the second parameter's difference failed
    gn.tell(X, np.linalg.norm(np.nan_to_num(R), axis=1), R)
    X = gn.ask()
    assert ((X >= 0) & (X <= 1)).all()
    np.testing.assert_allclose(X[:, 1], 0.5)  # no step in the failed parameter

    failed = GaussNewtonPolish([0.5, 0.5])
    X = failed.ask()
    failed.tell(X, [np.nan], np.full((1, 2), np.nan))
    assert failed.should_stop and failed.best is None and len(failed.ask()) == 0


def test_tell_must_match_ask_and_options_are_checked():
    gn = GaussNewtonPolish([0.5, 0.5])
    gn.ask()
    with pytest.raises(InputDataError, match="last ask"):
        gn.tell([[0.1, 0.1]], [1.0], [[1.0]])
    with pytest.raises(InputDataError, match="unit cube"):
        GaussNewtonPolish([1.5, 0.5])
    with pytest.raises(InputDataError, match="fd_step"):
        GaussNewtonOptions(fd_step=0.0)
    with pytest.raises(InputDataError, match="fd_step"):
        GaussNewtonPolish([0.5, 0.5], GaussNewtonOptions(fd_step=(1e-3, 1e-3, 1e-3)))
    with pytest.raises(InputDataError, match="step_factors"):
        GaussNewtonOptions(step_factors=())


def test_polish_budget_as_count_or_share():
    from bayescal.optimize import BudgetShare, EGOOptions

    assert EGOOptions(polish=BudgetShare(0.29)).polish_evaluations(100) == 29
    assert EGOOptions(polish=5).polish_evaluations(3) == 3
    assert EGOOptions().polish_evaluations(100) == 0
    with pytest.raises(InputDataError, match=r"polish .* Use BudgetShare\(0\.29\)"):
        EGOOptions(polish=0.29)
    with pytest.raises(InputDataError, match="polish=BudgetShare"):
        EGOOptions(polish=BudgetShare(1.0))
    with pytest.raises(InputDataError, match="polish"):
        EGOOptions(polish=-1)


def test_a_better_difference_point_becomes_the_incumbent():
    """Judged by the discrepancy: a difference point 20 % below the start becomes the
    incumbent, and the Jacobian is taken again there; a slightly better one does not."""
    gn = GaussNewtonPolish([0.5, 0.5])
    X = gn.ask()
    gn.tell(X, [1.0], [[1.0, 1.0]])
    X = gn.ask()
    gn.tell(X, [2.0, 0.5], [[2.0, 1.0], [1.0, 0.5]])
    x, y = gn.best
    np.testing.assert_allclose(x, X[1])
    assert y == 0.5
    # the next ask is a new Jacobian round around the new incumbent
    np.testing.assert_allclose(gn.ask(), x[None] + np.diag([1e-3, 1e-3]))

    slight = GaussNewtonPolish([0.5, 0.5])
    X = slight.ask()
    slight.tell(X, [1.0], [[1.0, 1.0]])
    X = slight.ask()
    slight.tell(X, [2.0, 0.9], [[2.0, 1.0], [1.0, 0.9]])
    assert slight.best[1] == 1.0 and len(slight.ask()) == 3  # a step round from the start


def test_failed_steps_fall_back_to_a_better_difference_point():
    """When every step fails but a difference point beat the incumbent (by less than the 20 %
    that moves at once), the polish moves there and takes the Jacobian again, instead of
    damping steps from the worse point."""
    gn = GaussNewtonPolish([0.5, 0.5])
    gn.tell(gn.ask(), [1.0], [[1.0, 1.0]])
    X = gn.ask()
    gn.tell(X, [2.0, 0.9], [[2.0, 1.0], [1.0, 0.9]])
    assert gn.best[1] == 1.0
    trials = gn.ask()
    assert len(trials) == 3
    gn.tell(trials, [3.0, 3.0, 3.0], np.ones((3, 2)))
    x, y = gn.best
    np.testing.assert_allclose(x, X[1])
    assert y == 0.9 and gn.iterations == 1
    np.testing.assert_allclose(gn.ask(), x[None] + np.diag([1e-3, 1e-3]))

    # without a better difference point the same failure damps the step instead
    damped = GaussNewtonPolish([0.5, 0.5])
    damped.tell(damped.ask(), [1.0], [[1.0, 1.0]])
    X = damped.ask()
    damped.tell(X, [2.0, 1.5], [[2.0, 1.0], [1.0, 1.5]])
    first = damped.ask()
    damped.tell(first, [3.0, 3.0, 3.0], np.ones((3, 2)))
    second = damped.ask()
    assert damped.best[1] == 1.0 and len(second) == 3
    assert np.abs(second - 0.5).max() < np.abs(first - 0.5).max()


def test_a_step_uphill_in_d_retakes_the_differences_from_the_other_side():
    """If d's own one-sided slopes say the failed Gauss–Newton step went uphill, the residuals
    have a kink at the incumbent (the STZ twin in chi0): the Jacobian is retaken with backward
    differences before any damping; a second failure there damps."""
    gn = GaussNewtonPolish([0.5, 0.5])
    gn.tell(gn.ask(), [1.0], [[0.01, 0.01]])
    X = gn.ask()
    h = X[0, 0] - 0.5
    # residuals fall forwards (the step goes +), but d rises forwards
    gn.tell(X, [1.1, 1.1], [[0.01 - h, 0.01], [0.01, 0.01 - h]])
    trials = gn.ask()
    assert (trials > 0.5).all()
    gn.tell(trials, [2.0, 2.0, 2.0], np.full((3, 2), 0.02))
    back = gn.ask()
    np.testing.assert_allclose(back, 0.5 - np.diag([h, h]))
    assert gn.best[1] == 1.0 and gn.iterations == 0
    # the backward residuals point the same way: the step fails again and is damped
    gn.tell(back, [0.99, 0.99], [[0.01 + h, 0.01], [0.01, 0.01 + h]])
    first = gn.ask()
    gn.tell(first, [2.0, 2.0, 2.0], np.full((3, 2), 0.02))
    damped = gn.ask()
    assert len(damped) == 3 and np.abs(damped - 0.5).max() < np.abs(first - 0.5).max()
