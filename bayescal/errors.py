"""Exception and warning hierarchy of bayescal.

Every exception also inherits the builtin it refines, so ``except ValueError`` keeps working.
Models in ``models/`` do not import bayescal; they raise builtins (``ValueError``,
``RuntimeError``) that the study layer converts.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

__all__ = [
    "BayescalError",
    "BayescalWarning",
    "ConvergenceWarning",
    "CorruptStoreError",
    "ForwardModelError",
    "InputDataError",
    "InputDataWarning",
    "MissingDependencyError",
    "NumericsWarning",
    "OnFail",
    "RunInterrupted",
    "RunLockedError",
    "StudyDefinitionError",
]


#: What an iterative method or a check does when it misses its target: raise, warn or go on.
OnFail = Literal["raise", "warn", "ignore"]


class BayescalError(Exception):
    """Base class of every bayescal exception."""


class InputDataError(BayescalError, ValueError):
    """Input data or an argument is malformed (shape, NaN, range, unknown name)."""


class StudyDefinitionError(BayescalError, ValueError):
    """A study definition is inconsistent (bounds, names, missing reference fields)."""


class RunLockedError(InputDataError):
    """A run directory is held by another running process (its lock file names it)."""


class CorruptStoreError(BayescalError, ValueError):
    """A stored result file cannot be read, or holds values it cannot have (e.g. d < 0)."""


class MissingDependencyError(BayescalError, ModuleNotFoundError):
    """An optional package a feature needs is not installed (the message names the install)."""


class RunInterrupted(BayescalError):
    """A run stopped on SIGINT or SIGTERM after saving its last complete batch."""


class ForwardModelError(BayescalError, RuntimeError):
    """A forward model failed for a parameter set.

    Parameters
    ----------
    msg : str
        What went wrong.
    params : mapping of str to float
        The failing parameter set, kept on ``.params``.
    """

    def __init__(self, msg: str, *, params: Mapping[str, float] | None = None) -> None:
        super().__init__(msg)
        self.params = dict(params or {})


class BayescalWarning(UserWarning):
    """Base class of every bayescal warning."""


class NumericsWarning(BayescalWarning):
    """A numerical method lost accuracy or did not converge but returned a usable result."""


class ConvergenceWarning(NumericsWarning):
    """An iterative method stopped at its iteration cap before reaching its tolerance."""


class InputDataWarning(BayescalWarning):
    """Input data is usable but suspicious (e.g. a rank-deficient snapshot)."""
