"""Figures of bayescal results (matplotlib, Agg backend unless one is already chosen)."""

from bayescal.plots.calibration import (
    plot_convergence,
    plot_fields,
    plot_stress_strain,
    plot_traces,
)

__all__ = [
    # calibration
    "plot_convergence",
    "plot_fields",
    "plot_stress_strain",
    "plot_traces",
]
