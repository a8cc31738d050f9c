"""Benchmark: EGO with and without the local quadratic step on an anisotropic, oblique cone.

The test function mimics the STZ twin discrepancy near its truth (measured with
``bayescal.study.evaluate`` at offsets of 0.001-4 % of each range: ``d`` grows linearly,
slopes per unit range about 2.5 (beta), 55 (chi0), 0.9 (c0), 0.75 (s_y)):
``f(x) = s tanh(|A (x - x*)| / s)`` in 4-d, ``s = 0.6``, with the third coordinate (c0's
role) weakly identified and tied to the first by an oblique valley; the tanh saturates the cone
as the twin's chi0 direction does (d 0.32 at +1 %, 0.43 at +2 %, 0.54 at +4 % of its range).
Both variants run the twin studies' EGO settings (20 LHS points, q = 4, 100 evaluations, GP on
log y, shrinking trust region from 40) from the same seeds, side by side; the script prints
each run's worst error in % of the range and the median ratio of worst errors.

Run: ``PYTHONPATH=. .venv/bin/python benchmarks/ego_cone.py [--seeds 4]``
"""

from __future__ import annotations

import argparse
import dataclasses
import time

import numpy as np

from bayescal.optimize import EGO, EGOOptions, LocalSearch

X_STAR = np.array([0.43, 0.137, 0.61, 0.52])
A = np.diag([2.5, 55.0, 0.3, 0.75]) @ np.array(
    [[1, 0, 0, 0], [0, 1, 0, 0], [0.8, 0, 0.6, 0], [0, 0, 0, 1.0]]
)
TWIN_EGO = EGOOptions(
    n_init=20,
    batch_size=4,
    local=LocalSearch(start=40, min_radius=0.0125, fail_tol=2),
    log_y=True,
)


SATURATION = 0.6


def cone(x: np.ndarray) -> np.ndarray:
    """Saturated cone ``s tanh(|A (x - x*)| / s) + 1e-12`` at points ``x`` (n, 4)."""
    r = np.linalg.norm((x - X_STAR) @ A.T, axis=1)
    return SATURATION * np.tanh(r / SATURATION) + 1e-12


def worst_error(options: EGOOptions, seed: int, budget: int) -> tuple[float, float]:
    """Largest |best - x*| in % of the range after ``budget`` evaluations, and the seconds."""
    ego = EGO(4, options=options, seed=seed)
    start = time.perf_counter()
    while ego.n_told < budget:
        x = ego.ask()
        ego.tell(x, cone(x))
    return 100 * float(np.abs(ego.best[0] - X_STAR).max()), time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=4)
    parser.add_argument("--budget", type=int, default=100)
    args = parser.parse_args()
    ratios = []
    print("seed   GP only: worst err %  (s)    + quadratic: worst err %  (s)")
    for seed in range(args.seeds):
        plain, t_plain = worst_error(TWIN_EGO, seed, args.budget)
        quad_opts = dataclasses.replace(
            TWIN_EGO, local=dataclasses.replace(TWIN_EGO.local, quadratic=True)
        )
        quad, t_quad = worst_error(quad_opts, seed, args.budget)
        ratios.append(plain / max(quad, 1e-9))
        print(f"{seed:4d}   {plain:10.4f}  ({t_plain:5.1f})     {quad:10.6f}  ({t_quad:5.1f})")
    print(f"median ratio of worst errors (GP only / + quadratic): {np.median(ratios):.3g}")


if __name__ == "__main__":
    main()
