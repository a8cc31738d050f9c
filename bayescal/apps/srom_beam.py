"""Model-form uncertainty of a copper nanoplate's tip deflection across EAM potentials (SROM).

The MD application of the SROM (Zhang & Guilleminot, CMAME 2023; Quek et al., Mech. Mater.
2025) on a quantity a reduced model can carry: a clamped fcc copper plate (238 atoms, 0 K, free
surfaces in z, periodic in y) under a suddenly applied tip force
(:mod:`bayescal.md.beam`). The quantity of interest is the peak tip deflection (Å).

Steps:

1. every potential (the candidates, and the validation potentials held out of the SROM) relaxes
   the plate and runs the full MD; its peak deflection is its own QoI;
2. each candidate's response gives a snapshot matrix (displacements, optionally with momenta
   weighted by ``gamma``) and its POD basis (rank where the discarded energy drops below
   ``tol``, the smallest over the candidates);
3. the SROM (:class:`bayescal.srom.SROM`, centre = Karcher mean, clamp imposed as a linear
   constraint, the leading ``n_fixed`` modes optionally held at the centre: frequency split)
   gets its dispersion from the candidates' basis spread (moment matching), then, if the
   propagated band misses a candidate, from their QoIs
   (:func:`bayescal.srom.qoi_identification.identify_dispersion_by_qoi`);
4. each random basis gives a reduced model of the *nominal* potential (default: the most
   compliant candidate: a Galerkin reduction only stiffens, so its band can reach stiffer
   potentials but never softer ones) whose peak deflection forms the band.

Coverage of the candidates at the QoI-identified dispersion holds by construction; coverage of
the validation potentials is the test of the model.

Run as ``bayescal srom-beam``::

    bayescal srom-beam --out runs/srom_beam            # ~15 min on one core
    bayescal srom-beam --out runs/quick --quick        # ~15 s smoke run

Writes ``DIR/srom_beam.nc`` (dims ``potential``, ``gamma``, ``n_fixed``, ``rung``,
``realization``, ``time``; settings in attrs) and ``DIR/report/srom_beam.png``
(:func:`bayescal.plots.plot_srom_beam`), and prints a summary.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from bayescal.errors import BayescalError, InputDataError
from bayescal.io import provenance_attrs, write_netcdf_atomic
from bayescal.md import (
    CU_POTENTIALS,
    BeamOptions,
    BeamResponse,
    BeamState,
    beam_box,
    clamp_constraint,
    driven_response,
    free_basis,
    prepare_beam,
)
from bayescal.srom import SROM, pod_basis, snapshot_matrix
from bayescal.srom.qoi_identification import band_covers, identify_dispersion_by_qoi

__all__ = [
    "CANDIDATES",
    "NOMINAL",
    "QUICK",
    "coverage",
    "main",
    "peaks_at",
    "run_study",
    "summary",
]

logger = logging.getLogger("bayescal.apps.srom_beam")

QUICK = {"cells": (5, 1, 2), "steps": 400, "samples": 4}
"""Options of ``--quick``: a tiny smoke run."""

NOMINAL = "Cu_u3"
"""Reduced-model potential: the most compliant plate of the seven shipped (peak 0.990 Å)."""
CANDIDATES = ("Cu_mishin1", "CuZr_mm", "Cu_zhou")
"""Three potentials from three groups (Mishin 2001, Mendelev, Zhou 2001), peaks 0.90-0.96 Å."""


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="srom_beam",
        description="SROM of a Cu nanoplate's peak tip deflection across EAM potentials.",
    )
    names = sorted(CU_POTENTIALS)
    p.add_argument("--out", type=Path, required=True, help="output directory")
    p.add_argument(
        "--candidates",
        nargs="+",
        default=list(CANDIDATES),
        choices=names,
        metavar="NAME",
        help=f"potentials the SROM is built from (default {' '.join(CANDIDATES)})",
    )
    p.add_argument(
        "--validation",
        nargs="*",
        choices=names,
        metavar="NAME",
        help="potentials held out, to test the band (default: the other shipped ones)",
    )
    p.add_argument(
        "--nominal",
        default=NOMINAL,
        choices=names,
        help=f"potential of the reduced models' forces (default {NOMINAL}, the most compliant)",
    )
    p.add_argument("--gamma", type=float, nargs="+", default=[0.0, 0.03], help="momentum weights")
    p.add_argument("--n-fixed", type=int, nargs="+", default=[0, 1], help="modes held (split)")
    p.add_argument("--tol", type=float, default=1e-6, help="discarded POD energy per candidate")
    p.add_argument("--samples", type=int, default=24, help="random bases per dispersion")
    p.add_argument("--level", type=float, default=0.9, help="central probability of the band")
    p.add_argument("--steps", type=int, help="time steps of 2 fs (default 4000)")
    p.add_argument("--seed", type=int, default=0, help="seed of the Dirichlet weights")
    p.add_argument("--quick", action="store_true", help="tiny smoke run (5 x 1 x 2 cells)")
    p.add_argument("--quiet", action="store_true", help="no progress lines")
    return p


def _candidate_bases(
    responses: Sequence[BeamResponse], gamma: float, mass: float, tol: float
) -> np.ndarray:
    """POD bases (m, 3N, r) of the candidates' snapshots, cut to their smallest rank."""
    bases, ranks = [], []
    for resp in responses:
        n = resp.displacements.shape[1]
        S = snapshot_matrix(
            resp.displacements,
            velocities=resp.velocities if gamma > 0 else None,
            masses=np.full(n, mass),
            gamma=gamma,
            reference=np.zeros((n, 3)),
        )
        basis, rank, _ = pod_basis(S, tol=tol, center=False)
        bases.append(basis)
        ranks.append(rank)
    r = min(ranks)
    return np.stack([b[:, :r] for b in bases])


