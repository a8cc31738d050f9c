"""Coarse-graining of per-atom MD output into continuum fields with uncertainty.

Readers (LAMMPS text dumps, extended XYZ through ASE) give :class:`Frame` objects; atomic strain
(deformation gradient, Green–Lagrange strain, D2min) is computed per atom; binning, kernel
windows or a physics-guided Gaussian process turn per-atom values into ``(y, x)`` fields with a
standard deviation; :func:`coarse_grain` assembles them in the layout of
``bayescal.datasets.load_cuzr()``. New MD realizations come from :mod:`bayescal.md` (LAMMPS,
an optional dependency), which reads and coarse-grains them with this package.
"""

from bayescal.coarse.atomic_strain import AtomicStrain, StrainMeasure, atomic_strain, neighbor_pairs
from bayescal.coarse.box import Box, box_from_lammps_bounds
from bayescal.coarse.extxyz import iter_extxyz
from bayescal.coarse.fields import CoarseGrainOptions, Method, coarse_grain, coarse_grain_atoms
from bayescal.coarse.frame import Frame
from bayescal.coarse.gp import GPField, GPOptions, gp_field
from bayescal.coarse.grid import (
    Grid,
    Kernel,
    bin_average,
    box_frame_xy,
    kernel_average,
    periodic_kernel_1d,
)
from bayescal.coarse.lammps_dump import iter_dump, read_dump, write_dump
from bayescal.coarse.mean import MeanFunction, MeanLaw
from bayescal.coarse.metrics import nrmsd
from bayescal.coarse.temperature import T_Z, effective_temperature

__all__ = [  # noqa: RUF022 - grouped by topic (STYLE.md 3), not sorted
    # data
    "Box",
    "Frame",
    "box_from_lammps_bounds",
    # readers and writers
    "iter_dump",
    "iter_extxyz",
    "read_dump",
    "write_dump",
    # atomic strain
    "AtomicStrain",
    "StrainMeasure",
    "atomic_strain",
    "neighbor_pairs",
    # grid methods
    "Grid",
    "Kernel",
    "bin_average",
    "box_frame_xy",
    "kernel_average",
    "periodic_kernel_1d",
    # Gaussian process
    "GPField",
    "GPOptions",
    "MeanFunction",
    "MeanLaw",
    "gp_field",
    # fields, metrics, effective temperature
    "CoarseGrainOptions",
    "Method",
    "T_Z",
    "coarse_grain",
    "coarse_grain_atoms",
    "effective_temperature",
    "nrmsd",
]
