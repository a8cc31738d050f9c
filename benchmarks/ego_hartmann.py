"""Benchmark: EGO on Hartmann-6, the fraction of seeds within 1 % of the minimum at a budget.

Runs :func:`bayescal.optimize.minimize` with default options (``q = 1``) for ``--seeds``
seeds and prints, per seed, the best value after ``--at`` evaluations (Ax's benchmark budget
for Hartmann-6 is 35) and after ``--budget``, and the first evaluation within 1 % of the
minimum -3.32237; then the fraction of seeds within 1 % at ``--at``.

Run: ``.venv/bin/python benchmarks/ego_hartmann.py`` (10 seeds x 50 evaluations: a few
minutes on 2 cores).
"""

from __future__ import annotations

import argparse

import numpy as np
import torch
from botorch.test_functions import Hartmann

from bayescal.optimize import minimize

MINIMUM = -3.32237


def hartmann6(u: np.ndarray) -> np.ndarray:
    """Hartmann-6 on the unit cube (its native domain)."""
    return Hartmann(dim=6)(torch.as_tensor(np.asarray(u, dtype=float))).numpy()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--at", type=int, default=35, help="evaluations at which to judge")
    parser.add_argument("--budget", type=int, default=50)
    args = parser.parse_args()
    target = MINIMUM + 0.01 * abs(MINIMUM)
    hits = 0
    print(f"{'seed':>4} {'best@' + str(args.at):>9} {'best@' + str(args.budget):>9} {'hit at':>6}")
    for seed in range(args.seeds):
        res = minimize(hartmann6, 6, budget=args.budget, seed=seed)
        best = np.minimum.accumulate(np.where(np.isfinite(res.y), res.y, np.inf))
        hit = np.flatnonzero(best <= target)
        at = "-" if hit.size == 0 else str(hit[0] + 1)
        hits += bool(best[args.at - 1] <= target)
        print(f"{seed:>4} {best[args.at - 1]:>9.4f} {best[-1]:>9.4f} {at:>6}")
    print(f"within 1 % of {MINIMUM} after {args.at} evaluations: {hits} of {args.seeds} seeds")


if __name__ == "__main__":
    main()