def run_study(
    *,
    candidates: Sequence[str],
    validation: Sequence[str],
    nominal: str = "Cu_u3",
    gammas: Sequence[float] = (0.0, 0.03),
    n_fixeds: Sequence[int] = (0, 1),
    tol: float = 1e-6,
    samples: int = 24,
    level: float = 0.9,
    beam: BeamOptions | None = None,
    seed: int = 0,
    say: Any = None,
) -> xr.Dataset:
    """Full MD of every potential, SROMs per (gamma, n_fixed), bands of the nominal's ROMs.

    The nominal potential gives the reduced models' forces; it may be one of the candidates
    (then its own QoI is a target too, at the band's compliant edge) or not.

    Parameters
    ----------
    candidates : sequence of str
        At least two potentials the SROM is built from (names of
        :data:`bayescal.md.CU_POTENTIALS`).
    validation : sequence of str
        Potentials held out of the SROM, to test its band.
    nominal : str, default "Cu_u3"
        Potential of the reduced models' forces; not a validation potential.
    gammas : sequence of float, default (0.0, 0.03)
        Momentum weights of the snapshots.
    n_fixeds : sequence of int, default (0, 1)
        Leading modes held at the centre (frequency split).
    tol : float, default 1e-6
        Discarded POD energy per candidate; the rank is the smallest over the candidates.
    samples : int, default 24
        Random bases per tried dispersion.
    level : float, default 0.9
        Central probability of the band.
    beam : BeamOptions, optional
        The plate and its loading; default :class:`bayescal.md.BeamOptions()`.
    seed : int, default 0
        Seed of the SROM fit and draws.
    say : callable, optional
        Called with each progress line (default: silent).

    Returns
    -------
    xarray.Dataset
        Per potential (coords ``potential``, ``role``) the full-MD peak, its time and the
        deflection history; per (``gamma``, ``n_fixed``) the rank, the centre basis's peak,
        the basis-spread and QoI-identified dispersions, whether the band covers the
        candidates, the peaks of every tried dispersion (``rung``, ``realization``) and the
        deflection histories at the identified one; settings in attrs.

    Raises
    ------
    InputDataError
        Fewer than two candidates, a potential in two roles, or ``n_fixed`` >= the rank.
    """
    opt = beam or BeamOptions()
    say = say or (lambda line: None)
    if len(candidates) < 2:
        raise InputDataError(f"give at least two candidates; got {list(candidates)}.")
    overlap = set(candidates) & set(validation)
    if overlap:
        raise InputDataError(f"potentials both candidate and validation: {sorted(overlap)}.")
    if nominal in validation:
        raise InputDataError(f"the nominal potential {nominal!r} is also a validation potential.")
    potentials = list(dict.fromkeys([nominal, *candidates, *validation]))
    states: dict[str, BeamState] = {}
    full: dict[str, BeamResponse] = {}
    box = None
    try:
        for name in potentials:
            lbox = beam_box(name, opt)
            states[name] = prepare_beam(name, opt, box=lbox)
            full[name] = driven_response(free_basis(states[name]), states[name], lbox, opt)
            say(
                f"full MD {name}: peak deflection {full[name].peak_deflection:.4f} A at "
                f"{full[name].peak_time:.2f} ps ({full[name].seconds:.1f} s)"
            )
            if name == nominal:
                box = lbox  # the reduced models' forces
            else:
                lbox.close()
        return _propagate(
            candidates,
            validation,
            nominal,
            states,
            full,
            box,
            gammas=gammas,
            n_fixeds=n_fixeds,
            tol=tol,
            samples=samples,
            level=level,
            opt=opt,
            seed=seed,
            say=say,
        )
    finally:
        if box is not None:
            box.close()


