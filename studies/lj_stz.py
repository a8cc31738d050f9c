"""STZ plasticity against independent MD realizations of a sheared 2D Lennard-Jones glass.

The data are R realizations of one glass protocol made by this project
(:func:`bayescal.datasets.load_lj2d`; ``bayescal md-realizations`` makes them again): same
composition, quench and shear rate, different LAMMPS seeds. The STZ run of realization ``r``
starts from its own initial potential-energy field, ``chi = beta (U - u0) T_Z``, so each
realization has its own parameters under a population level (partial pooling). Calibrated:
beta, the mean initial effective temperature chi0 (u0 derived), c0 and s_y, in reduced LJ
units (epsilon, sigma, tau; T_Z = 1 epsilon / k_B); the shear modulus is the MD curves' initial
slope. Run: ``bayescal run studies/lj_stz.py --out runs/lj``; ``--set holdout=k`` leaves
realization k out.
"""

from __future__ import annotations

import numpy as np
import torch

from bayescal.datasets import load_lj2d, shear_modulus
from bayescal.discrepancy import Discrepancy, FieldTerm, StressTerm
from bayescal.infer import PosteriorOptions, Sampling
from bayescal.optimize import EGOOptions
from bayescal.study import Parameter, RunSettings, Study
from models import stz

UNITS = "epsilon/sigma^2"
BETA = Parameter(name="beta", lower=0.1, upper=4.0, units="1/epsilon", description="PE -> chi")
CHI0 = Parameter(name="chi0", lower=0.1, upper=0.6, units="epsilon/k_B", description="mean chi")
C0 = Parameter(name="c0", lower=0.05, upper=1.0, units="", description="effective heat capacity")
SNAPSHOTS = (0.15, 0.225, 0.3, 0.375, 0.45)  # strains of the compared strain fields


def build(
    data: str | None = None,
    holdout: int | None = None,
    budget: int = 80,
    seeds_per_realization: int = 2,
    n_init: int = 12,
    frames: int = 90,
    steps_per_frame: int = 20,
    chi_len: float = 4.0,
    tau0: float = 1.0,
    chi_min: float = 1e-3,
    pooling: str = "partial",
    draws: int = 2000,
    seed: int = 26,
) -> Study:
    """The LJ study.

    ``data``: a file of ``bayescal md-realizations`` (default: the shipped one); ``holdout``:
    a realization left out; ``budget``, ``seeds_per_realization``, ``n_init``: EGO (each
    realization's emulators train on its own seeds' runs); ``frames``, ``steps_per_frame``:
    STZ output frames and steps per frame; ``chi_len``
    [sigma], ``tau0`` [tau]: fixed STZ constants; ``chi_min``: smallest initial chi allowed in
    any cell; ``pooling`` over realizations and ``draws``: the posterior.
    """
    ref = load_lj2d(data)
    if holdout is not None:
        ref = ref.drop_sel(realization=holdout)
        ref = ref.assign_coords(realization=np.arange(ref.sizes["realization"]))
    pe0 = ref["pe"].isel(frame=0).values  # (realization, y, x)
    pe_final_max = float(ref["pe"].isel(frame=-1).max())
    pe0_mean, pe0_min = float(pe0.mean()), float(pe0.min())
    strain = ref["stress_strain"].values
    material = stz.Material(
        shear_modulus=shear_modulus(ref),
        poisson_ratio=0.35,
        density=1.2,  # number density, unit masses
        t_z=1.0,
        tau0=tau0,
        length_unit=1.0,
    )
    grid = ref.sizes["x"]
    run = {
        "nx": grid,
        "ny": grid,
        "frames": frames,
        "steps_per_frame": steps_per_frame,
        "strain_rate": float(ref.attrs["strain_rate"]),
        "final_strain": float(strain[-1]),
        "box": float(ref.attrs["box_size"]),
        "material": material,
    }
    torch.set_num_threads(1)

    def forward(p, realization: int):
        p = {k: v for k, v in p.items() if k != "chi0"}  # simulate takes u0 (derived)
        return stz.simulate(pe0[realization], p, **run)

    version = f"frames={frames},steps_per_frame={steps_per_frame},tau0={tau0}"
    forward.version = version  # type: ignore[attr-defined]
    top = float(ref["stress"].max())
    peak = int(np.ceil(0.15 / float(strain[-1]) * frames))  # model frames up to strain 0.15
    s_y = Parameter(name="s_y", lower=0.3 * top, upper=1.0 * top, units=UNITS)
    return Study(
        name="lj_stz",
        parameters=(BETA, CHI0, C0, s_y),
        forward=forward,
        reference=ref,
        discrepancy=Discrepancy(
            fields=(FieldTerm(strains=SNAPSHOTS, ranks=(1,) * len(SNAPSHOTS)),),
            stress=StressTerm(peak_frames=(1, peak + 1), peak_weight=2.0, normalise="count"),
        ),
        fixed={"chi_len": chi_len},
        derived={
            "u0": lambda p: pe0_mean - p["chi0"] / p["beta"],
            "chi_inf": lambda p: p["beta"] * pe_final_max - (p["beta"] * pe0_mean - p["chi0"]),
        },
        constraint=lambda p: p["beta"] * pe0_min - (p["beta"] * pe0_mean - p["chi0"]) >= chi_min,
        run=RunSettings(
            seed=seed,
            seeds=seeds_per_realization * ref.sizes["realization"],
            budget=budget,
            ego=EGOOptions(n_init=n_init, batch_size=4, log_y=True),
            posterior=PosteriorOptions(seed=seed, sampling=Sampling(draws=draws), pooling=pooling),
        ),
        description=f"STZ vs {ref.sizes['realization']} MD realizations of a 2D LJ glass.",
    )
