"""Shared helpers of the coarse-graining tests."""

from __future__ import annotations

import numpy as np

from bayescal.coarse import Box, Frame


def random_frame(
    rng: np.random.Generator, n: int = 200, *, box: Box | None = None, timestep: int = 0
) -> Frame:
    """Uniform random atoms in ``box`` with a type and a pe column."""
    box = box or Box(
        matrix=np.array([[12.0, 0, 0], [2.5, 10.0, 0], [1.0, -1.5, 9.0]]),
        origin=np.array([-1.0, 0.5, 2.0]),
    )
    s = rng.uniform(0, 1, (n, 3))
    return Frame(
        positions=box.to_cartesian(s),
        box=box,
        ids=rng.permutation(n) + 1,
        columns={"type": rng.integers(1, 3, n), "c_pe": rng.normal(-3.4, 0.05, n)},
        timestep=timestep,
    )
