"""subspace() and principal_subspace(): ranks, energy/tol selection, centring, signs, errors."""

from __future__ import annotations

import numpy as np
import pytest

from bayescal.errors import InputDataError
from bayescal.manifold import canonical_signs, distance, principal_subspace, subspace


def low_rank(rng, n, m, s):
    """Matrix with singular values ``s`` and random singular vectors."""
    left = np.linalg.qr(rng.standard_normal((n, len(s))))[0]
    right = np.linalg.qr(rng.standard_normal((m, len(s))))[0]
    return (left * np.asarray(s)) @ right.T, left


@pytest.mark.parametrize("rank", [1, 3, 8])
def test_rank_gives_orthonormal_dominant_basis(rng, rank):
    X, left = low_rank(rng, 12, 8, [10, 5, 2, 1, 0.5, 0.1, 0.01, 0.001])
    U = subspace(X, rank)
    assert U.shape == (12, rank)
    np.testing.assert_allclose(U.T @ U, np.eye(rank), atol=1e-14)
    assert distance(U, left[:, :rank]) < 1e-10


def test_batched_equals_looped(rng):
    X = rng.standard_normal((2, 3, 10, 6))
    U = subspace(X, rank=2)
    assert U.shape == (2, 3, 10, 2)
    for i in range(2):
        for j in range(3):
            np.testing.assert_array_equal(U[i, j], subspace(X[i, j], rank=2))


def test_energy_returns_the_rank_used(rng):
    X, _ = low_rank(rng, 10, 10, [3.0, 2.0, 1.0, 0.1])  # energies 9, 4, 1, 0.01
    total = 9 + 4 + 1 + 0.01
    assert subspace(X, energy=9 / total - 1e-9)[1] == 1
    assert subspace(X, energy=13 / total + 1e-9)[1] == 3
    assert subspace(X, energy=1.0)[1] == 4  # not 5+: rounding does not add zero modes
    basis, r = subspace(X, energy=0.99)
    assert r == 3 and basis.shape == (10, 3)


def test_tol_returns_the_rank_used(rng):
    X, _ = low_rank(rng, 10, 7, [1.0, 1e-3, 1e-9])
    assert subspace(X, tol=1e-6)[1] == 2
    assert subspace(X, tol=1e-12)[1] == 3
    assert subspace(X, tol=2.0)[1] == 1  # at least one


def test_batched_selection_uses_the_largest_rank(rng):
    X = np.stack([low_rank(rng, 8, 8, s)[0] for s in ([1.0, 1e-9], [1.0, 0.5, 0.2])])
    basis, r = subspace(X, tol=1e-6)
    assert r == 3 and basis.shape == (2, 8, 3)


def test_sign_convention_is_deterministic(rng):
    X = rng.standard_normal((9, 5))
    U = subspace(X, 3)
    idx = np.abs(U).argmax(axis=0)
    assert (U[idx, np.arange(3)] > 0).all()
    np.testing.assert_array_equal(subspace(X.copy(), 3), U)
    # flipping the data's sign or reordering its columns flips no basis vector
    np.testing.assert_allclose(subspace(-X, 3), U, atol=1e-12)
    np.testing.assert_allclose(subspace(X[:, ::-1], 3), U, atol=1e-12)
    np.testing.assert_array_equal(canonical_signs(-U), U)


def test_subspace_is_principal_subspace_without_the_spectrum(rng):
    X = rng.standard_normal((2, 9, 6))
    for kwargs in ({"energy": 0.8}, {"tol": 0.3}):
        basis, r, s = principal_subspace(X, **kwargs)
        got = subspace(X, **kwargs)
        np.testing.assert_array_equal(got[0], basis)
        assert got[1] == r
        np.testing.assert_allclose(s, np.linalg.svd(X, compute_uv=False), rtol=1e-14)
    np.testing.assert_array_equal(subspace(X, 2), principal_subspace(X, 2)[0])


def test_center_removes_the_mean_snapshot(rng):
    X, _ = low_rank(rng, 10, 7, [3.0, 1.0])
    offset = 5.0 * rng.standard_normal((10, 1))
    basis, r, s = principal_subspace(X + offset, energy=0.999, center=True)
    centred = X - X.mean(axis=1, keepdims=True)
    np.testing.assert_allclose(s, np.linalg.svd(centred, compute_uv=False), atol=1e-12)
    assert r == 2
    assert distance(basis, subspace(centred, 2)) < 1e-10
    # without centring the offset is the dominant direction
    assert distance(principal_subspace(X + offset, 1)[0], offset / np.linalg.norm(offset)) < 0.1


@pytest.mark.parametrize(
    ("args", "kwargs", "match"),
    [
        (
            (np.ones((32, 32)), 40),
            {},
            r"rank must be an int in \[1, 32\] for 32 x 32 snapshots; got 40",
        ),
        ((np.ones((5, 3)), 0), {}, r"rank must be an int in \[1, 3\]"),
        ((np.ones((5, 3)), 2.0), {}, "rank must be an int"),
        ((np.ones((5, 3)), True), {}, "rank must be an int"),
        ((np.ones((5, 3)),), {}, "exactly one of rank, energy or tol; got none"),
        ((np.ones((5, 3)), 2), {"tol": 1e-3}, "got rank, tol"),
        ((np.ones((5, 3)),), {"energy": 1.5}, r"energy must be in \(0, 1\]"),
        ((np.ones((5, 3)),), {"tol": -1.0}, "tol must be a float >= 0"),
        ((np.zeros((5, 3)),), {"energy": 0.9}, "all-zero matrix"),
        ((np.ones((5, 3)),), {"energy": 0.9, "center": True}, r"all-zero \(centred\) matrix"),
        ((np.ones(5), 1), {}, "at least 2 dims"),
        ((np.array([[np.nan, 1.0]]), 1), {}, "1 non-finite"),
        ((np.ones((2, 2), dtype=complex), 1), {}, "real array"),
    ],
)
def test_invalid_input(args, kwargs, match):
    with pytest.raises(InputDataError, match=match):
        principal_subspace(*args, **kwargs)
    if "center" not in kwargs:
        with pytest.raises(InputDataError, match=match):
            subspace(*args, **kwargs)
