"""Atomic strain: exact for affine maps (to round-off), D2min, simple shear, 2D mode."""

from __future__ import annotations

import numpy as np
import pytest

from bayescal.coarse import Box, atomic_strain, neighbor_pairs
from bayescal.errors import InputDataError, InputDataWarning

TRICLINIC = Box(
    matrix=np.array([[14.0, 0, 0], [3.0, 13.0, 0], [-2.0, 1.5, 12.0]]),
    origin=np.array([1.0, -2.0, 0.5]),
)


def _config(rng: np.random.Generator, box: Box, n: int = 600) -> np.ndarray:
    return box.to_cartesian(rng.uniform(0, 1, (n, 3)))


def _deform(box: Box, X: np.ndarray, F: np.ndarray) -> tuple[Box, np.ndarray]:
    """Apply x -> F x (column vectors) to positions and box (rows of H), about the origin."""
    box1 = Box(matrix=box.matrix @ F.T, origin=box.origin @ F.T)
    return box1, X @ F.T


@pytest.mark.parametrize("wrap", [False, True], ids=["unwrapped", "rewrapped"])
def test_affine_exact_triclinic(rng: np.random.Generator, wrap: bool) -> None:
    X = _config(rng, TRICLINIC)
    F = np.array([[1.05, 0.2, -0.03], [0.04, 0.97, 0.1], [0.02, -0.05, 1.1]])
    box1, x = _deform(TRICLINIC, X, F)
    if wrap:  # atoms re-wrapped into the deformed box, as in a dump
        x = box1.wrap(x)
    res = atomic_strain(X, x, box0=TRICLINIC, box=box1, cutoff=4.0)
    assert res.valid.all()
    assert res.n_neighbors.min() >= 3
    np.testing.assert_allclose(res.F, np.broadcast_to(F, res.F.shape), rtol=0, atol=1e-12)
    E = 0.5 * (F.T @ F - np.eye(3))
    np.testing.assert_allclose(res.strain, np.broadcast_to(E, res.strain.shape), atol=1e-12)
    # D2min is a sum of squared residuals of ~30 pair vectors of length ~4: round-off ~1e-25
    assert np.max(res.d2min) < 1e-20


def test_simple_shear_2d(rng: np.random.Generator) -> None:
    box = Box.orthogonal([20.0, 18.0, 1.0])
    X = box.to_cartesian(np.column_stack([rng.uniform(0, 1, (500, 2)), np.zeros(500)]))
    gamma = 0.3
    F = np.array([[1.0, gamma, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])
    box1, x = _deform(box, X, F)
    for measure in ("green_lagrange", "infinitesimal"):
        res = atomic_strain(
            X, box1.wrap(x), box0=box, box=box1, cutoff=3.0, dims=2, measure=measure
        )
        assert res.F.shape == (500, 2, 2)
        np.testing.assert_allclose(res.exy, gamma / 2, atol=1e-12)  # E_xy = gamma / 2
        np.testing.assert_allclose(2 * res.exy, gamma, atol=1e-12)
    gl = atomic_strain(X, x, box0=box, box=box1, cutoff=3.0, dims=2)
    np.testing.assert_allclose(gl.strain[:, 1, 1], gamma**2 / 2, atol=1e-12)
    np.testing.assert_allclose(
        gl.shear, np.sqrt((gamma / 2) ** 2 + (gamma**2 / 2) ** 2 / 2), atol=1e-12
    )


def test_nonaffine_d2min(rng: np.random.Generator) -> None:
    X = _config(rng, TRICLINIC, 400)
    x = X.copy()
    x[0] += [0.3, 0.0, 0.0]  # one atom displaced
    res = atomic_strain(X, x, box0=TRICLINIC, cutoff=4.0)
    assert res.d2min[0] > 1e-2
    assert np.median(res.d2min) < 1e-20  # atoms that do not see atom 0


def test_neighbor_pairs_match_brute_force(rng: np.random.Generator) -> None:
    X = _config(rng, TRICLINIC, 120)
    i, j, shift, d0 = neighbor_pairs(X, TRICLINIC, 5.0)
    np.testing.assert_allclose(d0, X[j] + shift @ TRICLINIC.matrix - X[i], atol=1e-12)
    # brute force over 5^3 images
    m = np.stack(np.meshgrid(*[np.arange(-2, 3)] * 3, indexing="ij"), -1).reshape(-1, 3)
    dd = X[None, :, None] + (m @ TRICLINIC.matrix)[None, None] - X[:, None, None]
    r = np.linalg.norm(dd, axis=-1)
    count = (r < 5.0).sum(axis=(1, 2)) - 1  # minus self
    np.testing.assert_array_equal(np.bincount(i, minlength=120), count)


def test_validation(rng: np.random.Generator) -> None:
    X = _config(rng, TRICLINIC, 50)
    with pytest.raises(InputDataError, match="cutoff"):
        atomic_strain(X, X, box0=TRICLINIC, cutoff=-1.0)
    with pytest.raises(InputDataError, match="shape"):
        atomic_strain(X, X[:10], box0=TRICLINIC, cutoff=3.0)
    with pytest.raises(InputDataError, match="measure"):
        atomic_strain(X, X, box0=TRICLINIC, cutoff=3.0, measure="log")  # type: ignore[arg-type]
    with pytest.warns(InputDataWarning, match="do not span"):
        res = atomic_strain(X, X, box0=TRICLINIC, cutoff=1.0)
    assert np.isnan(res.F[~res.valid]).all()
