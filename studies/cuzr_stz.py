"""The paper's calibration: STZ plasticity against MD of a CuZr metallic glass.

Kontolati et al., Acta Materialia 2021 (arXiv:2103.00779): calibrate the coarse-graining map
``chi = beta (U - u0) T_Z`` (beta, u0) and the STZ parameters c0, s_y against the MD strain fields
and stress–strain curve, with ``chi_inf = beta (max U_final - u0) T_Z`` derived and the known
constraint that no cell of the last MD frame maps below 20 K.

Run: ``bayescal run studies/cuzr_stz.py --out runs/cuzr`` (2 seeds x 60), or ``--seeds 8``.

Each EGO round asks ``batch_size`` (default 4) points per seed, and all seeds' points go to the
STZ solver as one batch in this process: from 4 runs on, the batch runs through the
``torch.compile``-d kernels on two torch threads, several times the throughput of one run at a
time (benchmarks/stz.py, section (b)). A process pool (``--workers``) would split that batch
into small eager ones again, so leave it off on one machine.
"""

from __future__ import annotations

import numpy as np
import torch

from bayescal.datasets import load_cuzr
from bayescal.discrepancy import Discrepancy
from bayescal.infer import PosteriorOptions, Reparametrization, SampledCoordinates
from bayescal.optimize import EGOOptions
from bayescal.study import Parameter, Study
from models import stz

T_Z = 21000.0  # K, STZ formation energy over k_B
U0 = Parameter(
    name="u0",
    lower=-3.395,
    upper=-3.360,
    units="eV",
    description="PE at zero effective temperature",
)
BETA = Parameter(name="beta", lower=2.0, upper=15.0, units="1/eV", description="PE -> chi slope")
C0 = Parameter(name="c0", lower=0.05, upper=1.0, units="", description="effective heat capacity")
S_Y = Parameter(name="s_y", lower=0.8, upper=1.1, units="GPa", description="yield stress")
# mean initial effective temperature; these bounds hold every (beta, u0) of the paper's box
CHI0 = Parameter(
    name="chi0",
    lower=0.0,
    upper=11200.0,
    units="K",
    description="mean initial chi, beta (<U0> - u0) T_Z",
)


def _beta_range(chi0, pe0_mean: float, lib=np):
    """The beta interval that keeps u0 = pe0_mean - chi0 / (beta T_Z) in U0's bounds."""
    low = lib.maximum(BETA.lower, chi0 / ((pe0_mean - U0.lower) * T_Z))
    high = lib.minimum(BETA.upper, chi0 / ((pe0_mean - U0.upper) * T_Z))
    return low, high


def _chi0_coordinates(pe0_mean: float) -> SampledCoordinates:
    """NUTS in (chi0, w, c0, s_y), beta at fraction w of its range at that chi0.

    The data fix chi0 and leave beta free along it: an axis here, a narrow curve in (beta,
    u0), and in (beta, chi0) the u0 bounds would be a wall across the valley at small beta.
    """
    import pytensor.tensor as pt

    def to_prior(v):
        low, high = _beta_range(v["chi0"], pe0_mean, pt)
        beta = low + (high - low) * v["w"]
        u0 = pe0_mean - v["chi0"] / (beta * T_Z)
        return {"beta": beta, "u0": u0, "c0": v["c0"], "s_y": v["s_y"]}

    def from_prior(v):
        chi0 = v["beta"] * (pe0_mean - v["u0"]) * T_Z
        low, high = _beta_range(chi0, pe0_mean)
        return {"chi0": chi0, "w": (v["beta"] - low) / (high - low)}

    return SampledCoordinates(
        names=("chi0", "w", "c0", "s_y"),
        lower=(
            BETA.lower * (pe0_mean - U0.upper) * T_Z,
            0.0,
            C0.lower,
            S_Y.lower,
        ),
        upper=(BETA.upper * (pe0_mean - U0.lower) * T_Z, 1.0, C0.upper, S_Y.upper),
        to_prior=to_prior,
        from_prior=from_prior,
    )


