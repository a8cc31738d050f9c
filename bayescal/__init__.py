"""bayescal: Bayesian calibration of continuum PDE models against coarse-grained atomistic data.

The pipeline flows one way::

    MD data -> coarse-grain -> fields ─┐
                                       ├─> discrepancy d(θ) -> EGO search -> evaluations
    θ -> forward model (models/) ──────┘                                        │
               posterior over θ (PyMC) <- GP emulator of d(θ) <──────────────────┘

Subpackages are imported lazily by name (``bayescal.manifold``, ``bayescal.datasets`` ...).
In a notebook, ``bayescal.calibrate(study)`` runs the search and the posterior in memory and
returns a :class:`bayescal.calibration.Calibration`; ``bayescal.posterior(study, evaluations)``
samples the posterior of existing evaluations.
"""

from __future__ import annotations

import importlib
import warnings
from importlib.metadata import PackageNotFoundError, version
from typing import Any

# ArviZ 0.2x announces its 1.0 refactor once a day on import (also when PyMC imports it). bayescal
# requires arviz<1 and adapts when it moves, so the notice asks nothing of a bayescal user.
warnings.filterwarnings(
    "ignore", message=r"\s*ArviZ is undergoing a major refactor", category=FutureWarning
)

try:
    __version__ = version("bayescal")
except PackageNotFoundError:  # pragma: no cover - running from a source tree without install
    __version__ = "0.0.0+unknown"

_SUBPACKAGES = (
    "coarse",
    "datasets",
    "discrepancy",
    "emulate",
    "errors",
    "infer",
    "io",
    "manifold",
    "md",
    "optimize",
    "plots",
    "srom",
    "study",
)

#: Functions and classes of :mod:`bayescal.calibration`, importable from the top level.
_ENTRY_POINTS = ("Calibration", "calibrate", "posterior")

__all__ = ["__version__", *_ENTRY_POINTS, *_SUBPACKAGES]


def __getattr__(name: str) -> Any:
    """Import a subpackage or an entry point (``bayescal.calibrate``) on first access."""
    if name in _SUBPACKAGES:
        return importlib.import_module(f"{__name__}.{name}")
    if name in _ENTRY_POINTS:
        return getattr(importlib.import_module(f"{__name__}.calibration"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
