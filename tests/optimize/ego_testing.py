"""Test functions for the EGO tests, mapped from the unit cube."""

from __future__ import annotations

import numpy as np
import torch
from botorch.test_functions import Branin, Hartmann

from bayescal.optimize import from_unit

# Published minima (BoTorch test_functions, Surjanovic & Bingham's library).
BRANIN_MIN = 0.397887
HARTMANN6_MIN = -3.32237


def within_1pct(values: np.ndarray, optimum: float) -> np.ndarray:
    """Running-best mask: value within 1 % of |optimum| of the optimum."""
    best = np.minimum.accumulate(np.where(np.isfinite(values), values, np.inf))
    return best <= optimum + 0.01 * abs(optimum)


def branin_unit(u: np.ndarray) -> np.ndarray:
    f = Branin()
    x = from_unit(u, f.bounds.numpy().T)
    return f(torch.as_tensor(x)).numpy()


def hartmann6_unit(u: np.ndarray) -> np.ndarray:
    return Hartmann(dim=6)(torch.as_tensor(np.asarray(u, dtype=float))).numpy()
