"""Tests of bayescal.discrepancy: zero on identical data, invariances, monotonicity, hand values."""

import numpy as np
import pytest
import xarray as xr

from bayescal.discrepancy import PAPER_RANKS, PAPER_STRAINS, Discrepancy, FieldTerm, StressTerm
from bayescal.errors import InputDataError, StudyDefinitionError

STRAIN = np.linspace(0, 0.5, 101)


def reference_like(rng, n=32):
    """Random fields with the layout of load_cuzr(): gamma_xy(frame, y, x), stress(stress_frame)."""
    gamma = rng.normal(size=(101, n, n)) + STRAIN[:, None, None]
    stress_strain = np.linspace(0, 0.5, 501)
    stress = 20 * stress_strain / (1 + 30 * stress_strain)
    return xr.Dataset(
        {
            "gamma_xy": (("frame", "y", "x"), gamma),
            "stress": (("stress_frame",), stress),
        },
        coords={"strain": ("frame", STRAIN), "stress_strain": ("stress_frame", stress_strain)},
    )


def model_from(ref, gamma=None, stress=None):
    """A model dataset (sample dim of 1) whose exy is gamma/2 and stress the reference's."""
    gamma = ref["gamma_xy"].values if gamma is None else gamma
    if stress is None:
        stress = ref["stress"].values[::5]
    gamma = np.atleast_3d(gamma)[None] if gamma.ndim == 3 else gamma
    stress = np.atleast_2d(stress)
    return xr.Dataset(
        {
            "exy": (("sample", "frame", "y", "x"), gamma / 2),
            "stress": (("sample", "frame"), stress),
        },
        coords={"strain": ("frame", STRAIN)},
    )


@pytest.fixture
def ref():
    return reference_like(np.random.default_rng(0))


def test_paper_defaults():
    disc = Discrepancy()
    assert disc.fields[0].strains == PAPER_STRAINS
    assert disc.fields[0].ranks == PAPER_RANKS
    assert (disc.field_weights, disc.stress_weight) == ((1.0,), 3.0)
    assert disc.stress.peak_frames == (15, 28) and disc.stress.peak_weight == 5.0


def test_zero_for_identical_fields(ref):
    d = Discrepancy()(ref, model_from(ref))
    assert d["discrepancy"].shape == (1,)
    np.testing.assert_allclose(d["discrepancy"].values, 0.0, atol=1e-7)


def test_invariant_to_basis_choice(ref):
    """Column mixing X -> X Q keeps the left singular subspace: field term unchanged."""
    rng = np.random.default_rng(1)
    q, _ = np.linalg.qr(rng.normal(size=(32, 32)))
    other = reference_like(np.random.default_rng(2))["gamma_xy"].values
    d1 = Discrepancy()(ref, model_from(ref, gamma=other))
    d2 = Discrepancy()(ref, model_from(ref, gamma=3.0 * other @ q))
    np.testing.assert_allclose(d1["field_term"].values, d2["field_term"].values, atol=1e-9)


def test_grows_with_perturbation(ref):
    rng = np.random.default_rng(3)
    noise = rng.normal(size=ref["gamma_xy"].shape)
    base = ref["gamma_xy"].values
    eps = np.array([1e-4, 1e-3, 1e-2, 1e-1, 1.0])
    gamma = np.stack([base + e * noise for e in eps])
    stress = ref["stress"].values[::5][None] * (1 + eps[:, None])
    model = model_from(ref, gamma=gamma, stress=stress)
    d = Discrepancy()(ref, model)
    assert d["discrepancy"].shape == (5,)
    assert np.all(np.diff(d["discrepancy"].values) > 0)
    assert np.all(np.diff(d["field_term"].values[:, 0]) > 0)


def test_hand_computation():
    """Rank-1 snapshots whose left vectors are at angle t: geodesic distance t.

    Stress: model = reference + 0.1 GPa on frames 1..100 (frame 0 equal), frames 15-27 x5:
    sum = 0.1 * (87 + 13 * 5) = 15.2 over 100 nonzero terms = 0.152 GPa.
    d = (1 * t + 3 * 0.152) / 4.
    """
    n = 4
    t = 0.3
    e1, e2 = np.eye(n)[0], np.eye(n)[1]
    a = np.outer(e1, np.ones(n))
    b = np.outer(np.cos(t) * e1 + np.sin(t) * e2, np.ones(n))
    ref = xr.Dataset(
        {
            "gamma_xy": (("frame", "y", "x"), np.repeat(a[None], 101, 0)),
            "stress": (("stress_frame",), np.linspace(0, 1, 101)),
        },
        coords={"strain": ("frame", STRAIN), "stress_strain": ("stress_frame", STRAIN)},
    )
    stress = np.linspace(0, 1, 101) + np.r_[0.0, np.full(100, 0.1)]
    model = model_from(ref, gamma=np.repeat(b[None], 101, 0)[None], stress=stress)
    disc = Discrepancy(fields=(FieldTerm(strains=(0.1, 0.5), ranks=(1, 1)),))
    d = disc(ref, model)
    np.testing.assert_allclose(d["field_term"].values[0, 0], t, atol=1e-12)
    np.testing.assert_allclose(d["stress_term"].values[0], 0.152, atol=1e-12)
    np.testing.assert_allclose(d["discrepancy"].values[0], (t + 3 * 0.152) / 4, atol=1e-12)


