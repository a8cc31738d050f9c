"""Stiefel geometry: exp/log round trips, reference values, validation."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.linalg

from bayescal.errors import ConvergenceWarning, InputDataError
from bayescal.manifold import stiefel


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(0)


def _basis(rng: np.random.Generator, *shape: int) -> np.ndarray:
    return np.linalg.qr(rng.standard_normal(shape))[0]


def _tangent(rng: np.random.Generator, X: np.ndarray, norm: float) -> np.ndarray:
    D = stiefel.projection_to_tangent(X, rng.standard_normal(X.shape))
    return D * (norm / stiefel.canonical_norm(X, D))[..., None, None]


def _orth_err(Y: np.ndarray) -> float:
    p = Y.shape[-1]
    return float(np.abs(np.swapaxes(Y, -1, -2) @ Y - np.eye(p)).max())


@pytest.mark.parametrize("norm", [1e-6, 0.3, 1.0, 2.0])
def test_exp_log_round_trip(rng, norm):
    X = _basis(rng, 15, 4)
    D = _tangent(rng, np.broadcast_to(X, (5, 15, 4)), norm)
    Y = stiefel.exp_map(X, D)
    assert _orth_err(Y) < 1e-13
    L = stiefel.log_map(X, Y)
    # tol=1e-10 on the residual block; round trip to ~1e-10 (Zimmermann 2017, Sec. 4)
    np.testing.assert_allclose(stiefel.exp_map(X, L), Y, atol=1e-9)
    np.testing.assert_allclose(L, D, atol=1e-9)
    np.testing.assert_allclose(stiefel.canonical_norm(X, L), norm, rtol=1e-9)


def test_log_of_random_far_points_round_trips(rng):
    X = _basis(rng, 20, 3)
    Y = _basis(rng, 6, 20, 3)
    Y = Y * np.where(np.sum(Y * X, axis=-2) < 0, -1.0, 1.0)[..., None, :]
    np.testing.assert_allclose(stiefel.exp_map(X, stiefel.log_map(X, Y)), Y, atol=1e-9)


def test_single_column_is_the_sphere(rng):
    # St(n, 1) is the unit sphere; the canonical metric is the round one: distance = arccos.
    x, y = _basis(rng, 2, 6, 1)
    ref = float(np.arccos(np.clip((x[:, 0] @ y[:, 0]), -1, 1)))
    assert float(stiefel.distance(x, y)) == pytest.approx(ref, abs=1e-12)


def test_square_case_is_the_matrix_exponential(rng):
    # St(n, n) = O(n): at X = I the canonical exponential is expm of the skew matrix.
    A = rng.standard_normal((4, 4))
    A = 0.3 * (A - A.T)
    np.testing.assert_allclose(stiefel.exp_map(np.eye(4), A), scipy.linalg.expm(A), atol=1e-13)
    np.testing.assert_allclose(stiefel.log_map(np.eye(4), scipy.linalg.expm(A)), A, atol=1e-10)


def test_exp_of_zero_and_log_of_self(rng):
    X = _basis(rng, 8, 3)
    np.testing.assert_allclose(stiefel.exp_map(X, np.zeros_like(X)), X, atol=1e-15)
    np.testing.assert_allclose(stiefel.log_map(X, X), 0.0, atol=1e-14)


def test_distance_symmetric_and_batched_equals_looped(rng):
    X = _basis(rng, 12, 3)
    Y = stiefel.exp_map(X, _tangent(rng, np.broadcast_to(X, (4, 12, 3)), 0.8))
    d = stiefel.distance(X, Y)
    looped = [float(stiefel.distance(X, y)) for y in Y]
    np.testing.assert_allclose(d, looped, rtol=1e-12)
    back = [float(stiefel.distance(y, X)) for y in Y]
    np.testing.assert_allclose(d, back, rtol=1e-8)


def test_log_not_converged_raises_or_warns(rng):
    X = _basis(rng, 10, 3)
    Y = stiefel.exp_map(X, _tangent(rng, X, 1.0))
    with pytest.raises(InputDataError, match="did not converge"):
        stiefel.log_map(X, Y, max_iter=0, on_fail="raise")
    with pytest.warns(ConvergenceWarning, match="did not converge"):
        stiefel.log_map(X, Y, max_iter=0)


def test_projection_to_tangent_is_idempotent_and_tangent(rng):
    X = _basis(rng, 9, 3)
    P = stiefel.projection_to_tangent(X, rng.standard_normal((9, 3)))
    A = X.T @ P
    np.testing.assert_allclose(A, -A.T, atol=1e-14)
    np.testing.assert_allclose(stiefel.projection_to_tangent(X, P), P, atol=1e-14)


def test_orthonormalize_polar_and_qr(rng):
    Z = rng.standard_normal((3, 7, 2))
    P = stiefel.orthonormalize(Z)
    assert _orth_err(P) < 1e-14
    np.testing.assert_allclose(stiefel.orthonormalize(P), P, atol=1e-14)  # already orthonormal
    Q = stiefel.orthonormalize(Z, method="qr")
    R = np.swapaxes(Q, -1, -2) @ Z
    assert (np.diagonal(R, axis1=-2, axis2=-1) > 0).all()
    np.testing.assert_allclose(np.tril(R, -1), 0.0, atol=1e-13)


def test_karcher_mean_of_symmetric_pair(rng):
    X = _basis(rng, 10, 2)
    D = _tangent(rng, X, 0.5)
    Ys = stiefel.exp_map(X, np.stack([D, -D]))
    np.testing.assert_allclose(stiefel.karcher_mean(Ys), X, atol=1e-9)


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda X: stiefel.exp_map(X, np.ones_like(X)), "not a tangent vector"),
        (lambda X: stiefel.exp_map(2 * X, np.zeros_like(X)), "not orthonormal"),
        (lambda X: stiefel.log_map(X, X[:, :1]), "same core shape"),
        (lambda X: stiefel.log_map(X, X, tol=0.0), "tol must be > 0"),
        (lambda X: stiefel.log_map(X, X, on_fail="maybe"), "on_fail"),
        (lambda X: stiefel.orthonormalize(np.zeros((4, 2))), "rank-deficient"),
        (lambda X: stiefel.orthonormalize(X, method="gram"), "method must be"),
    ],
)
def test_bad_input_raises(rng, call, match):
    X = _basis(rng, 6, 2)
    with pytest.raises(InputDataError, match=match):
        call(X)
