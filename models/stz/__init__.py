"""Quasi-static STZ plasticity solver (torch, batched), a re-implementation of SURGroup/STZ.

See :func:`models.stz.simulate`.
"""

from models.stz.model import simulate
from models.stz.params import (
    CUZR,
    DEFAULTS,
    DENSITY,
    POISSON_RATIO,
    SHEAR_MODULUS_GPA,
    T_Z,
    TAU0,
    Material,
)
from models.stz.solver import FAILED_NONFINITE, FAILED_SUBSTEPS, OK

__all__ = [
    # constants
    "CUZR",
    "DEFAULTS",
    "DENSITY",
    # status codes
    "FAILED_NONFINITE",
    "FAILED_SUBSTEPS",
    "OK",
    "POISSON_RATIO",
    "SHEAR_MODULUS_GPA",
    "TAU0",
    "T_Z",
    # entry point
    "Material",
    "simulate",
]
