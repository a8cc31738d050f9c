"""Benchmark: residuals recomputed from kept outputs stored as float32 vs float64.

Runs the CuZr study's forward model at ``--n`` feasible points of its box (seeded uniform
draws), keeps the compared outputs in both precisions (``bayescal.compared_outputs``) and prints,
per point, the relative L2 difference of the recomputed residual vector from the one of the full
model output, and the largest absolute difference. float64 must print 0.

Run: ``PYTHONPATH=. .venv/bin/python benchmarks/stored_outputs_precision.py [--n 4] [--seed 0]``
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from bayescal.compared_outputs import compared_outputs, residuals_from_outputs
from bayescal.study import load_study


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=4, help="forward runs")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    study = load_study(Path(__file__).parents[1] / "studies" / "cuzr_stz.py")
    draws = study.from_unit(np.random.default_rng(args.seed).random((50 * args.n, study.dim)))
    theta = draws[study.feasible(draws)][: args.n]
    model = study.forward(study.model_inputs(theta))
    disc, ref = study.discrepancy, study.reference_for(0)
    full = disc.residuals(ref, model)
    print(f"{len(theta)} feasible CuZr forward runs; residual length {full.shape[1]}")
    print("dtype    point  rel. L2 diff   max abs diff")
    for dtype in (np.float64, np.float32):
        kept = compared_outputs(disc, model, dtype=dtype)
        got = residuals_from_outputs(disc, ref, kept, dim="sample")
        for i in range(len(theta)):
            if not np.isfinite(full[i]).all():
                print(f"{np.dtype(dtype).name:8s} {i:5d}  (failed run)")
                continue
            diff = got[i] - full[i]
            rel = np.linalg.norm(diff) / np.linalg.norm(full[i])
            print(f"{np.dtype(dtype).name:8s} {i:5d}  {rel:12.3e}  {np.abs(diff).max():12.3e}")


if __name__ == "__main__":
    main()
