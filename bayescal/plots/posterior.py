"""Plots and tables of a posterior from :func:`bayescal.infer.posterior`.

Trace and rank plots (convergence), a pair plot with each seed's EGO optimum marked, marginal
posteriors per seed against the pooled one, a summary table, and a posterior-predictive band
of the stress–strain curve from a forward model the caller supplies.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Literal

import arviz as az
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from bayescal.errors import InputDataError
from bayescal.infer.diagnostics import parameter_var_names

if TYPE_CHECKING:
    from bayescal.study.predictive import StressPredictive

__all__ = [
    "plot_pair",
    "plot_posterior_marginals",
    "plot_posterior_predictive",
    "plot_rank",
    "plot_stress_predictive",
    "plot_trace",
    "posterior_draws",
    "posterior_summary_table",
]


def _param_names(idata: az.InferenceData) -> list[str]:
    if "param_names" in idata["posterior"].attrs:
        return [str(n) for n in np.atleast_1d(idata["posterior"].attrs["param_names"])]
    return [str(n) for n in idata["constant_data"]["param"].values]


def _pooled_or_seed(idata: az.InferenceData) -> list[str]:
    names = _param_names(idata)
    if all(n in idata["posterior"] for n in names):
        return names
    return [f"{n}_seed" for n in names]


def plot_trace(idata: az.InferenceData, *, var_names: Sequence[str] | None = None) -> Figure:
    """Trace plot (density and draws per chain) of the parameters.

    Parameters
    ----------
    idata : arviz.InferenceData
        A posterior from :func:`bayescal.infer.posterior`.
    var_names : sequence of str or None
        Variables; None means the parameters, per-seed parameters, ``tau`` and ``sigma``.

    Returns
    -------
    matplotlib.figure.Figure
    """
    names = list(var_names) if var_names is not None else parameter_var_names(idata)
    axes = az.plot_trace(idata, var_names=names, compact=True)
    return np.ravel(axes)[0].figure


def plot_rank(idata: az.InferenceData, *, var_names: Sequence[str] | None = None) -> Figure:
    """Rank plots (Vehtari et al. 2021): uniform bars per chain when chains mix.

    Parameters
    ----------
    idata : arviz.InferenceData
        A posterior.
    var_names : sequence of str or None
        Variables; None means the pooled (or per-seed) parameters.

    Returns
    -------
    matplotlib.figure.Figure
    """
    names = list(var_names) if var_names is not None else _pooled_or_seed(idata)
    axes = az.plot_rank(idata, var_names=names)
    return np.ravel(axes)[0].figure


def plot_pair(idata: az.InferenceData, *, mark_optima: bool = True) -> Figure:
    """Pair plot of the pooled parameters with each seed's EGO optimum marked.

    Parameters
    ----------
    idata : arviz.InferenceData
        A posterior with ``constant_data.best_theta`` (written by ``posterior``).
    mark_optima : bool
        Overlay the best evaluated point of each emulator's training set.

    Returns
    -------
    matplotlib.figure.Figure
    """
    names = _pooled_or_seed(idata)
    if len(names) < 2:
        raise InputDataError("a pair plot needs at least 2 parameters.")
    coords = {"seed": idata["posterior"]["seed"].values[:1]} if names[0].endswith("_seed") else {}
    axes = np.atleast_2d(
        az.plot_pair(idata, var_names=names, coords=coords, kind="kde", marginals=True)
    )
    if mark_optima and "best_theta" in idata["constant_data"]:
        best = idata["constant_data"]["best_theta"].values  # (emulator, param)
        colors = plt.get_cmap("tab10")
        n = len(names)
        for i in range(n):
            for j in range(i):
                ax = axes[i, j]
                for k, row in enumerate(best):
                    ax.plot(row[j], row[i], "x", color=colors(k % 10), ms=8, mew=2)
    return axes.ravel()[0].figure


def plot_posterior_marginals(idata: az.InferenceData) -> Figure:
    """Marginal posterior of each parameter: one curve per seed or realization, and the pooled one.

    Parameters
    ----------
    idata : arviz.InferenceData
        A posterior (per-member ``<name>_seed`` or ``<name>_realization`` and/or pooled
        ``<name>`` variables).

    Returns
    -------
    matplotlib.figure.Figure
    """
    names = _param_names(idata)
    post = idata["posterior"]
    fig, axes = plt.subplots(1, len(names), figsize=(3.2 * len(names), 3), layout="constrained")
    colors = plt.get_cmap("tab10")
    for ax, name in zip(np.atleast_1d(axes), names, strict=True):
        for group in ("seed", "realization"):
            if f"{name}_{group}" not in post:
                continue
            members = post[f"{name}_{group}"]
            for k, s in enumerate(members[group].values):
                ax.hist(
                    members.sel({group: s}).values.ravel(),
                    bins=40,
                    density=True,
                    histtype="step",
                    color=colors(k % 10),
                    label=f"{group} {s}",
                )
        if name in post:
            draws = post[name].values.ravel()
            ax.hist(
                draws,
                bins=40,
                density=True,
                histtype="stepfilled",
                alpha=0.35,
                color="k",
                label="pooled",
            )
        ax.set_xlabel(name)
        ax.set_yticks([])
    np.atleast_1d(axes)[0].legend(fontsize="small")
    return fig


def posterior_summary_table(
    idata: az.InferenceData,
    *,
    var_names: Sequence[str] | None = None,
    fmt: Literal["markdown", "text"] = "markdown",
    digits: int = 4,
) -> str:
    """Mean, sd, 94 % HDI, R-hat and bulk/tail ESS of the parameters as a table.

    Parameters
    ----------
    idata : arviz.InferenceData
        A posterior.
    var_names : sequence of str or None
        Variables; None means :func:`bayescal.infer.parameter_var_names`.
    fmt : {"markdown", "text"}
        A markdown pipe table or aligned plain text.
    digits : int
        Significant digits of the estimates.

    Returns
    -------
    str
    """
    names = list(var_names) if var_names is not None else parameter_var_names(idata)
    df = az.summary(idata, var_names=names, hdi_prob=0.94, round_to="none")
    cols = ["mean", "sd", "hdi_3%", "hdi_97%", "r_hat", "ess_bulk", "ess_tail"]
    rows = [["variable", *cols]]
    for label, rec in df[cols].iterrows():
        vals = [f"{rec[c]:.{digits}g}" for c in cols[:4]]
        vals += [f"{rec['r_hat']:.3f}", f"{rec['ess_bulk']:.0f}", f"{rec['ess_tail']:.0f}"]
        rows.append([str(label), *vals])
    if fmt == "markdown":
        lines = ["| " + " | ".join(r) + " |" for r in rows]
        lines.insert(1, "|" + "|".join("---" for _ in [*cols, "v"]) + "|")
        return "\n".join(lines)
    if fmt != "text":
        raise InputDataError(f"fmt must be 'markdown' or 'text'; got {fmt!r}.")
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(c.rjust(w) for c, w in zip(r, widths, strict=True)) for r in rows)


def posterior_draws(
    idata: az.InferenceData,
    n: int,
    *,
    ego_seed: int | None = None,
    rng: int | np.random.Generator | None = None,
) -> np.ndarray:
    """Random posterior draws of the parameter vector, physical units.

    Parameters
    ----------
    idata : arviz.InferenceData
        A posterior.
    n : int
        Number of draws (without replacement when ``n`` <= available).
    ego_seed : int or None
        Take the per-seed parameters of this EGO seed (a ``seed`` label) instead of the pooled
        ones.
    rng : int, numpy Generator or None
        Selects the draws.

    Returns
    -------
    ndarray, shape (n, d)
        Columns in the order of the ``param`` names.
    """
    names = _param_names(idata)
    post = idata["posterior"]
    if ego_seed is None and not all(n_ in post for n_ in names):
        raise InputDataError("no pooled parameters in this posterior; pass ego_seed=<label>.")
    cols = []
    for name in names:
        da = post[name] if ego_seed is None else post[f"{name}_seed"].sel(seed=ego_seed)
        cols.append(da.values.reshape(-1))
    flat = np.stack(cols, axis=-1)
    gen = np.random.default_rng(rng)
    idx = gen.choice(len(flat), size=n, replace=n > len(flat))
    return flat[idx]


def plot_posterior_predictive(
    idata: az.InferenceData,
    forward: Callable[[np.ndarray], np.ndarray],
    *,
    strain: np.ndarray,
    reference: np.ndarray,
    reference_strain: np.ndarray | None = None,
    n_draws: int = 100,
    level: float = 0.9,
    rng: int | np.random.Generator | None = None,
    theta: np.ndarray | None = None,
) -> Figure:
    """Posterior-predictive band of the stress–strain curve against the reference.

    Parameters
    ----------
    idata : arviz.InferenceData
        A posterior with pooled parameters.
    forward : callable
        ``forward(theta (n, d)) -> stress (n, frame)`` in GPa (rows may be NaN for failed runs).
    strain : ndarray, shape (frame,)
        Strain of the forward model's frames.
    reference : ndarray, shape (m,)
        Reference (MD) stress in GPa.
    reference_strain : ndarray, shape (m,) or None
        Its strain; None means ``strain``.
    n_draws : int
        Posterior draws pushed through ``forward``.
    level : float
        Central probability of the band.
    rng : int, numpy Generator or None
        Selects the draws.
    theta : ndarray, shape (n_draws, d), optional
        Draws already taken with :func:`posterior_draws` (then ``rng`` is unused).

    Returns
    -------
    matplotlib.figure.Figure
    """
    if theta is None:
        theta = posterior_draws(idata, n_draws, rng=rng)
    stress = np.asarray(forward(theta), dtype=float)
    strain = np.asarray(strain, dtype=float)
    if stress.shape != (n_draws, strain.size):
        raise InputDataError(
            f"forward must return shape ({n_draws}, {strain.size}); got {stress.shape}."
        )
    ok = np.all(np.isfinite(stress), axis=1)
    if not ok.any():
        raise InputDataError("forward failed for every posterior draw.")
    q = np.quantile(stress[ok], [(1 - level) / 2, 0.5, (1 + level) / 2], axis=0)
    fig, ax = plt.subplots(figsize=(6, 4), layout="constrained")
    ax.fill_between(strain, q[0], q[2], alpha=0.35, label=f"{level:.0%} posterior predictive")
    ax.plot(strain, q[1], label="posterior median")
    ref_x = strain if reference_strain is None else np.asarray(reference_strain)
    ax.plot(ref_x, np.asarray(reference), "k--", label="reference")
    ax.set_xlabel("strain")
    ax.set_ylabel("stress (GPa)")
    ax.set_title(f"{int(ok.sum())} of {n_draws} draws")
    ax.legend(fontsize="small")
    return fig


def plot_stress_predictive(predictive: StressPredictive, *, level: float = 0.9) -> Figure:
    """Predictive bands of the model and of the data against the reference stress curve.

    Parameters
    ----------
    predictive : StressPredictive
        From :func:`bayescal.study.predictive.stress_predictive`.
    level : float
        Central probability of the bands.

    Returns
    -------
    matplotlib.figure.Figure
        The data band (model + model error + noise), the band of the forward runs alone, the
        data's median and the reference.
    """
    p = predictive
    data = p.band(level)
    model = p.band(level, of="model")
    fig, ax = plt.subplots(figsize=(6, 4), layout="constrained")
    ax.fill_between(p.strain, data[0], data[2], alpha=0.25, color="C0", label=f"{level:.0%} data")
    ax.fill_between(
        p.strain, model[0], model[2], alpha=0.45, color="C1", label=f"{level:.0%} model"
    )
    ax.plot(p.strain, data[1], color="C0", label="median")
    ax.plot(p.reference_strain, p.reference, "k-", lw=0.8, label="reference")
    ax.set_xlabel("strain")
    ax.set_ylabel(f"stress ({p.units})")
    ax.set_title(
        f"{np.isfinite(p.model).all(axis=1).sum()} draws; covers {100 * p.coverage(level):.0f} %"
    )
    ax.legend(fontsize="small")
    return fig
