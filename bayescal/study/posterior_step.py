"""The posterior step of a study: evaluations on disk -> ``posterior.nc`` and report figures.

``bayescal run`` calls :func:`run_posterior` after EGO (unless ``--no-posterior``) and
``bayescal posterior DIR`` calls it alone on existing evaluations. It takes the priors from each
:class:`~bayescal.study.Parameter` and their coordinates from ``Study.reparam`` (the problem),
the sampler settings from ``Study.run.posterior`` (or the defaults of
:class:`~bayescal.infer.PosteriorOptions`), and writes

- ``DIR/posterior.nc``: ArviZ InferenceData (posterior, sample_stats, prior, constant_data with
  the evaluations and the emulators' training sets; provenance and diagnostics in attrs);
- ``DIR/report/posterior.md``: parameter table (mean, sd, 94 % HDI, R-hat, ESS) per seed and
  pooled, diagnostics verdict, EGO optimum per seed;
- ``DIR/report/posterior_{trace,rank,pair,marginals,predictive}.png``.
"""

from __future__ import annotations

import functools
import json
import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import matplotlib.pyplot as plt
import numpy as np
import xarray as xr

from bayescal.errors import StudyDefinitionError
from bayescal.io import remove_stale_temporaries
from bayescal.run_lock import RunLock
from bayescal.study.evaluate import forward_batch
from bayescal.study.study import Study
from bayescal.summary import best_per_seed, format_table

if TYPE_CHECKING:
    import arviz as az

    from bayescal.infer import Diagnostics, PosteriorOptions
    from bayescal.study.refine import EmulatorCheck, ResidualCheck

__all__ = [
    "PosteriorResult",
    "posterior_options",
    "run_posterior",
    "sample_posterior",
    "write_posterior_report",
]

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True, kw_only=True)
class PosteriorResult:
    """What :func:`run_posterior` produced.

    Attributes
    ----------
    idata : arviz.InferenceData
        The posterior (also written to ``path``).
    diagnostics : Diagnostics
        R-hat, ESS and divergence verdict.
    path : Path
        ``DIR/posterior.nc``.
    table : str
        The markdown parameter table.
    wall_s : float
        Seconds for emulators, sampling and report together.
    evaluations : xarray.Dataset
        The evaluations the emulators were trained on (refinement runs included).
    """

    idata: az.InferenceData
    diagnostics: Diagnostics
    path: Path
    table: str
    wall_s: float
    evaluations: xr.Dataset


def posterior_options(
    study: Study,
    options: PosteriorOptions | None = None,
    *,
    seed: int | None = None,
    progressbar: bool = False,
) -> PosteriorOptions:
    """The study's posterior options (or the given ones) with the study's prior filled in.

    The one place a study's problem and run settings meet for the posterior: every caller
    that needs the options a study runs with gets them here, and options a caller passes
    explicitly get the study's prior here too (so that changing, say, the number of draws
    cannot drop the prior's coordinates).

    Parameters
    ----------
    study : Study
        ``Study.run.posterior`` (or the defaults), each ``Parameter.prior`` and
        ``Study.reparam`` (the prior's coordinates, as the options' ``reparam``).
    options : PosteriorOptions or None
        Explicit options instead of the study's run settings; their ``priors`` override the
        ``Parameter.prior`` of the same name, and ``progressbar`` leaves their sampling as is.
    seed : int or None
        Root seed; None keeps the options' own (the study seed when those are the defaults).
    progressbar : bool
        Show PyMC's progress bar (with the study's own options only).

    Returns
    -------
    PosteriorOptions

    Raises
    ------
    StudyDefinitionError
        Both ``Study.reparam`` and the options' ``reparam`` are set, to different objects: a
        study states its prior's coordinates once, on the study.
    """
    from bayescal.infer import PosteriorOptions

    base = options
    if base is None:
        run = study.run.posterior
        base = run if run is not None else PosteriorOptions(seed=study.run.seed)
        base = base.replace(
            sampling={"progressbar": progressbar}, convergence={"on_fail": "ignore"}
        )
    if study.reparam is not None and base.reparam not in (None, study.reparam):
        where = "the given options" if options is not None else "Study.run.posterior"
        raise StudyDefinitionError(
            f"study {study.name!r} states its prior's coordinates twice, as Study.reparam and "
            f"in {where} (reparam); set Study.reparam only."
        )
    priors = {p.name: p.prior for p in study.parameters if p.prior is not None}
    priors |= dict(base.priors)
    reparam = study.reparam if study.reparam is not None else base.reparam
    filled = base.replace(priors=priors, reparam=reparam)
    return filled if seed is None else filled.replace(seed=seed)


