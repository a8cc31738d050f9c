"""Reduced-order molecular dynamics in a linear subspace, with LAMMPS forces.

Positions are restricted to an affine subspace ``x = x_ref + Phi q`` (``Phi`` of shape
``(3N, r)``, orthonormal columns, atom-major x, y, z rows as in
:func:`bayescal.srom.snapshot_matrix`). A Galerkin projection of Newton's equations gives the
reduced dynamics

    M_r q'' = Phi^T f(x_ref + Phi q),        M_r = Phi^T M Phi,

with ``M = diag(m_1, m_1, m_1, m_2, ...)``; the forces come from LAMMPS at the reconstructed
full positions. The reduced system is integrated with velocity Verlet and a thermostat acting on
the reduced velocities:

- ``"nose-hoover"`` (default): one Nosé–Hoover variable ``xi`` with
  ``d xi / dt = (2 K - g k_B T) / Q``, ``g = r`` degrees of freedom, ``Q = g k_B T t_damp^2``,
  in the time-reversible splitting xi(dt/2) · friction(dt/2) · Verlet(dt) · friction(dt/2) ·
  xi(dt/2), ``K = q'^T M_r q' / 2``;
- ``"langevin"``: BAOAB Langevin with friction ``1 / t_damp`` and noise of covariance
  ``k_B T M_r^{-1}`` (exact for a non-diagonal reduced mass);
- ``"none"``: plain velocity Verlet (NVE), the same scheme as LAMMPS ``fix nve``.

The full-space trajectory ``x_ref + Phi q`` is unwrapped by construction, so the MSD and the
diffusivity and the vibrational ``<u^2>`` use the estimators of the full MD
(:mod:`bayescal.md.estimators`).
The LAMMPS box stores the wrapped positions ``x - image * L`` and keeps its image flags; see
:class:`bayescal.md.box.LammpsBox`.

Units: metal (Å, ps, eV, g/mol, K).
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from dataclasses import asdict
from typing import Any

import numpy as np
import xarray as xr
from numpy.typing import ArrayLike

from bayescal.errors import InputDataError
from bayescal.md.box import LammpsBox
from bayescal.md.estimators import diffusivity, vibrational_msd
from bayescal.md.integrator import verlet_step
from bayescal.md.potentials import Potential, as_potential
from bayescal.md.reduced_system import (
    ReducedMDOptions,
    ReducedTrajectory,
    check_basis,
    dof_masses,
    reduced_mass,
)
from bayescal.md.start import MDState
from bayescal.md.units import BOLTZMANN, FORCE_TO_ACCEL, MVV_TO_ENERGY

__all__ = ["reduced_diffusivity_qoi", "reduced_md", "reduced_md_batch"]

logger = logging.getLogger(__name__)


def _open_box(potential: str | Potential, start: MDState) -> LammpsBox:
    mass = float(start.masses[0])
    if not np.allclose(start.masses, mass):
        raise InputDataError("the LAMMPS box here holds one species; start has several masses.")
    box = LammpsBox(potential, cells=start.cells, lattice=start.lattice, mass=mass)
    box.command("thermo_style custom step pe")  # no pressure (virial) per force call
    return box


def reduced_md(
    basis: ArrayLike,
    start: MDState,
    potential: str | Potential,
    options: ReducedMDOptions | None = None,
    *,
    reference: ArrayLike | None = None,
    rng: int | np.random.Generator | None = None,
    box: LammpsBox | None = None,
) -> ReducedTrajectory:
    """Run reduced-order MD in ``x = x_ref + Phi q`` from the shared start.

    Parameters
    ----------
    basis : array_like, shape (3N, r)
        Orthonormal reduced-order basis (atom-major x, y, z rows).
    start : MDState
        Initial full positions and velocities (:func:`bayescal.md.start.prepare_start`).
    potential : str or Potential
        Potential that gives the forces.
    options : ReducedMDOptions, optional
        Schedule and thermostat.
    reference : array_like, shape (N, 3), optional
        ``x_ref``; default the start positions (then ``q(0) = 0`` exactly). Otherwise
        ``q(0)`` is the mass-weighted projection of ``start - x_ref``.
    rng : int, Generator or None
        Initial Maxwell–Boltzmann velocities and the Langevin noise.
    box : LammpsBox, optional
        An open box of this potential and size to reuse (not closed here).

    Returns
    -------
    ReducedTrajectory

    Notes
    -----
    The initial reduced velocity follows ``options.initial_velocity``; the run starts at the
    start positions whenever they lie in ``x_ref + span(Phi)`` (always with the default
    ``reference``).
    """
    opt = options or ReducedMDOptions()
    x0 = np.asarray(start.positions, dtype=float)
    n_atoms = x0.shape[0]
    n_dof = 3 * n_atoms
    phi = check_basis(basis, n_dof)
    r = phi.shape[1]
    m = dof_masses(start.masses, n_dof)
    m_r = reduced_mass(phi, m)
    m_r_inv = np.linalg.inv(m_r)
    x_ref = x0 if reference is None else np.asarray(reference, dtype=float)
    if x_ref.shape != x0.shape:
        raise InputDataError(f"reference must have shape {x0.shape}; got {x_ref.shape}.")
    q = m_r_inv @ (phi.T @ (m * (x0 - x_ref).ravel()))
    gen = np.random.default_rng(rng)
    kt = BOLTZMANN * opt.temperature  # eV
    chol_inv_t = np.linalg.inv(np.linalg.cholesky(m_r)).T  # L^{-T}: L^-T L^-1 = M_r^{-1}
    if opt.initial_velocity == "project":
        qd = m_r_inv @ (phi.T @ (m * np.asarray(start.velocities, dtype=float).ravel()))
    else:
        qd = math.sqrt(kt / MVV_TO_ENERGY) * (chol_inv_t @ gen.standard_normal(r))
    g = r
    dt = opt.dt
    q_mass = g * kt * opt.t_damp**2  # eV ps^2
    c_fric = math.exp(-dt / opt.t_damp)
    own = box is None
    lbox = box if box is not None else _open_box(potential, start)
    calls0, secs0 = lbox.n_force_calls, lbox.force_seconds

    def accel(qv: np.ndarray) -> tuple[np.ndarray, float]:
        x = x_ref + (phi @ qv).reshape(n_atoms, 3)
        f, pe = lbox.evaluate(x)
        return FORCE_TO_ACCEL * (m_r_inv @ (phi.T @ f.ravel())), pe

    def kinetic(v: np.ndarray) -> float:
        return 0.5 * MVV_TO_ENERGY * float(v @ (m_r @ v))

    n_frames = opt.steps // opt.every + 1
    qs = np.empty((n_frames, r))
    temps = np.empty(n_frames)
    pes = np.empty(n_frames)
    begin = time.perf_counter()
    try:
        a, pe = accel(q)
        xi = 0.0
        qs[0], temps[0], pes[0] = q, 2 * kinetic(qd) / (g * BOLTZMANN), pe
        for step in range(1, opt.steps + 1):
            if opt.thermostat == "nose-hoover":
                xi += 0.5 * dt * (2 * kinetic(qd) - g * kt) / q_mass
                qd *= math.exp(-0.5 * dt * xi)
                qd += 0.5 * dt * a
                q += dt * qd
                a, pe = accel(q)
                qd += 0.5 * dt * a
                qd *= math.exp(-0.5 * dt * xi)
                xi += 0.5 * dt * (2 * kinetic(qd) - g * kt) / q_mass
            elif opt.thermostat == "langevin":
                qd += 0.5 * dt * a
                q += 0.5 * dt * qd
                noise = chol_inv_t @ gen.standard_normal(r)
                qd = c_fric * qd + math.sqrt((1 - c_fric**2) * kt / MVV_TO_ENERGY) * noise
                q += 0.5 * dt * qd
                a, pe = accel(q)
                qd += 0.5 * dt * a
            else:
                a, pe = verlet_step(q, qd, a, dt, accel)
            if not (np.isfinite(pe) and np.all(np.isfinite(q))):
                raise InputDataError(
                    f"reduced MD blew up at step {step} (non-finite energy or coordinates); "
                    "try a smaller dt or a different basis."
                )
            if step % opt.every == 0:
                k = step // opt.every
                qs[k], temps[k], pes[k] = q, 2 * kinetic(qd) / (g * BOLTZMANN), pe
    finally:
        calls = lbox.n_force_calls - calls0
        secs = lbox.force_seconds - secs0
        if own:
            lbox.close()
    seconds = time.perf_counter() - begin
    times = np.arange(n_frames) * opt.every * dt
    positions = x_ref[None] + (qs @ phi.T).reshape(n_frames, n_atoms, 3)
    fit = diffusivity(
        positions,
        times,
        fit_window=opt.fit_window,
        masses=start.masses,
        remove_drift=opt.remove_drift,
    )
    u2 = float(vibrational_msd(positions, masses=start.masses, discard=opt.discard))
    pe_atom = float(np.mean(pes[int(opt.discard * n_frames) :]) / n_atoms)
    return ReducedTrajectory(
        times=times,
        q=qs,
        positions=positions,
        temperature=temps,
        pe=pes,
        fit=fit,
        u2=u2,
        pe_atom=pe_atom,
        rank=r,
        n_force_calls=calls,
        seconds_per_force=secs / max(calls, 1),
        seconds=seconds,
    )


def reduced_md_batch(
    bases: ArrayLike,
    start: MDState,
    potential: str | Potential,
    options: ReducedMDOptions | None = None,
    *,
    rng: int | np.random.Generator | None = None,
    progress: bool = False,
) -> xr.Dataset:
    """Reduced MD for each basis of a batch, one after the other in one LAMMPS box.

    Parameters
    ----------
    bases : array_like, shape (n_realizations, 3N, r)
        Orthonormal bases (e.g. :meth:`bayescal.srom.SROM.sample` draws).
    start, potential, options
        As in :func:`reduced_md`.
    rng : int, Generator or None
        Langevin noise; each realization gets its own stream (``SeedSequence.spawn``).
    progress : bool
        Show a tqdm bar over realizations.

    Returns
    -------
    xarray.Dataset
        ``diffusivity(realization)`` Å^2/ps, ``diffusivity_cgs`` cm^2/s, ``u2`` Å^2,
        ``pe_atom`` eV,
        ``msd(realization, lag)`` Å^2, ``temperature`` and ``pe`` ``(realization, frame)``,
        ``seconds_per_force(realization)`` s; options in ``attrs``.
    """
    opt = options or ReducedMDOptions()
    phis = np.asarray(bases, dtype=float)
    if phis.ndim != 3:
        raise InputDataError(f"bases must have shape (n_realizations, 3N, r); got {phis.shape}.")
    children = np.random.default_rng(rng).spawn(phis.shape[0])
    pot = as_potential(potential)
    index: Any = range(phis.shape[0])
    if progress:
        from tqdm.auto import tqdm

        index = tqdm(index, desc="reduced MD", unit="basis")
    with _open_box(pot, start) as box:
        runs = [reduced_md(phis[i], start, pot, opt, rng=children[i], box=box) for i in index]
    return _runs_to_xarray(runs, opt, pot)


def _runs_to_xarray(
    runs: list[ReducedTrajectory], opt: ReducedMDOptions, pot: Potential
) -> xr.Dataset:
    r0 = runs[0]
    ds = xr.Dataset(
        coords={
            "realization": np.arange(len(runs)),
            "time": ("frame", r0.times, {"units": "ps"}),
            "lag": ("lag", r0.fit.lag, {"units": "ps"}),
        }
    )
    ds["diffusivity"] = (
        "realization",
        [t.fit.d_a2ps for t in runs],
        {"units": "A^2/ps", "long_name": "self-diffusivity (reduced MD)"},
    )
    ds["diffusivity_cgs"] = (
        "realization",
        [t.fit.d_cm2s for t in runs],
        {"units": "cm^2/s", "long_name": "self-diffusivity (reduced MD)"},
    )
    ds["u2"] = (
        "realization",
        [t.u2 for t in runs],
        {"units": "A^2", "long_name": "mean-squared vibrational displacement (reduced MD)"},
    )
    ds["pe_atom"] = (
        "realization",
        [t.pe_atom for t in runs],
        {"units": "eV", "long_name": "mean potential energy per atom (reduced MD)"},
    )
    ds["msd"] = (("realization", "lag"), np.stack([t.fit.msd for t in runs]), {"units": "A^2"})
    ds["temperature"] = (
        ("realization", "frame"),
        np.stack([t.temperature for t in runs]),
        {"units": "K", "long_name": "reduced kinetic temperature"},
    )
    ds["pe"] = (("realization", "frame"), np.stack([t.pe for t in runs]), {"units": "eV"})
    ds["seconds_per_force"] = (
        "realization",
        [t.seconds_per_force for t in runs],
        {"units": "s", "long_name": "wall time per LAMMPS force call"},
    )
    ds.attrs.update(
        {
            "source": "bayescal.md.reduced (Galerkin-projected MD, LAMMPS forces)",
            "potential": pot.name,
            "rank": r0.rank,
            "reduced_md_options": str(asdict(opt)),
        }
    )
    return ds


def reduced_diffusivity_qoi(
    start: MDState,
    potential: str | Potential,
    options: ReducedMDOptions | None = None,
    *,
    rng: int | np.random.Generator | None = None,
) -> Callable[[np.ndarray], float]:
    """A QoI ``basis (3N, r) -> D`` (Å^2/ps) for :func:`bayescal.srom.propagate`.

    Each call opens a LAMMPS box; prefer :func:`reduced_md_batch` for many bases.
    """
    opt = options or ReducedMDOptions()
    gen = np.random.default_rng(rng)

    def qoi(basis: np.ndarray) -> float:
        return reduced_md(basis, start, potential, opt, rng=gen).fit.d_a2ps

    return qoi