def _propagate(
    candidates: Sequence[str],
    validation: Sequence[str],
    nominal: str,
    states: dict[str, BeamState],
    full: dict[str, BeamResponse],
    box: Any,
    *,
    gammas: Sequence[float],
    n_fixeds: Sequence[int],
    tol: float,
    samples: int,
    level: float,
    opt: BeamOptions,
    seed: int,
    say: Any,
) -> xr.Dataset:
    state = states[nominal]
    constraint = clamp_constraint(state)
    own = np.array([full[n].peak_deflection for n in candidates])
    rows: list[dict[str, Any]] = []
    for gamma in gammas:
        bases = _candidate_bases([full[n] for n in candidates], gamma, opt.mass, tol)
        for n_fixed in n_fixeds:
            if n_fixed >= bases.shape[2]:
                raise InputDataError(
                    f"n_fixed={n_fixed} leaves no random mode at rank {bases.shape[2]}."
                )
            start = time.perf_counter()
            srom = SROM.fit(
                bases, constraint=constraint, n_fixed=n_fixed, dispersion="auto", rng=seed
            )
            curves: list[np.ndarray] = []

            def qoi(Y: np.ndarray, curves: list[np.ndarray] = curves) -> float:
                resp = driven_response(Y, state, box, opt)
                curves.append(resp.deflection)
                return resp.peak_deflection

            centre = qoi(srom.center)
            curves.clear()

            def progress(line: str, g: float = gamma, k: int = n_fixed) -> None:
                say(f"gamma {g} n_fixed {k}: {line}")

            ident = identify_dispersion_by_qoi(
                srom,
                qoi,
                own,
                start=srom.dispersion,
                max_dispersion=16.0,
                n_samples=samples,
                level=level,
                rng=seed,
                progress=progress,
            )
            curves_arr = np.stack(curves).reshape(len(ident.tried), samples, -1)
            best = int(np.flatnonzero(ident.tried == ident.dispersion)[0])
            rows.append(
                {
                    "gamma": gamma,
                    "n_fixed": n_fixed,
                    "rank": srom.rank,
                    "centre": centre,
                    "ident": ident,
                    "best": best,
                    "curves": curves_arr[best],
                    "seconds": time.perf_counter() - start,
                }
            )
    return _to_dataset(candidates, validation, nominal, full, rows, level, opt, tol, seed)


