"""The Python entry point: search, then posterior, in memory or in a run directory.

``bayescal.calibrate(study)`` is what ``bayescal run STUDY.py`` does, for a notebook: EGO over the
study's seeds (:func:`bayescal.study.calibrate`), then the posterior (refinement rounds if the
study asks for them, NUTS, diagnostics). Without ``out`` nothing touches the disk and no figure is
drawn; with ``out`` the run directory is written (and resumed) exactly as by the command line::

    import bayescal
    from bayescal.study import load_study

    study = load_study("studies/toy_shear_band.py")
    result = bayescal.calibrate(study, budget=30)
    result.summary()                      # pandas table: mean, sd, 94 % HDI, R-hat, ESS
    result.posterior                      # arviz.InferenceData
"""

from __future__ import annotations

from concurrent.futures import Executor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import xarray as xr

from bayescal.study.study import Study

if TYPE_CHECKING:
    import arviz as az
    import pandas as pd  # type: ignore[import-untyped]

    from bayescal.infer import Diagnostics, PosteriorOptions

__all__ = ["Calibration", "calibrate", "posterior"]


@dataclass(frozen=True, slots=True)
class Calibration:
    """What a calibration produced.

    Attributes
    ----------
    study : Study
        The problem.
    evaluations : xarray.Dataset
        Every forward evaluation (dims ``eval``, ``param``; the layout of ``evaluations.nc``),
        refinement runs included.
    posterior : arviz.InferenceData or None
        The posterior (None when it was not sampled).
    diagnostics : Diagnostics or None
        Its convergence verdict (R-hat, bulk ESS, divergences).
    """

    study: Study
    evaluations: xr.Dataset
    posterior: az.InferenceData | None = None
    diagnostics: Diagnostics | None = None

    @property
    def converged(self) -> bool:
        """Whether the posterior met its convergence thresholds (False without one)."""
        return self.diagnostics is not None and bool(self.diagnostics.passed)

    def best(self) -> xr.Dataset:
        """Best evaluation of each EGO seed (:func:`bayescal.summary.best_per_seed`)."""
        from bayescal.summary import best_per_seed

        return best_per_seed(self.evaluations)

    def summary(self, hdi_prob: float = 0.94) -> pd.DataFrame:
        """ArviZ summary of the calibrated parameters (mean, sd, HDI, R-hat, ESS).

        Raises
        ------
        ValueError
            When no posterior was sampled.
        """
        import arviz as az

        if self.posterior is None:
            raise ValueError("no posterior: calibrate(..., posterior=True) samples one.")
        names = [n for n in self.study.names if n in self.posterior["posterior"]]
        return az.summary(self.posterior, var_names=names, hdi_prob=hdi_prob)


def calibrate(
    study: Study,
    out: str | Path | None = None,
    *,
    budget: int | None = None,
    seeds: int | None = None,
    batch_size: int | None = None,
    executor: Executor | None = None,
    posterior: bool = True,
    options: PosteriorOptions | None = None,
    progress: bool = False,
) -> Calibration:
    """Search a study's parameters with EGO, then sample their posterior.

    Parameters
    ----------
    study : Study
        The problem.
    out : path, optional
        Run directory (written and resumed as by ``bayescal run``, report included); None keeps
        everything in memory.
    budget, seeds, batch_size : int, optional
        Forward evaluations per seed, EGO seeds, points per round (default: the study's).
    executor : concurrent.futures.Executor, optional
        Where forward runs go (default: in-process; see :func:`bayescal.executors.make_executor`).
    posterior : bool
        Sample the posterior after the search.
    options : PosteriorOptions, optional
        Posterior settings (default: the study's, :func:`bayescal.study.posterior_options`).
    progress : bool
        Progress bars of the search and the sampler.

    Returns
    -------
    Calibration
    """
    from bayescal.study.calibrate import calibrate as search

    evaluations = search(
        study,
        out,
        budget=budget,
        seeds=seeds,
        batch_size=batch_size,
        executor=executor,
        progress=progress,
    )
    if out is not None:  # the search's report, as `bayescal run` writes it
        from bayescal.study.report import write_report

        write_report(study, evaluations, out)
    if not posterior:
        return Calibration(study, evaluations)
    return _sample(study, evaluations, out, options, progress)


def posterior(
    study: Study,
    evaluations: xr.Dataset,
    *,
    out: str | Path | None = None,
    options: PosteriorOptions | None = None,
    progress: bool = False,
) -> Calibration:
    """Sample the posterior of a study from its evaluations.

    The emulators are refined first when ``options.refine.rounds`` > 0.

    Parameters
    ----------
    study : Study
        The problem the evaluations belong to.
    evaluations : xarray.Dataset
        From :func:`calibrate` or ``evaluations.nc``.
    out : path, optional
        Run directory: ``posterior.nc`` and the report are written there (as by
        ``bayescal posterior``); None keeps everything in memory and draws nothing.
    options : PosteriorOptions, optional
        Default: the study's (:func:`bayescal.study.posterior_options`).
    progress : bool
        The sampler's progress bar.

    Returns
    -------
    Calibration
    """
    return _sample(study, evaluations, out, options, progress)


def _sample(
    study: Study,
    evaluations: xr.Dataset,
    out: str | Path | None,
    options: PosteriorOptions | None,
    progress: bool,
) -> Calibration:
    """The body of :func:`posterior` (``calibrate`` has an argument of that name)."""
    from bayescal.study.posterior_step import posterior_options, run_posterior, sample_posterior

    opts = posterior_options(study, options, progressbar=progress)
    if out is not None:
        result = run_posterior(study, evaluations, out, options=opts, progress=progress)
        return Calibration(study, result.evaluations, result.idata, result.diagnostics)
    everything, idata, diagnostics = sample_posterior(study, evaluations, None, opts)
    return Calibration(study, everything, idata, diagnostics)
