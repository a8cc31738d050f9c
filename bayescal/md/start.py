"""Settings and shared start of the candidate MD runs: a copper liquid or an fcc copper solid.

Every candidate potential runs from exactly one state (same atoms, box, positions and
velocities), so the displacement snapshots of all candidates live in one affine space
``x_ref + span(Phi)`` as the SROM needs. Two states:

- ``state="solid"`` (the default application): the perfect fcc lattice of ``4 cells**3`` atoms
  with the common lattice constant ``lattice`` (3.615 Å, experimental copper at room
  temperature), velocities drawn at ``2 * temperature`` (equipartition between kinetic and
  potential energy halves it within ~0.1 ps; the thermostat does the rest). The perfect lattice
  is a force-free point of *every* candidate by symmetry, so it is a potential-neutral
  reference; no potential prepares the start. One box for all candidates means one volume, not
  each potential's own zero-pressure lattice constant: the candidates then differ in pressure
  (recorded per frame) as well as in stiffness, which the ``<u^2>`` QoI reflects.
- ``state="liquid"``: the fcc start at the liquid density (``lattice`` 3.78 Å: 7.80 g/cm^3) is
  melted at ``t_melt`` and equilibrated at ``temperature`` with the preparation potential.

Use :meth:`MDOptions.solid` and :meth:`MDOptions.liquid` for the defaults of each state.
Units: metal (Å, ps, eV, g/mol, K, bar).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Any, Literal

import numpy as np

from bayescal.errors import InputDataError
from bayescal.md.box import LammpsBox
from bayescal.md.estimators import check_window
from bayescal.md.integrator import check_schedule
from bayescal.md.potentials import DEFAULT_CANDIDATES, as_potential

__all__ = [
    "LiquidMDOptions",
    "LiquidState",
    "MDOptions",
    "MDState",
    "State",
    "prepare_liquid",
    "prepare_solid",
    "prepare_start",
]

State = Literal["solid", "liquid"]

SOLID_DEFAULTS: dict[str, Any] = {
    "state": "solid",
    "lattice": 3.615,
    "temperature": 500.0,
    "melt_steps": 0,
    "equil_steps": 0,
    "steps": 1500,
    "every": 5,
}


@dataclass(frozen=True, slots=True, kw_only=True)
class MDOptions:
    """Settings of the candidate MD runs (metal units: K, ps, Å, g/mol).

    The field defaults are the liquid's (for compatibility); :meth:`solid` gives the solid's.

    Parameters
    ----------
    candidates : tuple of str
        Keys of :data:`~bayescal.md.potentials.CU_POTENTIALS` (the SROM needs two or more).
    state : {"liquid", "solid"}
        How the shared start is made (module docstring).
    cells : int
        fcc unit cells per box side; ``4 * cells**3`` atoms (4: 256 atoms).
    lattice : float
        fcc lattice constant of the start, Å; sets the (fixed, NVT) volume.
    mass : float
        Atomic mass, g/mol.
    temperature : float
        Temperature of the equilibration and of the production runs, K.
    t_melt : float
        Melting temperature of the liquid preparation, K.
    melt_steps, equil_steps : int
        Liquid preparation steps at ``t_melt``, then at ``temperature`` (unused for the solid).
    steps : int
        Production steps of each candidate.
    dt : float
        Time step, ps.
    every : int
        Record a frame every ``every`` steps (must divide ``steps``).
    t_damp : float
        Nosé–Hoover damping time, ps.
    prepare_with : str or None
        Potential that prepares the liquid start; None: the first candidate.
    fit_window : tuple of float
        MSD fit window of the diffusivity as fractions of the run.
    discard : float
        Fraction of the frames dropped (equilibration) before ``<u^2>`` and the mean energy.
    """

    candidates: tuple[str, ...] = DEFAULT_CANDIDATES
    state: State = "liquid"
    cells: int = 4
    lattice: float = 3.78
    mass: float = 63.546
    temperature: float = 1600.0
    t_melt: float = 3000.0
    melt_steps: int = 1000
    equil_steps: int = 1000
    steps: int = 3000
    dt: float = 0.002
    every: int = 10
    t_damp: float = 0.1
    prepare_with: str | None = None
    fit_window: tuple[float, float] = (0.1, 0.6)
    discard: float = 0.2

    def __post_init__(self) -> None:
        if not self.candidates:
            raise InputDataError("candidates must name at least one potential; got ().")
        if self.state not in ("solid", "liquid"):
            raise InputDataError(f"state must be 'solid' or 'liquid'; got {self.state!r}.")
        for name in (*self.candidates, *([self.prepare_with] if self.prepare_with else [])):
            as_potential(name)
        if len(set(self.candidates)) != len(self.candidates):
            raise InputDataError(f"candidates must be distinct; got {self.candidates}.")
        if not (isinstance(self.cells, int) and 2 <= self.cells <= 12):
            raise InputDataError(f"cells must be an int in [2, 12]; got {self.cells!r}.")
        for name in ("lattice", "mass", "temperature", "t_melt", "dt", "t_damp"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value > 0):
                raise InputDataError(f"{name} must be a positive number; got {value!r}.")
        if min(self.melt_steps, self.equil_steps) < 0:
            raise InputDataError("melt_steps and equil_steps must be >= 0.")
        check_schedule(self.steps, self.every, min_intervals=4)
        if not 0.0 <= self.discard < 0.9:
            raise InputDataError(f"discard must be a fraction in [0, 0.9); got {self.discard!r}.")
        check_window(self.fit_window)

    @classmethod
    def solid(cls, **kwargs: Any) -> MDOptions:
        """Solid defaults: a = 3.615 Å, 500 K, 1500 steps of 2 fs recorded every 5, no melt."""
        return cls(**(SOLID_DEFAULTS | kwargs))

    @classmethod
    def liquid(cls, **kwargs: Any) -> MDOptions:
        """Liquid defaults: a = 3.78 Å (7.80 g/cm^3), 1600 K, melted at 3000 K."""
        return cls(**({"state": "liquid"} | kwargs))

    @property
    def n_atoms(self) -> int:
        """Atoms in the box."""
        return 4 * self.cells**3

    @property
    def n_frames(self) -> int:
        """Recorded frames per candidate run (including step 0)."""
        return self.steps // self.every + 1


LiquidMDOptions = MDOptions
"""Former name of :class:`MDOptions` (its defaults are the liquid's)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class MDState:
    """The shared start: positions (N, 3) Å (inside the box), velocities (N, 3) Å/ps.

    ``cells`` and ``lattice`` rebuild the same LAMMPS box (:class:`LammpsBox`); ``box`` and
    ``lo`` are its edge lengths and lower corner, Å; ``masses`` (N,) g/mol; ``state`` is
    ``"solid"`` or ``"liquid"``; ``prepared_with`` the preparation potential (``"lattice"``
    for the solid, which no potential prepares).
    """

    positions: np.ndarray = field(repr=False)
    velocities: np.ndarray = field(repr=False)
    masses: np.ndarray = field(repr=False)
    box: np.ndarray
    lo: np.ndarray
    cells: int
    lattice: float
    temperature: float
    prepared_with: str
    seed: int
    state: State = "liquid"


LiquidState = MDState
"""Former name of :class:`MDState`."""


def _state_of(box: LammpsBox, opt: MDOptions, name: str, seed: int) -> MDState:
    x = box.positions()
    shift = np.floor((x - box.lo) / box.length)
    return MDState(
        positions=x - shift * box.length,
        velocities=box.velocities(),
        masses=box.masses.copy(),
        box=box.length.copy(),
        lo=box.lo.copy(),
        cells=opt.cells,
        lattice=opt.lattice,
        temperature=opt.temperature,
        prepared_with=name,
        seed=seed,
        state=opt.state,
    )


def prepare_liquid(
    options: MDOptions | None = None,
    *,
    rng: int | np.random.Generator | None = None,
) -> MDState:
    """Melt the fcc start and equilibrate it at ``temperature``: the shared liquid start.

    Parameters
    ----------
    options : MDOptions, optional
        Box and schedule (``prepare_with``, else the first candidate, is the potential).
    rng : int, Generator or None
        Source of the LAMMPS velocity seed.

    Returns
    -------
    MDState
    """
    opt = options or MDOptions()
    seed = int(np.random.default_rng(rng).integers(1, 900_000_000))
    name = opt.prepare_with or opt.candidates[0]
    with LammpsBox(name, cells=opt.cells, lattice=opt.lattice, mass=opt.mass) as box:
        box.command(f"timestep {opt.dt}")
        box.command(f"velocity all create {opt.t_melt} {seed} dist gaussian mom yes")
        box.command(f"fix md all nvt temp {opt.t_melt} {opt.t_melt} {opt.t_damp}")
        box.command(f"run {opt.melt_steps}")
        box.command("unfix md")
        box.command(f"fix md all nvt temp {opt.temperature} {opt.temperature} {opt.t_damp}")
        box.command(f"run {opt.equil_steps}")
        return _state_of(box, opt, name, seed)


def prepare_solid(
    options: MDOptions | None = None,
    *,
    rng: int | np.random.Generator | None = None,
) -> MDState:
    """The perfect fcc lattice with Maxwell velocities at ``2 * temperature``: the solid start.

    Parameters
    ----------
    options : MDOptions, optional
        Box (``cells``, ``lattice``, ``mass``) and ``temperature``; default
        :meth:`MDOptions.solid`.
    rng : int, Generator or None
        Source of the LAMMPS velocity seed.

    Returns
    -------
    MDState
        Positions exactly on the lattice (zero force for every candidate), zero total momentum.
    """
    opt = options or MDOptions.solid()
    seed = int(np.random.default_rng(rng).integers(1, 900_000_000))
    with LammpsBox(opt.candidates[0], cells=opt.cells, lattice=opt.lattice, mass=opt.mass) as box:
        box.command(f"velocity all create {2 * opt.temperature} {seed} dist gaussian mom yes")
        return _state_of(box, replace(opt, state="solid"), "lattice", seed)


def prepare_start(
    options: MDOptions,
    *,
    rng: int | np.random.Generator | None = None,
) -> MDState:
    """:func:`prepare_solid` or :func:`prepare_liquid` after ``options.state``."""
    if options.state == "solid":
        return prepare_solid(options, rng=rng)
    return prepare_liquid(options, rng=rng)
