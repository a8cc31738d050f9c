"""Kept model outputs (bayescal.compared_outputs): residuals recomputed without a forward run."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from bayescal.compared_outputs import (
    block_names,
    compared_outputs,
    residual_blocks_from_outputs,
    residuals_from_outputs,
)
from bayescal.errors import InputDataError
from bayescal.study import evaluate, load_study

TOY = Path(__file__).parents[1] / "studies" / "toy_shear_band.py"


@pytest.fixture(scope="module")
def study():
    return load_study(TOY, n=16)


@pytest.fixture(scope="module")
def run(study):
    theta = study.from_unit(np.random.default_rng(0).random((4, study.dim)))
    model = study.forward(study.model_inputs(theta))
    return theta, model


def test_float64_outputs_reproduce_the_residuals_exactly(study, run):
    _, model = run
    disc, ref = study.discrepancy, study.reference_for(0)
    kept = compared_outputs(disc, model, dtype=np.float64)
    got = residuals_from_outputs(disc, ref, kept, dim="sample")
    np.testing.assert_array_equal(got, disc.residuals(ref, model))
    # another setting on the same snapshots (ranks, weights) needs no new forward run either
    term = dataclasses.replace(disc.fields[0], ranks=(1,) * len(disc.fields[0].strains))
    other = dataclasses.replace(disc, fields=(term,), stress_weight=1.0)
    np.testing.assert_array_equal(
        residuals_from_outputs(other, ref, kept, dim="sample"), other.residuals(ref, model)
    )


def test_only_the_compared_snapshots_are_kept(study, run):
    _, model = run
    kept = compared_outputs(study.discrepancy, model)
    strains = study.discrepancy.fields[0].strains
    assert kept["output_exy"].dtype == np.float64
    assert kept["output_exy"].shape == (4, len(strains), 16, 16)
    np.testing.assert_array_equal(kept["snapshot_strain_exy"].values, sorted(strains))
    assert kept["model_stress"].dims == ("sample", "frame")


def test_evaluate_keeps_outputs_and_nan_where_not_run(study, run):
    theta, _ = run
    # the toy's constraint: tau_flow <= tau_peak; the last set violates it
    bad = theta[:1].copy()
    bad[0, study.names.index("tau_flow")] = bad[0, study.names.index("tau_peak")] + 0.1
    res = evaluate(study, np.vstack([theta, bad]), residuals=True)
    assert res["output_exy"].dims == ("sample", "snapshot_exy", "y", "x")
    assert np.isnan(res["output_exy"].values[-1]).all()
    got = residuals_from_outputs(study.discrepancy, study.reference_for(0), res, dim="sample")
    assert np.isnan(got[-1]).all() and np.isfinite(got[:-1]).all()
    np.testing.assert_array_equal(got[:-1], res["residual"].values[:-1])  # float64: exact


def test_missing_outputs_are_named(study, run):
    _, model = run
    kept = compared_outputs(study.discrepancy, model).drop_vars("output_exy")
    with pytest.raises(InputDataError, match="lack 'output_exy'"):
        residuals_from_outputs(study.discrepancy, study.reference_for(0), kept, dim="sample")


def test_strains_that_were_not_kept_are_refused(study, run):
    _, model = run
    kept = compared_outputs(study.discrepancy, model)
    term = dataclasses.replace(study.discrepancy.fields[0], strains=(0.05, 0.07), ranks=(1, 1))
    other = dataclasses.replace(study.discrepancy, fields=(term,))
    with pytest.raises(InputDataError, match=r"strains \[0\.07\] were not kept"):
        residuals_from_outputs(other, study.reference_for(0), kept, dim="sample")


def test_blocks_are_the_unweighted_terms(study, run):
    _, model = run
    disc, ref = study.discrepancy, study.reference_for(0)
    kept = compared_outputs(disc, model, dtype=np.float64)
    blocks = residual_blocks_from_outputs(disc, ref, kept, dim="sample")
    assert list(blocks) == block_names(disc) == ["gamma_xy:exy", "stress"]
    np.testing.assert_array_equal(blocks["stress"], disc.stress.residuals(ref, model))
    field = disc.fields[0].snapshot_residuals(ref, model)
    np.testing.assert_array_equal(blocks["gamma_xy:exy"], field)
