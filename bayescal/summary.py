"""Tables summarising a calibration's evaluations."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import xarray as xr

from bayescal.optimize import EvalStatus

__all__ = ["best_per_seed", "format_derived", "format_table"]


def best_per_seed(evaluations: xr.Dataset) -> xr.Dataset:
    """Best evaluation of each seed.

    Parameters
    ----------
    evaluations : xarray.Dataset
        Contents of ``evaluations.nc``.

    Returns
    -------
    xarray.Dataset
        Dims ``seed`` and ``param``: ``theta``, ``discrepancy``, ``eval`` (index of the best),
        ``n_eval``, ``n_failed``, ``eval_at_best`` (evaluations used until the best was found),
        and ``realization`` (the data realization of each seed) when the evaluations record it.
    """
    seeds = np.unique(evaluations["seed"].values)
    names = [str(p) for p in evaluations["param"].values]
    theta = np.full((len(seeds), len(names)), np.nan)
    best = np.full(len(seeds), np.nan)
    index = np.full(len(seeds), -1)
    n_eval = np.zeros(len(seeds), dtype=int)
    n_failed = np.zeros(len(seeds), dtype=int)
    at_best = np.zeros(len(seeds), dtype=int)
    status = evaluations["status"].values
    disc = evaluations["discrepancy"].values
    for i, s in enumerate(seeds):
        mine = np.flatnonzero(evaluations["seed"].values == s)
        n_eval[i] = mine.size
        ok = mine[status[mine] == EvalStatus.OK]
        n_failed[i] = int((status[mine] == EvalStatus.FAILED).sum())
        if ok.size:
            j = ok[np.argmin(disc[ok])]
            theta[i], best[i], index[i] = evaluations["theta"].values[j], disc[j], j
            at_best[i] = int(np.searchsorted(mine, j)) + 1
    extra = {}
    if "realization" in evaluations:
        first = [np.flatnonzero(evaluations["seed"].values == s)[0] for s in seeds]
        extra["realization"] = (("seed",), evaluations["realization"].values[first].astype(int))
    return xr.Dataset(
        {
            **extra,
            "theta": (("seed", "param"), theta),
            "discrepancy": (("seed",), best),
            "eval": (("seed",), index),
            "n_eval": (("seed",), n_eval),
            "n_failed": (("seed",), n_failed),
            "eval_at_best": (("seed",), at_best),
        },
        coords={"seed": seeds, "param": names},
    )


def format_table(
    best: xr.Dataset,
    *,
    truth: Mapping[str, float] | None = None,
    ranges: Mapping[str, float] | None = None,
) -> str:
    """Plain-text table of :func:`best_per_seed`, with the spread across seeds.

    Parameters
    ----------
    best : xarray.Dataset
        From :func:`best_per_seed`.
    truth : dict, optional
        Known parameters (twin studies): printed as a row.
    ranges : dict, optional
        ``upper - lower`` per parameter; with ``truth``, one more row per seed gives the error
        of its best point as a percentage of each parameter's range.
    """
    names = [str(p) for p in best["param"].values]
    # a realization column only where seeds were compared with different data realizations
    real = best["realization"].values if "realization" in best else np.zeros(best.sizes["seed"])
    lead = ["seed", "realization"] if real.max(initial=0) > 0 else ["seed"]
    pad = [""] * (len(lead) - 1)
    head = [*lead, *names, "d", "evals", "failed", "found at"]
    rows = [head]
    for i, s in enumerate(best["seed"].values):
        rows.append(
            [
                str(int(s)),
                *([str(int(real[i]))] if pad else []),
                *(f"{v:.5g}" for v in best["theta"].values[i]),
                f"{best['discrepancy'].values[i]:.4f}",
                str(int(best["n_eval"].values[i])),
                str(int(best["n_failed"].values[i])),
                str(int(best["eval_at_best"].values[i])),
            ]
        )
    if best.sizes["seed"] > 1:
        th = best["theta"].values
        rows.append(
            [
                "mean",
                *pad,
                *(f"{v:.5g}" for v in np.nanmean(th, 0)),
                f"{np.nanmean(best['discrepancy'].values):.4f}",
                "",
                "",
                "",
            ]
        )
        rows.append(
            [
                "sd",
                *pad,
                *(f"{v:.2g}" for v in np.nanstd(th, 0, ddof=1)),
                f"{np.nanstd(best['discrepancy'].values, ddof=1):.2g}",
                "",
                "",
                "",
            ]
        )
    if truth:
        rows.append(
            [
                "truth",
                *pad,
                *(f"{truth[n]:.5g}" if n in truth else "" for n in names),
                "",
                "",
                "",
                "",
            ]
        )
    if truth and ranges:
        for i, s in enumerate(best["seed"].values):
            err = [
                abs(best["theta"].values[i, j] - truth[n]) / ranges[n] * 100
                if n in truth and n in ranges
                else np.nan
                for j, n in enumerate(names)
            ]
            rows.append([f"err% {int(s)}", *pad, *(f"{e:.2f}" for e in err), "", "", "", ""])
    return _aligned(rows)


def format_derived(best: xr.Dataset, values: dict[str, np.ndarray]) -> str:
    """Plain-text table of derived quantities at each seed's best point.

    Parameters
    ----------
    best : xarray.Dataset
        From :func:`best_per_seed` (its ``seed`` labels head the rows).
    values : dict of str to ndarray, each shape (n_seeds,)
        Derived values per seed, e.g. ``Study.model_inputs(best.theta)`` restricted to
        ``Study.derived`` (``u0`` when a study searches ``chi0`` instead).
    """
    head = ["seed", *values]
    rows = [head]
    for i, s in enumerate(best["seed"].values):
        rows.append([str(int(s)), *(f"{np.asarray(v)[i]:.5g}" for v in values.values())])
    return _aligned(rows)


def _aligned(rows: list[list[str]]) -> str:
    """Right-aligned columns, a dashed rule under the first (header) row."""
    widths = [max(len(r[c]) for r in rows) for c in range(len(rows[0]))]
    lines = ["  ".join(cell.rjust(w) for cell, w in zip(r, widths, strict=True)) for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)
