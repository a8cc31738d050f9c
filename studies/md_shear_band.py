"""End to end: per-atom MD -> coarse-grained fields with uncertainty -> calibration -> posterior.

``bayescal run studies/md_shear_band.py --out runs/md``: ~1 min of MD on first use (then cached by
:mod:`bayescal.md.cache`), ~30 s of EGO, ~1.5 min of NUTS. Reduced LJ units (sigma, epsilon /
sigma^2). Reference: ``realizations`` 2D LJ glasses (:mod:`bayescal.md.glass`) sheared by LAMMPS,
realization r from ``SeedSequence(md_seed).spawn(R)[r]``; per-atom shear strain coarse-grained on a
``grid x grid`` mesh (``gp``: with ``gamma_xy_std``), stress ``-pxy``; bands put along x and centred
(:func:`bayescal.coarse.alignment.align_band`). Model: ``models.toy.shear_band`` on the MD's grid,
box and frames, ``mu`` and ``soft`` fixed by a fit to the mean MD stress curve. Calibrated:
``tau_peak``, ``tau_flow``, ``y0``, ``width``; EGO seed k against realization ``k % R``.
Discrepancy: rank-1 Grassmann term on ``gamma_xy`` at strains 0.15-0.45 (the band's y-profile)
and stress mismatch, overshoot (strain 0.03-0.12) x2. Why: ``benchmarks/FINDINGS.md``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from bayescal.coarse.alignment import stack_realizations
from bayescal.discrepancy import Discrepancy, FieldTerm, StressTerm, nearest_points
from bayescal.infer import PosteriorOptions, Sampling
from bayescal.md.cache import cached_references
from bayescal.md.glass import GlassOptions
from bayescal.md.reference import default_coarse_options
from bayescal.optimize import EGOOptions
from bayescal.study import Parameter, RunSettings, Study
from models.toy import fit_stress_shape, shear_band

ROOT = Path(__file__).resolve().parents[1]
UNITS = "epsilon/sigma^2"


def build(
    realizations: int = 2,
    n_atoms: int = 1600,
    shear_steps: int = 15000,
    quench_steps: int = 30000,
    melt_steps: int = 1000,
    n_frames: int = 31,
    max_strain: float = 0.45,
    t_glass: float = 0.01,
    grid: int = 16,
    method: str = "gp",
    pe: bool = True,
    md_seed: int = 0,
    cache_dir: str = "runs/md_cache",
    align_bands: bool = True,
    field_weight: float = 1.0,
    stress_weight: float = 3.0,
    budget: int = 40,
    seeds: int | None = None,
    n_init: int = 12,
    seed: int = 0,
    draws: int = 500,
    tune: int = 500,
    chains: int = 4,
) -> Study:
    """The MD shear-band study; its options by name.

    ``realizations``: MD glasses; ``n_atoms`` ... ``t_glass``: ``GlassOptions``; ``grid``: cells
    per side; ``method``: coarse-graining (gp, bin, gaussian, tophat); ``pe``: also coarse-grain PE;
    ``cache_dir``: MD/field cache (relative to the repository); ``*_weight``: discrepancy weights;
    ``budget``, ``seeds`` (None: one per realization), ``n_init``, ``seed``: EGO; rest: NUTS.
    """
    md = GlassOptions(
        n_atoms=n_atoms,
        shear_steps=shear_steps,
        quench_steps=quench_steps,
        melt_steps=melt_steps,
        n_frames=n_frames,
        max_strain=max_strain,
        t_glass=t_glass,
    )
    extra = {"pe": "c_pe"} if pe else {}
    coarse = default_coarse_options(md.system, method=method, shape=(grid, grid), quantities=extra)
    cache = Path(cache_dir) if Path(cache_dir).is_absolute() else ROOT / cache_dir
    parts = cached_references(cache, md, coarse, realizations=realizations, md_seed=md_seed)
    reference = stack_realizations(parts, align_bands=align_bands)
    box, top = float(reference.attrs["box_size"]), float(reference["stress"].max())
    strain = np.asarray(reference["stress_strain"].values, dtype=float)
    fit = fit_stress_shape(strain, reference["stress"].mean("realization").values)
    frames = {"n_frames": n_frames, "max_strain": max_strain, "nx": grid, "ny": grid, "box": box}

    def forward(p):
        out = shear_band.simulate(p, **frames)
        for name, units in (("stress", UNITS), ("x", "sigma"), ("y", "sigma")):
            out[name].attrs["units"] = units
        return out

    targets = [s for s in (0.15, 0.225, 0.3, 0.375, 0.45) if s <= max_strain + 1e-9]
    snaps = tuple(dict.fromkeys(float(strain[i]) for i in nearest_points(strain, targets)))
    peak = tuple(int(np.abs(strain - s).argmin()) for s in (0.03, 0.12))
    field = FieldTerm(strains=snaps or (float(strain[-1]),), ranks=(1,) * max(len(snaps), 1))
    stress = StressTerm(peak_frames=(peak[0], peak[1] + 1), peak_weight=2.0, normalise="count")
    weights = {"field_weights": (field_weight,), "stress_weight": stress_weight}
    nuts = Sampling(draws=draws, tune=tune, chains=chains)
    return Study(
        name="md_shear_band",
        parameters=(
            Parameter(name="tau_peak", lower=0.25 * top, upper=1.5 * top, units=UNITS),
            Parameter(name="tau_flow", lower=0.1 * top, upper=1.5 * top, units=UNITS),
            Parameter(name="y0", lower=0.0, upper=box, units="sigma"),
            Parameter(name="width", lower=0.5 * box / grid, upper=box / 2.0, units="sigma"),
        ),
        forward=forward,
        reference=reference,
        discrepancy=Discrepancy(fields=(field,), stress=stress, **weights),
        fixed={"mu": fit["mu"], "soft": fit["soft"]},
        constraint=lambda p: p["tau_flow"] <= p["tau_peak"],
        run=RunSettings(
            seed=seed,
            seeds=seeds,
            budget=budget,
            ego=EGOOptions(n_init=n_init),
            posterior=PosteriorOptions(sampling=nuts, seed=seed),
        ),
        description=f"Shear-band model vs {realizations} 2D LJ glass MD realization(s) ({method}).",
    )
