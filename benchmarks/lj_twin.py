"""Benchmark: a twin of the LJ study, synthetic realizations made by STZ at known parameters.

Realization r of the twin is the STZ run of ``studies/lj_stz.py`` at the truth from realization
r's own initial PE field, at the MD's frames, plus noise: on the stress curve, draws of the
noise measured on r's MD curve (its sd and autocorrelation, :func:`bayescal.noise.stress_noise`);
on the strain field, independent per-cell draws with r's coarse-graining standard deviation
(``gamma_xy_std``). The PE fields are the MD's. The study then calibrates the twin as it does the
MD and the script prints the pooled 94 % HDIs against the truth.

Run: ``.venv/bin/python benchmarks/lj_twin.py --out runs/lj_twin`` (resumes).
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

import numpy as np
import xarray as xr

from bayescal import calibrate
from bayescal.infer.diagnostics import diagnose
from bayescal.io import write_netcdf_atomic
from bayescal.noise import stress_noise
from bayescal.study import load_study
from bayescal.study.evaluate import forward_batch

STUDY = Path(__file__).resolve().parents[1] / "studies" / "lj_stz.py"
#: beta [1/epsilon], chi0 [epsilon/k_B], c0, s_y [epsilon/sigma^2]
TRUTH = {"beta": 1.2, "chi0": 0.14, "c0": 0.4, "s_y": 0.45}


def twin_data(study, truth: dict[str, float], rng: np.random.Generator) -> xr.Dataset:
    """The study's reference with fields and stress replaced by noisy STZ runs at ``truth``."""
    ref = study.reference.copy(deep=True)
    theta = np.array([[truth[n] for n in study.names]])
    strain = ref["stress_strain"].values
    for r in range(study.realizations):
        run = forward_batch(study, theta, r).isel(sample=0)
        frames = [int(np.abs(run["strain"].values - s).argmin()) for s in ref["strain"].values]
        field = 2.0 * run["exy"].isel(frame=frames).values
        sd = ref["gamma_xy_std"].isel(realization=r).values
        ref["gamma_xy"][r] = field + sd * rng.standard_normal(field.shape)
        noise = stress_noise(ref.isel(realization=r))
        curve = np.interp(strain, run["strain"].values, run["stress"].values)
        cov = noise.covariance(np.arange(strain.size)) + 1e-12 * np.eye(strain.size)
        ref["stress"][r] = curve + np.linalg.cholesky(cov) @ rng.standard_normal(strain.size)
    ref.attrs["twin_truth"] = repr(truth)
    return ref


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("runs/lj_twin"))
    parser.add_argument("--seed", type=int, default=0, help="noise seed")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    args.out.mkdir(parents=True, exist_ok=True)
    data = args.out / "twin_data.nc"
    if not data.is_file():
        md = load_study(STUDY)
        write_netcdf_atomic(twin_data(md, TRUTH, np.random.default_rng(args.seed)), data)
    study = load_study(STUDY, data=str(data))
    cal = calibrate(study, args.out / "run")
    summary = cal.summary()
    print(summary.iloc[:, :4].to_string())
    for n, value in TRUTH.items():
        lo, hi = summary.loc[n].iloc[2], summary.loc[n].iloc[3]
        width = (hi - lo) / (
            study.bounds[study.names.index(n), 1] - study.bounds[study.names.index(n), 0]
        )
        print(
            f"{n:>5}: truth {value:.4g} in [{lo:.4g}, {hi:.4g}]: {lo <= value <= hi}; "
            f"width {100 * width:.0f} % of the range"
        )
    dg = diagnose(cal.posterior)
    print(
        f"max R-hat {dg.max_rhat:.4f}, min bulk ESS {dg.min_ess_bulk:.0f}, "
        f"{dg.divergences} divergences (parameters, tau and sigmas); converged: {cal.converged}"
    )
    post = cal.posterior["posterior"]
    print("per-realization posterior medians (truth in the header):")
    print("  r " + " ".join(f"{n}={TRUTH[n]:<8.4g}" for n in study.names))
    for r in range(study.realizations):
        cells = [float(post[f"{n}_realization"].isel(realization=r).median()) for n in study.names]
        print(
            f"  {r} "
            + " ".join(f"{c:<{len(n) + 9}.4g}" for n, c in zip(study.names, cells, strict=True))
        )


if __name__ == "__main__":
    main()
