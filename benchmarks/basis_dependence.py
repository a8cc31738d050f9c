"""Benchmark: whether the residual likelihood depends on which evaluations drew its basis.

The residual likelihood projects each block onto principal components fitted to the training
evaluations. Two sets of EGO seeds searching the same data give two bases; the likelihood of
the *same* model outputs should rank them alike under both. This script fits the blocks on each
half of a run's seeds and computes, for every evaluation near the optimum, the log likelihood
of its stored outputs (no emulator: the run's own component scores, with the emulators' nugget
as the simulator's scatter, and the exact squared norm of its residual outside the basis) in
three forms (:func:`stored_log_likelihood`): the package's, separate model errors inside and
outside the basis, and one model error for both. It prints the best log likelihood per bin of
the first parameter under each basis (relative to that basis's best), the rank correlation of
the two rankings, and the largest disagreement. It also prints each half's emulated size of
the field residual outside its basis at the two halves' likelihood peaks: a basis fitted to a
cluster of evaluations takes up their local variation, so that the outside part is smallest
where that basis's evaluations are densest, which a separate, smaller model error outside the
basis turns into a preference for that basis's own evaluations.

Run: ``.venv/bin/python benchmarks/basis_dependence.py runs/cuzr8n`` (a run with 8 seeds and
stored outputs; a minute on 2 cores).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import scipy.stats

from bayescal.infer.residual_model import (
    ResidualBlock,
    likelihood_residuals,
    outside_part,
    residual_blocks,
)
from bayescal.infer.residual_posterior import measured_stress_noise
from bayescal.study.load import load_run

#: Likelihood forms compared (see :func:`stored_log_likelihood`).
FORMS = ("package", "separate", "one sigma")


def stored_log_likelihood(
    block: ResidualBlock, residuals: np.ndarray, best: np.ndarray, *, form: str
) -> np.ndarray:
    """The block's log likelihood at stored residuals, shape ``(n,)`` from ``(n, m)``.

    The emulated mean is replaced by the run's own scores (variance: the GPs' nugget), an
    emulated outside part by the run's exact squared norm outside the basis. ``form``:

    - ``"package"``: the package's likelihood at the block's prior scales (for a block with an
      emulated outside part: ``tau`` in every direction, ``sigma`` along the best fits' common
      misfit);
    - ``"separate"``: an RMS per component of the best fit's (``best``, shape ``(m,)``)
      projection inside the basis, and an RMS per direction of its part outside;
    - ``"one sigma"``: one scale inside and outside, the best fit's RMS per direction over
      ``k + nu`` directions.
    """
    basis = block.emulator.basis
    scores = block.emulator.project(residuals)
    rest = outside_part(residuals, basis)
    if form == "package" and block.systematic is not None:
        t2 = block.tail_scale**2
        out = block.scores_log_density(block.target - scores, 0.0)
        return (
            out
            - 0.5 * np.sum(rest**2, axis=1) / t2
            - 0.5 * block.outside_dof * np.log(2 * np.pi * t2)
        )
    inside_best = basis.T @ best
    rest_best = best - basis @ inside_best
    k = basis.shape[1]
    s2 = np.mean(inside_best**2)
    if form == "one sigma" and block.outside is not None:
        s2 = (inside_best @ inside_best + rest_best @ rest_best) / (k + block.outside_dof)
    total = block.nugget + s2 + block.noise_var
    out = -0.5 * np.sum((block.target - scores) ** 2 / total + np.log(2 * np.pi * total), -1)
    if block.outside is not None:
        t2 = rest_best @ rest_best / block.outside_dof if form == "separate" else s2
        out = out - 0.5 * np.sum(rest**2, axis=1) / t2
        out = out - 0.5 * block.outside_dof * np.log(2 * np.pi * t2)
    return out


def emulated_outside(label: str, block: ResidualBlock, points: np.ndarray) -> str:
    """One line: the block's emulated outside part at ``points`` (unit cube, shape (2, d))."""
    m, v = block.outside.predict(points)
    size = np.exp(m + 0.5 * v)
    term = -0.5 * size / block.tail_scale**2
    cells = "  ".join(f"{a:.4f} (sd log {np.sqrt(b):.3f})" for a, b in zip(size, v, strict=True))
    return f"{label:>6} basis, {block.name}: {cells}  difference {term[1] - term[0]:+.1f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", type=Path, help="run directory with evaluations.nc")
    parser.add_argument(
        "--near", type=float, default=0.12, help="evaluations with d within this of the best"
    )
    parser.add_argument("--bins", type=int, default=8, help="bins of the first parameter")
    args = parser.parse_args()
    study, evaluations = load_run(args.run)
    reference = study.reference
    seeds = evaluations["seed"].values
    halves = np.unique(seeds)
    halves = {"first": halves[: halves.size // 2], "last": halves[halves.size // 2 :]}
    d = evaluations["discrepancy"].values
    residuals = likelihood_residuals(evaluations, study.discrepancy, reference)
    ok = np.isfinite(d) & np.all([np.isfinite(r).all(axis=1) for r in residuals.values()], 0)
    near = np.flatnonzero(ok & (d <= np.nanmin(d) + args.near))
    thetas = evaluations["theta"].transpose("eval", "param").values
    theta = thetas[near]
    noise = measured_stress_noise(study.discrepancy, reference)
    unit = evaluations["unit"].transpose("eval", "param").values
    loglik, blocks_of = {}, {}
    for label, chosen in halves.items():
        rows = np.flatnonzero(np.isin(seeds, chosen))
        blocks = residual_blocks(
            evaluations.isel(eval=rows), study.discrepancy, reference, stress_noise=noise, rng=1
        )
        misfit = sum(
            np.sum(r[rows] ** 2, 1) / np.nanmedian(np.sum(r[rows] ** 2, 1))
            for r in residuals.values()
        )
        best = rows[int(np.nanargmin(misfit))]
        for form in FORMS:
            loglik[f"{label}/{form}"] = sum(
                stored_log_likelihood(
                    b, residuals[b.name][near], residuals[b.name][best], form=form
                )
                for b in blocks
            )
        for b in blocks:
            print(
                f"{label} seeds {[int(s) for s in chosen]}: block {b.name}: "
                f"{b.emulator.n_components} components ({100 * b.emulator.explained:.1f} %), "
                f"outside dof {b.outside_dof:.0f}"
            )
        blocks_of[label] = blocks
    name = study.names[0]
    edges = np.quantile(theta[:, 0], np.linspace(0, 1, args.bins + 1))
    which = np.clip(np.searchsorted(edges, theta[:, 0], side="right") - 1, 0, args.bins - 1)
    print(f"\n{near.size} evaluations within {args.near} of the best d {np.nanmin(d):.4f}")
    print(f"best log likelihood per {name} bin, relative to each column's best")
    print("(columns: seeds whose evaluations drew the basis / scales inside and outside it):")
    print(f"{name + ' bin':>16} {'n':>4} " + " ".join(f"{k:>16}" for k in loglik))
    rel = {k: v - v.max() for k, v in loglik.items()}
    for i in range(args.bins):
        sel = which == i
        if not sel.any():
            continue
        cells = " ".join(f"{rel[k][sel].max():16.1f}" for k in rel)
        print(f"[{edges[i]:6.2f}, {edges[i + 1]:6.2f}] {sel.sum():4d} {cells}")
    print(
        "\nemulated outside part S (log-normal mean; sd of log S) at each half's likelihood "
        "peak, under each half's emulator; last: the outside term's log likelihood at the "
        "second point minus the first, with its tail sd at the prior scale"
    )
    # where each basis's likelihood (package form) peaks among the stored outputs
    peaks = {label: near[int(np.argmax(loglik[f"{label}/package"]))] for label in halves}
    for label, i in peaks.items():
        print(f"{label} basis's peak: {np.round(thetas[i], 4)}, d {d[i]:.4f}")
    for label, blocks in blocks_of.items():
        for b in blocks:
            if b.outside is not None:
                print(emulated_outside(label, b, unit[list(peaks.values())]))
    for form in FORMS:
        a, b = rel[f"first/{form}"], rel[f"last/{form}"]
        top = (a > -10) | (b > -10)
        rho = scipy.stats.spearmanr(a, b).statistic
        print(
            f"{form}: rank correlation of the two bases {rho:.3f}; largest disagreement "
            f"within 10 of either best {np.max(np.abs(a - b)[top]):.1f} ({top.sum()} evaluations)"
        )


if __name__ == "__main__":
    main()
