"""Benchmark: the field noise of each data realization against its best fit's field misfit.

For each realization of a run with per-cell field sds (``gamma_xy_std``, e.g. the LJ study), the
noise covariance of the field block's residual (:func:`bayescal.infer.residual_posterior.
measured_field_noise`, at that realization's best evaluation) against the squared field residual
of that best evaluation: how much of the field misfit the coarse-graining's noise explains.

Run: ``.venv/bin/python benchmarks/lj_field_noise.py runs/lj`` (a run directory of
``studies/lj_stz.py``).
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

import numpy as np

from bayescal.infer.residual_model import likelihood_residuals
from bayescal.infer.residual_posterior import measured_field_noise, realizations_of
from bayescal.study.load import load_run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", type=Path, help="run directory with evaluations.nc")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    study, evaluations = load_run(args.run)
    print("realization  block  noise trace  best |r|^2  ratio")
    for r, ref in enumerate(realizations_of(study.reference)):
        rows = np.flatnonzero(np.asarray(evaluations["realization"].values) == r)
        mine = evaluations.isel(eval=rows)
        d = np.asarray(mine["discrepancy"].values, dtype=float)
        best = mine.isel(eval=[int(np.argmin(np.where(np.isfinite(d), d, np.inf)))])
        noise = measured_field_noise(study.discrepancy, ref, best, rng=r)
        residuals = likelihood_residuals(best, study.discrepancy, ref)
        for name, cov in noise.items():
            misfit = float(residuals[name][0] @ residuals[name][0])
            trace = float(np.trace(cov))
            print(f"{r:>11}  {name}  {trace:11.5f}  {misfit:10.4f}  {100 * trace / misfit:4.1f} %")


if __name__ == "__main__":
    main()
