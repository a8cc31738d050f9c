"""The paper's calibration: STZ plasticity against MD of a CuZr metallic glass.

Kontolati et al., Acta Materialia 2021 (arXiv:2103.00779): calibrate the coarse-graining map
``chi = beta (U - u0) T_Z`` and the STZ parameters c0, s_y against the MD strain fields and stress
curve; ``chi_inf = beta (max U_final - u0) T_Z`` is derived, and no cell of the last MD frame
may map below ``chi_min`` = 20 K. Measured choices behind the defaults: ``benchmarks/FINDINGS.md``.
"""

from __future__ import annotations

import torch

from bayescal.datasets import load_cuzr
from bayescal.discrepancy import Discrepancy
from bayescal.infer import PosteriorOptions, Refinement, Sampling
from bayescal.infer.chi_coordinates import mean_chi_reparametrization
from bayescal.optimize import EGOOptions, LocalSearch, count_or_share
from bayescal.study import Parameter, RunSettings, Study
from models import stz

T_Z = 21000.0  # K, STZ formation energy over k_B
BETA = Parameter(name="beta", lower=2.0, upper=15.0, units="1/eV", description="PE -> chi slope")
U0 = Parameter(name="u0", lower=-3.395, upper=-3.360, units="eV", description="PE at chi = 0")
C0 = Parameter(name="c0", lower=0.05, upper=1.0, units="", description="effective heat capacity")
S_Y = Parameter(name="s_y", lower=0.8, upper=1.1, units="GPa", description="yield stress")
# mean initial effective temperature beta (<U0> - u0) T_Z; bounds hold the whole (beta, u0) box
CHI0 = Parameter(name="chi0", lower=0.0, upper=11200.0, units="K", description="mean initial chi")


def build(
    budget: int = 60,
    seeds: int = 2,
    n_init: int = 28,
    steps_per_frame: int = 60,
    chi_min: float = 20.0,
    seed: int = 2021,
    workers: int = 2,
    batch_size: int = 4,
    local_from: int | float = 32,
    search: str = "chi0",
    local_min_radius: float | None = 0.0125,
    local_quadratic: bool = False,
    local_restarts: int = 0,
    local_stall: int | None = None,
    polish: int | float = 0,
    refine_rounds: int = 0,
    draws: int = 2000,
    surrogate: str = "scalar",
) -> Study:
    """The CuZr calibration.

    ``search="chi0"`` searches (beta, chi0, c0, s_y) with u0 derived (the discrepancy's valley
    runs along chi0 = const); ``"u0"`` searches the paper's (beta, u0, c0, s_y). The posterior is
    sampled under the paper's uniform prior on (beta, u0, c0, s_y) either way. ``polish``: the
    last evaluations of each seed go to a Gauss–Newton polish (an int count, or a float
    share of the budget); ``refine_rounds``: forward runs at posterior draws refine the emulators;
    ``surrogate="composite"``: EGO on the residual vector's principal parts;
    ``local_restarts`` / ``local_stall``: a collapsed / stalled trust region restarts elsewhere
    (``LocalSearch``); ``draws``: NUTS draws per chain; ``workers``: torch threads of the solver.
    """
    data = load_cuzr()
    pe0, pe_final = data["pe"].isel(frame=0).values, data["pe"].isel(frame=-1).values
    if search not in ("u0", "chi0"):
        raise ValueError(f"search must be 'u0' or 'chi0'; got {search!r}.")
    torch.set_num_threads(1)  # simulate() runs its own `workers` threads
    pe0_mean = float(pe0.mean())
    derived, reparam = {}, None
    refine = Refinement(rounds=refine_rounds)
    posterior = PosteriorOptions(seed=seed, sampling=Sampling(draws=draws), refine=refine)
    if search == "chi0":  # the prior stays uniform on the paper's (beta, u0, c0, s_y) box
        derived["u0"] = lambda p: pe0_mean - p["chi0"] / (p["beta"] * T_Z)
        others = {"c0": C0.bounds, "s_y": S_Y.bounds}
        box = {"beta_bounds": BETA.bounds, "u0_bounds": U0.bounds, "others": others}
        reparam = mean_chi_reparametrization(pe0_mean=pe0_mean, t_z=T_Z, **box)

    def forward(p):
        p = {k: v for k, v in p.items() if k != "chi0"}  # simulate takes u0 (derived from it)
        return stz.simulate(pe0, p, steps_per_frame=steps_per_frame, workers=workers)

    # what changes the solver's output enters the store's fingerprint (workers does not)
    forward.version = f"steps_per_frame={steps_per_frame}"  # type: ignore[attr-defined]

    return Study(
        name="cuzr_stz",
        parameters=(BETA, U0 if search == "u0" else CHI0, C0, S_Y),
        reparam=reparam,
        forward=forward,
        reference=data,
        discrepancy=Discrepancy(),
        fixed={"chi_len": 25.59275383, "ep": 44.52901253},
        derived=derived | {"chi_inf": lambda p: p["beta"] * (pe_final.max() - p["u0"]) * T_Z},
        constraint=lambda p: (
            (p["beta"] * (pe_final.min() - p["u0"]) * T_Z >= chi_min)
            & (p["u0"] >= U0.lower)
            & (p["u0"] <= U0.upper)
        ),
        run=RunSettings(
            seed=seed,
            seeds=seeds,
            budget=budget,
            posterior=posterior,
            ego=EGOOptions(
                n_init=n_init,
                batch_size=batch_size,
                log_y=True,
                local=LocalSearch(  # global for 32 evaluations, then a shrinking trust region
                    start=count_or_share(local_from, name="local_from"),
                    min_radius=local_min_radius,
                    fail_tol=2,
                    quadratic=local_quadratic,
                    restarts=local_restarts,
                    stall=local_stall,
                ),
                polish=count_or_share(polish, name="polish"),
                polish_fd_step=(2e-3, 2e-4, 2e-3, 2e-3),  # 10x smaller along the steep chi0
                surrogate=surrogate,
            ),
        ),
        description="STZ calibrated to MD of a CuZr glass sheared to 50 % (paper's setup).",
    )
