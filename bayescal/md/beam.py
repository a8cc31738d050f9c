"""A clamped copper nanoplate under a suddenly applied tip load: full and reduced-order MD.

The MD application of the SROM whose quantity of interest a low-rank reduced model can carry.
A plate of fcc copper (``cells = (nx, ny, nz)`` unit cells; x along the span, periodic in y, free
surfaces in z, vacuum in x and z) is clamped over its first ``clamp`` cells in x and loaded at
its free end: at ``t = 0`` a constant total force ``load`` (eV/Å) along z is spread evenly over
the atoms of the last ``tip`` cells. Starting from rest at the relaxed (0 K) structure of each
potential, the response is deterministic and dominated by the first bending mode, so a few POD
modes reproduce it (measured: the peak tip deflection of a rank-6 reduced model in the pooled
POD basis is within 0.3 % of the full MD). Thermal quantities do not have that property: the
Galerkin reduced model of a harmonic crystal thermalises only ``r`` of its ``3N - 3`` modes, so
its ``<u^2>`` is at most the full one's for every basis (see :mod:`bayescal.md.reduced`).

The quantity of interest is the *peak tip deflection* (Å), the dynamic compliance of the plate,
which depends on the potential through its elastic constants and surface relaxation. The
dynamics is the Galerkin system of :mod:`bayescal.md.reduced` without thermostat,

    m q'' = Phi^T (f(x_ref + Phi q) + f_load),         q(0) = q'(0) = 0,

with ``Phi`` (3N, r) orthonormal and zero on the clamped degrees of freedom; the full MD is the
same integrator in the basis of all free degrees of freedom (:func:`free_basis`). One species,
so the reduced mass is ``m I``.

Units: metal (Å, ps, eV, g/mol).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from bayescal.errors import InputDataError
from bayescal.md.box import LammpsBox
from bayescal.md.integrator import check_schedule, verlet_step
from bayescal.md.potentials import Potential, as_potential
from bayescal.md.reduced_system import check_basis
from bayescal.md.units import FORCE_TO_ACCEL
from bayescal.srom.constraints import fixed_dofs_constraint

__all__ = [
    "BeamOptions",
    "BeamResponse",
    "BeamState",
    "beam_box",
    "clamp_constraint",
    "driven_response",
    "free_basis",
    "prepare_beam",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class BeamOptions:
    """Geometry, load and schedule of the clamped-plate MD (metal units).

    Parameters
    ----------
    cells : tuple of int, default (8, 2, 3)
        fcc unit cells along x (span), y (periodic width) and z (thickness): 238 atoms.
    lattice : float, default 3.615
        Lattice constant of the initial structure, Å (the experimental copper value; each
        potential then relaxes the plate, whose y period stays ``cells[1] * lattice``).
    vacuum : float, default 15.0
        Vacuum beyond the plate in x and z, Å (above every potential's cut-off).
    clamp, tip : float, default 1.0
        Widths of the clamped and of the loaded end, in unit cells of the initial structure.
    load : float, default 0.05
        Total tip force along z, eV/Å (0.08 nN; peak deflection ~1 Å, a linear response).
    steps : int, default 4000
        Time steps (8 ps at the default ``dt``: past the first peak, ~6 ps, of every potential
        shipped with LAMMPS).
    dt : float, default 0.002
        Time step, ps.
    every : int, default 10
        Record every ``every`` steps (must divide ``steps``).
    mass : float, default 63.546
        Atomic mass, g/mol.
    """

    cells: tuple[int, int, int] = (8, 2, 3)
    lattice: float = 3.615
    vacuum: float = 15.0
    clamp: float = 1.0
    tip: float = 1.0
    load: float = 0.05
    steps: int = 4000
    dt: float = 0.002
    every: int = 10
    mass: float = 63.546

    def __post_init__(self) -> None:
        if len(self.cells) != 3 or any(int(c) != c or c < 1 for c in self.cells):
            raise InputDataError(f"cells must be three positive ints; got {self.cells!r}.")
        for name in ("lattice", "vacuum", "clamp", "tip", "dt", "mass"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value > 0):
                raise InputDataError(f"{name} must be a positive number; got {value!r}.")
        if self.clamp + self.tip >= self.cells[0]:
            raise InputDataError(
                f"clamp + tip must be shorter than the span cells[0] = {self.cells[0]}; got "
                f"clamp={self.clamp}, tip={self.tip}."
            )
        if not math.isfinite(self.load):
            raise InputDataError(f"load must be finite; got {self.load!r}.")
        check_schedule(self.steps, self.every)

    def geometry(self) -> list[str]:
        """LAMMPS lines that create the box and the plate (for :class:`LammpsBox`)."""
        nx, ny, nz = self.cells
        a, v = self.lattice, self.vacuum
        e = 0.01  # include the atoms on the plate's end faces in x and z
        return [
            f"lattice fcc {a:.10g}",
            f"region box block {-v} {nx * a + v} 0 {ny * a} {-v} {nz * a + v} units box",
            "create_box 1 box",
            f"region plate block {-e} {nx + e} 0 {ny} {-e} {nz + e}",
            "create_atoms 1 region plate",
        ]


@dataclass(frozen=True, slots=True, kw_only=True)
class BeamState:
    """The relaxed plate of one potential.

    Attributes
    ----------
    potential : str
        Name of the potential.
    lattice_positions : ndarray, shape (N, 3)
        Initial (unrelaxed) positions, Å; they define the clamp and the tip, the same atoms for
        every potential.
    positions : ndarray, shape (N, 3)
        Relaxed positions (``x_ref``), Å.
    clamp, tip : ndarray of bool, shape (N,)
        Clamped and loaded atoms.
    energy : float
        Relaxed potential energy, eV.
    """

    potential: str
    lattice_positions: np.ndarray
    positions: np.ndarray
    clamp: np.ndarray
    tip: np.ndarray
    energy: float

    @property
    def n_atoms(self) -> int:
        """Number of atoms."""
        return int(self.positions.shape[0])


@dataclass(frozen=True, slots=True, kw_only=True)
class BeamResponse:
    """Response of the plate to the tip load.

    Attributes
    ----------
    times : ndarray, shape (T,)
        Recorded times, ps.
    deflection : ndarray, shape (T,)
        Mean z displacement of the tip atoms, Å.
    displacements, velocities : ndarray, shape (T, N, 3)
        Displacements from ``x_ref`` (Å) and velocities (Å/ps) of every atom, for snapshots.
    rank : int
        Columns of the basis (the free degrees of freedom for the full MD).
    seconds : float
        Wall time.
    """

    times: np.ndarray
    deflection: np.ndarray
    displacements: np.ndarray
    velocities: np.ndarray
    rank: int
    seconds: float

    @property
    def peak_deflection(self) -> float:
        """Largest tip deflection, Å (the quantity of interest)."""
        return float(self.deflection.max())

    @property
    def peak_time(self) -> float:
        """Time of the largest tip deflection, ps (about half the first bending period)."""
        return float(self.times[int(np.argmax(self.deflection))])


def beam_box(potential: str | Potential, options: BeamOptions | None = None) -> LammpsBox:
    """An open LAMMPS box holding the unrelaxed plate with ``potential`` (close it after use)."""
    opt = options or BeamOptions()
    box = LammpsBox(potential, mass=opt.mass, geometry=opt.geometry())
    box.command("thermo_style custom step pe")
    return box


def prepare_beam(
    potential: str | Potential, options: BeamOptions | None = None, *, box: LammpsBox | None = None
) -> BeamState:
    """Relax the plate with ``potential`` (conjugate gradient to a force norm of 1e-8 eV/Å).

    Parameters
    ----------
    potential : str or Potential
        Key of :data:`bayescal.md.potentials.CU_POTENTIALS` or a :class:`Potential`.
    options : BeamOptions, optional
    box : LammpsBox, optional
        A fresh box from :func:`beam_box` to relax in place (kept open for the dynamics);
        default a temporary one.

    Returns
    -------
    BeamState
    """
    opt = options or BeamOptions()
    pot = as_potential(potential)
    own = box is None
    lbox = beam_box(pot, opt) if box is None else box
    try:
        x0 = lbox.positions()
        energy = lbox.minimize(1e-8)
        relaxed = lbox.positions()
    finally:
        if own:
            lbox.close()
    xs, a = x0[:, 0], opt.lattice
    clamp = xs < xs.min() + opt.clamp * a - 1e-6
    tip = xs > xs.max() - opt.tip * a + 1e-6
    return BeamState(
        potential=pot.name,
        lattice_positions=x0,
        positions=relaxed,
        clamp=clamp,
        tip=tip,
        energy=float(energy),
    )


def clamp_constraint(state: BeamState) -> np.ndarray:
    """Constraint matrix ``B`` (3N, 3 n_clamp): bases with ``B^T Phi = 0`` keep the clamp fixed."""
    dofs = np.flatnonzero(np.repeat(state.clamp, 3))
    return fixed_dofs_constraint(3 * state.n_atoms, dofs)


def free_basis(state: BeamState) -> np.ndarray:
    """The full-order basis: unit vectors of every free (unclamped) degree of freedom, (3N, f)."""
    free = np.flatnonzero(~np.repeat(state.clamp, 3))
    basis = np.zeros((3 * state.n_atoms, free.size))
    basis[free, np.arange(free.size)] = 1.0
    return basis


def driven_response(
    basis: ArrayLike,
    state: BeamState,
    box: LammpsBox,
    options: BeamOptions | None = None,
) -> BeamResponse:
    """Integrate the plate under the tip load in ``x = x_ref + Phi q`` (velocity Verlet, NVE).

    Parameters
    ----------
    basis : array_like, shape (3N, r)
        Orthonormal basis, zero on the clamped degrees of freedom (:func:`free_basis` for the
        full MD, or a sampled SROM basis built with :func:`clamp_constraint`).
    state : BeamState
        ``x_ref`` and the clamp and tip atoms (of the potential in ``box``).
    box : LammpsBox
        An open box of the potential that gives the forces (:func:`beam_box`).
    options : BeamOptions, optional
        Load and schedule.

    Returns
    -------
    BeamResponse

    Raises
    ------
    InputDataError
        A basis of the wrong shape, not orthonormal, moving clamped atoms, or a run that blows
        up (non-finite coordinates).
    """
    opt = options or BeamOptions()
    n = state.n_atoms
    phi = check_basis(basis, 3 * n)
    clamp_rows = np.repeat(state.clamp, 3)
    moved = float(np.abs(phi[clamp_rows]).max(initial=0.0))
    if moved > 1e-8:
        raise InputDataError(
            f"basis moves clamped degrees of freedom (largest entry {moved:.3g}); build it with "
            "clamp_constraint(state)."
        )
    f_load = np.zeros((n, 3))
    f_load[state.tip, 2] = opt.load / int(state.tip.sum())
    g_load = phi.T @ f_load.ravel()
    x_ref = state.positions
    scale = FORCE_TO_ACCEL / opt.mass
    dt = opt.dt

    def accel(q: np.ndarray) -> tuple[np.ndarray, None]:
        f, _ = box.evaluate(x_ref + (phi @ q).reshape(n, 3))
        return scale * (phi.T @ f.ravel() + g_load), None

    r = phi.shape[1]
    n_frames = opt.steps // opt.every + 1
    qs = np.zeros((n_frames, r))
    vs = np.zeros((n_frames, r))
    q = np.zeros(r)
    v = np.zeros(r)
    begin = time.perf_counter()
    a, _ = accel(q)
    for step in range(1, opt.steps + 1):
        a, _ = verlet_step(q, v, a, dt, accel)
        if not np.all(np.isfinite(q)):
            raise InputDataError(
                f"the plate MD blew up at step {step} (non-finite coordinates); try a smaller dt."
            )
        if step % opt.every == 0:
            qs[step // opt.every] = q
            vs[step // opt.every] = v
    seconds = time.perf_counter() - begin
    u = (qs @ phi.T).reshape(n_frames, n, 3)
    w = (vs @ phi.T).reshape(n_frames, n, 3)
    return BeamResponse(
        times=np.arange(n_frames) * opt.every * dt,
        deflection=u[:, state.tip, 2].mean(axis=1),
        displacements=u,
        velocities=w,
        rank=r,
        seconds=seconds,
    )