def run_posterior(
    study: Study,
    evaluations: xr.Dataset,
    out: str | Path,
    *,
    options: PosteriorOptions | None = None,
    predictive_draws: int = 24,
    progress: bool = False,
) -> PosteriorResult:
    """Fit the emulators, sample the posterior, write ``posterior.nc`` and the report.

    Parameters
    ----------
    study : Study
        The study the evaluations belong to (priors, forward model for the predictive band).
    evaluations : xarray.Dataset
        ``DIR/evaluations.nc`` as written by :func:`bayescal.study.calibrate`.
    out : str or Path
        The run directory.
    options : PosteriorOptions or None
        None means :func:`posterior_options` of the study.
    predictive_draws : int
        Posterior draws run through the forward model for the stress–strain band (0 skips it).
    progress : bool
        Show PyMC's progress bar.

    Raises
    ------
    RunLockedError
        Another process is running in ``out``.
    InputDataError
        ``out`` is not a writable directory (found before any sampling).

    Returns
    -------
    PosteriorResult
        Convergence failures do not raise: they are in ``diagnostics`` (the CLI turns them into a
        warning and a non-zero exit status).
    """
    out = Path(out)
    with RunLock(out):  # before any work: refuses a busy or unwritable directory
        remove_stale_temporaries(out)
        return _run_posterior(study, evaluations, out, options, predictive_draws, progress)


def _run_posterior(
    study: Study,
    evaluations: xr.Dataset,
    out: Path,
    options: PosteriorOptions | None,
    predictive_draws: int,
    progress: bool,
) -> PosteriorResult:
    """The body of :func:`run_posterior`, run while holding the directory's lock."""
    from bayescal.infer import write_posterior

    opts = posterior_options(study, options, progressbar=progress)
    start = time.perf_counter()
    evaluations, idata, diag = sample_posterior(study, evaluations, out, opts)
    path = out / "posterior.nc"
    write_posterior(idata, path)
    table = write_posterior_report(
        study,
        evaluations,
        idata,
        diag,
        out,
        predictive_draws=predictive_draws,
        rhat_max=opts.convergence.rhat_max,
        ess_min=opts.convergence.ess_min,
    )
    return PosteriorResult(
        idata=idata,
        diagnostics=diag,
        path=path,
        table=table,
        wall_s=time.perf_counter() - start,
        evaluations=evaluations,
    )


def sample_posterior(
    study: Study, evaluations: xr.Dataset, out: Path | None, options: PosteriorOptions
) -> tuple[xr.Dataset, az.InferenceData, Diagnostics]:
    """Refine the emulators (``options.refine.rounds``), sample the posterior and diagnose it.

    Parameters
    ----------
    study : Study
        The problem.
    evaluations : xarray.Dataset
        Its EGO evaluations.
    out : Path or None
        The run directory (refinement runs are stored in and read from ``DIR/refinement``);
        None keeps them in memory.
    options : PosteriorOptions
        Complete options (:func:`posterior_options`).

    Returns
    -------
    (xarray.Dataset, arviz.InferenceData, Diagnostics)
        All evaluations (refinement included), the posterior (``emulator_checks`` in its attrs
        after a refinement) and its convergence verdict. Failures of the thresholds do not
        raise.
    """
    from bayescal.infer import diagnose, posterior
    from bayescal.study.refine import combined_evaluations, refine_emulators

    checks: list[EmulatorCheck] | list[ResidualCheck] = []
    if options.refine.rounds and study.forward_per_realization:
        from bayescal.errors import InputDataError

        raise InputDataError(
            f"refine.rounds={options.refine.rounds}: refinement runs the forward model at "
            "pooled draws, which a forward model that takes `realization` cannot do; set "
            "refine.rounds=0."
        )
    if options.refine.rounds:
        evaluations, checks = refine_emulators(study, evaluations, out, options)
    else:
        evaluations = combined_evaluations(evaluations, out)
    if options.likelihood == "residual":
        _require_outputs(study, evaluations, out)
    # failures are reported through the diagnostics, not as a warning here
    idata = posterior(
        evaluations,
        options=options.replace(convergence={"on_fail": "ignore"}),
        discrepancy=study.discrepancy,
        reference=study.reference,
    )
    if checks:
        idata["posterior"].attrs["emulator_checks"] = [c.line() for c in checks]
    conv = options.convergence
    return evaluations, idata, diagnose(idata, rhat_max=conv.rhat_max, ess_min=conv.ess_min)


