"""Benchmark: posterior convergence of one finished run under several sampler settings.

Samples the posterior of a run directory's EGO evaluations again with each
``ROUNDS:DRAWS`` setting (emulator-refinement rounds, NUTS draws per chain) and prints, side by
side, max R-hat, the smallest bulk ESS and its variable, divergences, the chi0 94 % HDI (or
the first parameter's) and whether the diagnostics pass. The run directory is not touched:
posteriors and refinement runs go to a temporary folder per refinement count, shared by the
settings with that count (so refinement runs once per count).

Run: ``.venv/bin/python benchmarks/posterior_settings.py runs/cuzr`` after the README's
command (1) (defaults: ``0:2000 2:2000 2:8000 2:10000``; about 15 minutes on 2 cores).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import arviz as az

from bayescal.study.load import load_run
from bayescal.study.posterior_step import posterior_options, run_posterior


def _setting(text: str) -> tuple[int, int]:
    try:
        rounds, draws = (int(v) for v in text.split(":"))
    except ValueError:
        message = f"expected ROUNDS:DRAWS, e.g. 2:8000; got {text!r}"
        raise argparse.ArgumentTypeError(message) from None
    return rounds, draws


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", type=Path, help="run directory with evaluations.nc")
    parser.add_argument(
        "settings", nargs="*", type=_setting, default=[(0, 2000), (2, 2000), (2, 8000), (2, 10000)]
    )
    args = parser.parse_args()
    study, evaluations = load_run(args.run)
    name = "chi0" if "chi0" in study.names else study.names[0]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for rounds, draws in args.settings:
            out = Path(tmp) / f"rounds{rounds}"
            out.mkdir(exist_ok=True)
            opts = posterior_options(study).replace(
                refine={"rounds": rounds}, sampling={"draws": draws}
            )
            t0 = time.perf_counter()
            res = run_posterior(study, evaluations, out, options=opts, predictive_draws=0)
            diag = res.diagnostics
            hdi = az.hdi(res.idata, var_names=[name], hdi_prob=0.94)[name].values
            rows.append(
                f"{rounds:>6} {draws:>6} {diag.max_rhat:>9.4f} {diag.min_ess_bulk:>7.0f}"
                f" {diag.divergences:>4}  [{hdi[0]:.4g}, {hdi[1]:.4g}]  {diag.passed}"
                f"  {time.perf_counter() - t0:.0f} s"
            )
            print(rows[-1], flush=True)
    print(f"\nrun {args.run}: {evaluations.sizes['eval']} EGO evaluations")
    print(f"rounds  draws  max R-hat  min ESS  div  {name} 94 % HDI  passed  time")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
