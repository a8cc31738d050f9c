"""Benchmark: held-out prediction of an MD realization by STZ calibrated on the others.

For each fold k: calibrate ``studies/lj_stz.py --set holdout=k`` (EGO, then the partially pooled
posterior over the remaining realizations), then predict realization k: posterior draws of a new
member of the population (:func:`bayescal.infer.priors.new_member`) run from realization k's own
initial PE field. Prints per fold:

- the coverage of k's MD stress curve by the 90 % predictive band of the data (model + learned
  model error + k's measured noise);
- the Grassmann field term (mean snapshot distance, rad) between k's MD fields and each
  predictive draw's fields, against the same term between k's MD fields and every other
  realization's MD fields (the spread between realizations).

Run: ``.venv/bin/python benchmarks/lj_holdout.py --folds 0 1 2 --out runs/lj_holdout`` (a fold
resumes from its run directory).
"""

from __future__ import annotations

import argparse
import logging
import time
from pathlib import Path

import numpy as np
import xarray as xr

from bayescal import calibrate
from bayescal.infer.diagnostics import diagnose
from bayescal.study import load_study
from bayescal.study.predictive import stress_predictive

STUDY = Path(__file__).resolve().parents[1] / "studies" / "lj_stz.py"


def as_model(reference: xr.Dataset, term) -> xr.Dataset:
    """A realization's MD fields in the layout of a model output (one sample)."""
    field = reference[term.reference] / term.model_scale
    return xr.Dataset({term.model: field}).expand_dims("sample")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--out", type=Path, default=Path("runs/lj_holdout"))
    parser.add_argument("--draws", type=int, default=24, help="predictive forward runs")
    parser.add_argument("--set", nargs="*", default=[], help="study options name=value")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    options = {k: _number(v) for k, v in (s.split("=", 1) for s in args.set)}
    full = load_study(STUDY, **options)
    term = full.discrepancy.fields[0]
    for k in args.folds:
        start = time.perf_counter()
        study = load_study(STUDY, holdout=k, **options)
        cal = calibrate(study, args.out / f"fold{k}")
        pred = stress_predictive(
            full, cal.posterior, n_draws=args.draws, rng=k, realization=k, member="new"
        )
        held = full.reference_for(k)
        dg = diagnose(cal.posterior)
        runs = pred.runs  # the stress band's own draws, fields included
        assert runs is not None
        if "status" in runs:
            runs = runs.isel(sample=np.flatnonzero(runs["status"].values == 0))
        predicted = term.snapshot_distances(held, runs).mean(axis=1)
        others = [
            float(term.snapshot_distances(held, as_model(full.reference_for(j), term)).mean())
            for j in range(full.realizations)
            if j != k
        ]
        inside = np.mean((predicted >= min(others)) & (predicted <= max(others)))
        print(
            f"fold {k}: stress coverage {100 * pred.coverage(0.9):.0f} % (90 % band), "
            f"{pred.summary()}\n"
            f"  field term, held-out MD vs predictive draws: median {np.median(predicted):.3f} "
            f"[{predicted.min():.3f}, {predicted.max():.3f}] rad ({len(predicted)} draws); "
            f"vs the other realizations' MD: [{min(others):.3f}, {max(others):.3f}] rad; "
            f"{100 * inside:.0f} % of draws inside, {100 * np.mean(predicted < min(others)):.0f} "
            f"% below; max R-hat {dg.max_rhat:.4f}, min bulk ESS {dg.min_ess_bulk:.0f}, "
            f"{dg.divergences} divergences; {time.perf_counter() - start:.0f} s",
            flush=True,
        )


def _number(text: str) -> int | float | str:
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


if __name__ == "__main__":
    main()
