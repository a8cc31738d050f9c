"""Tests of bayescal.summary: the per-seed table, with errors against a known truth."""

from __future__ import annotations

import numpy as np
import xarray as xr

from bayescal.summary import best_per_seed, format_derived, format_table


def _evaluations() -> xr.Dataset:
    theta = np.array([[1.0, 10.0], [2.0, 20.0], [3.0, 30.0], [4.0, 40.0]])
    return xr.Dataset(
        {
            "theta": (("eval", "param"), theta),
            "discrepancy": (("eval",), np.array([0.5, 0.2, 0.1, np.nan])),
            "status": (("eval",), np.array([0, 0, 0, 1], dtype=np.int8)),
            "seed": (("eval",), np.array([0, 0, 1, 1])),
        },
        coords={"param": ["a", "b"]},
    )


def test_best_per_seed_skips_failed_evaluations():
    best = best_per_seed(_evaluations())
    np.testing.assert_array_equal(best["theta"].values, [[2.0, 20.0], [3.0, 30.0]])
    np.testing.assert_array_equal(best["n_failed"].values, [0, 1])
    np.testing.assert_array_equal(best["eval_at_best"].values, [2, 1])


def test_table_gives_errors_as_percent_of_range():
    table = format_table(
        best_per_seed(_evaluations()), truth={"a": 2.5, "b": 20.0}, ranges={"a": 5.0, "b": 100.0}
    )
    rows = {line.split()[0] + line.split()[1]: line.split() for line in table.splitlines()[2:]}
    # seed 0: |2 - 2.5| / 5 = 10 %, |20 - 20| / 100 = 0 %; seed 1: 10 %, 10 %
    assert rows["err%0"][2:4] == ["10.00", "0.00"]
    assert rows["err%1"][2:4] == ["10.00", "10.00"]
    assert "err%" not in format_table(best_per_seed(_evaluations()), truth={"a": 2.5, "b": 20})


def test_derived_table_one_row_per_seed():
    best = best_per_seed(_evaluations())
    text = format_derived(best, {"ab": best["theta"].values.prod(axis=1)})
    lines = text.splitlines()
    assert lines[0].split() == ["seed", "ab"]
    assert [line.split() for line in lines[2:]] == [["0", "40"], ["1", "90"]]
