"""Distances: properties written once and parametrized over the metric registry."""

from __future__ import annotations

from typing import get_args

import numpy as np
import pytest
from _manifold_helpers import bases_at_angles, random_bases, random_orthogonal
from hypothesis import given, settings
from hypothesis import strategies as st

from bayescal.errors import InputDataError
from bayescal.manifold import (
    METRICS,
    Metric,
    distance,
    distance_from_angles,
    pairwise_distances,
    principal_angles,
    register_metric,
)
from bayescal.manifold.distance import _REGISTRY

ALL_METRICS = sorted(METRICS)
FAST = settings(max_examples=30, deadline=None, derandomize=True)


@st.composite
def point_sets(draw, count=2, same_p=False):
    """Seeded random subspaces: (seed, n, dims) -> list of orthonormal bases."""
    seed = draw(st.integers(0, 2**32 - 1))
    n = draw(st.integers(2, 12))
    rng = np.random.default_rng(seed)
    p = draw(st.integers(1, n))
    dims = [p] * count if same_p else [draw(st.integers(1, n)) for _ in range(count)]
    return [random_bases(rng, n, d) for d in dims], rng


def test_literal_matches_registry():
    assert set(get_args(Metric)) <= set(METRICS)


@pytest.mark.parametrize("metric", ALL_METRICS)
@FAST
@given(data=point_sets())
def test_symmetric_and_nonnegative(metric, data):
    (U, V), _ = data
    d_uv, d_vu = distance(U, V, metric=metric), distance(V, U, metric=metric)
    assert d_uv >= 0
    np.testing.assert_allclose(d_uv, d_vu, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("metric", ALL_METRICS)
@FAST
@given(data=point_sets(count=1))
def test_zero_on_equal_subspaces(metric, data):
    (U,), rng = data
    Q = random_orthogonal(rng, U.shape[1])
    assert distance(U, U, metric=metric) <= 1e-12
    assert distance(U, U @ Q, metric=metric) <= 1e-12


@pytest.mark.parametrize("metric", ALL_METRICS)
@FAST
@given(data=point_sets())
def test_invariant_to_basis_change_and_common_rotation(metric, data):
    (U, V), rng = data
    d = distance(U, V, metric=metric)
    Q = random_orthogonal(rng, V.shape[1])
    R = random_orthogonal(rng, U.shape[0])
    np.testing.assert_allclose(distance(U, V @ Q, metric=metric), d, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(distance(R @ U, R @ V, metric=metric), d, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("metric", [m for m in ALL_METRICS if METRICS[m].is_metric])
@FAST
@given(data=point_sets(count=3, same_p=True))
def test_triangle_inequality(metric, data):
    (U, V, W), _ = data
    d_uw = distance(U, W, metric=metric)
    assert d_uw <= distance(U, V, metric=metric) + distance(V, W, metric=metric) + 1e-12


@FAST
@given(data=point_sets(count=3))
def test_triangle_inequality_geodesic_across_dimensions(data):
    # Ye & Lim's pi/2 padding makes the geodesic distance a metric across dimensions
    (U, V, W), _ = data
    assert distance(U, W) <= distance(U, V) + distance(V, W) + 1e-12


@pytest.mark.parametrize("metric", ALL_METRICS)
def test_batched_equals_looped(rng, metric):
    U, V = random_bases(rng, 4, 3, 10, 3), random_bases(rng, 3, 10, 2)
    V[1] = np.linalg.qr(U[0, 1, :, :2] + 1e-9 * rng.standard_normal((10, 2)))[0]
    got = distance(U, V, metric=metric)
    assert got.shape == (4, 3)
    for i in range(4):
        for j in range(3):
            assert got[i, j] == pytest.approx(distance(U[i, j], V[j], metric=metric), abs=1e-14)


@pytest.mark.parametrize("metric", ALL_METRICS)
def test_pairwise_matches_distance(rng, metric):
    Us, Vs = random_bases(rng, 5, 9, 3), random_bases(rng, 4, 9, 2)
    expected = distance(Us[:, None], Vs[None, :], metric=metric)
    np.testing.assert_allclose(pairwise_distances(Us, Vs, metric=metric), expected, atol=1e-14)
    square = pairwise_distances(Us, metric=metric)
    np.testing.assert_allclose(
        square, distance(Us[:, None], Us[None, :], metric=metric), atol=1e-12
    )
    np.testing.assert_array_equal(square, square.T)


def test_formulas_against_independent_definitions(rng):
    theta = np.array([1e-9, 0.4, 1.1])
    U, V = bases_at_angles(rng, 9, theta)
    PU, PV = U @ U.T, V @ V.T
    C = U.T @ V
    q = np.linalg.svd(U.T @ V)  # orthogonal Procrustes: min_Q ||U Q - V||_F
    Q = q[0] @ q[2]
    expected = {
        "geodesic": np.sqrt(np.sum(theta**2)),
        "asimov": theta.max(),
        "chordal": np.linalg.norm(PU - PV) / np.sqrt(2),
        "projection": np.linalg.norm(PU - PV, 2),
        "procrustes": np.linalg.norm(U @ Q - V),
        "spectral": np.linalg.norm(U @ Q - V, 2),
        "binet_cauchy": np.sqrt(1 - np.linalg.det(C) ** 2),
        "martin": np.sqrt(-np.log(np.linalg.det(C) ** 2)),
        "fubini_study": np.arccos(abs(np.linalg.det(C))),
    }
    assert set(expected) == set(get_args(Metric))
    for metric, value in expected.items():
        assert distance(U, V, metric=metric) == pytest.approx(value, rel=1e-9), metric


def test_different_dimensions_pad_with_right_angles(rng):
    theta = np.array([0.2, 0.5])
    U, V = bases_at_angles(rng, 10, theta, extra=2)
    padded = np.r_[theta, np.pi / 2, np.pi / 2]
    assert distance(U, V) == pytest.approx(np.sqrt(np.sum(theta**2) + 2 * (np.pi / 2) ** 2))
    assert distance(U, V, metric="chordal") == pytest.approx(
        np.sqrt(np.sum(np.sin(theta) ** 2) + 2)
    )
    for metric in ALL_METRICS:
        assert distance(U, V, metric=metric) == pytest.approx(
            float(METRICS[metric].function(padded)), rel=1e-12
        )
    assert distance(U, V, metric="martin") == np.inf
    assert distance(U, V, metric="fubini_study") == np.pi / 2
    # a subspace and a larger one containing it: only the missing dimensions count
    assert distance(U, np.c_[U, V[:, 2:]]) == pytest.approx(np.sqrt(2) * np.pi / 2)


def test_martin_is_not_a_metric():
    lines = [np.array([[np.cos(a)], [np.sin(a)]]) for a in (0.0, 0.8, 1.6)]
    d = [distance(lines[i], lines[j], metric="martin") for i, j in ((0, 2), (0, 1), (1, 2))]
    assert d[0] > d[1] + d[2]
    assert not METRICS["martin"].is_metric


def test_martin_is_infinite_at_right_angle():
    e = np.eye(3)
    assert distance(e[:, :1], e[:, 1:2], metric="martin") == np.inf


def test_distance_from_angles_padding_and_docs():
    assert float(distance_from_angles([0.3, 0.4])) == pytest.approx(0.5)
    assert float(distance_from_angles([0.0], q=3, metric="projection")) == 1.0


def test_register_metric_is_picked_up_and_rejects_duplicates(rng):
    @register_metric("test_l1")
    def _l1(theta):
        return theta.sum(axis=-1)

    try:
        assert "test_l1" in METRICS
        U, V = random_bases(rng, 2, 6, 2)
        assert distance(U, V, metric="test_l1") == pytest.approx(principal_angles(U, V).sum())
        with pytest.raises(InputDataError, match="already registered"):
            register_metric("test_l1")(_l1)
    finally:
        _REGISTRY.pop("test_l1")


def test_unknown_metric_suggests_a_name():
    e = np.eye(3)
    with pytest.raises(InputDataError, match="Did you mean 'geodesic'"):
        distance(e[:, :1], e[:, 1:2], metric="geodesik")


def test_pairwise_rejects_wrong_ndim():
    with pytest.raises(InputDataError, match=r"Us must have shape \(k, n, p\)"):
        pairwise_distances(np.eye(3)[:, :1])


@pytest.mark.parametrize("metric", ALL_METRICS)
def test_accurate_for_tiny_angles(rng, metric):
    # every distance is first-order in the angles: ~ ||theta||_2 or ~ max theta near 0
    theta = np.array([1e-10, 3e-10])
    U, V = bases_at_angles(rng, 8, theta)
    expected = (
        theta.max() if metric in {"asimov", "projection", "spectral"} else 1e-10 * np.sqrt(10)
    )
    if metric == "procrustes":
        expected = np.sqrt(np.sum(theta**2))
    assert distance(U, V, metric=metric) == pytest.approx(expected, rel=1e-5)
