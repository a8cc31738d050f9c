"""Priors stated in other coordinates than the sampled ones (bayescal.infer.priors)."""

from __future__ import annotations

import numpy as np
import pymc as pm
import pytensor.tensor as pt
import pytest
import scipy.stats

from bayescal.errors import InputDataError
from bayescal.infer import Reparametrization, SampledCoordinates
from bayescal.infer.priors import prior_through_map

# prior uniform in (a, s) on [1, 3] x [0.5, 2]; sampled in (c, w) with c = a s and a at
# fraction w of the interval that keeps s in its bounds at that c (the CuZr study's scheme)
LO, HI = (1.0, 0.5), (3.0, 2.0)


def a_range(c, lib=np):
    return lib.maximum(LO[0], c / HI[1]), lib.minimum(HI[0], c / LO[1])


def to_prior(v):
    low, high = a_range(v["c"], pt)
    a = low + (high - low) * v["w"]
    return {"a": a, "s": v["c"] / a}


def from_prior(v):
    c = v["a"] * v["s"]
    low, high = a_range(c)
    return {"c": c, "w": (v["a"] - low) / (high - low)}


COORDS = SampledCoordinates(
    names=("c", "w"), lower=(0.5, 0.0), upper=(6.0, 1.0), to_prior=to_prior, from_prior=from_prior
)


def reparam(coords=COORDS) -> Reparametrization:
    return Reparametrization(
        names=("a", "s"),
        lower=LO,
        upper=HI,
        to_search=lambda v: {"c": v["a"] * v["s"]},
        sampled=coords,
    )


def mapped_model(priors=None) -> pm.Model:
    with pm.Model() as model:
        flat = {"c": pm.Flat("c"), "w": pm.Flat("w")}
        prior_through_map(flat, reparam(), priors or {})
    return model


@pytest.mark.usefixtures("pytensor_fast_compile")
def test_density_is_the_prior_times_the_jacobian():
    model = mapped_model()
    logp = model.compile_logp()
    area = (HI[0] - LO[0]) * (HI[1] - LO[1])
    for c, w in [(1.2, 0.3), (5.0, 0.9), (0.6, 0.5)]:
        low, high = a_range(c)
        a = low + (high - low) * w
        # |d(a, s)/d(c, w)| = (high - low) / a: the prior of (a, s) pulled back onto (c, w)
        expected = -np.log(area) + np.log((high - low) / a)
        assert float(logp({"c": c, "w": w})) == pytest.approx(expected, rel=1e-10)
    assert {"a", "s"} <= set(model.named_vars)  # the prior's coordinates as deterministics
    assert float(logp({"c": 2.0, "w": 1.5})) == -np.inf  # outside the prior's box


def test_maps_invert_each_other():
    v = {"a": np.array([1.0, 1.7, 2.9]), "s": np.array([0.9, 1.9, 0.8])}
    back = from_prior(v)
    low, high = a_range(back["c"])
    a = low + (high - low) * back["w"]
    np.testing.assert_allclose(a, v["a"], rtol=1e-12)
    np.testing.assert_allclose(back["c"] / a, v["s"], rtol=1e-12)


@pytest.mark.usefixtures("pytensor_fast_compile")
def test_normal_prior_is_mapped_too():
    logp = mapped_model({"s": ("normal", 1.0, 0.3)}).compile_logp()
    c, w = 2.4, 0.5
    low, high = a_range(c)
    a = low + (high - low) * w
    expected = (
        -np.log(HI[0] - LO[0])
        + scipy.stats.truncnorm.logpdf(c / a, (LO[1] - 1) / 0.3, (HI[1] - 1) / 0.3, 1.0, 0.3)
        + np.log((high - low) / a)
    )
    assert float(logp({"c": c, "w": w})) == pytest.approx(expected, rel=1e-8)


def test_bad_maps_are_refused():
    partial = SampledCoordinates(
        names=("c", "w"),
        lower=(0.5, 0.0),
        upper=(6.0, 1.0),
        to_prior=lambda v: {"a": v["w"]},
        from_prior=from_prior,
    )
    with pm.Model(), pytest.raises(InputDataError, match="to_prior must return exactly"):
        prior_through_map({"c": pm.Flat("c"), "w": pm.Flat("w")}, reparam(partial), {})
    with pm.Model(), pytest.raises(InputDataError, match="callable prior"):
        prior_through_map(
            {"c": pm.Flat("c"), "w": pm.Flat("w")}, reparam(), {"s": lambda *a, **k: None}
        )
    with pytest.raises(InputDataError, match="must be SampledCoordinates"):
        reparam(coords=3)
    with pytest.raises(InputDataError, match="bounds of 'w'"):
        SampledCoordinates(
            names=("c", "w"), lower=(0, 1), upper=(1, 0), to_prior=dict, from_prior=dict
        )
