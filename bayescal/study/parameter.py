"""A calibrated parameter: name, bounds, units, prior."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from bayescal.errors import StudyDefinitionError

__all__ = ["Parameter"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Parameter:
    """One calibrated parameter.

    Parameters
    ----------
    name : str
        Name passed to the forward model (e.g. ``"beta"``).
    lower, upper : float
        Bounds of the search box and of the default uniform prior, in ``units``.
    units : str
        Units, for output attrs and plots.
    prior : object, optional
        Prior for the posterior step; ``None`` means uniform on ``[lower, upper]``.
    description : str
        One line for reports.

    Examples
    --------
    >>> p = Parameter(name="beta", lower=2.0, upper=15.0, units="1/eV")
    >>> float(p.from_unit(0.5))
    8.5
    """

    name: str
    lower: float
    upper: float
    units: str = ""
    prior: Any = None
    description: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name.isidentifier():
            raise StudyDefinitionError(
                f"Parameter name must be a Python identifier; got {self.name!r}."
            )
        lower, upper = float(self.lower), float(self.upper)
        if not (np.isfinite(lower) and np.isfinite(upper) and lower < upper):
            raise StudyDefinitionError(
                f"Parameter {self.name!r}: need finite lower < upper; got [{self.lower}, "
                f"{self.upper}]. Swap the bounds if they are inverted."
            )
        object.__setattr__(self, "lower", lower)
        object.__setattr__(self, "upper", upper)

    @property
    def bounds(self) -> tuple[float, float]:
        """``(lower, upper)``."""
        return (self.lower, self.upper)

    @property
    def width(self) -> float:
        """``upper - lower``."""
        return self.upper - self.lower

    def to_unit(self, value: np.ndarray | float) -> np.ndarray:
        """Map physical values to the unit interval."""
        return (np.asarray(value, dtype=float) - self.lower) / self.width

    def from_unit(self, u: np.ndarray | float) -> np.ndarray:
        """Map unit-interval values to physical values."""
        return self.lower + np.asarray(u, dtype=float) * self.width
