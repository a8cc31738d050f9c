"""Write a calibration report: summary table and PNG figures under ``DIR/report/``."""

from __future__ import annotations

import logging
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import xarray as xr

from bayescal.plots import plot_convergence, plot_fields, plot_stress_strain, plot_traces
from bayescal.study.evaluate import _call_forward
from bayescal.study.study import Study
from bayescal.summary import best_per_seed, format_table

__all__ = ["write_report"]

logger = logging.getLogger(__name__)


def write_report(study: Study, evaluations: xr.Dataset, out: str | Path) -> str:
    """Write ``out/report/`` (summary.txt, PNG figures) and return the summary table.

    The strain-field figure reruns the forward model once at the overall best parameters.
    """
    report = Path(out) / "report"
    report.mkdir(parents=True, exist_ok=True)
    best = best_per_seed(evaluations)
    table = format_table(best, truth=dict(study.truth) if study.truth else None)
    (report / "summary.txt").write_text(table + "\n")
    best.to_netcdf(report / "best.nc", engine="h5netcdf")
    _save(plot_convergence(evaluations), report / "convergence.png")
    _save(plot_traces(evaluations, truth=study.truth), report / "parameter_traces.png")
    if "model_stress" in evaluations and study.discrepancy.stress is not None:
        stress = study.discrepancy.stress
        fig = plot_stress_strain(
            study.reference,
            evaluations,
            list(best["eval"].values),
            reference_var=stress.reference,
            reference_strain=stress.reference_strain,
        )
        _save(fig, report / "stress_strain.png")
    overall = (
        int(np.nanargmin(best["discrepancy"].values))
        if np.isfinite(best["discrepancy"].values).any()
        else None
    )
    if overall is not None and study.discrepancy.fields:
        term = study.discrepancy.fields[0]
        try:
            model = _call_forward(study, best["theta"].values[overall][None, :]).isel(sample=0)
            fig = plot_fields(
                study.reference[term.reference],
                model[term.model],
                term.strains,
                model_scale=term.model_scale,
                label=term.reference,
            )
            _save(fig, report / "fields.png")
        except Exception as exc:  # a report must not lose the run
            logger.warning("could not rerun the best parameters for the field plot: %s", exc)
    return table


def _save(fig, path: Path) -> None:
    fig.savefig(path, dpi=120)
    plt.close(fig)