def test_unbatched_model_gives_scalars(ref):
    d = Discrepancy()(ref, model_from(ref).isel(sample=0))
    assert d["discrepancy"].ndim == 0


def test_failed_samples_get_nan_others_unaffected(ref):
    gamma = np.stack([ref["gamma_xy"].values] * 3)
    gamma[1, 50] = np.nan
    model = model_from(ref, gamma=gamma, stress=np.repeat(ref["stress"].values[::5][None], 3, 0))
    model["status"] = ("sample", np.array([0, 0, 1]))
    d = Discrepancy()(ref, model)["discrepancy"].values
    assert np.isfinite(d[0]) and np.isnan(d[1]) and np.isnan(d[2])
    np.testing.assert_allclose(d[0], 0.0, atol=1e-7)


def test_energy_ranks(ref):
    disc = Discrepancy(fields=(FieldTerm(ranks=None, energy=0.9),))
    np.testing.assert_allclose(disc(ref, model_from(ref))["discrepancy"], 0.0, atol=1e-7)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"ranks": (1, 2)}, "one rank per snapshot"),
        ({"ranks": None, "energy": 1.5}, "energy in"),
        ({"strains": (), "ranks": ()}, "must not be empty"),
    ],
)
def test_field_term_validation(kwargs, match):
    with pytest.raises(InputDataError, match=match):
        FieldTerm(**kwargs)


def test_stress_term_validation():
    with pytest.raises(InputDataError, match="normalise"):
        StressTerm(normalise="mean")


def test_missing_reference_variable(ref):
    with pytest.raises(StudyDefinitionError, match="lacks"):
        Discrepancy().check_reference(ref.drop_vars("stress"))


def test_missing_model_variable(ref):
    with pytest.raises(InputDataError, match="model output lacks"):
        Discrepancy()(ref, model_from(ref).drop_vars("exy"))


def test_residuals_zero_at_match_basis_invariant_and_linear(ref):
    """Residual vectors: zero for identical data, unchanged by column mixing of the model
    fields, linear in a small perturbation (doubling it doubles the norm within 1 %), and
    their field part's norm per snapshot matches the geodesic distance to first order."""
    disc = Discrepancy()
    np.testing.assert_allclose(disc.residuals(ref, model_from(ref)), 0.0, atol=1e-9)
    rng = np.random.default_rng(4)
    noise = rng.normal(size=ref["gamma_xy"].shape)
    base = ref["gamma_xy"].values
    q, _ = np.linalg.qr(rng.normal(size=(32, 32)))
    gamma = np.stack([base + 1e-5 * noise, base + 2e-5 * noise, (base + 1e-5 * noise) @ q])
    stress = ref["stress"].values[::5][None] * np.array([[1 + 1e-5], [1 + 2e-5], [1 + 1e-5]])
    R = disc.residuals(ref, model_from(ref, gamma=gamma, stress=stress))
    norms = np.linalg.norm(R, axis=1)
    assert norms[1] / norms[0] == pytest.approx(2.0, rel=0.01)
    np.testing.assert_allclose(R[2], R[0], atol=1e-9 * norms[0])
    # field part alone: per snapshot |r_k| K = Procrustes distance ~ geodesic distance
    term = disc.fields[0]
    model = model_from(ref, gamma=gamma[:1], stress=stress[:1])
    r = term.snapshot_residuals(ref, model)[0]
    dist = term.snapshot_distances(ref, model)[0]
    sizes = [32 * k for k in term.ranks]
    parts = np.split(r, np.cumsum(sizes)[:-1])
    per_snapshot = np.array([np.linalg.norm(p) for p in parts]) * len(sizes)
    np.testing.assert_allclose(per_snapshot, dist, rtol=1e-3)


def test_field_residual_norm_is_the_procrustes_distance_and_grows(ref):
    """Per snapshot, |r_k| K equals the Procrustes distance 2 (sum sin^2(theta/2))^(1/2) at
    any angles (not only small ones), so it keeps growing as the model's fields turn away
    from the data's: a likelihood on it cannot prefer fields unlike the data."""
    from bayescal.discrepancy import FieldTerm

    term = FieldTerm(metric="procrustes")
    rng = np.random.default_rng(5)
    base = ref["gamma_xy"].values
    other = rng.normal(size=base.shape) * base.std()
    mixes = np.linspace(0.0, 1.0, 6)
    gamma = np.stack([(1 - a) * base + a * other for a in mixes])
    model = model_from(ref, gamma=gamma, stress=np.tile(ref["stress"].values[::5], (6, 1)))
    r = term.snapshot_residuals(ref, model)
    dist = term.snapshot_distances(ref, model)  # (sample, snapshot)
    sizes = [32 * k for k in term.ranks]
    parts = np.split(r, np.cumsum(sizes)[:-1], axis=1)
    per_snapshot = np.stack([np.linalg.norm(p, axis=1) for p in parts], axis=1) * len(sizes)
    np.testing.assert_allclose(per_snapshot, dist, rtol=1e-8, atol=1e-12)
    assert per_snapshot[0].max() < 1e-9
    assert np.all(np.diff(per_snapshot.sum(axis=1)) > 0)


def test_residuals_nan_for_failed_samples(ref):
    gamma = np.stack([ref["gamma_xy"].values, np.full(ref["gamma_xy"].shape, np.nan)])
    R = Discrepancy().residuals(ref, model_from(ref, gamma=gamma, stress=np.zeros((2, 101))))
    assert np.isfinite(R[0]).all() and np.isnan(R[1]).all()
