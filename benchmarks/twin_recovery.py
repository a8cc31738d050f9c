"""Benchmark: how often EGO recovers twin truths drawn at random from the box.

Draws ``--truths`` truths uniformly from the twin study's searched box (beta, chi0, c0, s_y)
under its constraint (rejection sampling, ``--seed``), adds ``--extra`` truths given in the
paper's coordinates (default: the twin study's truth 4, below the chi0 cliff), runs the twin
study for each (``--seeds`` x ``--budget`` evaluations, in ``--out/truth<k>``: a rerun resumes),
and prints per truth and seed: the best d (0 at the truth), the error at the best point in % of
each range, the worst of them, and the first evaluation within ``--within`` % of every range.

Run: ``.venv/bin/python benchmarks/twin_recovery.py --out runs/recovery`` (6 drawn truths plus
truth 4, 2 seeds x 100 each: about 7 x 7 minutes on 2 cores; ``--surrogate composite`` for
composite EGO, in another ``--out``).
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

import numpy as np
import xarray as xr

from bayescal.study import calibrate, load_study

TWIN = Path(__file__).resolve().parents[1] / "studies" / "twin_stz.py"
PAPER = ("beta", "u0", "c0", "s_y")


def draw_truths(n: int, seed: int) -> list[dict[str, float]]:
    """``n`` feasible truths, uniform in the twin study's searched box, in paper coordinates."""
    study = load_study(TWIN)
    lower = np.array([p.lower for p in study.parameters])
    upper = np.array([p.upper for p in study.parameters])
    rng = np.random.default_rng(seed)
    kept: list[np.ndarray] = []
    while len(kept) < n:
        theta = lower + (upper - lower) * rng.random((256, lower.size))
        kept.extend(theta[study.feasible(theta)])
    out = []
    for theta in kept[:n]:
        inputs = study.model_inputs(theta[None])
        out.append({name: float(np.asarray(inputs[name]).reshape(-1)[0]) for name in PAPER})
    return out


def first_within(errors: np.ndarray, percent: float) -> int | None:
    """1-based index of the first evaluation whose every error is within ``percent``."""
    hits = np.flatnonzero(np.all(errors <= percent, axis=1))
    return int(hits[0]) + 1 if hits.size else None


def seed_rows(evaluations: xr.Dataset, study, within: float) -> list[dict]:
    """Best d, its errors in % of each range, and the first evaluation within ``within`` %."""
    names = study.names
    span = np.array([p.upper - p.lower for p in study.parameters])
    truth = np.array([study.truth[n] for n in names])
    rows = []
    for seed in np.unique(evaluations["seed"].values):
        ev = evaluations.isel(eval=np.flatnonzero(evaluations["seed"].values == seed))
        theta = ev["theta"].sel(param=list(names)).values
        d = np.where(np.isfinite(ev["discrepancy"].values), ev["discrepancy"].values, np.inf)
        errors = 100 * np.abs(theta - truth) / span
        best = int(np.argmin(d))
        rows.append(
            {
                "seed": int(seed),
                "d": float(d[best]),
                "errors": errors[best],
                "within_at": first_within(errors, within),
            }
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True, help="folder of the twin runs")
    parser.add_argument("--truths", type=int, default=6, help="truths drawn from the box")
    parser.add_argument("--seed", type=int, default=2026, help="seed of the drawn truths")
    parser.add_argument(
        "--extra", default="3.5,-3.372,0.15,1.05", help="beta,u0,c0,s_y;...  ('' for none)"
    )
    parser.add_argument("--seeds", type=int, default=2, help="EGO seeds per truth")
    parser.add_argument("--budget", type=int, default=100, help="evaluations per seed")
    parser.add_argument("--within", type=float, default=2.0, help="recovered: %% of each range")
    parser.add_argument(
        "--surrogate", choices=("scalar", "composite"), default="scalar", help="EGO's surrogate"
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    truths = draw_truths(args.truths, args.seed)
    for text in filter(None, args.extra.split(";")):
        truths.append(dict(zip(PAPER, (float(v) for v in text.split(",")), strict=True)))
    recovered_any = recovered_all = runs = 0
    header = None
    for k, truth in enumerate(truths):
        study = load_study(TWIN, **truth, surrogate=args.surrogate)
        evaluations = calibrate(
            study, args.out / f"truth{k}", budget=args.budget, seeds=args.seeds, progress=True
        )
        rows = seed_rows(evaluations, study, args.within)
        if header is None:
            header = " ".join(f"{n + ' %':>8}" for n in study.names)
            print(f"{'truth':>5} {'seed':>4} {'d':>7} {header} {'worst %':>8} {'within at':>9}")
        print(f"truth {k}: " + ", ".join(f"{n}={v:.5g}" for n, v in study.truth.items()))
        hits = 0
        for row in rows:
            worst = float(np.max(row["errors"]))
            errs = " ".join(f"{e:>8.2f}" for e in row["errors"])
            at = "-" if row["within_at"] is None else str(row["within_at"])
            print(f"{k:>5} {row['seed']:>4} {row['d']:>7.4f} {errs} {worst:>8.2f} {at:>9}")
            hits += worst <= args.within
        runs += len(rows)
        recovered_any += hits > 0
        recovered_all += hits
    print(
        f"recovered within {args.within:g} % of every range: {recovered_any} of {len(truths)} "
        f"truths by at least one seed; {recovered_all} of {runs} seed runs"
    )


if __name__ == "__main__":
    main()