def _to_dataset(
    candidates: Sequence[str],
    validation: Sequence[str],
    nominal: str,
    full: dict[str, BeamResponse],
    rows: list[dict[str, Any]],
    level: float,
    opt: BeamOptions,
    tol: float,
    seed: int,
) -> xr.Dataset:
    potentials = list(dict.fromkeys([*candidates, nominal, *validation]))
    roles = [
        "candidate" if n in candidates else "nominal" if n == nominal else "validation"
        for n in potentials
    ]
    gammas = sorted({row["gamma"] for row in rows})
    n_fixeds = sorted({row["n_fixed"] for row in rows})
    n_rungs = max(len(row["ident"].tried) for row in rows)
    n_samples = rows[0]["ident"].samples.shape[1]
    times = full[potentials[0]].times
    shape = (len(gammas), len(n_fixeds))
    nan = np.full
    rank = nan(shape, -1)
    centre = nan(shape, np.nan)
    s_spread = nan(shape, np.nan)
    s_qoi = nan(shape, np.nan)
    covered = np.zeros(shape, dtype=bool)
    tried = nan((*shape, n_rungs), np.nan)
    ladder = nan((*shape, n_rungs, n_samples), np.nan)
    curves = nan((*shape, n_samples, times.size), np.nan)
    seconds = nan(shape, np.nan)
    for row in rows:
        i, j = gammas.index(row["gamma"]), n_fixeds.index(row["n_fixed"])
        ident = row["ident"]
        t = len(ident.tried)
        rank[i, j], centre[i, j], seconds[i, j] = row["rank"], row["centre"], row["seconds"]
        s_spread[i, j], s_qoi[i, j], covered[i, j] = ident.tried[0], ident.dispersion, ident.covered
        tried[i, j, :t] = ident.tried
        ladder[i, j, :t] = ident.samples
        curves[i, j] = row["curves"]
    setting = ("gamma", "n_fixed")
    ds = xr.Dataset(
        {
            "full_peak": ("potential", [full[n].peak_deflection for n in potentials]),
            "full_peak_time": ("potential", [full[n].peak_time for n in potentials]),
            "full_deflection": (("potential", "time"), [full[n].deflection for n in potentials]),
            "rank": (setting, rank),
            "centre_peak": (setting, centre),
            "dispersion_spread": (setting, s_spread),
            "dispersion_qoi": (setting, s_qoi),
            "covered": (setting, covered),
            "dispersion_tried": ((*setting, "rung"), tried),
            "peak_tried": ((*setting, "rung", "realization"), ladder),
            "deflection": ((*setting, "realization", "time"), curves),
            "seconds": (setting, seconds),
        },
        coords={
            "potential": potentials,
            "role": ("potential", roles),
            "gamma": gammas,
            "n_fixed": n_fixeds,
            "time": times,
        },
        attrs={
            "nominal": nominal,
            "level": level,
            "tol": tol,
            "seed": seed,
            "beam_options": json.dumps(dataclasses.asdict(opt)),
        },
    )
    ds["full_peak"].attrs.update(units="A", long_name="peak tip deflection, full MD")
    ds["peak_tried"].attrs.update(units="A", long_name="peak tip deflection, reduced MD")
    ds["time"].attrs.update(units="ps")
    return ds


def peaks_at(ds: xr.Dataset, which: str) -> xr.DataArray:
    """ROM peak deflections (gamma, n_fixed, realization) at the ``"spread"`` or ``"qoi"`` rung.

    Parameters
    ----------
    ds : xarray.Dataset
        The output of :func:`run_study`.
    which : {"spread", "qoi"}
        The basis-spread dispersion (first rung) or the QoI-identified one.

    Returns
    -------
    xarray.DataArray
        Peak tip deflections (Å) of the reduced models.
    """
    if which == "spread":
        return ds["peak_tried"].isel(rung=0)
    rung = (ds["dispersion_tried"] == ds["dispersion_qoi"]).argmax("rung")
    return ds["peak_tried"].isel(rung=rung)


def coverage(ds: xr.Dataset, which: str) -> xr.DataArray:
    """Whether each potential's own peak lies in the band (gamma, n_fixed, potential).

    Parameters
    ----------
    ds : xarray.Dataset
        The output of :func:`run_study`.
    which : {"spread", "qoi"}
        The band at the basis-spread or the QoI-identified dispersion (:func:`peaks_at`).

    Returns
    -------
    xarray.DataArray
        Boolean, dims ``gamma``, ``n_fixed``, ``potential``.
    """
    values = peaks_at(ds, which)
    out = xr.apply_ufunc(
        lambda v: band_covers(v, ds["full_peak"].values, ds.attrs["level"]),
        values,
        input_core_dims=[["realization"]],
        output_core_dims=[["potential"]],
        vectorize=True,
    )
    return out.assign_coords(potential=ds["potential"])


