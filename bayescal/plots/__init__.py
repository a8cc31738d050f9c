"""Figures of bayescal results (matplotlib, Agg backend unless one is already chosen)."""

from bayescal.plots.calibration import (
    plot_convergence,
    plot_fields,
    plot_stress_strain,
    plot_traces,
)
from bayescal.plots.srom import plot_srom_coverage, plot_srom_fields

__all__ = [  # noqa: RUF022 - grouped by topic (STYLE.md 3), not sorted
    # calibration
    "plot_convergence",
    "plot_fields",
    "plot_stress_strain",
    "plot_traces",
    # stochastic reduced-order model (bayescal.srom.strain_field_srom)
    "plot_srom_coverage",
    "plot_srom_fields",
]
