"""Karcher mean: fixed points, symmetric configurations, weights, warnings."""

from __future__ import annotations

import numpy as np
import pytest
from _manifold_helpers import random_bases

from bayescal.errors import ConvergenceWarning, InputDataError
from bayescal.manifold import Grassmann, KarcherInfo, distance, exp_map, karcher_mean, log_map


def test_mean_of_identical_points_is_that_point(rng):
    U = random_bases(rng, 10, 3)
    M, info = karcher_mean(np.stack([U] * 4), return_info=True)
    assert distance(M, U) < 1e-12
    assert info.converged and info.n_iter == 0


@pytest.mark.parametrize("scale", [1e-6, 0.1, 0.5])
def test_mean_of_symmetric_points_is_the_centre(rng, scale):
    gr = Grassmann(12, 3)
    C = gr.random_point(rng=rng)
    D1, D2 = gr.random_tangent(C, rng=rng), gr.random_tangent(C, rng=rng)
    D1 *= scale / np.linalg.norm(D1)
    D2 *= scale / np.linalg.norm(D2)
    Us = np.stack([exp_map(C, D1), exp_map(C, -D1), exp_map(C, D2), exp_map(C, -D2)])
    M, info = karcher_mean(Us, return_info=True)
    assert info.converged and info.grad_norm <= 1e-10
    assert distance(M, C) < 1e-9


def test_first_order_condition_with_weights(rng):
    Us = random_bases(rng, 5, 8, 2)
    Us = np.stack([exp_map(Us[0], 0.3 * log_map(Us[0], U)) for U in Us])  # keep them close
    w = np.array([1.0, 2.0, 0.5, 0.0, 3.0])
    M = karcher_mean(Us, weights=w)
    grad = np.tensordot(w / w.sum(), log_map(M, Us), axes=1)
    assert np.linalg.norm(grad) < 1e-9
    # a single positive weight gives that point
    assert distance(karcher_mean(Us, weights=[0, 0, 1, 0, 0]), Us[2]) < 1e-10


def test_warns_when_iteration_cap_is_hit(rng):
    Us = random_bases(rng, 6, 10, 3)
    with pytest.warns(ConvergenceWarning, match="max_iter=1"):
        M, info = karcher_mean(Us, max_iter=1, tol=1e-14, return_info=True)
    assert isinstance(info, KarcherInfo) and not info.converged and info.n_iter == 1
    assert Grassmann(10, 3).belongs(M)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"weights": [1.0, -1.0, 1.0]}, "weights must be 3"),
        ({"weights": [1.0, 1.0]}, "weights must be 3"),
        ({"tol": 0.0}, "tol must be > 0"),
        ({"max_iter": -1}, "max_iter must be an int"),
        ({"step": 2.5}, r"step must be in \(0, 2\)"),
    ],
)
def test_invalid_options(rng, kwargs, match):
    Us = random_bases(rng, 3, 5, 2)
    with pytest.raises(InputDataError, match=match):
        karcher_mean(Us, **kwargs)


def test_rejects_wrong_shape():
    with pytest.raises(InputDataError, match=r"Us must have shape \(k, n, p\)"):
        karcher_mean(np.eye(3)[:, :1])
