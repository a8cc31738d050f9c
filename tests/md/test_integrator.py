"""The shared velocity-Verlet step and recording schedule."""

import numpy as np
import pytest

from bayescal.errors import InputDataError
from bayescal.md.integrator import check_schedule, verlet_step


def test_verlet_conserves_harmonic_energy_to_second_order():
    # q'' = -w^2 q: the energy error of velocity Verlet is O((w dt)^2) and bounded; it falls
    # 4x when dt halves
    w = 2.0

    def accel(q):
        return -(w**2) * q, float(0.5 * w**2 * q @ q)

    def max_energy_error(dt):
        q, v = np.array([1.0]), np.array([0.0])
        a, _ = accel(q)
        errors = []
        for _ in range(round(20.0 / dt)):
            a, pe = verlet_step(q, v, a, dt, accel)
            errors.append(abs(pe + 0.5 * float(v @ v) - 0.5 * w**2))
        return max(errors)

    coarse, fine = max_energy_error(0.02), max_energy_error(0.01)
    assert coarse < 1e-3
    assert 3.5 < coarse / fine < 4.5


def test_verlet_updates_in_place_and_passes_extra_back():
    q, v = np.zeros(2), np.ones(2)
    a, extra = verlet_step(q, v, np.zeros(2), 0.5, lambda x: (np.zeros_like(x), "pe"))
    assert extra == "pe"
    np.testing.assert_allclose(q, 0.5)
    np.testing.assert_allclose(v, 1.0)
    np.testing.assert_allclose(a, 0.0)


@pytest.mark.parametrize(("steps", "every", "k"), [(10, 3, 1), (10, 0, 1), (4, 5, 1), (12, 4, 4)])
def test_bad_schedules_are_refused(steps, every, k):
    with pytest.raises(InputDataError, match=f"steps={steps}, every={every}"):
        check_schedule(steps, every, min_intervals=k)


def test_good_schedule_passes():
    check_schedule(12, 3, min_intervals=4)
