"""Figures of bayescal results (matplotlib, Agg backend unless one is already chosen)."""

from bayescal.plots.calibration import (
    plot_convergence,
    plot_fields,
    plot_stress_strain,
    plot_traces,
)
from bayescal.plots.srom import plot_srom_coverage, plot_srom_fields
from bayescal.plots.srom_beam import plot_srom_beam
from bayescal.plots.srom_md import plot_srom_md

__all__ = [  # noqa: RUF022 - grouped by topic (STYLE.md 3), not sorted
    # calibration
    "plot_convergence",
    "plot_fields",
    "plot_stress_strain",
    "plot_traces",
    # stochastic reduced-order model (bayescal.srom.strain_field_srom)
    "plot_srom_coverage",
    "plot_srom_fields",
    # model-form uncertainty applications (bayescal.apps)
    "plot_srom_md",
    "plot_srom_beam",
]
