"""Benchmark: how well a finished twin run's posterior recovers its known truth.

Reads ``RUN/posterior.nc`` of a run of a study with a ``truth`` (``studies/twin_stz.py``) and
prints, per searched parameter, the truth, the pooled 94 % HDI, whether it contains the truth,
and its width in % of the parameter's range (issue 22's noise-free twin asks for containment
and widths below 5 % of the range for beta, chi0 and s_y, 10 % for c0), then R-hat and ESS.

Run: ``.venv/bin/bayescal run studies/twin_stz.py --out runs/twin --budget 100`` (about 15
minutes on 2 cores: 8 for EGO, 6 for 3 refinement rounds and the posterior), then
``.venv/bin/python benchmarks/twin_posterior.py runs/twin``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import arviz as az

from bayescal.study.load import load_run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", type=Path, help="run directory with evaluations.nc, posterior.nc")
    args = parser.parse_args()
    study, _ = load_run(args.run)
    if not study.truth:
        raise SystemExit(f"{args.run}: the study {study.name!r} has no truth")
    idata = az.from_netcdf(args.run / "posterior.nc")
    post = idata["posterior"]
    print(f"{'param':>6} {'truth':>10} {'hdi_3%':>10} {'hdi_97%':>10} {'in':>4} {'width %':>8}")
    for p in study.parameters:
        lo, hi = az.hdi(post[p.name], hdi_prob=0.94)[p.name].values
        truth = study.truth[p.name]
        inside = lo <= truth <= hi
        width = 100 * (hi - lo) / (p.upper - p.lower)
        print(f"{p.name:>6} {truth:>10.5g} {lo:>10.5g} {hi:>10.5g} {inside!s:>4} {width:>8.2f}")
    summary = az.summary(idata, var_names=list(study.names), kind="diagnostics")
    print(f"max R-hat {summary['r_hat'].max():.4f}, min bulk ESS {summary['ess_bulk'].min():.0f}")


if __name__ == "__main__":
    main()
