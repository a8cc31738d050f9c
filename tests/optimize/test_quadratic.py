"""Local quadratic model: exact on quadratics, the cone step of EGO, validation."""

import dataclasses

import numpy as np
import pytest

from bayescal.errors import InputDataError
from bayescal.optimize import EGO, EGOOptions, LocalSearch
from bayescal.optimize.quadratic import fit_quadratic, n_quadratic_terms, quadratic_step


def random_quadratic(d: int, rng: np.random.Generator):
    m = rng.normal(size=(d, d))
    h = m @ m.T + 0.1 * np.eye(d)
    xstar = rng.uniform(0.3, 0.7, size=d)
    return h, xstar, lambda x: 1.5 + 0.5 * np.einsum("ni,ij,nj->n", x - xstar, h, x - xstar)


@pytest.mark.parametrize("d", [1, 2, 4])
def test_fit_is_exact_on_a_quadratic_and_steps_to_its_minimum(d):
    rng = np.random.default_rng(d)
    _, xstar, f = random_quadratic(d, rng)
    x = rng.uniform(0.2, 0.8, size=(n_quadratic_terms(d) + 3, d))
    centre = x[np.argmin(f(x))]
    model = fit_quadratic(x, f(x), centre)
    assert model is not None and model.convex
    test = rng.uniform(size=(20, d))
    np.testing.assert_allclose(model(test), f(test), rtol=1e-9, atol=1e-9)
    # the unconstrained minimiser is inside the unit cube: the step lands on it
    step = quadratic_step(model, np.array([np.zeros(d), np.ones(d)]))
    np.testing.assert_allclose(step, xstar, atol=1e-6)


def test_step_stays_in_the_box():
    rng = np.random.default_rng(0)
    _, _, f = random_quadratic(3, rng)
    x = rng.uniform(size=(20, 3))
    model = fit_quadratic(x, f(x), x[0])
    box = np.array([x[0] - 0.01, x[0] + 0.01])
    step = quadratic_step(model, box)
    assert np.all(step >= box[0] - 1e-15) and np.all(step <= box[1] + 1e-15)
    assert f(step[None])[0] < f(x[:1])[0]  # still a descent step when x* is outside the box


def test_undetermined_fits_return_none():
    rng = np.random.default_rng(1)
    x = rng.uniform(size=(n_quadratic_terms(2), 2))  # as many points as coefficients
    assert fit_quadratic(x, x.sum(1), x[0]) is None
    line = np.outer(np.linspace(0, 1, 12), [1.0, 1.0])  # collinear points: rank-deficient
    assert fit_quadratic(line, line[:, 0] ** 2, line[0]) is None


def test_squared_cone_is_a_quadratic_form():
    """|A(x - x*)| squared is exactly quadratic: the step from any points hits x*."""
    rng = np.random.default_rng(2)
    a = np.diag([2.5, 40.0, 0.5]) @ np.array([[1, 0, 0], [0, 1, 0], [0.8, 0, 0.6]])
    xstar = np.array([0.4, 0.15, 0.6])
    x = xstar + rng.uniform(-0.1, 0.1, size=(25, 3))
    cone = np.linalg.norm((x - xstar) @ a.T, axis=1)
    model = fit_quadratic(x, cone**2, x[np.argmin(cone)])
    step = quadratic_step(model, np.array([np.zeros(3), np.ones(3)]))
    np.testing.assert_allclose(step, xstar, atol=1e-8)


def test_ego_local_batches_lead_with_the_quadratic_point():
    """On an oblique cone the quadratic point of the first local batch is the minimiser."""
    xstar = np.array([0.43, 0.61])
    a = np.array([[3.0, 0.0], [2.4, 0.3]])

    def cone(u):
        return np.linalg.norm((u - xstar) @ a.T, axis=1) + 1e-12

    opts = EGOOptions(
        n_init=8,
        batch_size=2,
        num_restarts=4,
        raw_samples=128,
        local=LocalSearch(start=0, radius=0.5, quadratic=True),
        log_y=True,
    )
    ego = EGO(2, options=opts, seed=0)
    while ego.n_told < opts.n_init:
        x = ego.ask()
        ego.tell(x, cone(x))
    x = ego.ask()  # the first model step: 8 design points determine the 6 coefficients
    np.testing.assert_allclose(x[0], xstar, atol=1e-6)
    assert len(x) == 2
    ego.tell(x, cone(x))
    assert np.abs(ego.ask() - xstar).max(axis=1).min() > opts.avoid_radius
    # off: the GP alone, on the same design, does not land on the minimiser
    plain = EGO(2, options=dataclasses.replace(opts, local=LocalSearch(radius=0.5)), seed=0)
    plain.tell(*(h[: opts.n_init] for h in ego.history[:2]))
    assert np.abs(plain.ask() - xstar).max(axis=1).min() > 1e-4


def test_quadratic_options_validation():
    with pytest.raises(InputDataError, match=r"local\.quadratic_n"):
        LocalSearch(quadratic_n=1)
    with pytest.raises(InputDataError, match=r"must exceed the 15 coefficients"):
        EGO(4, options=EGOOptions(local=LocalSearch(quadratic=True, quadratic_n=15)))
