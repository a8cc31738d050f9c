"""Efficient global optimisation (EGO, Bayesian optimisation) on BoTorch, in the unit cube.

Ask/tell engine :class:`EGO` with its :class:`EGOOptions`, the status codes of evaluations
(:class:`EvalStatus`), space-filling designs and unit-cube maps, and a simple driver
:func:`minimize`.
"""

from bayescal.optimize.acquisition import propose_batch
from bayescal.optimize.driver import OptimizeResult, minimize
from bayescal.optimize.ego import EGO
from bayescal.optimize.lhs import from_unit, latin_hypercube, sobol, to_unit
from bayescal.optimize.options import (
    BudgetShare,
    EGOOptions,
    LocalSearch,
    count_or_share,
    default_n_init,
)
from bayescal.optimize.quadratic import QuadraticModel, fit_quadratic, quadratic_step
from bayescal.optimize.status import EvalStatus
from bayescal.optimize.surrogate import fit_gp, matern52_kernel

__all__ = [  # noqa: RUF022 - grouped by topic (STYLE.md 3), not sorted
    # engine
    "EGO",
    "EGOOptions",
    "LocalSearch",
    "BudgetShare",
    "count_or_share",
    "EvalStatus",
    "default_n_init",
    # driver
    "OptimizeResult",
    "minimize",
    # designs and maps
    "from_unit",
    "latin_hypercube",
    "sobol",
    "to_unit",
    # building blocks
    "QuadraticModel",
    "fit_gp",
    "fit_quadratic",
    "matern52_kernel",
    "propose_batch",
    "quadratic_step",
]