def summary(ds: xr.Dataset) -> str:
    """Text table: per setting, rank, dispersions, bands and coverage.

    Parameters
    ----------
    ds : xarray.Dataset
        The output of :func:`run_study`.

    Returns
    -------
    str
        The potentials' own peaks, then one row per (gamma, n_fixed).
    """
    level = ds.attrs["level"]
    names = list(ds["potential"].values)
    roles = list(ds["role"].values)
    lines = [f"nominal (reduced-model) potential: {ds.attrs['nominal']}; own peak deflections:"]
    for name, role, peak, tp in zip(
        names, roles, ds["full_peak"].values, ds["full_peak_time"].values, strict=True
    ):
        lines.append(f"  {name:<11} {role:<10} {peak:.4f} A at {tp:.2f} ps")
    lines.append(
        f"{'gamma':>6} {'n_fix':>5} {'rank':>4} {'centre':>7}  {'s_spread':>8} "
        f"{int(level * 100)}% band{'':10} cand  {'s_qoi':>6} {int(level * 100)}% band{'':10} "
        "cand  held-out"
    )
    cov = {w: coverage(ds, w) for w in ("spread", "qoi")}
    is_cand = np.array([r == "candidate" for r in roles])
    is_val = np.array([r == "validation" for r in roles])
    for g in ds["gamma"].values:
        for n in ds["n_fixed"].values:
            sel = {"gamma": g, "n_fixed": n}
            parts = [f"{g:>6g} {n:>5d} {int(ds['rank'].sel(sel)):>4d} "]
            parts.append(f"{float(ds['centre_peak'].sel(sel)):>7.4f}")
            for w, s_name in (("spread", "dispersion_spread"), ("qoi", "dispersion_qoi")):
                v = peaks_at(ds, w).sel(sel).values
                q = 0.5 * (1 - level)
                lo, hi = np.quantile(v, [q, 1 - q])
                c = cov[w].sel(sel).values
                parts.append(
                    f"  {float(ds[s_name].sel(sel)):>8.3f} [{lo:.4f}, {hi:.4f}] "
                    f"{int(c[is_cand].sum())}/{int(is_cand.sum())}"
                )
            c = cov["qoi"].sel(sel).values
            parts.append(f"  {int(c[is_val].sum())}/{int(is_val.sum())}")
            lines.append("".join(parts))
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry (``bayescal srom-beam``): run, write ``DIR/srom_beam.nc`` and the plot.

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
    logging.basicConfig(level=logging.WARNING)
    beam_kw: dict[str, Any] = {}
    samples = args.samples
    if args.quick:
        beam_kw.update(cells=QUICK["cells"], steps=QUICK["steps"])
        samples = QUICK["samples"]
    if args.steps:
        beam_kw["steps"] = args.steps
    validation = args.validation
    if validation is None:
        used = {*args.candidates, args.nominal}
        validation = [] if args.quick else [n for n in CU_POTENTIALS if n not in used]
    say = (lambda line: None) if args.quiet else (lambda line: print(line, flush=True))
    start = time.perf_counter()
    try:
        ds = run_study(
            candidates=args.candidates,
            validation=validation,
            nominal=args.nominal,
            gammas=args.gamma,
            n_fixeds=args.n_fixed,
            tol=args.tol,
            samples=samples,
            level=args.level,
            beam=BeamOptions(**beam_kw),
            seed=args.seed,
            say=say,
        )
    except BayescalError as exc:
        print(f"srom_beam: error: {exc}", file=sys.stderr)
        return 2
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "report").mkdir(exist_ok=True)
    ds.attrs.update(provenance_attrs())
    write_netcdf_atomic(ds, args.out / "srom_beam.nc")
    from bayescal.plots.srom_beam import plot_srom_beam

    fig = plot_srom_beam(ds)
    fig.savefig(args.out / "report" / "srom_beam.png", dpi=120)
    print(summary(ds))
    print(
        f"wrote {args.out / 'srom_beam.nc'} and report/srom_beam.png in "
        f"{time.perf_counter() - start:.0f} s"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
