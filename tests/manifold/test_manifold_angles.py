"""Principal angles: against scipy.linalg.subspace_angles (1e-10 rad) and exact constructions."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.linalg
from _manifold_helpers import bases_at_angles, random_bases

from bayescal.errors import InputDataError
from bayescal.manifold import principal_angles

TOL = 1e-10  # DESIGN.md target: agree with scipy.linalg.subspace_angles to 1e-10 rad


def scipy_angles(U, V):
    return np.sort(scipy.linalg.subspace_angles(U, V))


@pytest.mark.parametrize(("n", "p", "q"), [(20, 3, 3), (64, 8, 5), (64, 5, 8), (200, 16, 16)])
def test_random_subspaces_match_scipy(rng, n, p, q):
    # in these dimensions every angle of random subspaces exceeds pi/4 (cosine branch)
    for _ in range(5):
        U, V = random_bases(rng, n, p), random_bases(rng, n, q)
        np.testing.assert_allclose(principal_angles(U, V), scipy_angles(U, V), rtol=0, atol=TOL)


@pytest.mark.parametrize("eps", [1e-13, 1e-9, 1e-5])
@pytest.mark.parametrize(("n", "p"), [(10, 2), (50, 5), (1024, 16)])
def test_nearly_coincident_match_scipy(rng, n, p, eps):
    U = random_bases(rng, n, p)
    V = np.linalg.qr(U + eps * rng.standard_normal((n, p)))[0]
    got = principal_angles(U, V)
    np.testing.assert_allclose(got, scipy_angles(U, V), rtol=0, atol=TOL)
    assert got.max() < 100 * eps  # really small, not rounded to a floor


@pytest.mark.parametrize(
    "theta",
    [
        [1e-12, 1e-9, 0.3, 1.2],
        [1e-14, 0.7, 0.9, np.pi / 2 - 1e-12],
        [0.0, 0.0, np.pi / 4, np.pi / 2],
        [1e-6] * 4,
    ],
)
def test_exact_angles_including_mixed_sets(rng, theta):
    # scipy pairs its sine/cosine branch mask in reverse order, so for mixed sets its small
    # angles lose accuracy (~1e-8); compare with the exact construction instead.
    theta = np.asarray(theta)
    U, V = bases_at_angles(rng, 12, theta)
    got = principal_angles(U, V)
    np.testing.assert_allclose(got, theta, rtol=1e-6, atol=5e-15)


def test_different_dimensions_give_min_pq_angles(rng):
    theta = np.array([1e-10, 0.5])
    U, V = bases_at_angles(rng, 10, theta, extra=3)
    got_uv, got_vu = principal_angles(U, V), principal_angles(V, U)
    assert got_uv.shape == got_vu.shape == (2,)
    np.testing.assert_allclose(got_uv, theta, rtol=1e-6, atol=5e-15)
    np.testing.assert_allclose(got_vu, theta, rtol=1e-6, atol=5e-15)


def test_broadcasting_and_batched_equals_looped(rng):
    U = random_bases(rng, 3, 1, 15, 4)
    V = random_bases(rng, 5, 15, 3)
    got = principal_angles(U, V)
    assert got.shape == (3, 5, 3)
    for i in range(3):
        for j in range(5):
            np.testing.assert_allclose(got[i, j], principal_angles(U[i, 0], V[j]), atol=1e-14)


def test_chunking_does_not_change_results(rng, monkeypatch):
    U, V = random_bases(rng, 7, 30, 4), random_bases(rng, 7, 30, 4)
    V[3] = np.linalg.qr(U[3] + 1e-8 * rng.standard_normal((30, 4)))[0]
    whole = principal_angles(U, V)
    monkeypatch.setattr("bayescal.manifold.angles._CHUNK_ELEMENTS", 1)
    np.testing.assert_array_equal(principal_angles(U, V), whole)


@pytest.mark.parametrize(
    ("U", "V", "match"),
    [
        (np.eye(4)[:, :2], np.eye(5)[:, :2], "same number of rows n"),
        (np.ones((4, 2)), np.eye(4)[:, :2], "U is not orthonormal"),
        (np.eye(4)[:, :2], np.full((4, 2), np.nan), "V contains 8 non-finite"),
        (np.eye(4)[:, :2].T, np.eye(4)[:, :2], "p <= n"),
        (np.ones(3), np.eye(4)[:, :2], r"shape \(\.\.\., n, p\)"),
        (np.stack([np.eye(4)[:, :2]] * 2), np.stack([np.eye(4)[:, :2]] * 3), "do not broadcast"),
    ],
)
def test_invalid_input(U, V, match):
    with pytest.raises(InputDataError, match=match):
        principal_angles(U, V)


def test_check_false_skips_validation():
    U = 2 * np.eye(3)[:, :1]  # not orthonormal, but accepted when unchecked
    assert principal_angles(U, np.eye(3)[:, 1:2], check=False).shape == (1,)


def test_overflowing_finite_input_is_rejected():
    U = np.full((4, 2), 1e200)
    U[:, 1] *= -1
    with pytest.raises(InputDataError, match="U is not orthonormal"):
        principal_angles(U, np.eye(4)[:, :2])


def test_error_names_the_batch_index(rng):
    U = random_bases(rng, 3, 6, 2)
    U[1, 0, 0] += 0.1
    with pytest.raises(InputDataError, match=r"at batch index \(1,\)"):
        principal_angles(U, U)


@pytest.mark.parametrize("which", ["U", "V"])
def test_chunked_check_reports_the_global_index(rng, which, monkeypatch):
    """The check runs chunk by chunk; a bad basis in a later chunk is found and located."""
    import bayescal.manifold.angles as angles

    monkeypatch.setattr(angles, "_CHUNK_ELEMENTS", 6 * 2 * 4)  # 4 pairs per chunk
    U = random_bases(rng, 3, 5, 6, 2)
    V = random_bases(rng, 3, 5, 6, 2)
    bad = {"U": U, "V": V}[which]
    bad[2, 3, 1, 0] += 0.1  # flat index 13: the fourth chunk
    with pytest.raises(InputDataError, match=rf"{which} is not orthonormal.*\(2, 3\)"):
        principal_angles(U, V)
    bad[2, 3, 1, 0] = np.nan
    with pytest.raises(InputDataError, match=rf"{which} contains 1 non-finite"):
        principal_angles(U, V)


def test_broadcast_basis_is_checked(rng):
    U = random_bases(rng, 1, 6, 2)[0] * 1.01  # one basis broadcast against a stack
    with pytest.raises(InputDataError, match="U is not orthonormal"):
        principal_angles(U, random_bases(rng, 4, 6, 2))


def test_read_only_and_reversed_inputs(rng):
    U = random_bases(rng, 4, 6, 2)
    V = random_bases(rng, 4, 6, 2)
    expected = principal_angles(U, V)
    U.setflags(write=False)
    np.testing.assert_array_equal(principal_angles(U, V[::-1][::-1]), expected)
    np.testing.assert_array_equal(principal_angles(U[::-1], V[::-1]), expected[::-1])
