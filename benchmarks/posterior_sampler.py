"""Benchmark: PyMC's NUTS against nutpie on the same posterior, side by side.

Builds the posterior of a calibration run (``RUN_DIR/evaluations.nc`` with the study's
posterior options, as ``bayescal posterior`` does) once, then samples it with
``sampler="pymc"`` (diagonal mass matrix) and ``sampler="nutpie"`` (low-rank modified mass
matrix), same seed, chains, draws and target acceptance, and prints for each: wall time,
leapfrog steps per draw, max R-hat, min bulk ESS over the checked parameters, divergences, and
the ratios. nutpie's time includes its numba compilation (about 20 s).

Run: ``.venv/bin/python benchmarks/posterior_sampler.py RUN_DIR [--study studies/cuzr_stz.py]``
(``RUN_DIR`` from ``bayescal run studies/cuzr_stz.py --out RUN_DIR``).
"""

from __future__ import annotations

import argparse
import time
import warnings

import xarray as xr

from bayescal.infer import posterior
from bayescal.study import load_study, posterior_options


def _steps(idata) -> float:
    """Mean leapfrog steps per draw (both samplers record ``n_steps``)."""
    return float(idata.sample_stats["n_steps"].mean())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run_dir")
    parser.add_argument("--study", default="studies/cuzr_stz.py")
    args = parser.parse_args()
    study = load_study(args.study)
    evaluations = xr.open_dataset(f"{args.run_dir}/evaluations.nc").load()
    base = posterior_options(study).replace(
        sampling={"prior_draws": 0}, convergence={"on_fail": "ignore"}
    )
    rows = {}
    for sampler in ("pymc", "nutpie"):
        opts = base.replace(sampling={"sampler": sampler})
        t0 = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            idata = posterior(
                evaluations,
                options=opts,
                discrepancy=study.discrepancy,
                reference=study.reference,
            )
        wall = time.perf_counter() - t0
        a = idata.posterior.attrs
        rows[sampler] = (wall, _steps(idata), a["max_rhat"], a["min_ess_bulk"], a["divergences"])
        print(
            f"{sampler:>6}: {wall:7.1f} s, {rows[sampler][1]:6.1f} steps/draw, "
            f"max R-hat {a['max_rhat']:.4f}, min bulk ESS {a['min_ess_bulk']:6.0f}, "
            f"{a['divergences']} divergences ({opts.sampling.chains} chains x "
            f"{opts.sampling.draws}, target_accept {opts.accept})",
            flush=True,
        )
    (tp, sp, _, ep, _), (tn, sn, _, en, _) = rows["pymc"], rows["nutpie"]
    print(
        f"ratios pymc / nutpie: wall {tp / tn:.2f}x, steps per draw {sp / sn:.2f}x, "
        f"min ESS per second {(en / tn) / (ep / tp):.2f}x in favour of nutpie"
    )


if __name__ == "__main__":
    main()
