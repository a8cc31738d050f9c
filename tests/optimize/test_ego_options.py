import dataclasses

import numpy as np
import pytest

from bayescal.errors import InputDataError
from bayescal.optimize import (
    EGO,
    BudgetShare,
    EGOOptions,
    EvalStatus,
    LocalSearch,
    count_or_share,
    default_n_init,
)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"batch_size": 0}, r"batch_size must be an int >= 1; got 0"),
        ({"batch_size": 2.0}, r"batch_size must be an int"),
        ({"n_init": 1}, r"n_init must be an int >= 2; got 1\. Use None"),
        ({"num_restarts": 0}, r"num_restarts must be an int >= 1"),
        ({"raw_samples": 4}, r"raw_samples must be an int >= 8; got 4"),
        ({"avoid_radius": -1.0}, r"avoid_radius must be a float in \[0.0, 0.5\]"),
        ({"tol": float("nan")}, r"tol must be a float"),
        ({"patience": 0}, r"patience must be an int >= 1"),
        ({"local": True}, r"local must be a LocalSearch or None; got True"),
        ({"polish": 1.0}, r"polish must be an int .* got the float 1\.0"),
        ({"polish": True}, r"polish must be an int >= 0; got True"),
    ],
)
def test_options_validation(kwargs, match):
    with pytest.raises(InputDataError, match=match):
        EGOOptions(**kwargs)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"radius": 0.7}, r"local\.radius must be a float in \[1e-06, 0.5\]; got 0.7"),
        ({"neighbours": 2}, r"local\.neighbours must be an int >= 3"),
        ({"start": -1}, r"local\.start must be an int >= 0"),
        (
            {"start": 0.5},
            r"local\.start must be an int .* got the float 0\.5\. Use BudgetShare\(0\.5\) for a "
            r"fraction of the budget or an int for a count",
        ),
        ({"start": 24.0}, r"Use BudgetShare\(24\.0\) for a fraction .* or an int"),
        ({"start": BudgetShare(1.0)}, r"local\.start=BudgetShare\(fraction=1\.0\) leaves no"),
        ({"min_radius": 0.3}, r"local\.min_radius must be a float in \[1e-06, 0.2\]"),
        ({"fail_tol": 0}, r"local\.fail_tol must be an int >= 1"),
        ({"quadratic": "yes"}, r"local\.quadratic must be a bool; got 'yes'"),
    ],
)
def test_local_search_validation(kwargs, match):
    with pytest.raises(InputDataError, match=match):
        LocalSearch(**kwargs)


def test_options_frozen_and_replace():
    opts = EGOOptions()
    with pytest.raises(dataclasses.FrozenInstanceError):
        opts.batch_size = 3  # type: ignore[misc]
    assert dataclasses.replace(opts, batch_size=3).batch_size == 3
    with pytest.raises(InputDataError):
        dataclasses.replace(opts, batch_size=-3)


def test_local_start_as_a_share_of_the_budget():
    """A BudgetShare local.start is resolved against the run's budget; EGO alone, without one,
    refuses it; the ask/tell driver resolves it with its own budget."""
    from bayescal.optimize import minimize

    opts = EGOOptions(n_init=4, local=LocalSearch(start=BudgetShare(0.5)))
    assert opts.for_budget(100).local.start == 50 and opts.for_budget(7).local.start == 4
    counted = EGOOptions(local=LocalSearch(start=12))
    assert counted.for_budget(100) is counted and EGOOptions().for_budget(100).local is None
    with pytest.raises(InputDataError, match=r"local.start=BudgetShare\(fraction=0.5\) is a share"):
        EGO(2, options=opts)
    res = minimize(lambda x: ((x - 0.3) ** 2).sum(1), 2, budget=6, options=opts, seed=0)
    assert res.n_evals == 6


@pytest.mark.parametrize("fraction", [-0.1, 1.5, float("nan"), "0.5", True])
def test_budget_share_validation(fraction):
    with pytest.raises(InputDataError, match=r"BudgetShare.fraction must be a float in \[0, 1\]"):
        BudgetShare(fraction)


