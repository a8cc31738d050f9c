"""Benchmark: the size of a twin truth's basin, and the landscape between it and another point.

Prints the twin discrepancy ``d`` at the truth, at the truth moved by ``+-step`` along each
searched parameter (one at a time, in the searched coordinates beta, chi0, c0, s_y), and along
the straight line from ``--from`` (default: the second valley EGO found for truth 4) to the
truth. A basin that is narrow compared with the Latin-hypercube spacing, or a barrier on the
line, is why a seed's EGO run can stop short of the truth.

Run: ``.venv/bin/python benchmarks/twin_basin.py``
(defaults: truth 4 of the twin study, (beta, u0, c0, s_y) = (3.5, -3.372, 0.15, 1.05)).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from bayescal.study import evaluate, load_study

VALLEY = "3.54,950.6,0.679,0.824"  # (beta, chi0 K, c0, s_y), rounded: a truth-4 seed ended here
STEPS = {"beta": 1.0, "chi0": 50.0, "c0": 0.02, "s_y": 0.02}
TWIN = Path(__file__).resolve().parents[1] / "studies" / "twin_stz.py"


def _four_floats(text: str) -> np.ndarray:
    try:
        values = np.array([float(v) for v in text.split(",")])
    except ValueError:
        values = np.empty(0)
    if values.shape != (4,):
        raise argparse.ArgumentTypeError(f"expected 4 comma-separated numbers; got {text!r}")
    return values


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--truth", type=_four_floats, default="3.5,-3.372,0.15,1.05", help="beta,u0,c0,s_y"
    )
    parser.add_argument(
        "--from", dest="start", type=_four_floats, default=VALLEY, help="beta,chi0,c0,s_y"
    )
    parser.add_argument("--line", type=int, default=9, help="points on the line (0: none)")
    args = parser.parse_args()
    t0 = time.perf_counter()
    study = load_study(TWIN, **dict(zip(("beta", "u0", "c0", "s_y"), args.truth, strict=True)))
    truth = np.array([study.truth[n] for n in study.names])
    rows, labels = [truth], ["truth"]
    for i, name in enumerate(study.names):
        for sign in (-1, 1):
            theta = truth.copy()
            theta[i] += sign * STEPS[name]
            rows.append(theta)
            labels.append(f"{name} {sign * STEPS[name]:+g}")
    for s in np.linspace(0.0, 1.0, args.line) if args.line else []:
        rows.append(args.start + s * (truth - args.start))
        labels.append(f"line s={s:.3f}")
    out = evaluate(study, np.array(rows))
    print("twin truth", {n: round(float(v), 4) for n, v in zip(study.names, truth, strict=True)})
    for label, theta, d, st in zip(
        labels, rows, out["discrepancy"].values, out["status"].values, strict=True
    ):
        point = ", ".join(f"{v:.4g}" for v in theta)
        print(f"{label:>14}  ({point})  d = {d:.4f}  status {int(st)}")
    print(f"{len(rows)} evaluations in {time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()
