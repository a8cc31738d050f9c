"""Status codes of one EGO evaluation (stored as ``int8`` in ``evaluations.nc``)."""

from __future__ import annotations

from enum import IntEnum

__all__ = ["EvalStatus"]


class EvalStatus(IntEnum):
    """Outcome of one forward evaluation.

    Only ``OK`` evaluations with a finite value enter the surrogate; every other status is kept
    in the history (and is never proposed again, see ``EGOOptions.avoid_radius``).

    Attributes
    ----------
    OK : 0
        The forward model returned a finite value.
    FAILED : 1
        The forward model raised or returned NaN/inf.
    INFEASIBLE : 2
        The point violates a known constraint (checked before or instead of running).
    TIMEOUT : 3
        The forward model ran past its time limit.
    """

    OK = 0
    FAILED = 1
    INFEASIBLE = 2
    TIMEOUT = 3
