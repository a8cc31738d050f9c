"""Benchmark: how often EGO recovers twin truths drawn at random from the box.

Draws ``--truths`` truths uniformly from the twin study's searched box (beta, chi0, c0, s_y)
under its constraint (rejection sampling, ``--seed``), adds ``--extra`` truths given in the
paper's coordinates (default: the twin study's truth 4, below the chi0 cliff), runs the twin
study for each (``--seeds`` x ``--budget`` evaluations, in ``--out/truth<k>``: a rerun resumes),
and prints per truth and seed: the best d (0 at the truth), the error at the best point in % of
each range, the worst of them, and the first evaluation within ``--within`` % of every range.

Before the search it measures how far d resolves the truth at all. The reference is one eager
run at the truth; the search runs batches. Where the STZ model is chaotic, a batched run at the
truth, or at the truth scaled by ``1 + eps`` (eps 1e-12 to 1e-6), already differs from it:

- ``floor``: the largest d among those round-off copies (0 where the model is not chaotic);
- ``step``: the smallest d of moves by ``+-within`` % of a range along each parameter;
- ``contrast``: step / floor. Below 2, one run's d cannot tell the truth from a point that far
  away, and a seed run is counted as ``at floor`` when its best d is below the floor, not as
  a miss. ``--resolvable`` draws only truths with a contrast of at least 2.

Run: ``.venv/bin/python benchmarks/twin_recovery.py --out runs/recovery`` (6 drawn truths plus
truth 4, 2 seeds x 100 each: about 7 x 7 minutes on 2 cores; ``--surrogate composite`` for
composite EGO, in another ``--out``; ``--budget 0`` for the resolution table alone).
"""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path

import numpy as np
import xarray as xr
from round_off import axis_moves, round_off_copies

from bayescal.study import calibrate, evaluate, load_study

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


def resolution(study, within: float) -> tuple[float, float]:
    """(floor, step) of the truth: d of its round-off copies, d of the +-within % moves.

    One batch through the search's own path: the truth and its round-off copies
    (``benchmarks/round_off.py``), then the truth moved by ``+-within`` % of each range along
    each parameter.
    """
    truth = np.array([study.truth[n] for n in study.names])
    copies = round_off_copies(truth)
    rows = np.concatenate([copies, axis_moves(study, truth, within)[1]])
    d = evaluate(study, rows)["discrepancy"].values
    # a move that leaves the box or the constraint is not run (NaN): it does not count
    return float(np.max(d[: len(copies)])), float(np.nanmin(d[len(copies) :]))


def cached_resolution(study, within: float, path: Path) -> tuple[float, float]:
    """:func:`resolution`, kept in the JSON file ``path`` (keyed by truth and step) for reruns."""
    key = f"{sorted(study.truth.items())} within={within:g}"
    cache = json.loads(path.read_text()) if path.exists() else {}
    if key not in cache:
        cache[key] = resolution(study, within)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(cache, indent=1))
    floor, step = cache[key]
    return float(floor), float(step)


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
    parser.add_argument(
        "--resolvable", action="store_true", help="draw only truths with contrast >= 2"
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    drawn = draw_truths(10 * args.truths if args.resolvable else args.truths, args.seed)
    extra = [
        dict(zip(PAPER, map(float, t.split(",")), strict=True)) for t in args.extra.split(";") if t
    ]
    print(f"{'truth':>5} {'chi0 K':>7} {'floor':>7} {'step':>7} {'contrast':>8}")
    truths: list[tuple[object, float]] = []
    for truth in drawn + extra:
        if len(truths) >= args.truths and truth not in extra:
            continue
        study = load_study(TWIN, **truth, surrogate=args.surrogate)
        floor, step = cached_resolution(study, args.within, args.out / "resolution.json")
        contrast = step / floor if floor > 0 else np.inf
        keep = truth in extra or not args.resolvable or contrast >= 2
        tag = "" if keep else "  (not resolvable: skipped)"
        k = len(truths)
        print(
            f"{k:>5} {study.truth['chi0']:>7.0f} {floor:>7.4f} {step:>7.4f} {contrast:>8.1f}{tag}"
        )
        if keep:
            truths.append((study, floor))
    if args.budget > 0:
        search(truths, args)


def search(truths: list, args: argparse.Namespace) -> None:
    """Run the twin for each truth and print the per-seed table and the recovery counts."""
    counts = {"recovered": 0, "at floor": 0, "missed": 0}
    recovered_any = 0
    for k, (study, floor) in enumerate(truths):
        evaluations = calibrate(
            study, args.out / f"truth{k}", budget=args.budget, seeds=args.seeds, progress=True
        )
        if k == 0:
            header = " ".join(f"{n + ' %':>8}" for n in study.names)
            print(f"{'truth':>5} {'seed':>4} {'d':>7} {header} {'worst %':>8} {'within at':>9}")
        print(f"truth {k}: " + ", ".join(f"{n}={v:.5g}" for n, v in study.truth.items()))
        hits = 0
        for row in seed_rows(evaluations, study, args.within):
            worst = float(np.max(row["errors"]))
            errs = " ".join(f"{e:>8.2f}" for e in row["errors"])
            at = "-" if row["within_at"] is None else str(row["within_at"])
            verdict = (
                "recovered"
                if worst <= args.within
                else "at floor"
                if row["d"] <= floor
                else "missed"
            )
            counts[verdict] += 1
            hits += verdict == "recovered"
            print(
                f"{k:>5} {row['seed']:>4} {row['d']:>7.4f} {errs} {worst:>8.2f} {at:>9}  {verdict}"
            )
        recovered_any += hits > 0
    print(
        f"within {args.within:g} % of every range: {recovered_any} of {len(truths)} truths by at "
        f"least one seed; seed runs: " + ", ".join(f"{n} {v}" for n, v in counts.items())
    )


if __name__ == "__main__":
    main()
