"""Plots of an EGO calibration: convergence, parameter traces, fields and stress–strain curves."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
import xarray as xr
from matplotlib.figure import Figure

from bayescal.optimize import EvalStatus

__all__ = ["plot_convergence", "plot_fields", "plot_stress_strain", "plot_traces"]


def _seed_colors(n: int) -> list:
    cmap = plt.get_cmap("tab10")
    return [cmap(i % 10) for i in range(n)]


def plot_convergence(evaluations: xr.Dataset) -> Figure:
    """Best discrepancy so far against evaluations used, one line per seed."""
    fig, ax = plt.subplots(figsize=(6, 4), layout="constrained")
    seeds = np.unique(evaluations["seed"].values)
    for color, s in zip(_seed_colors(len(seeds)), seeds, strict=True):
        mine = evaluations["seed"].values == s
        d = np.where(
            evaluations["status"].values[mine] == EvalStatus.OK,
            evaluations["discrepancy"].values[mine],
            np.inf,
        )
        best = np.minimum.accumulate(d)
        x = np.arange(1, best.size + 1)
        ax.step(
            x[np.isfinite(best)],
            best[np.isfinite(best)],
            where="post",
            color=color,
            label=f"seed {int(s)}",
        )
        fails = np.flatnonzero(~np.isfinite(d))
        ax.plot(x[fails], np.full(fails.size, np.nan), "x", color=color)
    ax.set_xlabel("forward evaluations")
    ax.set_ylabel("best discrepancy so far")
    ax.set_yscale("log")
    ax.grid(alpha=0.3)
    if len(seeds) <= 10:
        ax.legend(fontsize="small")
    return fig


def plot_traces(evaluations: xr.Dataset, *, truth: Mapping[str, float] | None = None) -> Figure:
    """Parameter values proposed by each seed against evaluation number; best marked."""
    names = [str(p) for p in evaluations["param"].values]
    units = evaluations.attrs.get("param_units", [""] * len(names))
    units = [units] if isinstance(units, str) else list(units)
    lower = np.atleast_1d(evaluations.attrs.get("param_lower", [np.nan] * len(names)))
    upper = np.atleast_1d(evaluations.attrs.get("param_upper", [np.nan] * len(names)))
    fig, axes = plt.subplots(
        len(names),
        1,
        figsize=(7, 1.8 * len(names) + 0.6),
        sharex=True,
        layout="constrained",
        squeeze=False,
    )
    seeds = np.unique(evaluations["seed"].values)
    status = evaluations["status"].values
    for color, s in zip(_seed_colors(len(seeds)), seeds, strict=True):
        mine = np.flatnonzero(evaluations["seed"].values == s)
        x = np.arange(1, mine.size + 1)
        ok = status[mine] == EvalStatus.OK
        d = np.where(ok, evaluations["discrepancy"].values[mine], np.inf)
        jbest = int(np.argmin(d))
        for i, ax in enumerate(axes[:, 0]):
            th = evaluations["theta"].values[mine, i]
            ax.plot(x[ok], th[ok], ".", ms=3, color=color, alpha=0.7)
            ax.plot(x[~ok], th[~ok], "x", ms=4, color=color)
            if np.isfinite(d[jbest]):
                ax.plot(x[jbest], th[jbest], "*", ms=10, color=color, mec="k", mew=0.5)
    for i, ax in enumerate(axes[:, 0]):
        unit = f" [{units[i]}]" if i < len(units) and units[i] else ""
        ax.set_ylabel(f"{names[i]}{unit}")
        if i < lower.size and np.isfinite(lower[i]):
            ax.set_ylim(lower[i], upper[i])
        if truth and names[i] in truth:
            ax.axhline(truth[names[i]], color="k", ls="--", lw=1, label="truth")
        ax.grid(alpha=0.3)
    axes[-1, 0].set_xlabel("forward evaluation (per seed); x = failed, * = best")
    return fig


def plot_fields(
    reference: xr.DataArray,
    model: xr.DataArray,
    strains: Sequence[float],
    *,
    model_scale: float = 2.0,
    label: str = "gamma_xy",
) -> Figure:
    """Reference and model fields side by side at snapshot strains (shared colour scale)."""
    k = len(strains)
    fig, axes = plt.subplots(
        2, k, figsize=(1.6 * k + 1.2, 3.8), layout="constrained", squeeze=False
    )
    ref_idx = [int(np.abs(reference["strain"].values - s).argmin()) for s in strains]
    mod_idx = [int(np.abs(model["strain"].values - s).argmin()) for s in strains]
    for j, s in enumerate(strains):
        a = reference.isel(frame=ref_idx[j]).transpose("y", "x").values
        b = model_scale * model.isel(frame=mod_idx[j]).transpose("y", "x").values
        both = np.concatenate([a.ravel(), b.ravel()])
        vmin, vmax = np.nanmin(both), np.nanmax(both)
        for row, field_ in enumerate((a, b)):
            axes[row, j].imshow(field_, origin="lower", cmap="inferno", vmin=vmin, vmax=vmax)
            axes[row, j].set_xticks([])
            axes[row, j].set_yticks([])
        axes[0, j].set_title(f"strain {s:g}", fontsize="small")
        axes[1, j].set_xlabel(f"[{vmin:.2g}, {vmax:.2g}]", fontsize="x-small")
    axes[0, 0].set_ylabel("reference")
    axes[1, 0].set_ylabel("model")
    fig.suptitle(
        f"{label}: reference vs model (colour range per column, printed below it)",
        fontsize="medium",
    )
    return fig


def plot_stress_strain(
    reference: xr.Dataset,
    evaluations: xr.Dataset,
    best_eval: Sequence[int],
    *,
    reference_var: str = "stress",
    reference_strain: str = "stress_strain",
) -> Figure:
    """Reference stress–strain curve and the stored model curve of each seed's best set."""
    fig, ax = plt.subplots(figsize=(6, 4), layout="constrained")
    ax.plot(
        reference[reference_strain].values,
        reference[reference_var].values,
        color="k",
        lw=2,
        label="reference (MD)",
    )
    if "model_stress" in evaluations:
        strain = evaluations["strain"].values
        for color, (s, j) in zip(_seed_colors(len(best_eval)), enumerate(best_eval), strict=True):
            if j >= 0:
                ax.plot(
                    strain,
                    evaluations["model_stress"].values[j],
                    color=color,
                    lw=1,
                    label=f"best of seed {s}",
                )
    ax.set_xlabel("applied shear strain")
    ax.set_ylabel("shear stress [GPa]")
    ax.grid(alpha=0.3)
    ax.legend(fontsize="small")
    return fig