def build(
    budget: int = 60,
    seeds: int = 2,
    n_init: int = 20,
    steps_per_frame: int = 60,
    chi_min: float = 20.0,
    seed: int = 2021,
    workers: int = 2,
    batch_size: int = 4,
    local_from: int | float | None = None,
    search: str = "chi0",
    local_min_radius: float | None = 0.0125,
    local_quadratic: bool = False,
    polish: int | float = 0.0,
    refine_rounds: int = 0,
    draws: int = 2000,
    surrogate: str = "scalar",
) -> Study:
    """The CuZr calibration.

    ``search="chi0"`` (default) searches (beta, chi0, c0, s_y), with
    ``chi0 = beta (mean U_0 - u0) T_Z`` the mean initial effective temperature [K] and u0
    derived from it, over the same box (u0 outside
    the paper's bounds is infeasible). The discrepancy depends on beta and u0 mostly through
    chi0 (a 2 %-of-range step in u0 moves chi0 by 8 % and d by 0.35-0.42 near a twin's truth,
    while points far apart along chi0 = const stay within d 0.1), so in these coordinates the
    valley is aligned with an axis, which the ARD surrogate can follow (8 seeds x 100: 7 seeds
    agree on chi0 1277-1352 K; in (beta, u0) no two seeds agreed on beta and c0). ``"u0"``
    searches the paper's box in (beta, u0, c0, s_y) directly. The posterior is in both cases
    sampled in (beta, u0, c0, s_y) with the paper's uniform prior (``PosteriorOptions.reparam``).

    ``refine_rounds`` > 0 refines the posterior's emulators with forward runs at posterior
    draws before the final posterior (``bayescal.study.refine``; 8 runs per seed per round).
    ``draws`` is the NUTS draws per chain (4 chains). ``surrogate="composite"`` runs EGO on
    GPs of the residual vector's principal parts (``EGOOptions.surrogate``). The posterior is
    the library's default, the emulated-residual likelihood (``bayescal.infer.residual_model``).
    """
    data = load_cuzr()
    pe0 = data["pe"].isel(frame=0).values
    pe_final = data["pe"].isel(frame=-1).values
    pe_final_max, pe_final_min = float(pe_final.max()), float(pe_final.min())
    if search not in ("u0", "chi0"):
        raise ValueError(f"search must be 'u0' or 'chi0'; got {search!r}.")

    # simulate() uses `workers` cores itself: a batch of >= 4 full runs goes through the
    # torch.compile-d kernels on `workers` torch threads, a smaller one as `workers` groups of
    # samples in Python threads of one torch thread each
    torch.set_num_threads(1)

    pe0_mean = float(pe0.mean())
    derived = {}
    posterior_kw = {"seed": seed, "draws": draws, "refine_rounds": refine_rounds}
    posterior = PosteriorOptions(**posterior_kw)
    if search == "chi0":
        derived["u0"] = lambda p: pe0_mean - p["chi0"] / (p["beta"] * T_Z)
        # the posterior keeps the paper's prior, uniform in (beta, u0, c0, s_y), and NUTS moves
        # in (chi0, w, c0, s_y) under it (with its Jacobian); a uniform prior on the searched
        # box would put most mass on (beta, chi0) pairs whose u0 lies outside the paper's
        # bounds, where no evaluation was made
        posterior = PosteriorOptions(
            **posterior_kw,
            reparam=Reparametrization(
                names=("beta", "u0", "c0", "s_y"),
                lower=(BETA.lower, U0.lower, C0.lower, S_Y.lower),
                upper=(BETA.upper, U0.upper, C0.upper, S_Y.upper),
                to_search=lambda v: {"chi0": v["beta"] * (pe0_mean - v["u0"]) * T_Z},
                from_search=lambda v: {"u0": derived["u0"](v)},
                sampled=_chi0_coordinates(pe0_mean),
            ),
        )

    def forward(p):
        p = {k: v for k, v in p.items() if k != "chi0"}  # simulate takes u0 (derived from it)
        return stz.simulate(pe0, p, steps_per_frame=steps_per_frame, workers=workers)

    # what changes the solver's output enters the store's fingerprint (workers does not)
    forward.version = f"steps_per_frame={steps_per_frame}"  # type: ignore[attr-defined]

    return Study(
        name="cuzr_stz",
        parameters=(BETA, U0 if search == "u0" else CHI0, C0, S_Y),
        forward=forward,
        reference=data,
        discrepancy=Discrepancy(),
        fixed={"chi_len": 25.59275383, "ep": 44.52901253},
        derived=derived | {"chi_inf": lambda p: p["beta"] * (pe_final_max - p["u0"]) * T_Z},
        constraint=lambda p: (
            (p["beta"] * (pe_final_min - p["u0"]) * T_Z >= chi_min)
            & (p["u0"] >= U0.lower)
            & (p["u0"] <= U0.upper)
        ),
        seed=seed,
        seeds=seeds,
        budget=budget,
        posterior=posterior,
        # d > 0 spans two decades near the optimum: a GP on log d; global search for the first
        # 24 evaluations (the 20-point Latin hypercube and one qLogEI batch), then the local
        # surrogate update around the incumbent in a trust region that shrinks to 1.25 % of
        # each range. A count, not a fraction of --budget: until issue 4's last session this
        # study computed 40 % of build()'s own budget (60) whatever --budget said, so every
        # measured run went local from evaluation 24; as a fraction, 24 % of the README's 40
        # (local right after the hypercube) gave max R-hat 1.059 and exit 1, and 40 of 100 did
        # not help the CuZr seed that misses the basin (seed 4: d 0.7705, 0.7399 from 24).
        ego=EGOOptions(
            n_init=n_init,
            batch_size=batch_size,
            log_y=True,
            local=True,
            local_from=24 if local_from is None else local_from,
            local_min_radius=local_min_radius,
            # progress along the narrow beta/c0/s_y valley is slow (about 1 % of a range per
            # batch): one batch without a 0.1 % gain is not yet a stall
            local_fail_tol=2,
            # off by default: on the twin (truth 1, 2 seeds x 100, same environment) the
            # quadratic step on d**2 ended at d 0.030 / 0.028 against 0.042 / 0.028 without it,
            # the second seed unchanged because its fits were never convex: the chi0 direction
            # of the cone saturates beyond about 0.3 % of its range, so d**2 is not quadratic
            # over the best points (benchmarks/ego_cone.py: it helps on an idealised cone)
            local_quadratic=local_quadratic,
            # the last `polish` evaluations of each seed: Gauss-Newton on the residual vectors
            # from the incumbent (bayescal.optimize.gauss_newton); the steep direction (chi0,
            # or u0) gets a 10x smaller difference step: d saturates beyond ~0.3 % of its range
            polish=polish,
            polish_fd_step=(2e-3, 2e-4, 2e-3, 2e-3),
            surrogate=surrogate,
        ),
        description="STZ calibrated to MD of a CuZr glass sheared to 50 % (paper's setup).",
    )


if __name__ == "__main__":  # quick look: one evaluation at the paper's 2020 optimum
    from bayescal.study import evaluate

    study = build()
    theta = np.array([[11.82, -3.3642, 0.5, 0.915]])
    print(evaluate(study, theta)[["discrepancy", "stress_term", "field_term"]])
