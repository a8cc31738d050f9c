"""Options of the EGO engine (a frozen, validated dataclass)."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Literal

from bayescal.errors import InputDataError

__all__ = ["BudgetShare", "EGOOptions", "LocalSearch", "count_or_share", "default_n_init"]


def default_n_init(dim: int) -> int:
    """Return the default size of the initial Latin-hypercube design, ``max(5, 2 * dim + 2)``.

    Loeppky, Sacks & Welch (2009) recommend ``10 * dim`` runs for a GP *emulator* that must be
    accurate over the whole box. EGO only needs a surrogate good enough to rank candidates; with
    the budgets of this project (at most ~100 evaluations in 6-d) the ``10 d`` rule would spend
    60 % of the budget on space filling. ``2 d + 2`` (the size BoTorch/Ax tutorials use, enough to
    identify one ARD lengthscale per dimension) leaves the rest to the acquisition; pass
    ``n_init=10 * dim`` to follow Loeppky et al. when the budget allows.

    Parameters
    ----------
    dim : int
        Number of parameters.

    Returns
    -------
    int
        Default initial design size.

    Examples
    --------
    >>> default_n_init(2), default_n_init(6)
    (6, 14)
    """
    return max(5, 2 * int(dim) + 2)


def _check_int(name: str, value: object, lo: int, hint: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < lo:
        raise InputDataError(f"EGOOptions.{name} must be an int >= {lo}; got {value!r}. {hint}")


def _check_float(name: str, value: object, lo: float, hi: float, hint: str) -> None:
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not math.isfinite(float(value))
        or not lo <= float(value) <= hi
    ):
        raise InputDataError(
            f"EGOOptions.{name} must be a float in [{lo}, {hi}]; got {value!r}. {hint}"
        )


@dataclass(frozen=True, slots=True)
class BudgetShare:
    """A fraction of a run's evaluation budget, for options that otherwise count evaluations.

    ``EGOOptions(polish=5)`` keeps 5 evaluations per seed for the polish;
    ``EGOOptions(polish=BudgetShare(0.25))`` keeps a quarter of the budget, resolved when the
    budget is known (:meth:`of`). A bare float is refused by those options, so ``1`` and ``1.0``
    cannot silently mean different things.

    Parameters
    ----------
    fraction : float
        Share of the budget, in [0, 1].

    Raises
    ------
    InputDataError
        ``fraction`` not a finite real number in [0, 1].

    Examples
    --------
    >>> BudgetShare(0.25).of(60)
    15
    """

    fraction: float

    def __post_init__(self) -> None:
        f = self.fraction
        if (
            isinstance(f, bool)
            or not isinstance(f, int | float)
            or not math.isfinite(f)
            or not 0.0 <= f <= 1.0
        ):
            raise InputDataError(
                f"BudgetShare.fraction must be a float in [0, 1] (a share of the budget); got "
                f"{f!r}. Use an int, not a BudgetShare, for a count of evaluations."
            )

    def of(self, budget: int) -> int:
        """Evaluations this share of ``budget`` is, ``round(fraction * budget)``."""
        return round(self.fraction * budget)


def count_or_share(value: int | float | BudgetShare, *, name: str = "value") -> int | BudgetShare:
    """Read a command-line option that is a count (an int) or a share of the budget (a float).

    For study options set from strings (``--set polish=0.25``), where the number's type is all
    the text can say: a float becomes :class:`BudgetShare`, an int (or a ``BudgetShare``) is
    returned as it is. :class:`EGOOptions` itself takes only ints and ``BudgetShare``.

    Parameters
    ----------
    value : int, float or BudgetShare
        The option's value.
    name : str, default "value"
        The option's name, for error messages.

    Returns
    -------
    int or BudgetShare

    Raises
    ------
    InputDataError
        ``value`` is not an int, float or ``BudgetShare`` (a bool included), or a float
        outside [0, 1].

    Examples
    --------
    >>> count_or_share(0.25), count_or_share(24)
    (BudgetShare(fraction=0.25), 24)
    """
    if isinstance(value, float):
        if not (math.isfinite(value) and 0.0 <= value <= 1.0):
            raise InputDataError(
                f"{name}={value!r}: a float is a share of the budget and must be in [0, 1]; "
                "use an int for a count of evaluations."
            )
        return BudgetShare(value)
    if isinstance(value, BudgetShare) or (isinstance(value, int) and not isinstance(value, bool)):
        return value
    raise InputDataError(
        f"{name} must be an int count or a float share of the budget; got {value!r} "
        f"({type(value).__name__})."
    )


def _check_count_or_share(name: str, value: object, hint: str) -> None:
    """An int count >= 0, or a BudgetShare in [0, 0.99]; a bare float is refused."""
    if isinstance(value, float):
        raise InputDataError(
            f"EGOOptions.{name} must be an int (a count of evaluations) or a BudgetShare (a "
            f"share of the budget); got the float {value!r}. Use BudgetShare({value!r}) for a "
            f"fraction of the budget or an int for a count."
        )
    if isinstance(value, BudgetShare):
        if value.fraction > 0.99:
            raise InputDataError(
                f"EGOOptions.{name}={value!r} leaves no budget for the rest of the run; use a "
                f"share of at most 0.99. {hint}"
            )
    else:
        _check_int(name, value, 0, f"{hint} BudgetShare(x) gives a share of the budget.")


def _of_budget(value: int | BudgetShare, budget: int) -> int:
    """A count, or a share of ``budget`` rounded to a count."""
    return value.of(budget) if isinstance(value, BudgetShare) else int(value)


@dataclass(frozen=True, slots=True, kw_only=True)
class LocalSearch:
    """EGO's local phase: the paper's "local surrogate update" in a trust region.

    From evaluation ``start`` on, the GP is fitted on the ``neighbours`` evaluations nearest the
    incumbent and the acquisition searches a box of half-width ``radius`` around it.

    Parameters
    ----------
    start : int or BudgetShare
        The number of evaluations told before the local phase starts (global steps before
        it), or a :class:`BudgetShare` of the run's budget (at most 0.99, resolved by
        :meth:`EGOOptions.for_budget`; :func:`bayescal.study.calibrate` does so with the
        budget it runs): e.g. ``BudgetShare(0.5)`` explores globally for half the budget, then
        refines the incumbent. 0 (default) is local from the first model step. A bare float
        is refused.
    neighbours : int
        OK evaluations the local GP is fitted on.
    radius : float
        Half-width of the search box in unit-cube coordinates, in (0, 0.5]; with
        ``min_radius`` its starting and largest value.
    min_radius : float or None
        ``None`` (default) keeps the box at ``radius``. A float makes it an adaptive trust
        region (Eriksson et al., "Scalable global optimization via local Bayesian
        optimization", NeurIPS 2019): the half-width is halved after ``fail_tol`` consecutive
        local batches that did not improve the best value by 0.1 % and doubled (up to
        ``radius``) after 3 consecutive improving ones, never below this value; ``fail_tol``
        more failures at this value reset it to ``radius``. It is replayed from the history,
        so resumed runs continue unchanged.
    fail_tol : int or None
        Non-improving batches before the box halves; ``None`` gives TuRBO's rule
        ``ceil(max(4, dim) / batch_size)``.
    restarts : int
        With ``min_radius``: a trust region that collapses (``fail_tol`` failures at
        ``min_radius``) restarts elsewhere instead of growing back at the same place (TuRBO's
        restart). The next ``restarts`` batches are global qLogEI steps of a GP that has not
        seen the collapsed regions (their points within ``radius`` of their centres are left
        out, and no candidate lies inside their boxes); the new region is centred on the best
        point evaluated since the restart, and improvement is judged against that region's
        own best. 0 (default) keeps one region at the incumbent.
    stall : int or None
        With ``restarts``: a region whose best value has not improved by more than 1 % over
        ``stall`` consecutive local batches restarts elsewhere as a collapsed one does, whatever
        its radius (a region can creep along a shallow valley by small gains for most of a
        budget without collapsing). None (default): only collapse restarts.
    quadratic : bool
        Make the first point of each local batch (of every second batch when
        ``batch_size == 1``) the minimiser, inside the trust box, of a least-squares quadratic
        fitted to the ``quadratic_n`` best OK evaluations, when that quadratic is convex
        (:mod:`bayescal.optimize.quadratic`); the rest of the batch maximises qLogEI with that
        point pending. The quadratic is fitted to ``y**2`` with ``log_y`` (a positive
        discrepancy whose minimum is 0 is a cone, ``y**2`` a smooth bowl), else to ``y``.
    quadratic_n : int or None
        Points in the quadratic fit; ``None`` gives twice the number of coefficients,
        ``(d + 1)(d + 2)``.
    """

    start: int | BudgetShare = 0
    neighbours: int = 50
    radius: float = 0.2
    min_radius: float | None = None
    fail_tol: int | None = None
    restarts: int = 0
    stall: int | None = None
    quadratic: bool = False
    quadratic_n: int | None = None

    def __post_init__(self) -> None:
        _check_count_or_share("local.start", self.start, "0 goes local at once.")
        _check_int("local.neighbours", self.neighbours, 3, "The local GP needs a few; use 50.")
        _check_float("local.radius", self.radius, 1e-6, 0.5, "Use e.g. 0.2.")
        if self.min_radius is not None:
            _check_float(
                "local.min_radius",
                self.min_radius,
                1e-6,
                self.radius,
                "It must not exceed local.radius; None keeps the box fixed.",
            )
        if self.restarts:
            _check_int("local.restarts", self.restarts, 0, "0 turns restarts off.")
            if self.min_radius is None:
                raise InputDataError(
                    "EGOOptions.local.restarts needs local.min_radius (an adaptive trust region "
                    "that can collapse); got None."
                )
        if self.stall is not None:
            _check_int("local.stall", self.stall, 1, "None restarts on collapse only.")
            if not self.restarts:
                raise InputDataError(
                    "EGOOptions.local.stall needs local.restarts (the batches a restart spends "
                    "exploring); got 0."
                )
        if self.fail_tol is not None:
            _check_int("local.fail_tol", self.fail_tol, 1, "None gives ceil(max(4, d) / q).")
        if self.quadratic_n is not None:
            _check_int("local.quadratic_n", self.quadratic_n, 2, "None gives (d + 1)(d + 2).")
        if not isinstance(self.quadratic, bool):
            raise InputDataError(
                f"EGOOptions.local.quadratic must be a bool; got {self.quadratic!r}."
            )


@dataclass(frozen=True, slots=True, kw_only=True)
class EGOOptions:
    """Settings of :class:`bayescal.optimize.EGO`; vary them with ``dataclasses.replace``.

    Parameters
    ----------
    n_init : int or None
        Size of the initial Latin-hypercube design; ``None`` gives :func:`default_n_init`.
        It is rounded up to a multiple of ``batch_size`` so every batch has ``batch_size`` points.
    batch_size : int
        Points per :meth:`EGO.ask` (``q``). ``q == 1`` maximises ``LogExpectedImprovement``;
        ``q > 1`` builds the batch greedily with ``qLogExpectedImprovement`` and the earlier
        points of the batch as pending points.
    num_restarts : int
        L-BFGS-B starts of the acquisition optimiser (best candidates of the raw set).
    raw_samples : int
        Size of the scrambled-Sobol candidate set on which the acquisition is evaluated to
        pick starting points (plus ``raw_samples // 2`` perturbations of the best points).
    mc_samples : int
        Quasi-Monte-Carlo samples of ``qLogExpectedImprovement`` (``batch_size > 1`` only).
    local : LocalSearch or None
        The local phase (the paper's "local surrogate update" in a trust region, see
        :class:`LocalSearch`); ``None`` (default) fits the GP on all OK evaluations and
        searches the whole cube throughout.
    log_y : bool
        Fit the GP to ``log(y)`` (all OK values must then be > 0): discrepancies are positive
        and heavy-tailed, and the log makes the surrogate stationary near the minimum.
    tol : float or None
        Stop (``EGO.should_stop``) when the best value improved by less than ``tol`` over the
        last ``patience`` batches after the initial design; ``None`` never stops.
    patience : int
        Number of batches in the tolerance rule.
    avoid_radius : float
        Never propose a point within this Euclidean unit-cube distance of an evaluated point
        (any status) or of an earlier point of the same batch.
    polish : int or BudgetShare
        Evaluations per seed kept for the end of the budget (an int), or a
        :class:`BudgetShare` of the run's budget (at most 0.99, rounded; a bare float is
        refused), where
        :func:`bayescal.study.calibrate` refines the incumbent by Gauss–Newton on the
        discrepancy's residual vectors (:mod:`bayescal.optimize.gauss_newton`) instead of
        asking EGO; 0 (default) spends the whole budget on EGO. Budget the polish stops
        early with goes back to EGO. Used by the calibration driver, not by :class:`EGO`.
    polish_fd_step : float or tuple of float
        Forward-difference step(s) of the polish in the unit cube (one per parameter or one
        for all).
    surrogate : {"scalar", "composite"}
        ``"scalar"``: one GP of the objective. ``"composite"``: GPs of the residual vector's
        principal parts and ``qLogEI`` on the discrepancy computed from their joint samples
        (:mod:`bayescal.optimize.composite`); it needs residual vectors told with every
        evaluation (:func:`bayescal.study.calibrate` does so) and falls back to the scalar GP
        where they are missing.
    """

    n_init: int | None = None
    batch_size: int = 1
    num_restarts: int = 8
    raw_samples: int = 256
    mc_samples: int = 256
    local: LocalSearch | None = None
    log_y: bool = False
    tol: float | None = None
    patience: int = 5
    avoid_radius: float = 1e-3
    polish: int | BudgetShare = 0
    polish_fd_step: float | tuple[float, ...] = 1e-3
    surrogate: Literal["scalar", "composite"] = "scalar"

    def for_budget(self, budget: int) -> EGOOptions:
        """These options with a :class:`BudgetShare` ``local.start`` resolved against ``budget``.

        Examples
        --------
        >>> EGOOptions(local=LocalSearch(start=BudgetShare(0.4))).for_budget(100).local.start
        40
        """
        if self.local is None or not isinstance(self.local.start, BudgetShare):
            return self
        return replace(self, local=replace(self.local, start=self.local.start.of(budget)))

    def polish_evaluations(self, budget: int) -> int:
        """Evaluations of a seed's ``budget`` kept for the polish (see ``polish``)."""
        return min(_of_budget(self.polish, budget), int(budget))

    def __post_init__(self) -> None:
        if self.n_init is not None:
            _check_int("n_init", self.n_init, 2, "Use None for the default max(5, 2 d + 2).")
        _check_int("batch_size", self.batch_size, 1, "It is the number of points per ask().")
        _check_int("num_restarts", self.num_restarts, 1, "8 is a good default.")
        _check_int("raw_samples", self.raw_samples, self.num_restarts, "Use e.g. 256.")
        _check_int("mc_samples", self.mc_samples, 16, "Use e.g. 256.")
        _check_int("patience", self.patience, 1, "It counts batches.")
        _check_float("avoid_radius", self.avoid_radius, 0.0, 0.5, "Use e.g. 1e-3.")
        _check_count_or_share("polish", self.polish, "0 turns the Gauss-Newton polish off.")
        steps = self.polish_fd_step
        steps = steps if isinstance(steps, tuple) else (steps,)
        for step in steps:
            _check_float("polish_fd_step", step, 1e-9, 0.5, "Use e.g. 1e-3.")
        if self.tol is not None:
            _check_float("tol", self.tol, 0.0, math.inf, "Use None to never stop early.")
        if self.surrogate not in ("scalar", "composite"):
            raise InputDataError(
                f"EGOOptions.surrogate must be 'scalar' or 'composite'; got {self.surrogate!r}."
            )
        if not isinstance(self.log_y, bool):
            raise InputDataError(f"EGOOptions.log_y must be a bool; got {self.log_y!r}.")
        if self.local is not None and not isinstance(self.local, LocalSearch):
            raise InputDataError(
                f"EGOOptions.local must be a LocalSearch or None; got {self.local!r}. "
                "LocalSearch() is the paper's local surrogate update."
            )
