"""Plots of a stochastic strain-field prediction from :func:`bayescal.srom.strain_field_srom`."""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
import xarray as xr
from matplotlib.figure import Figure

from bayescal.errors import InputDataError

__all__ = ["plot_srom_coverage", "plot_srom_fields"]

_NEEDED = ("reference", "mean", "lower", "upper", "covered", "coverage")


def _check(result: xr.Dataset) -> None:
    missing = [v for v in _NEEDED if v not in result]
    if missing:
        raise InputDataError(
            f"result lacks {missing}; pass the output of bayescal.srom.strain_field_srom."
        )


def plot_srom_fields(
    result: xr.Dataset, *, strains: Sequence[float] = (0.05, 0.1, 0.2, 0.5)
) -> Figure:
    """MD field against the SROM band at a few applied strains.

    One row per strain (nearest frame): MD field, SROM mean (same colour scale), band width
    (upper - lower), the cells where the MD lies inside the band (with the covered fraction in
    the title), and the x-averaged profile along y: MD line against the band of the profile.

    Parameters
    ----------
    result : xarray.Dataset
        Output of :func:`bayescal.srom.strain_field_srom`.
    strains : sequence of float
        Applied strains to show.

    Returns
    -------
    matplotlib.figure.Figure
    """
    _check(result)
    if len(strains) == 0:
        raise InputDataError("strains must not be empty.")
    strain = result["strain"].values
    idx = [int(np.abs(strain - s).argmin()) for s in strains]
    k = len(idx)
    fig, axes = plt.subplots(k, 5, figsize=(13, 2.5 * k + 0.6), layout="constrained", squeeze=False)
    q = result.attrs.get("quantiles", [0.05, 0.95])
    band = f"{100 * q[0]:g}-{100 * q[1]:g} %"
    for row, i in enumerate(idx):
        ref = result["reference"].isel(frame=i).values
        mean = result["mean"].isel(frame=i).values
        width = (result["upper"] - result["lower"]).isel(frame=i).values
        cov = result["covered"].isel(frame=i).values
        vmin = float(min(ref.min(), mean.min()))
        vmax = float(max(ref.max(), mean.max()))
        ax = axes[row]
        im = ax[0].imshow(ref, origin="lower", cmap="inferno", vmin=vmin, vmax=vmax)
        ax[1].imshow(mean, origin="lower", cmap="inferno", vmin=vmin, vmax=vmax)
        fig.colorbar(im, ax=ax[:2], shrink=0.8)
        im_w = ax[2].imshow(width, origin="lower", cmap="viridis")
        fig.colorbar(im_w, ax=ax[2], shrink=0.8)
        ax[3].imshow(cov, origin="lower", cmap="gray", vmin=0, vmax=1)
        for a in ax[:4]:
            a.set_xticks([])
            a.set_yticks([])
        ax[0].set_ylabel(f"strain {strain[i]:.3g}")
        ax[3].set_title(f"in band (white): {float(result['coverage'][i]):.0%}", fontsize="small")
        if "profile_reference" in result:
            y = result["y"].values if "y" in result.coords else np.arange(ref.shape[0])
            ax[4].fill_between(
                y,
                result["profile_lower"].isel(frame=i).values,
                result["profile_upper"].isel(frame=i).values,
                color="tab:blue",
                alpha=0.3,
                label=f"SROM {band}",
            )
            ax[4].plot(y, result["profile_mean"].isel(frame=i).values, color="tab:blue", lw=1)
            ax[4].plot(y, result["profile_reference"].isel(frame=i).values, "k", lw=1.5, label="MD")
            ax[4].set_xlabel("y")
            ax[4].set_ylabel("x-averaged field")
    axes[0, 0].set_title("MD", fontsize="small")
    axes[0, 1].set_title("SROM mean", fontsize="small")
    axes[0, 2].set_title(f"band width ({band})", fontsize="small")
    axes[0, 4].set_title("profile", fontsize="small")
    axes[0, 4].legend(fontsize="x-small")
    fig.suptitle(
        f"SROM strain-field band vs MD: {result.attrs.get('coverage', np.nan):.1%} of MD cells "
        f"covered (rank {result.attrs.get('rank', '?')}, "
        f"s = {result.attrs.get('dispersion', np.nan):.3g})",
        fontsize="medium",
    )
    return fig


def plot_srom_coverage(result: xr.Dataset) -> Figure:
    """Fraction of MD cells inside the SROM band against applied strain.

    Parameters
    ----------
    result : xarray.Dataset
        Output of :func:`bayescal.srom.strain_field_srom`.

    Returns
    -------
    matplotlib.figure.Figure
    """
    _check(result)
    fig, ax = plt.subplots(figsize=(6, 3.5), layout="constrained")
    q = result.attrs.get("quantiles", [0.05, 0.95])
    ax.plot(result["strain"].values, result["coverage"].values, color="tab:blue")
    ax.axhline(q[1] - q[0], color="gray", ls="--", lw=1, label=f"nominal {q[1] - q[0]:.0%}")
    ax.axhline(float(result.attrs.get("coverage", np.nan)), color="tab:blue", ls=":", lw=1,
               label=f"all frames {result.attrs.get('coverage', np.nan):.1%}")  # fmt: skip
    ax.set_xlabel("applied shear strain")
    ax.set_ylabel("fraction of MD cells in band")
    ax.set_ylim(0, 1)
    ax.legend(fontsize="small")
    return fig
