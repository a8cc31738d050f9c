"""Benchmark: how much a study's discrepancy moves under round-off-sized parameter changes.

Runs, in one batch through the path EGO uses, each ``--at`` point and copies of it with every
parameter scaled by ``1 + eps`` (eps in ``ROUND_OFF``), and prints d at each and its spread.
Where the forward model is chaotic, d moves by far more than the change; differences in d
smaller than that spread are not signal (a search cannot rank points by them, and seeds that
end within it have found equally good points). With ``--moves P1 P2 ...`` it also runs the
point moved by +-P % of each range along each parameter, each with its round-off copies, and
prints the mean d over the copies: whether the expected d still has its minimum at the point
where single runs cannot tell.

Run: ``.venv/bin/python benchmarks/round_off.py studies/cuzr_stz.py --at 7.38,1333,0.191,0.924``
(points in the study's searched coordinates, comma-separated; ``--at`` may repeat; ``--set``
passes build options, e.g. a twin's truth).
"""

from __future__ import annotations

import argparse
import logging
import time
from pathlib import Path

import numpy as np

from bayescal.study import evaluate, load_study
from bayescal.study.load import parse_option

ROUND_OFF = (1e-12, 1e-9, 1e-6)


def round_off_copies(theta: np.ndarray) -> np.ndarray:
    """``theta`` (d,) and its copies scaled by ``1 + eps`` for eps in ``ROUND_OFF``: (4, d)."""
    return np.array([theta] + [theta * (1.0 + eps) for eps in ROUND_OFF])


def axis_moves(study, point: np.ndarray, percent: float) -> tuple[list[str], np.ndarray]:
    """``point`` moved by -/+``percent`` % of each range along each parameter: labels, (2d, d)."""
    span = np.array([p.upper - p.lower for p in study.parameters])
    labels, rows = [], []
    for i, name in enumerate(study.names):
        for sign in (-1.0, 1.0):
            moved = point.copy()
            moved[i] += sign * percent / 100 * span[i]
            labels.append(f"{name} {sign * percent:+g} %")
            rows.append(moved)
    return labels, np.array(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("study", type=Path, help="study file")
    parser.add_argument("--at", action="append", required=True, help="comma-separated point")
    parser.add_argument("--set", action="append", default=[], help="build option key=value")
    parser.add_argument("--moves", type=float, nargs="*", default=[], help="%% of each range")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    study = load_study(args.study, **dict(parse_option(text) for text in args.set))
    points = [np.array([float(v) for v in text.split(",")]) for text in args.at]
    for point in points:
        if point.shape != (len(study.names),):
            raise SystemExit(f"--at {point}: expected {len(study.names)} values {study.names}")
    t0 = time.perf_counter()
    rows = np.concatenate([round_off_copies(p) for p in points])
    d = evaluate(study, rows)["discrepancy"].values.reshape(len(points), -1)
    eps = "  ".join(f"{e:>9.0e}" for e in ROUND_OFF)
    print(f"{'point (' + ', '.join(study.names) + ')':>40}  {'d':>7}  {eps}  {'spread':>7}")
    for point, ds in zip(points, d, strict=True):
        label = ", ".join(f"{v:.5g}" for v in point)
        copies = "  ".join(f"{v:>9.4f}" for v in ds[1:])
        print(f"{label:>40}  {ds[0]:>7.4f}  {copies}  {np.ptp(ds):>7.4f}")
    for point in points if args.moves else []:
        print_moves(study, point, args.moves)
    print(f"{time.perf_counter() - t0:.0f} s")


def print_moves(study, point: np.ndarray, percents: list[float]) -> None:
    """Mean and sd of d over round-off copies at ``point`` moved along each parameter."""
    labels, centres = ["(none)"], [point]
    for pct in percents:
        more_labels, moved = axis_moves(study, point, pct)
        labels += more_labels
        centres += list(moved)
    rows = np.concatenate([round_off_copies(c) for c in centres])
    d = evaluate(study, rows)["discrepancy"].values.reshape(len(centres), -1)
    print(f"at {', '.join(f'{v:.5g}' for v in point)}: mean d over {d.shape[1]} copies")
    print(f"{'move':>16}  {'mean d':>7}  {'sd':>7}")
    for label, ds in zip(labels, d, strict=True):
        print(f"{label:>16}  {ds.mean():>7.4f}  {ds.std(ddof=1):>7.4f}")


if __name__ == "__main__":
    main()