def _require_outputs(study: Study, evaluations: xr.Dataset, out: Path | None) -> None:
    """Refuse evaluations without kept outputs, naming the command that recomputes them."""
    from bayescal.errors import InputDataError
    from bayescal.study.outputs import missing_outputs

    rows = missing_outputs(study, evaluations)
    if rows.size:
        raise InputDataError(
            f"{rows.size} of {evaluations.sizes['eval']} evaluations in {out} lack the kept "
            "model outputs the residual likelihood needs (a store written before they were "
            f"kept). Recompute them with `bayescal outputs {out}` (one forward run per "
            "evaluation), then rerun `bayescal posterior`."
        )


def write_posterior_report(
    study: Study,
    evaluations: xr.Dataset,
    idata: az.InferenceData,
    diagnostics: Diagnostics,
    out: str | Path,
    *,
    predictive_draws: int = 24,
    rhat_max: float = 1.01,
    ess_min: float = 400.0,
) -> str:
    """Write ``DIR/report/posterior.md`` and the posterior figures; return the table.

    A figure that cannot be drawn is logged and skipped: the report never loses the run.
    """
    from bayescal.plots.posterior import (
        plot_pair,
        plot_posterior_marginals,
        plot_rank,
        plot_trace,
        posterior_summary_table,
    )

    report = Path(out) / "report"
    report.mkdir(parents=True, exist_ok=True)
    figures = {
        "posterior_trace.png": lambda: plot_trace(idata),
        "posterior_rank.png": lambda: plot_rank(idata),
        "posterior_pair.png": lambda: plot_pair(idata, mark_optima=True),
        "posterior_marginals.png": lambda: plot_posterior_marginals(idata),
    }
    predictive_lines: list[str] = []
    post = idata["posterior"]
    if predictive_draws > 0 and "sigma_stress" in post:
        figures["posterior_predictive.png"] = lambda: _stress_predictive_figure(
            study, idata, predictive_draws, predictive_lines
        )
        own = all(f"{n}_realization" in post for n in study.names)
        for r in range(study.realizations if own and study.realizations > 1 else 0):
            # each realization against its own parameters (and, if any, its own inputs)
            figures[f"posterior_predictive_realization{r}.png"] = functools.partial(
                _stress_predictive_figure, study, idata, predictive_draws, predictive_lines, r
            )
    elif predictive_draws > 0:
        figures["posterior_predictive.png"] = lambda: _predictive_figure(
            study, idata, predictive_draws
        )
    for name, draw in figures.items():
        try:
            fig = draw()
        except Exception as exc:  # a report must not lose the run
            logger.warning("could not draw %s: %s", name, exc)
            continue
        if fig is not None:
            fig.savefig(report / name, dpi=120)
            plt.close(fig)
    table = posterior_summary_table(idata)
    post_attrs = idata["posterior"].attrs
    verdict = "passed" if diagnostics.passed else "FAILED: " + "; ".join(diagnostics.failures)
    lines = [
        f"# Posterior: {study.name}",
        "",
        study.description,
        "",
        f"- pooling: {post_attrs.get('pooling')}, likelihood: {post_attrs.get('likelihood')}",
        f"- EGO seeds: {int(np.unique(evaluations['seed'].values).size)}, "
        f"evaluations: {evaluations.sizes['eval']}",
        *_block_lines(idata),
        *_excluded_lines(post_attrs),
        f"- NUTS: {post_attrs.get('nuts_sampler', 'pymc')}",
        f"- emulator fit {float(post_attrs.get('emulator_fit_s', np.nan)):.1f} s, "
        f"sampling {float(post_attrs.get('sampling_wall_s', np.nan)):.1f} s",
        f"- diagnostics (R-hat < {rhat_max}, bulk ESS > {ess_min:.0f}, no divergences): {verdict}",
        f"- max R-hat {diagnostics.max_rhat:.4f}, min bulk ESS {diagnostics.min_ess_bulk:.0f}, "
        f"divergences {diagnostics.divergences}",
        *_refinement_lines(evaluations, post_attrs),
        *[f"- {line}" for line in predictive_lines],
        "",
        "## Parameters (94 % HDI)",
        "",
        table,
        "",
        "## EGO optimum per seed",
        "",
        "```",
        format_table(
            best_per_seed(evaluations),
            truth=dict(study.truth) if study.truth else None,
            ranges=study.ranges,
        ),
        "```",
        "",
    ]
    (report / "posterior.md").write_text("\n".join(lines))
    return table


