"""A forward model that takes ``realization`` runs from each data realization's own inputs."""

import numpy as np
import pytest
import xarray as xr

from bayescal import calibrate
from bayescal.discrepancy import Discrepancy, FieldTerm, StressTerm
from bayescal.errors import InputDataError
from bayescal.infer.residual_posterior import fit_residual_blocks
from bayescal.io import PER_REALIZATION_ATTR
from bayescal.optimize import EGOOptions
from bayescal.study import Parameter, RunSettings, Study, evaluate
from bayescal.study.evaluate import forward_batch
from models.toy import shear_band

N, FRAMES = 16, 41
#: realization r's band starts SHIFT[r] cells higher: its own "initial field"
SHIFT = (0.0, 9.0)
TRUTH = {"tau_peak": 1.7, "y0": 15.0}
BOUNDS = {"tau_peak": (1.0, 2.5), "y0": (5.0, 25.0)}
FIXED = {k: v for k, v in shear_band.DEFAULT_PARAMS.items() if k not in BOUNDS}


def forward(p, realization: int):
    shifted = dict(p) | {"y0": np.asarray(p["y0"]) + SHIFT[realization]}
    return shear_band.simulate(shifted, nx=N, ny=N, n_frames=FRAMES)


def common_forward(p):
    return forward(p, 0)


def reference_of(realization: int) -> xr.Dataset:
    out = forward(FIXED | TRUTH, realization)
    return xr.Dataset(
        {
            "gamma_xy": (2.0 * out["exy"]).assign_attrs(units="1"),
            "stress": ("stress_frame", out["stress"].values, {"units": "GPa"}),
        },
        coords={"stress_strain": ("stress_frame", out["strain"].values)},
    )


@pytest.fixture(scope="module")
def study() -> Study:
    reference = xr.concat([reference_of(r) for r in range(2)], dim="realization")
    return Study(
        name="toy_own_inputs",
        parameters=tuple(Parameter(name=k, lower=lo, upper=hi) for k, (lo, hi) in BOUNDS.items()),
        forward=forward,
        reference=reference,
        discrepancy=Discrepancy(
            fields=(FieldTerm(strains=(0.2, 0.3, 0.4, 0.5), ranks=(2, 2, 2, 2)),),
            stress=StressTerm(),
        ),
        fixed=FIXED,
        run=RunSettings(ego=EGOOptions(n_init=5), budget=8),
    )


def test_signature_decides(study):
    assert study.forward_per_realization
    assert not Study(**{**study.__dict__, "forward": common_forward}).forward_per_realization


def test_forward_batch_groups_and_keeps_order(study):
    theta = np.array([[1.2, 10.0], [1.7, 15.0], [2.2, 20.0]])
    real = np.array([1, 0, 1])
    batch = forward_batch(study, theta, real)
    for i in range(3):
        one = forward_batch(study, theta[i : i + 1], int(real[i])).isel(sample=0)
        np.testing.assert_array_equal(batch["exy"].isel(sample=i).values, one["exy"].values)
    # the shift moved the band: realization 1's run differs from realization 0's
    other = forward_batch(study, theta[:1], 0).isel(sample=0)
    assert not np.allclose(batch["exy"].isel(sample=0).values, other["exy"].values)


def test_truth_matches_every_realization_from_its_own_inputs(study):
    theta = np.tile([TRUTH[k] for k in BOUNDS], (4, 1))
    d = evaluate(study, theta, [0, 1, 1, 0])["discrepancy"].values
    assert np.all(d < 1e-10), d


def test_store_flag_and_posterior_blocks_use_own_rows(study):
    cal = calibrate(study, seeds=2, progress=False, posterior=False)
    ev = cal.evaluations
    assert ev.attrs[PER_REALIZATION_ATTR] == 1
    real = ev["realization"].values
    blocks = fit_residual_blocks(ev, study.discrepancy, study.reference, rng=0)
    for r, mine in enumerate(blocks):
        own = {tuple(u) for u in ev["unit"].values[real == r]}
        trained = mine[0].emulator.gps[0].x
        assert trained.shape[0] >= 3 and all(tuple(u) in own for u in trained), r
    no_rows = ev.isel(eval=np.flatnonzero(real == 0))
    with pytest.raises(InputDataError, match="realization 1 has 0 evaluations of its own"):
        fit_residual_blocks(no_rows, study.discrepancy, study.reference, rng=0)


def test_stress_predictive_returns_the_runs_it_drew(study):
    """The band's parameter draws and forward runs come back, run from the realization asked."""
    import arviz as az

    from bayescal.study.predictive import stress_predictive

    gen = np.random.default_rng(0)
    post = xr.Dataset(
        {k: (("chain", "draw"), gen.uniform(lo, hi, (1, 6))) for k, (lo, hi) in BOUNDS.items()}
    )
    pred = stress_predictive(
        study, az.InferenceData(posterior=post), n_draws=4, rng=1, realization=1
    )
    assert pred.theta is not None and pred.theta.shape == (4, 2) and pred.runs is not None
    np.testing.assert_array_equal(pred.runs["stress"].values, pred.model)
    again = forward_batch(study, pred.theta, 1)
    np.testing.assert_allclose(again["exy"].values, pred.runs["exy"].values)
    assert not np.allclose(forward_batch(study, pred.theta, 0)["exy"].values, again["exy"].values)


def test_field_noise_is_measured_from_the_per_cell_sd(study):
    """Redrawing the data field with its per-cell sd gives the residual's noise covariance:
    none without an sd, zero for a zero sd, and four times larger for twice the sd."""
    from bayescal.compared_outputs import compared_outputs
    from bayescal.infer.residual_posterior import measured_field_noise

    ref = study.reference_for(0)
    # rank 1: the toy band's second direction is as small as the noise, which then turns it
    rank1 = Discrepancy(fields=(FieldTerm(strains=(0.2, 0.3, 0.4, 0.5), ranks=(1, 1, 1, 1)),))
    theta = np.array([[1.6, 14.0]])
    outputs = compared_outputs(rank1, forward_batch(study, theta, 0)).rename({"sample": "eval"})
    assert measured_field_noise(rank1, ref, outputs, rng=0) == {}

    def noise(sd: float) -> np.ndarray:
        data = ref.assign(gamma_xy_std=sd * xr.ones_like(ref["gamma_xy"]))
        return measured_field_noise(rank1, data, outputs, n_draws=200, rng=0)["gamma_xy:exy"]

    assert np.allclose(noise(0.0), 0.0, atol=1e-24)  # rounding only
    small, double = np.trace(noise(0.002)), np.trace(noise(0.004))
    assert small > 0 and double / small == pytest.approx(4.0, rel=0.1)
