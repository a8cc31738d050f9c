"""Synthetic EGO evaluations with a known minimum, shaped like ``DIR/evaluations.nc``."""

from __future__ import annotations

import numpy as np
import xarray as xr

NAMES = ("beta", "u0", "c0", "s_y")
LOWER = np.array([2.0, -3.395, 0.05, 0.8])
UPPER = np.array([15.0, -3.360, 1.0, 1.1])
#: Hidden optimum (the twin test's parameters from DESIGN.md).
TRUTH = np.array([8.277, -3.3682, 0.550, 1.006])
CURVATURE = np.array([3.0, 2.0, 1.0, 4.0])  # per unit-cube coordinate


def discrepancy(unit: np.ndarray, *, floor: float = 0.3) -> np.ndarray:
    """Positive misfit with minimum ``floor`` at ``TRUTH`` (quadratic in the unit cube)."""
    t = (TRUTH - LOWER) / (UPPER - LOWER)
    return floor + np.sum(CURVATURE * (unit - t) ** 2, axis=-1)


def make_evaluations(
    *, n_seeds: int = 3, n_per_seed: int = 40, rng: int = 0, d: int = 4, fail_every: int = 13
) -> xr.Dataset:
    """K independent 'EGO runs': space-filling points plus points concentrating at the optimum."""
    gen = np.random.default_rng(rng)
    t = (TRUTH[:d] - LOWER[:d]) / (UPPER[:d] - LOWER[:d])
    units, seeds = [], []
    for k in range(n_seeds):
        n_explore = n_per_seed // 2
        explore = gen.random((n_explore, d))
        scale = np.geomspace(0.3, 0.02, n_per_seed - n_explore)[:, None]
        exploit = np.clip(t + scale * gen.standard_normal((n_per_seed - n_explore, d)), 0, 1)
        units.append(np.vstack([explore, exploit]))
        seeds.append(np.full(n_per_seed, k))
    unit = np.vstack(units)
    seed = np.concatenate(seeds)
    lo, hi = LOWER[:d], UPPER[:d]
    theta = lo + (hi - lo) * unit
    t_full = np.tile((TRUTH - LOWER) / (UPPER - LOWER), (len(unit), 1))
    t_full[:, :d] = unit
    disc = discrepancy(t_full)
    status = np.zeros(len(unit), dtype=np.int8)
    status[::fail_every] = 1
    disc[status != 0] = np.nan
    names = list(NAMES[:d])
    return xr.Dataset(
        {
            "theta": (("eval", "param"), theta),
            "unit": (("eval", "param"), unit),
            "discrepancy": ("eval", disc),
            "status": ("eval", status),
            "seed": ("eval", seed),
            "batch": ("eval", np.arange(len(unit)) % n_per_seed),
        },
        coords={"param": names},
        attrs={
            "study_name": "synthetic",
            "study_fingerprint": "0" * 16,
            "root_seed": rng,
            "param_units": ["1/eV", "eV", "", "GPa"][:d],
            "param_lower": list(lo),
            "param_upper": list(hi),
        },
    )