def _block_lines(idata: az.InferenceData) -> list[str]:
    """Report lines on the residual blocks (emulator size, model error, noise), if any."""
    from bayescal.infer.residual_model import block_label

    cd, post = idata["constant_data"], idata["posterior"]
    if "block" not in cd.coords:
        return []
    lines = ["- residual blocks (EGO seeds are repeats of one search: one emulator set):"]
    for j, name in enumerate(cd["block"].values):
        comps = cd["block_n_components"].values[:, j]
        explained = cd["block_explained"].values[:, j]
        measured = bool(cd["block_noise_measured"].values[0, j])
        label = "sigma_" + block_label(str(name))
        sigma = post[label].values if label in post else np.array([np.nan])
        noise = (
            "noise measured from the data"
            if measured
            else "noise not measured: sigma carries noise and model error together"
        )
        dof = cd["block_outside_dof"].values[:, j] if "block_outside_dof" in cd else [0.0]
        outside, error = "", f"model error {label} {_interval(sigma)}"
        if np.min(dof) > 0:
            outside = f"; the rest emulated by its size over {np.min(dof):.0f} directions"
            tail = "sigma_tail_" + block_label(str(name))
            if tail in post:
                error = (
                    f"model error {tail} {_interval(post[tail].values)} in every direction, "
                    f"{label} {_interval(sigma)} along the best fits' common misfit"
                )
        lines.append(
            f"  - {name}: {int(comps.min())}-{int(comps.max())} components "
            f"({100 * explained.min():.1f} % of the variance{outside}), {error}; {noise}"
        )
    return lines


def _interval(draws: np.ndarray) -> str:
    """Median and central 94 % interval of posterior draws, as text."""
    lo, hi = np.quantile(draws, [0.03, 0.97])
    return f"{np.median(draws):.4g} [{lo:.4g}, {hi:.4g}]"


def _excluded_lines(attrs: dict) -> list[str]:
    """Report line on seeds left out (``FloorLikelihood.tolerance``), if any."""
    excluded = json.loads(str(attrs.get("excluded_seeds", "[]")))
    if not excluded:
        return []
    return [
        f"- seeds {excluded} left out of the posterior: their best discrepancy is more than "
        "floor.tolerance above the best seed's (their searches did not reach its basin)"
    ]


def _refinement_lines(evaluations: xr.Dataset, attrs: dict) -> list[str]:
    """Report lines on the emulator refinement (bayescal.study.refine), if there was one."""
    checks = np.atleast_1d(attrs.get("emulator_checks", [])).tolist()
    n_refine = int((evaluations["batch"].values < 0).sum()) if "batch" in evaluations else 0
    if not n_refine:
        return []
    lines = [f"- emulators refined with {n_refine} forward runs at posterior draws"]
    lines += [f"  - emulator check, {c} (the points were held out)" for c in checks]
    return lines


def _stress_predictive_figure(
    study: Study,
    idata: az.InferenceData,
    n_draws: int,
    lines: list[str],
    realization: int | None = None,
):
    """Data band (model + model error + noise) against the reference; its summary to ``lines``.

    ``realization`` None: the pooled parameters against realization 0; else that realization's
    own parameters against its data.
    """
    from bayescal.plots.posterior import plot_stress_predictive
    from bayescal.study.predictive import stress_predictive

    own = realization is not None
    pred = stress_predictive(
        study,
        idata,
        n_draws=n_draws,
        rng=study.run.seed,
        realization=realization or 0,
        member="realization" if own else "pooled",
    )
    lines.append((f"realization {realization}, own parameters: " if own else "") + pred.summary())
    fig = plot_stress_predictive(pred)
    if own:
        ax = fig.axes[0]
        ax.set_title(f"realization {realization}: {ax.get_title()}", fontsize="medium")
    return fig


def _predictive_figure(study: Study, idata: az.InferenceData, n_draws: int):
    """Stress–strain band of pooled posterior draws against the reference, or None."""
    from bayescal.plots.posterior import plot_posterior_predictive, posterior_draws

    stress = study.discrepancy.stress
    if stress is None or not all(n in idata["posterior"] for n in study.names):
        return None
    reference = study.reference[stress.reference]
    if "realization" in reference.dims:
        reference = reference.isel(realization=0)
    theta = posterior_draws(idata, n_draws, rng=study.run.seed)
    ok = study.feasible(theta)
    if not ok.any():
        return None
    model = forward_batch(study, theta[ok])
    curve = model[stress.model].transpose("sample", "frame").values
    if "status" in model:
        curve[model["status"].values != 0] = np.nan
    rows = np.full((n_draws, curve.shape[1]), np.nan)
    rows[ok] = curve
    return plot_posterior_predictive(
        idata,
        lambda _: rows,
        strain=np.asarray(model["strain"].values, dtype=float),
        reference=reference.values,
        reference_strain=study.reference[stress.reference_strain].values,
        n_draws=n_draws,
        theta=theta,
    )
