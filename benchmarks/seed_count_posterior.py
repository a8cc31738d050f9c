"""Benchmark: the residual posterior's width against the number of EGO seeds that searched.

EGO seeds are repeats of one search: their evaluations train one emulator set and the
likelihood is not multiplied over them, so more seeds may sharpen the emulators but must not
narrow the posterior by themselves (issue 22: 8 seeds x 100 against 4 of those seeds, pooled
94 % HDI widths within a factor 1.25). Samples the posterior of a run's evaluations with all
seeds, with the first ``--subset`` seeds and (``--rest``) with the remaining seeds, and prints
the HDIs and the ratios of widths to all seeds' (with ``--rest``: also whether the two subsets'
HDIs overlap, i.e. how much the posterior depends on which search trained the emulators).
Each set first runs the emulator refinement (forward runs at posterior draws, kept in memory):
the study's ``refine.rounds``, or ``--refine-rounds``.

Run: ``.venv/bin/bayescal run studies/cuzr_stz.py --out runs/cuzr8 --seeds 8 --budget 100
--no-posterior`` (about 30 minutes on 2 cores), then
``.venv/bin/python benchmarks/seed_count_posterior.py runs/cuzr8 --subset 4``.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

import arviz as az
import numpy as np

from bayescal.infer.residual_posterior import residual_posterior
from bayescal.study.load import load_run
from bayescal.study.posterior_step import posterior_options
from bayescal.study.refine import refine_emulators


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", type=Path, help="run directory with evaluations.nc")
    parser.add_argument("--subset", type=int, default=4, help="seeds in the smaller set")
    parser.add_argument("--nuts-draws", type=int, default=2000, help="NUTS draws per chain")
    parser.add_argument("--rest", action="store_true", help="also the seeds after the subset")
    parser.add_argument(
        "--refine-rounds", type=int, default=None, help="refinement rounds (default: the study's)"
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    study, evaluations = load_run(args.run)
    seeds = np.unique(evaluations["seed"].values)
    opts = posterior_options(study, progressbar=False).replace(
        sampling={"draws": args.nuts_draws, "prior_draws": 0}
    )
    if args.refine_rounds is not None:
        opts = opts.replace(refine={"rounds": args.refine_rounds})
    sets = {"all": seeds, f"first {args.subset}": seeds[: args.subset]}
    if args.rest:
        sets[f"last {len(seeds) - args.subset}"] = seeds[args.subset :]
    widths, hdis = {}, {}
    for label, chosen in sets.items():
        rows = np.flatnonzero(np.isin(evaluations["seed"].values, chosen))
        data = evaluations.isel(eval=rows)
        if opts.refine.rounds:
            data, checks = refine_emulators(study, data, None, opts)
            for check in checks:
                print(f"{label}: refinement {check.line()}", flush=True)
        idata, _, _ = residual_posterior(data, study.discrepancy, study.reference, options=opts)
        summary = az.summary(idata, var_names=list(study.names), hdi_prob=0.94)
        print(f"{label} ({len(chosen)} seeds, {rows.size} evaluations):")
        print(summary.iloc[:, :4].to_string())
        print(
            f"max R-hat {summary['r_hat'].max():.4f}, min bulk ESS {summary['ess_bulk'].min():.0f}"
        )
        hdis[label] = summary.iloc[:, 2:4].to_numpy()
        widths[label] = hdis[label][:, 1] - hdis[label][:, 0]
    for label in list(sets)[1:]:
        ratio = widths[label] / widths["all"]
        for name, r in zip(study.names, ratio, strict=True):
            print(f"{name:>6}: HDI width ratio ({label} / all) {r:.3f}")
    if args.rest:
        (a, b) = (hdis[label] for label in list(sets)[1:])
        for name, lo, hi in zip(
            study.names, np.maximum(a[:, 0], b[:, 0]), np.minimum(a[:, 1], b[:, 1]), strict=True
        ):
            print(f"{name:>6}: the two subsets' HDIs {'overlap' if lo <= hi else 'do not overlap'}")


if __name__ == "__main__":
    main()
