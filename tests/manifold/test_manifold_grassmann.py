"""Grassmann exp/log/geodesic/transport: round trips and ||log|| == geodesic distance."""

from __future__ import annotations

import numpy as np
import pytest
from _manifold_helpers import bases_at_angles
from hypothesis import given, settings
from hypothesis import strategies as st

from bayescal.errors import InputDataError
from bayescal.manifold import (
    Grassmann,
    distance,
    exp_map,
    log_map,
    parallel_transport,
    projection_to_tangent,
)

FAST = settings(max_examples=30, deadline=None, derandomize=True)


@st.composite
def pairs(draw):
    seed = draw(st.integers(0, 2**32 - 1))
    n = draw(st.integers(2, 12))
    p = draw(st.integers(1, n - 1))
    gr = Grassmann(n, p)
    return gr, gr.random_point(size=2, rng=seed)


@FAST
@given(data=pairs())
def test_exp_log_round_trip_and_log_norm_is_distance(data):
    gr, (U, V) = data
    D = gr.log(U, V)
    assert np.abs(U.T @ D).max() < 1e-12  # tangent at U
    np.testing.assert_allclose(np.linalg.norm(D), gr.distance(U, V), rtol=0, atol=1e-10)
    W = gr.exp(U, D)
    assert gr.belongs(W)
    assert distance(W, V) < 1e-10  # spans V


@pytest.mark.parametrize(
    "theta", [[1e-12, 1e-9], [1e-7, 0.5, 1.0], [0.3, np.pi / 2 - 1e-6], [0.0, 1.5, 1.5]]
)
def test_log_accurate_for_tiny_and_near_right_angles(rng, theta):
    theta = np.asarray(theta)
    U, V = bases_at_angles(rng, 9, theta)
    D = log_map(U, V)
    np.testing.assert_allclose(np.linalg.svd(D, compute_uv=False)[::-1], theta, atol=1e-14)
    np.testing.assert_allclose(np.linalg.norm(D), distance(U, V), rtol=1e-12, atol=1e-15)
    assert distance(exp_map(U, D), V) < 1e-12


def test_exp_of_scaled_log_walks_the_geodesic(rng):
    gr = Grassmann(8, 3)
    U, V = gr.random_point(size=2, rng=rng)
    d = gr.distance(U, V)
    t = np.array([0.0, 0.25, 0.5, 1.0])
    path = gr.geodesic(U, V, t)
    assert path.shape == (4, 8, 3)
    np.testing.assert_allclose(distance(U, path), t * d, atol=1e-12)
    np.testing.assert_allclose(distance(path, V), (1 - t) * d, atol=1e-12)


def test_batched_equals_looped(rng):
    gr = Grassmann(7, 2)
    U, V = gr.random_point(size=(3, 2), rng=rng), gr.random_point(size=(3, 2), rng=rng)
    D = log_map(U, V)
    E = exp_map(U, D, t=np.array([0.5, 1.0]))
    for i in range(3):
        for j in range(2):
            np.testing.assert_allclose(D[i, j], log_map(U[i, j], V[i, j]), atol=1e-13)
            np.testing.assert_allclose(E[i, j], exp_map(U[i, j], D[i, j], t=[0.5, 1.0][j]))


def test_parallel_transport_is_an_isometry_into_the_end_tangent_space(rng):
    gr = Grassmann(9, 3)
    U = gr.random_point(rng=rng)
    D, H1, H2 = (gr.random_tangent(U, rng=rng) for _ in range(3))
    D *= 0.8 / np.linalg.norm(D)
    end = gr.exp(U, D)
    T1, T2 = gr.parallel_transport(U, D, H1), gr.parallel_transport(U, D, H2)
    assert np.abs(end.T @ T1).max() < 1e-12
    assert np.sum(T1 * T2) == pytest.approx(np.sum(H1 * H2), abs=1e-12)
    # the geodesic's own velocity is transported to its velocity at the end point
    h = 1e-6
    velocity = (exp_map(U, D, 1 + h) - exp_map(U, D, 1 - h)) / (2 * h)
    np.testing.assert_allclose(parallel_transport(U, D, D), velocity, atol=1e-8)


def test_random_point_and_tangent_and_projection(rng):
    gr = Grassmann(6, 2)
    pts = gr.random_point(size=(4,), rng=1)
    assert pts.shape == (4, 6, 2) and gr.belongs(pts).all()
    np.testing.assert_array_equal(gr.random_point(rng=5), gr.random_point(rng=5))
    Z = rng.standard_normal((6, 2))
    T = gr.projection_to_tangent(pts[0], Z)
    np.testing.assert_allclose(projection_to_tangent(pts[0], T), T, atol=1e-15)
    assert np.abs(pts[0].T @ gr.random_tangent(pts[0], rng=rng)).max() < 1e-12


def test_belongs_and_dim():
    gr = Grassmann(4, 2)
    e = np.eye(4)
    assert gr.dim == 4 and repr(gr) == "Grassmann(n=4, p=2)"
    assert gr.belongs(e[:, :2])
    assert not gr.belongs(2 * e[:, :2])
    assert not gr.belongs(e[:, :3])
    assert not gr.belongs(np.full((4, 2), np.nan))
    np.testing.assert_array_equal(gr.belongs(np.stack([e[:, :2], 2 * e[:, :2]])), [True, False])


@pytest.mark.parametrize(
    ("n", "p", "match"), [(3, 4, r"p must be an int in \[1, 3\]"), (0, 1, "n must")]
)
def test_constructor_validates(n, p, match):
    with pytest.raises(InputDataError, match=match):
        Grassmann(n, p)


def test_shape_and_tangent_errors():
    gr = Grassmann(4, 2)
    e = np.eye(4)
    with pytest.raises(InputDataError, match=r"core shape \(4, 2\)"):
        gr.log(e[:, :2], e[:, :3])
    with pytest.raises(InputDataError, match="not a tangent vector"):
        exp_map(e[:, :2], e[:, :2])
    with pytest.raises(InputDataError, match="same number of columns"):
        log_map(e[:, :2], e[:, :1])
