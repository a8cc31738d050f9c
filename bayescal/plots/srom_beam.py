"""Plot of the bands of :mod:`bayescal.apps.srom_beam` (SROM of a copper plate's deflection)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import xarray as xr
from matplotlib.figure import Figure

__all__ = ["plot_srom_beam"]


def plot_srom_beam(ds: xr.Dataset) -> Figure:
    """Bands of the ROM peak per setting against the potentials' own peaks; deflection band.

    Parameters
    ----------
    ds : xarray.Dataset
        The output of :func:`bayescal.apps.srom_beam.run_study` (or its ``srom_beam.nc``).

    Returns
    -------
    matplotlib.figure.Figure
        Left: the reduced models' peaks per (gamma, n_fixed) at the basis-spread (grey) and
        QoI-identified (blue) dispersions, against each potential's own peak. Right: the 5-95 %
        band of the deflection history at the first setting, with the full MD's histories.
    """
    from bayescal.apps.srom_beam import peaks_at

    fig, (ax, bx) = plt.subplots(1, 2, figsize=(12, 4.5), width_ratios=(1.3, 1))
    labels = []
    for k, (g, n) in enumerate((g, n) for g in ds["gamma"].values for n in ds["n_fixed"].values):
        for off, which, color in ((-0.15, "spread", "tab:gray"), (0.15, "qoi", "tab:blue")):
            v = peaks_at(ds, which).sel(gamma=g, n_fixed=n).values
            ax.plot(np.full(v.size, k + off), v, ".", color=color, alpha=0.6)
        labels.append(f"gamma {g:g}\nn_fixed {n}")
    for name, peak, role in zip(
        ds["potential"].values, ds["full_peak"].values, ds["role"].values, strict=True
    ):
        style = {"candidate": "-", "nominal": "--"}.get(role, ":")
        color = {"candidate": "k", "nominal": "tab:green"}.get(role, "tab:red")
        ax.axhline(peak, ls=style, lw=1, color=color)
        ax.annotate(name, (len(labels) - 0.5, peak), fontsize=7, va="center")
    ax.set_xticks(range(len(labels)), labels, fontsize=8)
    ax.set_xlim(-0.5, len(labels) + 0.6)
    ax.set_ylabel("peak tip deflection (A)")
    ax.set_title(
        f"reduced MD of {ds.attrs['nominal']}: grey = basis-spread s, blue = QoI-identified s\n"
        "lines: candidates (black), nominal (green dashed), held-out (red dotted)",
        fontsize=9,
    )
    t = ds["time"].values
    d = ds["deflection"].isel(gamma=0, n_fixed=0).values
    lo, hi = np.nanquantile(d, [0.05, 0.95], axis=0)
    bx.fill_between(t, lo, hi, color="tab:blue", alpha=0.3, label="SROM 5-95 %")
    for name, role in zip(ds["potential"].values, ds["role"].values, strict=True):
        style = {"candidate": "-", "nominal": "--"}.get(role, ":")
        bx.plot(t, ds["full_deflection"].sel(potential=name), style, lw=1, label=name)
    bx.set_xlabel("time (ps)")
    bx.set_ylabel("tip deflection (A)")
    bx.set_title(f"gamma {ds['gamma'].values[0]:g}, n_fixed {ds['n_fixed'].values[0]}", fontsize=9)
    bx.legend(fontsize=7)
    fig.tight_layout()
    return fig
