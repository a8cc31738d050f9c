"""A simple ask → evaluate → tell loop around :class:`EGO`."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import numpy as np

from bayescal.errors import InputDataError
from bayescal.optimize.ego import EGO
from bayescal.optimize.options import EGOOptions

__all__ = ["OptimizeResult", "minimize"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True, kw_only=True)
class OptimizeResult:
    """Outcome of :func:`minimize` (unit-cube coordinates).

    Parameters
    ----------
    x : ndarray, shape (dim,)
        Best OK point (NaN if none).
    fun : float
        Its value (NaN if none).
    X : ndarray, shape (n, dim)
        Every evaluated point, in order.
    y : ndarray, shape (n,)
        Values (NaN for failures).
    status : ndarray of int8, shape (n,)
        :class:`EvalStatus` codes.
    n_evals : int
        Number of evaluations.
    stop_reason : {"budget", "tolerance"}
        Why the loop ended.
    """

    x: np.ndarray
    fun: float
    X: np.ndarray
    y: np.ndarray
    status: np.ndarray
    n_evals: int
    stop_reason: Literal["budget", "tolerance"]


def minimize(
    f: Callable[[np.ndarray], np.ndarray],
    dim: int,
    *,
    budget: int,
    options: EGOOptions = EGOOptions(),  # noqa: B008  (frozen, hence safe)
    seed: int | np.random.SeedSequence = 0,
    feasible: Callable[[np.ndarray], np.ndarray] | None = None,
    callback: Callable[[EGO], None] | None = None,
) -> OptimizeResult:
    """Minimise ``f`` over ``[0, 1]^dim`` with :class:`EGO` within ``budget`` evaluations.

    Each batch is evaluated by one call ``f(x)`` with ``x`` of shape ``(q, dim)``, returning
    ``(q,)`` values. If ``f`` raises (any ``Exception``) the whole batch is recorded FAILED;
    non-finite values are recorded FAILED; the loop goes on either way. The last batch is cut
    to the remaining budget.

    Parameters
    ----------
    f : callable
        Batched objective on unit-cube points.
    dim : int
        Dimension.
    budget : int
        Maximum number of evaluations.
    options : EGOOptions
        EGO settings (``options.tol`` enables early stopping).
    seed : int or SeedSequence
        Seed of the run.
    feasible : callable, optional
        Known constraint, see :class:`EGO`.
    callback : callable, optional
        Called as ``callback(ego)`` after every told batch (e.g. to checkpoint).

    Returns
    -------
    OptimizeResult
        Best point and full trace.

    Examples
    --------
    >>> res = minimize(lambda x: ((x - 0.3) ** 2).sum(1), 1, budget=6, seed=0)
    >>> res.n_evals, res.stop_reason
    (6, 'budget')
    """
    if isinstance(budget, bool) or not isinstance(budget, int) or budget < 1:
        raise InputDataError(f"budget must be a positive int; got {budget!r}.")
    if isinstance(options, EGOOptions):
        options = options.for_budget(budget)
    ego = EGO(dim, options=options, seed=seed, feasible=feasible)
    stop_reason: Literal["budget", "tolerance"] = "budget"
    while ego.n_told < budget:
        x = ego.ask()[: budget - ego.n_told]
        try:
            y = np.asarray(f(x), dtype=float).reshape(len(x))
        except Exception as exc:  # any forward failure is recorded, not fatal
            logger.warning("objective failed on a batch of %d points: %r", len(x), exc)
            y = np.full(len(x), np.nan)
        ego.tell(x, y)  # non-finite values are recorded FAILED
        if callback is not None:
            callback(ego)
        if ego.should_stop:
            stop_reason = "tolerance"
            break
    X, Y, status = ego.history
    best = ego.best
    bx, by = (np.full(dim, np.nan), np.nan) if best is None else best
    logger.info("EGO stopped (%s) after %d evaluations; best %.6g", stop_reason, len(Y), by)
    return OptimizeResult(
        x=bx, fun=by, X=X, y=Y, status=status, n_evals=len(Y), stop_reason=stop_reason
    )
