"""Benchmark: residual emulators trained on two halves of a run's EGO seeds, compared.

Issue 22 asks that the posterior of 8 seeds and of 4 of them agree. This script splits a run's
seeds into two sets (A: the first half, B: the rest), fits the residual blocks of each
(:func:`bayescal.infer.residual_posterior.fit_residual_blocks`, the posterior's own seed plan) and
prints, per block:

- the cross-prediction of the other set's best evaluations (a ``--best`` fraction by
  discrepancy): mean z^2 of the component scores, ``z = (score - mean) / sqrt(latent var +
  nugget)``, about 1 for an honest emulator, and the same for the emulated log of the energy
  outside the basis, ``S = ||(I - Phi Phi^T) r||^2``;
- the basis dependence: the mean ``S`` of each set's best evaluations measured in A's basis and
  in B's. A set's points have less energy outside its own basis, and the likelihood charges
  that energy at the outside scale, so each emulator set favours its own region;
- per set (A, B and all seeds): the components each block keeps and, for a block with an
  emulated outside part, its participation ratio ``outside_dof``, which sets how strongly the
  outside part pulls on the parameters.

Run: ``.venv/bin/python benchmarks/seed_set_emulators.py runs/cuzr8`` (``runs/cuzr8`` from
``bayescal run studies/cuzr_stz.py --out runs/cuzr8 --seeds 8 --budget 100 --no-posterior``).
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

import numpy as np

from bayescal.infer.residual_model import likelihood_residuals, outside_part
from bayescal.infer.residual_posterior import fit_residual_blocks, realizations_of
from bayescal.infer.sample import seed_plan
from bayescal.study.load import load_run
from bayescal.study.posterior_step import posterior_options


def _outside(residuals: np.ndarray, basis: np.ndarray) -> np.ndarray:
    """``||(I - Phi Phi^T) r||^2`` per row."""
    return np.sum(outside_part(residuals, basis) ** 2, axis=1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", type=Path, help="run directory with evaluations.nc")
    parser.add_argument("--best", type=float, default=0.2, help="fraction of a set's best rows")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    study, evaluations = load_run(args.run)
    seeds = evaluations["seed"].values
    half = np.unique(seeds)[: np.unique(seeds).size // 2]
    sets = {"A": np.isin(seeds, half), "B": ~np.isin(seeds, half), "all": np.ones_like(seeds, bool)}
    plan = seed_plan(posterior_options(study).seed)
    blocks = {
        label: fit_residual_blocks(
            evaluations.isel(eval=np.flatnonzero(mask)),
            study.discrepancy,
            study.reference,
            rng=plan.emulators,
        )[0]
        for label, mask in sets.items()
    }
    residuals = likelihood_residuals(
        evaluations, study.discrepancy, realizations_of(study.reference)[0]
    )
    unit, d = evaluations["unit"].values, evaluations["discrepancy"].values
    best = {}
    for label, mask in sets.items():
        rows = np.flatnonzero(mask & np.isfinite(d))
        best[label] = rows[np.argsort(d[rows])[: int(args.best * rows.size)]]
    print(f"sets: A = seeds {half.tolist()}, B = the rest; best {100 * args.best:.0f} % of each")
    for label, mask in sets.items():
        cells = [
            f"{b.name} k {b.emulator.n_components}"
            + (f" outside_dof {b.outside_dof:.1f}" if b.outside is not None else "")
            for b in blocks[label]
        ]
        print(f"  {label:>3} ({int(mask.sum())} evaluations): " + "; ".join(cells))
    for train, test in (("A", "B"), ("B", "A")):
        rows = best[test]
        print(f"emulators of {train} -> best of {test} (n = {rows.size}):")
        for b in blocks[train]:
            mean, var = b.emulator.predict(unit[rows])
            scores = b.emulator.project(residuals[b.name][rows])
            z2 = (scores - mean) ** 2 / (var + b.nugget)
            line = f"  {b.name:>14}: component mean z^2 {z2.mean():.2f}"
            if b.outside is not None:
                log_s = np.log(_outside(residuals[b.name][rows], b.emulator.basis))
                m, v = b.outside.predict(unit[rows])
                zo = (log_s - m) ** 2 / (v + b.outside.noise_sd**2)
                line += f", outside log S mean z^2 {zo.mean():.2f}"
            print(line)
    print("mean S (energy outside the basis) of each set's best rows, in each set's basis:")
    for b_a, b_b in zip(blocks["A"], blocks["B"], strict=True):
        if b_a.outside is None:
            continue
        cells = []
        for test in ("A", "B"):
            r = residuals[b_a.name][best[test]]
            s_a = _outside(r, b_a.emulator.basis).mean()
            s_b = _outside(r, b_b.emulator.basis).mean()
            cells.append(f"best of {test}: {s_a:.4f} (A's basis) {s_b:.4f} (B's basis)")
        print(f"  {b_a.name:>14}: " + "; ".join(cells))


if __name__ == "__main__":
    main()
