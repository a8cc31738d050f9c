"""Helpers shared by the manifold tests (unique module name: tests/ has no packages)."""

from __future__ import annotations

import numpy as np


def random_bases(rng: np.random.Generator, *shape: int) -> np.ndarray:
    """Orthonormal bases of shape (..., n, p) from QR of Gaussian matrices."""
    return np.linalg.qr(rng.standard_normal(shape))[0]


def random_orthogonal(rng: np.random.Generator, n: int) -> np.ndarray:
    q, r = np.linalg.qr(rng.standard_normal((n, n)))
    return q * np.sign(np.diag(r))


def bases_at_angles(rng: np.random.Generator, n: int, theta: np.ndarray, extra: int = 0):
    """U, V with principal angles exactly ``theta`` (up to a random rotation, ~1e-16)."""
    p = len(theta)
    eye = np.eye(n)
    U = eye[:, :p]
    V = np.cos(theta) * eye[:, :p] + np.sin(theta) * eye[:, p : 2 * p]
    if extra:
        V = np.concatenate([V, eye[:, 2 * p : 2 * p + extra]], axis=1)
    R = random_orthogonal(rng, n)
    return R @ U, R @ V
