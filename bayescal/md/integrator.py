"""Velocity-Verlet stepping and the recording schedule shared by the reduced MD runs.

Both the thermal reduced MD (:mod:`bayescal.md.reduced`, its ``"none"`` thermostat) and
the driven plate (:mod:`bayescal.md.beam`) integrate ``q'' = a(q)`` in reduced
coordinates with the same NVE step and record every ``every`` steps.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import numpy as np

from bayescal.errors import InputDataError

__all__ = ["check_schedule", "verlet_step"]

_Extra = TypeVar("_Extra")


def check_schedule(steps: int, every: int, *, min_intervals: int = 1) -> None:
    """Raise unless ``every`` divides ``steps`` into at least ``min_intervals`` records.

    Raises
    ------
    InputDataError
        With both values in the message.
    """
    if every < 1 or steps < min_intervals * every or steps % every:
        at_least = f" with at least {min_intervals} intervals" if min_intervals > 1 else ""
        raise InputDataError(
            f"every must divide steps{at_least}; got steps={steps}, every={every}."
        )


def verlet_step(
    q: np.ndarray,
    v: np.ndarray,
    a: np.ndarray,
    dt: float,
    accel: Callable[[np.ndarray], tuple[np.ndarray, _Extra]],
) -> tuple[np.ndarray, _Extra]:
    """One velocity-Verlet (NVE) step, updating ``q`` and ``v`` in place.

    Parameters
    ----------
    q, v, a : ndarray, shape (r,)
        Coordinates, velocities and the accelerations at ``q`` (consistent units, ``dt`` in
        the same time unit).
    dt : float
        Time step.
    accel : callable
        ``accel(q) -> (a, extra)``; ``extra`` (e.g. the potential energy) is passed back.

    Returns
    -------
    a, extra
        The accelerations at the new ``q`` and what ``accel`` returned with them.
    """
    v += 0.5 * dt * a
    q += dt * v
    a, extra = accel(q)
    v += 0.5 * dt * a
    return a, extra
