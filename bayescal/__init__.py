"""bayescal: Bayesian calibration of continuum PDE models against coarse-grained atomistic data.

The pipeline flows one way::

    MD data -> coarse-grain -> fields ─┐
                                       ├─> discrepancy d(θ) -> EGO search -> evaluations
    θ -> forward model (models/) ──────┘                                        │
               posterior over θ (PyMC) <- GP emulator of d(θ) <──────────────────┘

Subpackages are imported lazily by name (``bayescal.manifold``, ``bayescal.datasets`` ...).
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("bayescal")
except PackageNotFoundError:  # pragma: no cover - running from a source tree without install
    __version__ = "0.0.0+unknown"

__all__ = ["__version__"]
