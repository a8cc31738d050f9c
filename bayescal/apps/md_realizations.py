"""``bayescal md-realizations``: make the independent 2D LJ glass realizations again.

Runs :func:`bayescal.datasets.lj2d.generate_lj2d`: R sheared-glass MD runs with LAMMPS (one core
each, ``--workers`` at once), coarse-grained and stacked into one netCDF file whose attrs record
this command and its seeds. An interrupted generation resumes from the runs already in the
cache folder (``<out>.cache``).

::

    bayescal md-realizations --out lj2d_realizations.nc --workers 2   # 6 realizations
    bayescal md-realizations --out /tmp/tiny.nc --tiny                  # seconds: 2 x 400 atoms
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import shlex
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from bayescal.datasets.lj2d import (
    LJ2D_GLASS,
    LJ2D_GRID,
    LJ2D_MD_SEED,
    LJ2D_REALIZATIONS,
    generate_lj2d,
    lj2d_coarse,
)
from bayescal.errors import BayescalError

__all__ = ["TINY_GLASS", "main"]

#: A glass of a few hundred atoms for smoke tests (seconds per realization; no band).
TINY_GLASS = dataclasses.replace(
    LJ2D_GLASS, n_atoms=400, melt_steps=500, quench_steps=1000, shear_steps=1500, stress_points=101
)


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="bayescal md-realizations", description=__doc__.splitlines()[0]
    )
    p.add_argument("--out", type=Path, required=True, help="dataset file to write")
    p.add_argument("--realizations", type=int, default=LJ2D_REALIZATIONS, help="R")
    p.add_argument("--md-seed", type=int, default=LJ2D_MD_SEED, help="root seed")
    p.add_argument("--workers", type=int, default=1, help="realizations run at once")
    p.add_argument(
        "--grid", type=int, default=None, help="coarse-graining cells per side (16; --tiny: 4)"
    )
    p.add_argument("--tiny", action="store_true", help="400-atom glasses (smoke test)")
    p.add_argument("--cache", type=Path, default=None, help="MD cache (default <out>.cache)")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry: generate, write, print what was made.

    Returns
    -------
    int
        0 done, 2 bad input (:class:`~bayescal.errors.BayescalError`).
    """
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    words = list(sys.argv[1:] if argv is None else argv)
    command = "bayescal md-realizations " + shlex.join(words)
    start = time.perf_counter()
    try:
        data = generate_lj2d(
            args.out,
            realizations=args.realizations,
            md_seed=args.md_seed,
            cache=args.cache,
            workers=args.workers,
            glass=TINY_GLASS if args.tiny else LJ2D_GLASS,
            coarse=lj2d_coarse(args.grid or (4 if args.tiny else LJ2D_GRID)),
            command=command,
        )
    except BayescalError as exc:
        print(f"bayescal md-realizations: error: {exc}", file=sys.stderr)
        return 2
    peak = data["stress"].max("stress_frame").values
    print(
        f"wrote {args.out}: {data.sizes['realization']} realizations, "
        f"{data.sizes['y']}x{data.sizes['x']} cells, peak stress "
        f"{np.round(peak, 3).tolist()} epsilon/sigma^2, {time.perf_counter() - start:.0f} s"
    )
    return 0
