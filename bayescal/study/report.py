"""Write a calibration report: summary table and PNG figures under ``DIR/report/``."""

from __future__ import annotations

import logging
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import xarray as xr

from bayescal.plots import plot_convergence, plot_fields, plot_stress_strain, plot_traces
from bayescal.study.evaluate import forward_batch
from bayescal.study.study import Study
from bayescal.summary import best_per_seed, format_derived, format_table

__all__ = ["write_report"]

logger = logging.getLogger(__name__)


def write_report(study: Study, evaluations: xr.Dataset, out: str | Path) -> str:
    """Write ``out/report/`` (summary.txt, PNG figures) and return the summary table.

    The strain-field figure reruns the forward model once at the overall best parameters and
    compares it with the realization that seed calibrated against. With R > 1 realizations the
    stress–strain figure is drawn per realization (``stress_strain_realization<r>.png``, each with
    the best curves of its seeds); ``stress_strain.png`` is realization 0's.
    """
    report = Path(out) / "report"
    report.mkdir(parents=True, exist_ok=True)
    best = best_per_seed(evaluations)
    table = format_table(
        best, truth=dict(study.truth) if study.truth else None, ranges=study.ranges
    )
    if study.derived:
        inputs = study.model_inputs(best["theta"].values)
        derived = {k: inputs[k] for k in study.derived}
        table += "\n\nderived at each seed's best:\n" + format_derived(best, derived)
    (report / "summary.txt").write_text(table + "\n")
    best.to_netcdf(report / "best.nc", engine="h5netcdf")
    _save(plot_convergence(evaluations), report / "convergence.png")
    _save(plot_traces(evaluations, truth=study.truth), report / "parameter_traces.png")
    seed_real = _seed_realizations(study, best)
    if "model_stress" in evaluations and study.discrepancy.stress is not None:
        stress = study.discrepancy.stress
        for r in range(study.realizations):
            # seeds of other realizations are skipped (-1) so each keeps its seed label
            evals = [int(j) if seed_real[i] == r else -1 for i, j in enumerate(best["eval"].values)]
            fig = plot_stress_strain(
                study.reference_for(r),
                evaluations,
                evals,
                reference_var=stress.reference,
                reference_strain=stress.reference_strain,
            )
            units = study.reference[stress.reference].attrs.get("units")
            if units:
                fig.axes[0].set_ylabel(f"shear stress [{units}]")
            if study.realizations > 1:
                fig.axes[0].set_title(f"realization {r}", fontsize="medium")
                fig.savefig(report / f"stress_strain_realization{r}.png", dpi=120)
            if r == 0:
                fig.savefig(report / "stress_strain.png", dpi=120)
            plt.close(fig)
    overall = (
        int(np.nanargmin(best["discrepancy"].values))
        if np.isfinite(best["discrepancy"].values).any()
        else None
    )
    if overall is not None and study.discrepancy.fields:
        _field_figure(study, best, overall, int(seed_real[overall]), report / "fields.png")
        if study.realizations > 1:  # each realization against its own best seed
            d = np.asarray(best["discrepancy"].values, dtype=float)
            for r in range(study.realizations):
                mine = np.flatnonzero((seed_real == r) & np.isfinite(d))
                if mine.size:
                    i = int(mine[np.argmin(d[mine])])
                    _field_figure(study, best, i, r, report / f"fields_realization{r}.png")
    return table


def _field_figure(study: Study, best: xr.Dataset, i: int, r: int, path: Path) -> None:
    """The first field term's snapshots: realization ``r`` against seed ``i``'s best run."""
    term = study.discrepancy.fields[0]
    label = term.reference + (f" (realization {r})" if study.realizations > 1 else "")
    try:
        model = forward_batch(study, best["theta"].values[i][None, :], r).isel(sample=0)
        fig = plot_fields(
            study.reference_for(r)[term.reference],
            model[term.model],
            term.strains,
            model_scale=term.model_scale,
            label=label,
        )
        _save(fig, path)
    except Exception as exc:  # a report must not lose the run
        logger.warning("could not rerun the best parameters for the field plot: %s", exc)


def _seed_realizations(study: Study, best: xr.Dataset) -> np.ndarray:
    """Realization of each seed of ``best``: as recorded, else ``seed % R``."""
    if "realization" in best:
        real = np.asarray(best["realization"].values, dtype=int)
    else:
        real = study.realization_of(best["seed"].values)
    return np.clip(real, 0, study.realizations - 1)


def _save(fig, path: Path) -> None:
    fig.savefig(path, dpi=120)
    plt.close(fig)
