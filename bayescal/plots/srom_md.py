"""Plot of the propagated QoI of :mod:`bayescal.apps.srom_md` (SROM of MD across potentials)."""

from __future__ import annotations

import json

import matplotlib.pyplot as plt
import numpy as np
import xarray as xr
from matplotlib.figure import Figure

__all__ = ["LINTHRESH", "plot_srom_md"]

LINTHRESH = 1e-3
"""Linear part (Å^2/ps) of the symlog axis of the diffusivity."""


def _symlog_edges(lo: float, hi: float, lin: float, per_decade: int = 6) -> np.ndarray:
    pos = np.geomspace(lin, max(hi, 2 * lin), per_decade * 4)
    neg: np.ndarray | list[float] = (
        -np.geomspace(lin, max(-lo, 2 * lin), per_decade * 4)[::-1] if lo < -lin else []
    )
    return np.unique(np.concatenate([neg, np.linspace(-lin, lin, 5), pos]))


def plot_srom_md(ds: xr.Dataset) -> Figure:
    """Histogram + KDE of the propagated primary QoI per (gamma, n_fixed), candidates marked.

    ``<u^2>`` (solid) on a linear axis; ``D`` (liquid) on a symlog axis, as the reduced-MD
    values sit near 0 and the MD values near 0.4 Å^2/ps.

    Parameters
    ----------
    ds : xarray.Dataset
        The output of :func:`bayescal.apps.srom_md.run_study` (or its ``srom_md.nc``).

    Returns
    -------
    matplotlib.figure.Figure
        One panel per (gamma, n_fixed): the reduced-MD realizations, each candidate's full MD
        (solid line) and reduced MD in its own basis (dotted), and the centre basis's (dashed).
    """
    from scipy.stats import gaussian_kde

    q = json.loads(ds.attrs["settings"]).get("primary_qoi", "diffusivity")
    symlog = q == "diffusivity"
    units = ds[f"rom_{q}"].attrs["units"]
    n_g, n_k = ds.sizes["gamma"], ds.sizes["n_fixed"]
    fig, axes = plt.subplots(
        n_g, n_k, figsize=(4.2 * n_k, 3.0 * n_g), squeeze=False, constrained_layout=True
    )
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    md_d = ds[q].values
    # asinh(D / LINTHRESH) is the coordinate a symlog axis shows; identity on a linear axis
    fwd = (lambda v: np.arcsinh(v / LINTHRESH)) if symlog else (lambda v: v)
    inv = (lambda y: LINTHRESH * np.sinh(y)) if symlog else (lambda y: y)
    for ig in range(n_g):
        for ik in range(n_k):
            ax = axes[ig, ik]
            d = ds[f"rom_{q}"].values[ig, ik]
            d = d[np.isfinite(d)]
            every = np.concatenate([md_d, d, ds[f"candidate_rom_{q}"].values[ig]])
            if symlog:
                hi = max(md_d.max(), d.max() if d.size else 0.0) * 1.3
                lo = min(0.0, d.min() if d.size else 0.0) * 1.3
                edges = _symlog_edges(lo, hi, LINTHRESH)
            else:
                pad = 0.1 * (every.max() - every.min() + 1e-12)
                edges = np.linspace(every.min() - pad, every.max() + pad, 25)
            counts, _ = np.histogram(d, bins=edges)
            ax.stairs(counts / max(d.size, 1), edges, fill=True, alpha=0.4, color="0.4")
            ax.plot(d, np.zeros_like(d), "|", color="0.1", ms=12, label="SROM reduced MD")
            if d.size > 2 and np.std(d) > 0:
                y = fwd(d)
                y_lo, y_hi = fwd(np.array([edges[0], edges[-1]]))
                grid = np.linspace(
                    max(y.min() - 2 * y.std(), y_lo), min(y.max() + 2 * y.std(), y_hi), 400
                )
                kde = gaussian_kde(y)(grid)
                ax.plot(inv(grid), kde / kde.max() * counts.max() / d.size, color="0.2", lw=1)
            if symlog:
                ax.set_xscale("symlog", linthresh=LINTHRESH)
            ax.set_ylabel("fraction of realizations")
            for ic, name in enumerate(ds["candidate"].values):
                c = colors[ic % len(colors)]
                ax.axvline(md_d[ic], color=c, lw=1.8, label=f"{name} MD")
                ax.axvline(ds[f"candidate_rom_{q}"].values[ig, ic], color=c, ls=":", lw=1.2)
            ax.axvline(
                ds[f"centre_rom_{q}"].values[ig], color="k", ls="--", lw=1, label="centre ROM"
            )
            ax.set_title(
                f"gamma={ds['gamma'].values[ig]:g}, n_fixed={ds['n_fixed'].values[ik]}, "
                f"r={int(ds['rank'].values[ig])}",
                fontsize=9,
            )
            ax.set_xlabel(f"{q} ({units})" + (", symlog" if symlog else ""))
            if ig == 0 and ik == 0:
                ax.legend(fontsize=7)
    fig.suptitle(f"propagated {q} (dotted: ROM in each candidate's own basis)", fontsize=9)
    return fig
