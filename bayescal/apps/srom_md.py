"""Model-form uncertainty of copper MD across EAM potentials, with a Stiefel SROM.

The MD application of Quek et al. (Mech. Mater. 202, 105237, 2025; there NEP vs MTP for Na in
Na3SbSe4) on copper potentials that ship with LAMMPS, in one of two states (``--state``):

- ``solid`` (default): fcc copper, 256 atoms on the perfect lattice of a = 3.615 Å (common to
  all candidates, so one box; the candidates then sit at different pressures, ~2-5 GPa at
  500 K, reported), 500 K NVT; the QoI is the mean-squared vibrational displacement ``<u^2>``
  (Å^2) about the time-averaged positions, and the mean potential energy per atom. Vibrations
  about a lattice are what a fixed linear basis can represent, but a reduced MD of rank ``r``
  thermalises only ``r`` of the ``3N - 3`` modes: its ``<u^2>`` is ~``r / (3N - 3)`` of the
  full one (measured 0.0081 Å^2 in the r = 196 centre basis vs 0.031 Å^2, and 0.034 Å^2 in the
  full space), so ``u2_equiv = <u^2> (3N - 3) / r`` is reported as well;
- ``liquid`` (kept for the record): 256 atoms at 1600 K and 7.80 g/cm^3; QoI the
  self-diffusivity ``D`` (MSD slope / 6). A fixed linear subspace freezes diffusion, so the
  reduced MD misses every candidate's ``D`` by ~100x at this size.

Steps:

1. the shared start is prepared; every candidate potential runs NVT MD from exactly that state
   and gives its QoIs;
2. each candidate's trajectory gives a snapshot matrix (displacements from the shared start,
   optionally with momenta weighted by ``gamma``) and its POD basis; the centre is the POD basis
   of all snapshots pooled, the rank is where the pooled discarded energy drops below ``tol``;
3. the SROM (:class:`bayescal.srom.SROM`, zero net translation imposed) draws random bases, the
   leading ``n_fixed`` modes optionally held at the centre (frequency split);
4. reduced-order MD (:func:`bayescal.md.reduced.reduced_md_batch`, Galerkin forces of the
   ROM potential, Nosé–Hoover) runs in each random basis, and in the centre and each candidate
   basis for reference; its QoIs use the full MD's estimators.

Run as ``bayescal srom-md`` (not through ``bayescal run``, which drives EGO studies)::

    bayescal srom-md --out runs/srom_solid --gamma 0 1e-3 --n-fixed 0 20
    bayescal srom-md --out runs/srom_liquid --state liquid   # ~2 min on one core
    bayescal srom-md --out runs/quick --quick               # ~10 s smoke run

Writes ``DIR/srom_md.nc`` (dims ``candidate``, ``gamma``, ``n_fixed``, ``realization``, ``lag``;
settings in attrs) and ``DIR/report/srom_md.png``
(:func:`bayescal.plots.plot_srom_md`), and prints a summary.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import sys
import time
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np
import xarray as xr

from bayescal.errors import BayescalError, ConvergenceWarning, InputDataError
from bayescal.manifold import principal_angles, stiefel
from bayescal.md import (
    CU_POTENTIALS,
    DEFAULT_CANDIDATES,
    CandidateRuns,
    MDOptions,
    ReducedMDOptions,
    State,
    reduced_md_batch,
    run_candidates,
)
from bayescal.srom import SROM, constrain, pod_basis, snapshot_matrix, translation_constraint

__all__ = [
    "PRIMARY",
    "QOIS",
    "QUICK",
    "STATE_DEFAULTS",
    "main",
    "primary_qoi",
    "run_study",
    "summary",
    "with_u2_equiv",
]

logger = logging.getLogger("bayescal.apps.srom_md")

QUICK = {"atoms": 108, "steps": 1000, "samples": 4, "candidates": ("Cu_u3", "CuZr_mm")}
"""Options of ``--quick``: a tiny smoke run."""

QOIS: dict[str, tuple[str, str]] = {
    "u2": ("A^2", "mean-squared vibrational displacement <u^2>"),
    "pe_atom": ("eV", "mean potential energy per atom"),
    "diffusivity": ("A^2/ps", "self-diffusivity (MSD slope / 6)"),
}
"""QoIs measured alike in the full and the reduced MD: name -> (units, long name)."""

PRIMARY: dict[str, str] = {"solid": "u2", "liquid": "diffusivity"}
"""The QoI each state is about."""

STATE_DEFAULTS: dict[str, dict[str, float]] = {
    "solid": {"steps": 1500, "every": 5, "temperature": 500.0},
    "liquid": {"steps": 3000, "every": 10, "temperature": 1600.0},
}
"""Defaults of ``steps``, ``every`` and ``temperature`` (K) per state."""


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="srom_md",
        description="SROM of Cu MD across EAM potentials: propagated <u^2> (solid) or D (liquid).",
    )
    p.add_argument("--out", type=Path, required=True, help="output directory")
    p.add_argument(
        "--state", choices=("solid", "liquid"), default="solid", help="application (solid)"
    )
    p.add_argument("--atoms", type=int, default=256, help="atoms, 4 * cells^3 (32, 108, 256, 500)")
    p.add_argument(
        "--steps", type=int, help="MD and reduced-MD steps of 2 fs (solid 1500, liquid 3000)"
    )
    p.add_argument("--every", type=int, help="record a frame every N steps (solid 5, liquid 10)")
    p.add_argument("--samples", type=int, default=20, help="random bases per configuration")
    p.add_argument(
        "--gamma", type=float, nargs="+", default=[0.0], help="momentum weight(s) of snapshots"
    )
    p.add_argument(
        "--n-fixed", type=int, nargs="+", default=[0], help="leading modes held fixed (split)"
    )
    p.add_argument("--tol", type=float, default=1e-4, help="discarded POD energy of the centre")
    p.add_argument("--rank", type=int, help="basis rank (overrides --tol)")
    p.add_argument(
        "--dispersion", type=_dispersion, default=1.0, help="SROM dispersion s, or 'auto'"
    )
    p.add_argument(
        "--candidates",
        nargs="+",
        default=list(DEFAULT_CANDIDATES),
        choices=sorted(CU_POTENTIALS),
        metavar="NAME",
        help=f"candidate potentials (default {' '.join(DEFAULT_CANDIDATES)}; "
        f"known {', '.join(CU_POTENTIALS)})",
    )
    p.add_argument(
        "--rom-potential", help="potential of the reduced MD forces (default: first candidate)"
    )
    p.add_argument("--temperature", type=float, help="K (solid 500, liquid 1600)")
    p.add_argument("--seed", type=int, default=0, help="root seed")
    p.add_argument("--quick", action="store_true", help="tiny smoke run (108 atoms, 1000 steps)")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    return p


def _dispersion(text: str) -> float | str:
    if text == "auto":
        return text
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"a float or 'auto'; got {text!r}") from None


def _cells(atoms: int) -> int:
    cells = round((atoms / 4) ** (1 / 3))
    if cells < 2 or 4 * cells**3 != atoms:
        raise InputDataError(
            f"--atoms must be 4 * cells^3 for an fcc start (32, 108, 256, 500, 864); got {atoms}."
        )
    return cells


def _snapshots(runs: CandidateRuns, gamma: float) -> list[np.ndarray]:
    ref = runs.start.positions
    return [
        snapshot_matrix(
            t.positions, velocities=t.velocities, masses=t.masses, gamma=gamma, reference=ref
        )
        for t in runs.trajectories
    ]


def run_study(
    *,
    state: State = "solid",
    atoms: int = 256,
    steps: int | None = None,
    every: int | None = None,
    samples: int = 20,
    gammas: Sequence[float] = (0.0,),
    n_fixed: Sequence[int] = (0,),
    tol: float = 1e-4,
    rank: int | None = None,
    dispersion: float | Literal["auto"] = 1.0,
    candidates: Sequence[str] = DEFAULT_CANDIDATES,
    rom_potential: str | None = None,
    temperature: float | None = None,
    seed: int = 0,
    progress: bool = False,
) -> xr.Dataset:
    """Run the whole study and return its Dataset (see the module docstring).

    Parameters
    ----------
    state : {"solid", "liquid"}, default "solid"
        The application.
    atoms : int, default 256
        Atoms of the fcc start, ``4 * cells^3`` (32, 108, 256, 500, 864).
    steps, every : int, optional
        MD and reduced-MD steps of 2 fs, and steps between recorded frames; default
        :data:`STATE_DEFAULTS` of ``state``.
    samples : int, default 20
        Random bases per (gamma, n_fixed).
    gammas : sequence of float, default (0.0,)
        Momentum weights of the snapshots.
    n_fixed : sequence of int, default (0,)
        Leading modes held at the centre (frequency split), each a configuration.
    tol : float, default 1e-4
        Discarded POD energy of the pooled snapshots; sets the rank.
    rank : int, optional
        Basis rank (overrides ``tol``); capped by the snapshots available.
    dispersion : float or "auto", default 1.0
        SROM dispersion ``s``, or identified from the candidates.
    candidates : sequence of str, default :data:`bayescal.md.DEFAULT_CANDIDATES`
        Candidate potentials (names of :data:`bayescal.md.CU_POTENTIALS`).
    rom_potential : str, optional
        Potential of the reduced MD's forces; default the first candidate.
    temperature : float, optional
        K; default :data:`STATE_DEFAULTS` of ``state``.
    seed : int, default 0
        Root seed of the MD, the reduced MD and the SROM draws.
    progress : bool, default False
        Show progress bars.

    Returns
    -------
    xarray.Dataset
        The candidates' MD QoIs (dim ``candidate``), the reduced-MD QoIs ``rom_<qoi>``
        (``gamma``, ``n_fixed``, ``realization``), in the candidates' own bases
        (``candidate_rom_<qoi>``) and the centre (``centre_rom_<qoi>``), rank, dispersion,
        Stiefel distances and principal angles per ``gamma``, ``u2_equiv`` variables
        (:func:`with_u2_equiv`), and the settings (JSON) and timings in attrs.

    Raises
    ------
    InputDataError
        An unknown state or potential, or ``atoms`` not ``4 * cells^3``.
    """
    begin = time.perf_counter()
    if state not in PRIMARY:
        raise InputDataError(f"state must be 'solid' or 'liquid'; got {state!r}.")
    given = {"steps": steps, "every": every, "temperature": temperature}
    sched = STATE_DEFAULTS[state] | {k: v for k, v in given.items() if v is not None}
    factory = MDOptions.solid if state == "solid" else MDOptions.liquid
    md = factory(
        candidates=tuple(candidates),
        cells=_cells(atoms),
        steps=int(sched["steps"]),
        every=int(sched["every"]),
        temperature=float(sched["temperature"]),
    )
    rom_pot = rom_potential or md.candidates[0]
    if rom_pot not in CU_POTENTIALS:
        raise InputDataError(f"--rom-potential must be one of {', '.join(CU_POTENTIALS)}.")
    seeds = np.random.SeedSequence(seed).spawn(3)
    runs = run_candidates(md, rng=np.random.default_rng(seeds[0]), progress=progress)
    md_seconds = time.perf_counter() - begin
    ds = runs.to_xarray(trajectories=False)
    n_dof = 3 * md.n_atoms
    rom_opt = ReducedMDOptions.like(md)
    B = translation_constraint(md.n_atoms)
    gam = [float(g) for g in gammas]
    nfx = sorted({int(k) for k in n_fixed})
    m = len(md.candidates)
    shape = (len(gam), len(nfx), samples)
    ranks = np.zeros(len(gam), dtype=int)
    disp = np.zeros(len(gam))
    dist = np.zeros((len(gam), m))
    angles = np.zeros((len(gam), m, 2))
    cand_rom = {q: np.zeros((len(gam), m)) for q in QOIS}
    centre_rom = {q: np.zeros(len(gam)) for q in QOIS}
    rom = {q: np.full(shape, np.nan) for q in QOIS}
    msd_rom = np.full((len(gam), len(nfx), md.n_frames), np.nan)
    t_rom = np.full((len(gam), len(nfx)), np.nan)
    sec_force: list[float] = []
    fit_warnings: list[str] = []
    srom_seconds = 0.0
    for ig, g in enumerate(gam):
        S = _snapshots(runs, g)
        pooled = np.concatenate(S, axis=1)
        r_max = min(min(s.shape[1] for s in S) - 1, n_dof - 3)
        r = rank or pod_basis(pooled, tol=tol)[1]
        r = min(r, r_max)
        ranks[ig] = r
        cands = np.stack([pod_basis(s, rank=r)[0] for s in S])
        t0 = time.perf_counter()
        with warnings.catch_warnings(record=True) as caught:
            # far-apart candidates: stiefel.log_map may stop at its iteration cap; kept in attrs
            warnings.simplefilter("always", ConvergenceWarning)
            srom = SROM.fit(
                cands, pooled_snapshots=pooled, rank=r, constraint=B, dispersion=dispersion
            )
        fit_warnings.extend(f"gamma={g:g}: {w.message}" for w in caught)
        srom_seconds += time.perf_counter() - t0
        disp[ig] = srom.dispersion
        dist[ig] = stiefel.canonical_norm(srom.center, srom.tangents, check=False)
        theta = np.degrees(principal_angles(srom.center, constrain(cands, B), check=False))
        angles[ig] = np.stack([np.median(theta, axis=-1), theta.max(axis=-1)], axis=-1)
        # reference ROMs: the centre and every candidate basis (after the constraint)
        ref_bases = np.concatenate([srom.center[None], constrain(cands, B)])
        ref = reduced_md_batch(
            ref_bases, runs.start, rom_pot, rom_opt, rng=np.random.default_rng(seeds[1])
        )
        for q in QOIS:
            centre_rom[q][ig] = float(ref[q][0])
            cand_rom[q][ig] = ref[q].values[1:]
        sec_force.extend(ref["seconds_per_force"].values.tolist())
        for ik, k in enumerate(nfx):
            model = dataclasses.replace(srom, n_fixed=min(k, r))
            Y = model.sample(samples, rng=np.random.default_rng([seed, ig, ik]))
            out = reduced_md_batch(
                Y,
                runs.start,
                rom_pot,
                rom_opt,
                rng=np.random.default_rng(seeds[2]),
                progress=progress,
            )
            for q in QOIS:
                rom[q][ig, ik] = out[q].values
            msd_rom[ig, ik] = out["msd"].mean("realization").values
            late = out["temperature"].isel(frame=slice(int(md.discard * md.n_frames), None))
            t_rom[ig, ik] = float(late.mean())
            sec_force.extend(out["seconds_per_force"].values.tolist())
    ds = ds.assign_coords(
        gamma=("gamma", gam, {"units": "A / (g/mol A/ps)", "long_name": "momentum weight"}),
        n_fixed=("n_fixed", nfx, {"long_name": "leading modes held at the centre"}),
        realization=np.arange(samples),
        statistic=["median", "max"],
    )
    ds["rank"] = ("gamma", ranks, {"long_name": "basis rank r"})
    ds["dispersion"] = ("gamma", disp, {"long_name": "SROM dispersion s (given or identified)"})
    ds["stiefel_distance"] = (
        ("gamma", "candidate"),
        dist,
        {"long_name": "canonical norm of Log_centre(candidate)"},
    )
    ds["principal_angle"] = (
        ("gamma", "candidate", "statistic"),
        angles,
        {"units": "degree", "long_name": "principal angles candidate span vs centre span"},
    )
    for q, (units, long) in QOIS.items():
        ds[f"rom_{q}"] = (
            ("gamma", "n_fixed", "realization"),
            rom[q],
            {"units": units, "long_name": f"{long}, reduced MD in SROM bases"},
        )
        ds[f"candidate_rom_{q}"] = (
            ("gamma", "candidate"),
            cand_rom[q],
            {"units": units, "long_name": f"{long}, reduced MD in each candidate's own basis"},
        )
        ds[f"centre_rom_{q}"] = (
            "gamma",
            centre_rom[q],
            {"units": units, "long_name": f"{long}, reduced MD in the centre basis"},
        )
    ds["rom_diffusivity_cgs"] = (
        ("gamma", "n_fixed", "realization"),
        rom["diffusivity"] * 1e-4,
        {"units": "cm^2/s"},
    )
    ds["rom_msd_mean"] = (
        ("gamma", "n_fixed", "lag"),
        msd_rom,
        {"units": "A^2", "long_name": "MSD of the reduced MD, mean over realizations"},
    )
    ds["rom_temperature"] = (("gamma", "n_fixed"), t_rom, {"units": "K"})
    settings = {
        "state": state,
        "primary_qoi": PRIMARY[state],
        "atoms": md.n_atoms,
        "lattice_A": md.lattice,
        "steps": md.steps,
        "every": md.every,
        "dt_ps": md.dt,
        "temperature_K": md.temperature,
        "discard": md.discard,
        "samples": samples,
        "tol": tol,
        "rank": rank,
        "dispersion": dispersion,
        "candidates": list(md.candidates),
        "rom_potential": rom_pot,
        "seed": seed,
        "thermostat": rom_opt.thermostat,
        "initial_velocity": rom_opt.initial_velocity,
        "constraint": "zero net translation",
    }
    ds.attrs.update(
        {
            "study": "bayescal.apps.srom_md",
            "settings": json.dumps(settings),
            "md_seconds": md_seconds,
            "srom_fit_seconds": srom_seconds,
            "seconds_per_force_call": float(np.mean(sec_force)),
            "md_seconds_per_step": float(np.mean(ds["md_seconds"].values) / md.steps),
            "total_seconds": time.perf_counter() - begin,
            "srom_fit_warnings": json.dumps(fit_warnings),
        }
    )
    return with_u2_equiv(ds)


def with_u2_equiv(ds: xr.Dataset) -> xr.Dataset:
    """Add ``<u^2>`` scaled to the full space's ``3N - 3`` vibrational degrees of freedom.

    A reduced MD of rank ``r`` thermalises ``r`` modes only, so its ``<u^2>`` is about
    ``r / (3N - 3)`` of the full one whatever the potential (an extensive count of modes, not
    a property of the basis's quality). ``u2_equiv = <u^2> (3N - 3) / r`` is the mean-squared
    displacement per vibrational degree of freedom times ``3N - 3`` (``kT / (m w^2)`` averaged
    over the retained modes): intensive, equal to ``<u^2>`` for the full MD (``r = 3N - 3``
    with the centre of mass removed), and what a basis of the full MD's modes should reproduce.

    Parameters
    ----------
    ds : xarray.Dataset
        The output of :func:`run_study` (or its ``srom_md.nc``).

    Returns
    -------
    xarray.Dataset
        ``ds`` with ``u2_equiv``, ``rom_u2_equiv``, ``candidate_rom_u2_equiv`` and
        ``centre_rom_u2_equiv``; ``ds`` unchanged if it has no ``rom_u2``.
    """
    if "rom_u2" not in ds:
        return ds
    n_vib = 3 * int(json.loads(ds.attrs["settings"])["atoms"]) - 3
    scale = n_vib / ds["rank"]
    attrs = {"units": "A^2", "long_name": "<u^2> scaled to 3N-3 dofs: <u^2> (3N - 3) / r"}
    return ds.assign(
        u2_equiv=ds["u2"].assign_attrs(attrs),
        rom_u2_equiv=(ds["rom_u2"] * scale).assign_attrs(attrs),
        candidate_rom_u2_equiv=(ds["candidate_rom_u2"] * scale).assign_attrs(attrs),
        centre_rom_u2_equiv=(ds["centre_rom_u2"] * scale).assign_attrs(attrs),
    )


def primary_qoi(ds: xr.Dataset) -> str:
    """The QoI a study result is about.

    Parameters
    ----------
    ds : xarray.Dataset
        The output of :func:`run_study`.

    Returns
    -------
    str
        ``"u2"`` (solid) or ``"diffusivity"`` (liquid, and results written before the solid
        state existed).
    """
    return json.loads(ds.attrs["settings"]).get("primary_qoi", "diffusivity")


def _band(d: np.ndarray, targets: np.ndarray) -> str:
    q05, q50, q95 = np.nanquantile(d, [0.05, 0.5, 0.95])
    inside = int(np.sum((targets >= q05) & (targets <= q95)))
    return (
        f"mean {np.nanmean(d):.5g} sd {np.nanstd(d):.3g} [5%, 50%, 95%] = "
        f"[{q05:.5g}, {q50:.5g}, {q95:.5g}]  candidates in 5-95% band: {inside}/{targets.size}"
    )


def summary(ds: xr.Dataset) -> str:
    """Plain-text summary of the measured figures.

    Parameters
    ----------
    ds : xarray.Dataset
        The output of :func:`run_study` (or its ``srom_md.nc``).

    Returns
    -------
    str
        The candidates' MD QoIs, then per ``gamma`` the rank, dispersion, distances and the
        reduced-MD bands per ``n_fixed``, SROM fit warnings and the costs.
    """
    settings = json.loads(ds.attrs["settings"])
    ds = with_u2_equiv(ds)
    q = primary_qoi(ds)
    qois = [q, "u2_equiv", "pe_atom"] if q == "u2" else [q]
    lines = [
        f"state={settings.get('state', 'liquid')}, {settings['atoms']} atoms, "
        f"{settings['temperature_K']:g} K, {settings['steps']} steps, "
        f"ROM forces: {settings['rom_potential']}",
        "candidate MD:  <u^2> (A^2) | pe/atom (eV) | D (A^2/ps) | <P> (GPa) | <T> (K)",
    ]
    first = int(settings.get("discard", 0.2) * ds.sizes["frame"])
    for ic, name in enumerate(ds["candidate"].values):
        p = float(ds["pressure"][ic, first:].mean()) * 1e-4
        t = float(ds["temperature"][ic, first:].mean())
        lines.append(
            f"  {name:<11s} {float(ds['u2'][ic]):.5f} | {float(ds['pe_atom'][ic]):.4f} | "
            f"{float(ds['diffusivity'][ic]):.4f} | {p:.2f} | {t:.0f}"
        )
    for ig, g in enumerate(ds["gamma"].values):
        lines.append(
            f"gamma={g:g}: rank r={int(ds['rank'][ig])}, s={float(ds['dispersion'][ig]):.3g}, "
            "Stiefel distance candidate->centre "
            + ", ".join(f"{x:.2f}" for x in ds["stiefel_distance"].values[ig])
            + "; principal angles to the centre (median/max, deg) "
            + ", ".join(f"{a:.0f}/{b:.0f}" for a, b in ds["principal_angle"].values[ig])
        )
        for qq in qois:
            lines.append(
                f"  [{qq}] reduced MD, centre basis {float(ds[f'centre_rom_{qq}'][ig]):.5g}; "
                "own candidate bases "
                + ", ".join(f"{x:.5g}" for x in ds[f"candidate_rom_{qq}"].values[ig])
            )
            for ik, k in enumerate(ds["n_fixed"].values):
                lines.append(
                    f"  [{qq}] n_fixed={k:<4d} "
                    + _band(ds[f"rom_{qq}"].values[ig, ik], ds[qq].values)
                    + (f"  T {float(ds['rom_temperature'][ig, ik]):.0f} K" if qq == q else "")
                )
    a = ds.attrs
    lines.extend(f"warning (SROM fit): {w}" for w in json.loads(a.get("srom_fit_warnings", "[]")))
    lines.append(
        f"cost: full MD {a['md_seconds_per_step'] * 1e3:.2f} ms/step, reduced MD "
        f"{a['seconds_per_force_call'] * 1e3:.2f} ms/force call; MD stage {a['md_seconds']:.0f} s,"
        f" SROM fits {a['srom_fit_seconds']:.0f} s, total {a['total_seconds']:.0f} s"
    )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry (``bayescal srom-md``): run, write ``DIR/srom_md.nc`` and the plot.

    Parameters
    ----------
    argv : sequence of str, optional
        Arguments after the subcommand (default ``sys.argv[1:]``); ``--help`` lists them.

    Returns
    -------
    int
        Exit status: 0 done, 2 bad input (:class:`~bayescal.errors.BayescalError`).
    """
    args = _parser().parse_args(argv)
    options: dict[str, Any] = {
        "atoms": args.atoms,
        "steps": args.steps,
        "samples": args.samples,
        "candidates": tuple(args.candidates),
    }
    if args.quick:
        options |= QUICK
    try:
        ds = run_study(
            **options,
            state=args.state,
            every=args.every,
            gammas=args.gamma,
            n_fixed=args.n_fixed,
            tol=args.tol,
            rank=args.rank,
            dispersion=args.dispersion,
            rom_potential=args.rom_potential,
            temperature=args.temperature,
            seed=args.seed,
            progress=not args.quiet,
        )
    except BayescalError as exc:
        print(f"srom_md: error: {exc}", file=sys.stderr)
        return 2
    out = Path(args.out)
    (out / "report").mkdir(parents=True, exist_ok=True)
    ds.to_netcdf(out / "srom_md.nc", engine="h5netcdf")
    from bayescal.plots.srom_md import plot_srom_md

    fig = plot_srom_md(ds)
    fig.savefig(out / "report" / "srom_md.png", dpi=130)
    print(summary(ds))
    print(f"wrote {out / 'srom_md.nc'} and {out / 'report' / 'srom_md.png'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