def test_count_or_share_reads_command_line_numbers():
    """Study options from ``--set`` strings: a float is a share, an int a count."""
    assert count_or_share(0.25) == BudgetShare(0.25)
    assert count_or_share(1.0) == BudgetShare(1.0)
    assert count_or_share(1) == 1 and type(count_or_share(1)) is int
    assert count_or_share(BudgetShare(0.3)) == BudgetShare(0.3)
    assert BudgetShare(0) == BudgetShare(0.0) and BudgetShare(1).of(10) == 10
    for bad in (True, "0.5", None):
        with pytest.raises(InputDataError, match="polish must be an int count or a float share"):
            count_or_share(bad, name="polish")  # type: ignore[arg-type]
    with pytest.raises(InputDataError, match=r"polish=1.5: a float is a share .* in \[0, 1\]"):
        count_or_share(1.5, name="polish")


def test_default_n_init_and_rounding_to_batches():
    assert default_n_init(2) == 6
    assert default_n_init(6) == 14
    assert EGO(6, options=EGOOptions(batch_size=4)).n_init == 16


@pytest.mark.parametrize(
    ("args", "kwargs", "match"),
    [
        ((0,), {}, "dim must be a positive int"),
        ((2,), {"seed": -1}, "seed must be a non-negative int"),
        ((2,), {"options": {"batch_size": 2}}, "options must be an EGOOptions"),
        ((2,), {"feasible": 3}, "feasible must be callable"),
    ],
)
def test_constructor_validation(args, kwargs, match):
    with pytest.raises(InputDataError, match=match):
        EGO(*args, **kwargs)


def test_tell_validation():
    ego = EGO(2, options=EGOOptions(log_y=True))
    with pytest.raises(InputDataError, match=r"x of shape \(m, 2\)"):
        ego.tell(np.zeros((1, 3)), np.zeros(1))
    with pytest.raises(InputDataError, match="unit-cube"):
        ego.tell(np.full((1, 2), 1.5), np.ones(1))
    with pytest.raises(InputDataError, match="EvalStatus codes"):
        ego.tell(np.zeros((1, 2)), np.ones(1), np.array([7]))
    with pytest.raises(InputDataError, match="log_y needs every OK value > 0"):
        ego.tell(np.zeros((1, 2)), np.array([-1.0]))
    assert ego.n_told == 0


def test_tell_status_rules():
    ego = EGO(2)
    x = np.array([[0.1, 0.1], [0.2, 0.2], [0.3, 0.3], [0.4, 0.4]])
    ego.tell(x, np.array([1.0, np.nan, np.inf, 0.5]))
    ego.tell(x[:2] + 0.5, np.array([np.nan, -9.0]), np.array([EvalStatus.OK, EvalStatus.TIMEOUT]))
    _, y, status = ego.history
    assert np.isnan(y[1]) and y[5] == -9.0
    assert status.tolist() == [0, 1, 1, 0, 1, 3]
    assert status.dtype == np.int8
    bx, by = ego.best
    np.testing.assert_array_equal(bx, [0.4, 0.4])
    assert by == 0.5  # the TIMEOUT value -9 is not an OK evaluation
    assert int(EvalStatus.INFEASIBLE) == 2


def test_best_none_and_should_stop_without_tol():
    ego = EGO(1)
    assert ego.best is None
    assert not ego.should_stop


def test_should_stop_rule_is_independent_of_tell_chunks():
    opts = EGOOptions(n_init=5, tol=1e-3, patience=2, batch_size=2)
    x = np.linspace(0, 1, 13)[:, None]
    y = np.array([5, 4, 3, 2, 1, 0.5, 0.4, 0.3, 0.3, 0.3, 0.3, 0.3, 0.3])
    whole, parts = EGO(1, options=opts), EGO(1, options=opts)
    whole.tell(x, y)
    for i in range(13):
        parts.tell(x[i : i + 1], y[i : i + 1])
        if i == 10:  # n_init 6 + 2 batches of 2 = 10 evaluations; best 0.3 vs 0.5 before
            assert not parts.should_stop
    assert whole.should_stop and parts.should_stop
