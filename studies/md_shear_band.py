"""End to end: per-atom MD -> coarse-grained fields with uncertainty -> calibration -> posterior.

``bayescal run studies/md_shear_band.py --out runs/md`` (then ``bayescal report|posterior DIR``);
about 1 min of MD on first use (cached), then ~30 s of EGO and ~1.5 min of NUTS (4 chains, 2 cores).

Data. ``realizations`` independent 2D binary Lennard-Jones glasses (``bayescal.md.glass``:
Kob–Andersen-type 65:35 mixture, density 1.2; reduced LJ units throughout: lengths in sigma,
stress in epsilon / sigma^2, time in tau) of 1,600 atoms (box 36.5 sigma) are melted, quenched to
T = 0.01 over 150 tau and sheared by LAMMPS (``fix deform xy`` + ``nvt/sllod``, rate 0.006 / tau)
to engineering strain 0.45 in 31 snapshots; realization r has the seed
``SeedSequence(md_seed).spawn(R)[r]``. Past a stress overshoot near strain 0.07 the plastic
strain concentrates in a band, weakly: this small, fast-quenched glass also deforms diffusely
around it, and the band's orientation and height differ between realizations. The per-atom
strain (2 x the Green–Lagrange xy component, first frame as reference) is coarse-grained on a
``grid x grid`` mesh by physics-guided GP regression (``method="gp"``: smoothing scale learned by
marginal likelihood; ``gamma_xy_std`` is each cell's posterior sd), and the stress is the virial
``-pxy``. MD and coarse-graining run once per option set and are cached on disk (``cache_dir``,
keyed by a hash of the options: MD per realization, then fields per coarse-graining), so
reruns, ``bayescal report`` and ``bayescal posterior`` reuse them.

Alignment (``align_bands``). Simple shear has two planes of maximum shear stress and the band
forms on either (along x or along y in box-frame coordinates); the model's band runs along x. A
realization whose band runs along y is reflected across the diagonal (``gamma_xy`` is the
symmetric shear strain, so the reflected field is the reflected problem's), and every
realization is rolled periodically in y by whole cells so its band is centred; ``reflected`` and
``band_shift`` in the reference record both. The box's origin is arbitrary, so this loses no
information and keeps ``y0`` away from the periodic wrap (which would make its posterior
bimodal). With the default seeds both realizations are reflected.

Forward model. The analytic shear-band model ``models.toy.shear_band`` is the continuum
surrogate: linear elastic loading (modulus ``mu``) to a peak stress ``tau_peak``, exponential
softening (rate ``soft``) to a flow stress ``tau_flow``, and all plastic strain in one band with a
periodic Gaussian profile in y (centre ``y0``, sd ``width``, a mild meander in x). Its grid, box
(the MD box side) and frames (the MD snapshot strains) are the MD's. Such a model can say where
the band is, how wide it is on average, and the two stress levels; it has no diffuse plastic
background, no band widening with strain and no stress noise, which sets the floor of the
discrepancy (below).

Calibrated: ``tau_peak``, ``tau_flow`` (epsilon / sigma^2), ``y0``, ``width`` (sigma). Fixed
before the search: ``mu`` and ``soft``, by least squares of the model's stress curve on the
realization-averaged MD curve (both are seen in the stress alone; fixing them spares the search
two directions). Bounds scale with the data: stresses from 0.25 (``tau_flow``: 0.1) to 1.5 times
the MD peak, ``y0`` over the box, ``width`` from half a cell to half the box. EGO seed ``k``
calibrates against realization ``k % R`` (default one seed per realization), so the posterior's
per-seed parameters are per-realization parameters and the pooled ones describe the population
of glasses; ``y0`` is per realization by nature (where the band formed, after alignment), the
others are material properties.

Discrepancy. Grassmann term on ``gamma_xy`` at the MD frames nearest to strains 0.15, 0.225, 0.3,
0.375, 0.45, rank 1: a snapshot's leading left singular vector is its y-profile, i.e. the band. The
fields are too noisy for more: perturbing the GP mean by its own ``gamma_xy_std`` moves the rank-1
subspace by 0.06-0.07 rad but rank-2 and rank-3 subspaces by 0.4-1.0 rad (the second singular value
is only ~0.2 of the first), so higher ranks would compare noise. Snapshots before the overshoot
carry no band and are left out. Stress term: mean absolute ``-pxy`` mismatch over all frames
(``normalise="count"``), overshoot frames (strain 0.03-0.12) weighted x2. At the optimum the field
term is ~0.3 rad (model form: the MD's diffuse background, against a GP noise floor of 0.06) and
the stress term ~0.07-0.09 epsilon / sigma^2 (the MD's stress fluctuations); the default weights 1
(field) : 3 (stress), the paper's, make the two contribute about equally. Change them with
``field_weight`` / ``stress_weight``.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
from dataclasses import asdict
from pathlib import Path

import numpy as np
import xarray as xr
from scipy.optimize import least_squares

from bayescal.discrepancy import Discrepancy, FieldTerm, StressTerm, nearest_points
from bayescal.infer import PosteriorOptions
from bayescal.io import write_netcdf_atomic
from bayescal.md import GlassOptions, GlassRun, default_coarse_options, md_reference, shear_glass
from bayescal.optimize import EGOOptions
from bayescal.study import Parameter, Study
from models.toy import shear_band

logger = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parents[1]
STRESS_UNITS = "epsilon/sigma^2"
#: Bump when the cached data would change for the same options (a new coarse-graining, say).
CACHE_VERSION = 1


def _key(payload: dict) -> str:
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()[
        :16
    ]


def _write_json_atomic(obj: dict, path: Path) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    with os.fdopen(fd, "w") as fh:
        json.dump(obj, fh)
    os.replace(tmp, path)


def md_run(cache: Path, options: GlassOptions, rng: np.random.SeedSequence) -> GlassRun:
    """One sheared glass, from ``cache`` if this MD (options, seed) ran before."""
    key = _key({"md": asdict(options), "entropy": rng.entropy, "spawn": rng.spawn_key})
    folder = cache / f"md-{key}"
    done = folder / "run.json"
    if done.is_file():
        meta = json.loads(done.read_text())
        return GlassRun(
            dump=folder / "shear.dump",
            strain=np.asarray(meta["strain"]),
            stress=np.asarray(meta["stress"]),
            options=meta["options"],
        )
    logger.info("running MD %s (%d atoms)", folder.name, options.n_atoms)
    run = shear_glass(folder, options, rng=np.random.default_rng(rng), name="shear")
    meta = {"strain": run.strain.tolist(), "stress": run.stress.tolist(), "options": run.options}
    _write_json_atomic(meta, done)  # written last: a killed run leaves no "done" marker
    return run


def md_data(
    *,
    realizations: int,
    options: GlassOptions,
    grid: int,
    method: str,
    pe: bool,
    md_seed: int,
    cache_dir: str | os.PathLike,
    align_bands: bool = True,
) -> xr.Dataset:
    """The reference: R coarse-grained MD realizations stacked on ``realization`` (cached)."""
    cache = Path(cache_dir)
    cache = cache if cache.is_absolute() else ROOT / cache
    cache.mkdir(parents=True, exist_ok=True)
    coarse = default_coarse_options(
        options.system,
        method=method,
        shape=(grid, grid),
        quantities={"pe": "c_pe"} if pe else {},
    )
    parts, reflected, shifts = [], [], []
    for r, ss in enumerate(np.random.SeedSequence(md_seed).spawn(realizations)):
        key = _key(
            {
                "version": CACHE_VERSION,
                "md": asdict(options),
                "md_seed": md_seed,
                "realization": r,
                "coarse": repr(coarse),
            }
        )
        path = cache / f"reference-{key}.nc"
        if not path.is_file():
            ds = md_reference(md_run(cache, options, ss), coarse)
            ds.attrs |= {"realization": r, "md_seed": md_seed}
            write_netcdf_atomic(ds, path)
        with xr.open_dataset(path, engine="h5netcdf") as ds:
            part = ds.load()
        if align_bands:
            part, flipped, shift = align_band(part)
            reflected.append(flipped)
            shifts.append(shift * float(part["y"][1] - part["y"][0]))
        parts.append(part)
    ref = xr.concat(parts, dim="realization", coords="different", compat="equals", join="override")
    ref = ref.assign_coords(realization=np.arange(realizations))
    if align_bands:
        ref["reflected"] = (
            ("realization",),
            np.asarray(reflected, dtype=np.int8),
            {"long_name": "fields reflected x <-> y so the shear band runs along x (1 = yes)"},
        )
        ref["band_shift"] = (
            ("realization",),
            np.asarray(shifts),
            {
                "units": "sigma",
                "long_name": "periodic roll in +y that centred the band (MD y = y - shift)",
            },
        )
    return ref


def align_band(ds: xr.Dataset, *, from_strain: float = 0.15) -> tuple[xr.Dataset, bool, int]:
    """Use the periodic box's symmetries to put a realization's band along x, centred in y.

    Simple shear has two planes of maximum shear stress, so a small glass localises either in a
    band along x (constant y, the model's band) or along y (constant x, in box-frame
    coordinates). The orientation is the one whose profile (the field averaged along the band)
    varies more, summed over the frames from ``from_strain``; a band along y is reflected across
    the diagonal (x <-> y: ``gamma_xy`` is the symmetric shear strain, unchanged by the
    reflection, so the reflected field is the reflected problem's own). Then the fields are
    rolled periodically in y by whole cells so the band's circular mean position is at the box
    centre: the origin of a periodic box is arbitrary, and a centred band keeps ``y0`` away from
    the wrap-around (which would make its posterior bimodal).

    Returns
    -------
    ds : xarray.Dataset
        The aligned realization (needs a square grid with equal x and y coordinates to reflect).
    reflected : bool
        Whether x and y were swapped.
    shift : int
        Cells rolled in +y; a model band at ``y0`` sits at ``y0 - shift * dy`` (mod box) in the
        MD box frame (after the reflection, if any).
    """
    g = ds["gamma_xy"].where(ds["strain"] >= from_strain, drop=True)
    along_x = float(g.mean("x").var("y").sum())  # band along x: profile in y
    along_y = float(g.mean("y").var("x").sum())
    reflected = along_y > along_x
    if reflected:
        if ds.sizes["x"] != ds.sizes["y"] or not np.allclose(ds["x"].values, ds["y"].values):
            raise ValueError("align_band needs a square grid with equal x and y coordinates.")
        swapped = ds.rename({"x": "_y"}).rename({"y": "x"}).rename({"_y": "y"})
        ds = swapped.assign_coords(x=ds["x"], y=ds["y"]).transpose(*ds["gamma_xy"].dims, ...)
        g = ds["gamma_xy"].where(ds["strain"] >= from_strain, drop=True)
    ny = ds.sizes["y"]
    profile = g.mean("x").sum("frame").values  # (ny,)
    phase = np.angle(np.sum(profile * np.exp(2j * np.pi * np.arange(ny) / ny)))
    centre = (phase / (2 * np.pi) * ny) % ny  # in cells, from cell 0
    shift = int(np.round((ny - 1) / 2 - centre)) % ny
    fields = [v for v in ds.data_vars if "y" in ds[v].dims]
    rolled = ds.assign({v: ds[v].roll(y=shift, roll_coords=False) for v in fields})
    return rolled, bool(reflected), shift


def fit_stress_shape(strain: np.ndarray, stress: np.ndarray) -> dict[str, float]:
    """Least-squares fit of the shear-band model's stress curve: mu, tau_peak, tau_flow, soft."""

    def curve(x: np.ndarray) -> np.ndarray:
        mu, peak, flow, soft = x
        gp = peak / mu
        past = strain - gp
        soft_part = flow + (peak - flow) * np.exp(-soft * np.maximum(past, 0.0))
        return np.where(past <= 0, mu * strain, soft_part)

    top = float(np.max(stress))
    x0 = [top / 0.05, top, float(np.mean(stress[-len(stress) // 3 :])), 20.0]
    lo, hi = [1e-3, 1e-3, 1e-3, 0.0], [1e3, 10 * top + 1, 10 * top + 1, 500.0]
    fit = least_squares(lambda x: curve(x) - stress, np.clip(x0, lo, hi), bounds=(lo, hi))
    return dict(zip(("mu", "tau_peak", "tau_flow", "soft"), map(float, fit.x), strict=True))


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
    """The MD shear-band study (options are ``bayescal run --set name=value``).

    Parameters
    ----------
    realizations : int
        Independent MD glasses R (EGO seed k uses realization k % R).
    n_atoms, shear_steps, quench_steps, melt_steps, n_frames, max_strain, t_glass
        :class:`bayescal.md.GlassOptions` of the 2D LJ glass (reduced units).
    grid : int
        Coarse grid cells per side (the forward model's grid too).
    method : {"gp", "bin", "gaussian", "tophat"}
        Coarse-graining method; ``gp`` gives ``gamma_xy_std``.
    pe : bool
        Also coarse-grain the per-atom potential energy (``pe``, not used by the discrepancy).
    md_seed : int
        Root seed of the MD realizations.
    cache_dir : str
        Cache of MD runs and coarse-grained fields (relative paths: from the repository root).
    align_bands : bool
        Reflect realizations whose band runs along y (:func:`align_band`).
    field_weight, stress_weight : float
        Weights of the Grassmann and stress terms.
    budget, seeds, n_init, seed
        EGO evaluations per seed, seeds (None: one per realization), Latin-hypercube start,
        root seed.
    draws, tune, chains
        NUTS settings of the posterior step.
    """
    md = GlassOptions(
        n_atoms=n_atoms,
        melt_steps=melt_steps,
        quench_steps=quench_steps,
        shear_steps=shear_steps,
        n_frames=n_frames,
        max_strain=max_strain,
        t_glass=t_glass,
    )
    reference = md_data(
        realizations=realizations,
        options=md,
        grid=grid,
        method=method,
        pe=pe,
        md_seed=md_seed,
        cache_dir=cache_dir,
        align_bands=align_bands,
    )
    box = float(reference.attrs["box_size"])
    strain = np.asarray(reference["stress_strain"].values, dtype=float)
    mean_stress = reference["stress"].mean("realization").values
    shape = fit_stress_shape(strain, mean_stress)
    fixed = {"mu": shape["mu"], "soft": shape["soft"]}

    def forward(p):
        out = shear_band.simulate(
            p, n_frames=n_frames, max_strain=max_strain, nx=grid, ny=grid, box=box
        )
        out["stress"].attrs["units"] = STRESS_UNITS
        for axis in ("x", "y"):
            out[axis].attrs["units"] = "sigma"
        return out

    top = float(reference["stress"].max())
    bounds = {
        "tau_peak": (0.25 * top, 1.5 * top, STRESS_UNITS),
        "tau_flow": (0.1 * top, 1.5 * top, STRESS_UNITS),
        "y0": (0.0, box, "sigma"),
        "width": (0.5 * box / grid, box / 2.0, "sigma"),
    }
    # on the MD's own frames: a target halfway between two frames would pick either by rounding
    targets = [s for s in (0.15, 0.225, 0.3, 0.375, 0.45) if s <= max_strain + 1e-9]
    snapshots = tuple(dict.fromkeys(float(strain[i]) for i in nearest_points(strain, targets)))
    peak = tuple(int(np.abs(strain - s).argmin()) for s in (0.03, 0.12))
    discrepancy = Discrepancy(
        fields=(
            FieldTerm(
                reference="gamma_xy",
                model="exy",
                strains=snapshots or (float(strain[-1]),),
                ranks=(1,) * max(len(snapshots), 1),
            ),
        ),
        stress=StressTerm(peak_frames=(peak[0], peak[1] + 1), peak_weight=2.0, normalise="count"),
        field_weights=(field_weight,),
        stress_weight=stress_weight,
    )
    return Study(
        name="md_shear_band",
        parameters=tuple(
            Parameter(name=k, lower=lo, upper=hi, units=u) for k, (lo, hi, u) in bounds.items()
        ),
        forward=forward,
        reference=reference,
        discrepancy=discrepancy,
        fixed=fixed,
        constraint=lambda p: p["tau_flow"] <= p["tau_peak"],
        seed=seed,
        seeds=seeds,
        budget=budget,
        ego=EGOOptions(n_init=n_init),
        posterior=PosteriorOptions(draws=draws, tune=tune, chains=chains, seed=seed),
        description=(
            f"Analytic shear-band model calibrated against {realizations} coarse-grained "
            f"({method}) 2D LJ glass MD realization(s) of {n_atoms} atoms sheared to "
            f"{max_strain}; mu = {fixed['mu']:.3g} and soft = {fixed['soft']:.3g} fixed by a "
            "stress-curve fit; reduced LJ units."
        ),
    )
