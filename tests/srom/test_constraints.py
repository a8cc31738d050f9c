"""Linear constraints B^T Y = 0 of SROM bases: translation, fixed dofs, validation."""

from __future__ import annotations

import numpy as np
import pytest

from bayescal.errors import InputDataError
from bayescal.srom import (
    constrain,
    constraint_basis,
    fixed_dofs_constraint,
    translation_constraint,
)


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(0)


def _basis(rng: np.random.Generator, *shape: int) -> np.ndarray:
    return np.linalg.qr(rng.standard_normal(shape))[0]


def _orth_err(Y: np.ndarray) -> float:
    p = Y.shape[-1]
    return float(np.abs(np.swapaxes(Y, -1, -2) @ Y - np.eye(p)).max())


def test_constrain_translation_and_fixed_dofs(rng):
    B = translation_constraint(5, 3)
    Y = constrain(_basis(rng, 4, 15, 3), B)
    assert float(np.abs(B.T @ Y).max()) < 1e-14
    assert _orth_err(Y) < 1e-14
    np.testing.assert_allclose(constrain(Y, B), Y, atol=1e-14)  # idempotent
    F = fixed_dofs_constraint(15, [0, 4])
    Yf = constrain(Y, np.concatenate([B, F], axis=1))
    np.testing.assert_allclose(Yf[:, [0, 4]], 0.0, atol=1e-15)
    assert float(np.abs(B.T @ Yf).max()) < 1e-14


def test_constraint_basis_drops_dependent_columns():
    B = np.array([[1.0, 2.0], [1.0, 2.0], [0.0, 0.0]])
    assert constraint_basis(B).shape == (3, 1)


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda X: constrain(X, np.ones((3, 1))), "n = 6 rows"),
        (lambda X: constrain(X, np.eye(6)[:, :5]), "fewer than the p = 2"),
        (lambda X: fixed_dofs_constraint(6, [6]), "dofs must be"),
        (lambda X: translation_constraint(0), "n_atoms"),
    ],
)
def test_bad_input_raises(rng, call, match):
    X = _basis(rng, 6, 2)
    with pytest.raises(InputDataError, match=match):
        call(X)
