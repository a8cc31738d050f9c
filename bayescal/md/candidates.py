"""Candidate-potential MD of small copper boxes and their quantities of interest (SROM application).

The model-form question of Quek et al. (2025) — several interatomic potentials for one material,
which one to trust for a property — posed with the embedded-atom potentials for copper that ship
with LAMMPS: each candidate runs from the *same* state (:mod:`bayescal.md.start`: an fcc
solid by default, or a liquid) at the same temperature, and its trajectory gives

- snapshots for the candidate's reduced-order basis (unwrapped positions, velocities, masses),
- the quantities of interest (:mod:`bayescal.md.estimators`): for the solid the
  mean-squared vibrational displacement ``<u^2>`` about the time-averaged positions (Å^2) and
  the mean potential energy per atom; for the liquid the self-diffusivity ``D`` (MSD slope / 6).

Workflow (metal units throughout: Å, ps, eV, g/mol, K, bar)::

    opts = MDOptions.solid(steps=1500)
    runs = run_candidates(opts, rng=0)          # prepare the shared start, run every candidate
    runs.to_xarray()                            # trajectories + QoIs per candidate
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

import numpy as np
import xarray as xr

from bayescal.errors import InputDataError
from bayescal.md.box import LammpsBox
from bayescal.md.estimators import DiffusivityFit, diffusivity, vibrational_msd
from bayescal.md.potentials import Potential, as_potential
from bayescal.md.start import MDOptions, MDState, prepare_start

__all__ = ["CandidateRuns", "Trajectory", "run_candidate", "run_candidates"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True, kw_only=True)
class Trajectory:
    """One candidate's production run, recorded every ``every`` steps.

    Attributes
    ----------
    potential : str
        Candidate name.
    times : ndarray, shape (T,)
        ps from the shared start.
    timesteps : ndarray, shape (T,)
        Step numbers.
    positions : ndarray, shape (T, N, 3)
        Unwrapped positions, Å (frame 0 is the shared start).
    velocities : ndarray, shape (T, N, 3)
        Å/ps.
    masses : ndarray, shape (N,)
        g/mol.
    temperature, pe, pressure : ndarray, shape (T,)
        K, eV (total), bar.
    seconds : float
        Wall time of the production run.
    fit : DiffusivityFit
        The diffusivity with the options' window (meaningful for the liquid).
    u2 : float
        Mean-squared vibrational displacement about the time-averaged positions after
        dropping the first ``discard`` of the frames, Å^2 (meaningful for the solid).
    pe_atom : float
        Mean potential energy per atom over the same frames, eV.
    """

    potential: str
    times: np.ndarray = field(repr=False)
    timesteps: np.ndarray = field(repr=False)
    positions: np.ndarray = field(repr=False)
    velocities: np.ndarray = field(repr=False)
    masses: np.ndarray = field(repr=False)
    temperature: np.ndarray = field(repr=False)
    pe: np.ndarray = field(repr=False)
    pressure: np.ndarray = field(repr=False)
    seconds: float
    fit: DiffusivityFit
    u2: float
    pe_atom: float


def run_candidate(
    potential: str | Potential,
    start: MDState,
    options: MDOptions | None = None,
) -> Trajectory:
    """NVT production run of one candidate potential from the shared start.

    Parameters
    ----------
    potential : str or Potential
        The candidate.
    start : MDState
        From :func:`prepare_start` (positions and velocities taken as they are).
    options : MDOptions, optional
        Steps, time step, recording interval, thermostat, fit window.

    Returns
    -------
    Trajectory
    """
    opt = options or MDOptions()
    pot = as_potential(potential)
    if (start.cells, start.lattice) != (opt.cells, opt.lattice):
        raise InputDataError(
            f"start was prepared with cells={start.cells}, lattice={start.lattice}; options "
            f"ask for cells={opt.cells}, lattice={opt.lattice}: use the same."
        )
    with LammpsBox(pot, cells=opt.cells, lattice=opt.lattice, mass=opt.mass) as box:
        box.set_positions(start.positions, rewrap=True)
        box.set_velocities(start.velocities)
        box.command(f"timestep {opt.dt}")
        box.command(f"thermo {opt.every}")
        box.command(f"fix md all nvt temp {opt.temperature} {opt.temperature} {opt.t_damp}")
        box.command("run 0")
        frames = [(box.positions(), box.velocities())]
        thermo = [(box.thermo("temp"), box.thermo("pe"), box.thermo("press"))]
        begin = time.perf_counter()
        for _ in range(opt.n_frames - 1):
            box.command(f"run {opt.every} pre no post no")
            frames.append((box.positions(), box.velocities()))
            thermo.append((box.thermo("temp"), box.thermo("pe"), box.thermo("press")))
        seconds = time.perf_counter() - begin
    pos = np.stack([f[0] for f in frames])
    vel = np.stack([f[1] for f in frames])
    th = np.asarray(thermo)
    steps = np.arange(opt.n_frames) * opt.every
    times = steps * opt.dt
    if not np.all(np.isfinite(pos)):
        raise InputDataError(f"candidate {pot.name}: the MD blew up (non-finite positions).")
    fit = diffusivity(pos, times, fit_window=opt.fit_window, masses=start.masses)
    u2 = float(vibrational_msd(pos, masses=start.masses, discard=opt.discard))
    first = int(opt.discard * opt.n_frames)
    pe_atom = float(np.mean(th[first:, 1]) / opt.n_atoms)
    logger.info("%s: D = %.4g A^2/ps, <u^2> = %.4g A^2 (%.1f s)", pot.name, fit.d_a2ps, u2, seconds)
    return Trajectory(
        potential=pot.name,
        times=times,
        timesteps=steps,
        positions=pos,
        velocities=vel,
        masses=start.masses.copy(),
        temperature=th[:, 0],
        pe=th[:, 1],
        pressure=th[:, 2],
        seconds=seconds,
        fit=fit,
        u2=u2,
        pe_atom=pe_atom,
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class CandidateRuns:
    """Every candidate's trajectory from one shared start."""

    options: MDOptions
    start: MDState
    trajectories: tuple[Trajectory, ...]

    @property
    def names(self) -> tuple[str, ...]:
        """Candidate names, in order."""
        return tuple(t.potential for t in self.trajectories)

    def diffusivities(self, units: Literal["A2/ps", "cm2/s"] = "A2/ps") -> np.ndarray:
        """``D`` per candidate, shape (n_candidates,)."""
        key = "d_a2ps" if units == "A2/ps" else "d_cm2s"
        return np.array([getattr(t.fit, key) for t in self.trajectories])

    def to_xarray(self, *, trajectories: bool = True) -> xr.Dataset:
        """The runs as a Dataset: dims ``candidate``, ``frame``, ``atom``, ``xyz``, ``lag``.

        ``diffusivity(candidate)`` Å^2/ps and ``diffusivity_cgs`` cm^2/s, ``msd(candidate,
        lag)``, thermo per frame and, with ``trajectories``, ``positions`` / ``velocities``.
        """
        t0 = self.trajectories[0]
        ds = xr.Dataset(
            coords={
                "candidate": list(self.names),
                "time": ("frame", t0.times, {"units": "ps"}),
                "lag": ("lag", t0.fit.lag, {"units": "ps"}),
            }
        )
        ds["diffusivity"] = (
            "candidate",
            self.diffusivities(),
            {"units": "A^2/ps", "long_name": "self-diffusivity (MD, MSD slope / 6)"},
        )
        ds["diffusivity_cgs"] = (
            "candidate",
            self.diffusivities("cm2/s"),
            {"units": "cm^2/s", "long_name": "self-diffusivity (MD)"},
        )
        ds["u2"] = (
            "candidate",
            [t.u2 for t in self.trajectories],
            {"units": "A^2", "long_name": "mean-squared vibrational displacement <u^2> (MD)"},
        )
        ds["pe_atom"] = (
            "candidate",
            [t.pe_atom for t in self.trajectories],
            {"units": "eV", "long_name": "mean potential energy per atom (MD)"},
        )
        ds["msd"] = (
            ("candidate", "lag"),
            np.stack([t.fit.msd for t in self.trajectories]),
            {"units": "A^2", "long_name": "time-averaged mean-squared displacement"},
        )
        for name, units in (("temperature", "K"), ("pe", "eV"), ("pressure", "bar")):
            ds[name] = (
                ("candidate", "frame"),
                np.stack([getattr(t, name) for t in self.trajectories]),
                {"units": units},
            )
        ds["md_seconds"] = ("candidate", [t.seconds for t in self.trajectories], {"units": "s"})
        if trajectories:
            ds["positions"] = (
                ("candidate", "frame", "atom", "xyz"),
                np.stack([t.positions for t in self.trajectories]),
                {"units": "A", "long_name": "unwrapped positions"},
            )
            ds["velocities"] = (
                ("candidate", "frame", "atom", "xyz"),
                np.stack([t.velocities for t in self.trajectories]),
                {"units": "A/ps"},
            )
        ds["fit_window"] = ("bound", np.asarray(t0.fit.window), {"units": "ps"})
        ds.attrs.update(
            {
                "source": "bayescal.md.candidates (LAMMPS, NVT Nose-Hoover)",
                "references": "; ".join(f"{n}: {as_potential(n).reference}" for n in self.names),
                "options": str(asdict(self.options)),
                "seed": self.start.seed,
                "prepared_with": self.start.prepared_with,
                "state": self.start.state,
            }
        )
        return ds


def run_candidates(
    options: MDOptions | None = None,
    *,
    rng: int | np.random.Generator | None = None,
    start: MDState | None = None,
    progress: bool = False,
) -> CandidateRuns:
    """Prepare the shared start (unless given) and run every candidate from it.

    Parameters
    ----------
    options : MDOptions, optional
        Candidates, box, schedule.
    rng : int, Generator or None
        Seed of the preparation (ignored with ``start``).
    start : MDState, optional
        Reuse a prepared start.
    progress : bool
        Show a tqdm bar over candidates.

    Returns
    -------
    CandidateRuns
    """
    opt = options or MDOptions()
    state = start if start is not None else prepare_start(opt, rng=rng)
    names: Sequence[str] = opt.candidates
    it: Any = names
    if progress:
        from tqdm.auto import tqdm

        it = tqdm(names, desc="candidate MD", unit="run")
    runs = tuple(run_candidate(n, state, opt) for n in it)
    return CandidateRuns(options=opt, start=state, trajectories=runs)
