"""Benchmark: the cost of one 2D LJ glass realization and of its coarse-graining, side by side.

Runs :func:`bayescal.md.glass.shear_glass` with the protocol of the shipped realizations
(:data:`bayescal.datasets.lj2d.LJ2D_GLASS`; ``--steps-fraction`` scales its step counts, for a
quick look) on one core, then coarse-grains the run as the dataset does
(:data:`bayescal.datasets.lj2d.LJ2D_COARSE`), and prints both wall times, the MD cost per
atom-step and the ratio.

Run: ``OMP_NUM_THREADS=1 .venv/bin/python benchmarks/md_cost.py`` (the full protocol: minutes).
"""

from __future__ import annotations

import argparse
import dataclasses
import tempfile
import time

from bayescal.datasets.lj2d import LJ2D_COARSE, LJ2D_GLASS
from bayescal.md.glass import shear_glass
from bayescal.md.reference import md_reference


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps-fraction", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    f = args.steps_fraction
    glass = LJ2D_GLASS
    shear = max(glass.n_frames - 1, round(glass.shear_steps * f / 3000) * 3000)
    glass = dataclasses.replace(
        glass,
        melt_steps=round(glass.melt_steps * f),
        quench_steps=round(glass.quench_steps * f),
        shear_steps=shear,
    )
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        run = shear_glass(tmp, glass, rng=args.seed)
        md = time.perf_counter() - start
        start = time.perf_counter()
        md_reference(run, LJ2D_COARSE)
        coarse = time.perf_counter() - start
    steps = glass.melt_steps + glass.quench_steps + glass.shear_steps
    atoms = round(glass.n_atoms**0.5) ** 2
    print(
        f"MD: {atoms} atoms, {steps} steps: {md:.1f} s "
        f"({1e6 * md / (atoms * steps):.3f} us per atom-step)\n"
        f"coarse-graining ({LJ2D_COARSE.method}, {LJ2D_COARSE.shape}, {glass.n_frames} frames): "
        f"{coarse:.1f} s\nratio MD / coarse-graining: {md / coarse:.1f}"
    )


if __name__ == "__main__":
    main()
