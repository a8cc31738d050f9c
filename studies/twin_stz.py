"""Twin experiment: recover known STZ parameters from data the STZ model made itself.

The reference fields are ``simulate(pe0, truth)`` with pe0 the CuZr MD frame 0; the study is then
the CuZr calibration against that synthetic reference. Set the truth with
``--set beta=8.277 --set u0=-3.3682 --set c0=0.55 --set s_y=1.006`` (the original twin test).

Truths used in the benchmarks, as (beta, u0, c0, s_y):

- truth 1, the default: (8.277, -3.3682, 0.55, 1.006), chi0 1496 K;
- truth 2: (11.0, -3.3683, 0.7, 0.88), chi0 2011 K;
- truth 4: (3.5, -3.372, 0.15, 1.05), chi0 912 K, below the cliff (see below);
- truth 5: (5.0, -3.371, 0.3, 0.95), chi0 1198 K;
- truth 6: (10.0, -3.367, 0.4, 0.9), chi0 1555 K.

(Truth 3 of earlier notes was not recorded.)

The search runs in (beta, chi0, c0, s_y) by default (``--set search=u0`` for the paper's
coordinates; see ``cuzr_stz.build``): on the original truth, 2 seeds x 100 evaluations ended
4-29 % of the ranges away in (beta, u0) and 0.1-8 % in (beta, chi0).

The last 40 % of each seed's budget (``--set polish=...``: a fraction, an int count, or 0 for
EGO alone) refines the EGO incumbent by Gauss–Newton on the discrepancy's residual vectors
(:mod:`bayescal.optimize.gauss_newton`): EGO alone creeps along the long, tilted
(beta, c0, s_y) valley of this exact model's cone, the least-squares step goes down it. On the
original truth, 2 seeds x 100: worst errors 9.8 / 4.7 % of a range with EGO alone, 1.95 / 0.42 %
with the polish. 40 % rather than 29 %: at evaluation 71 of twin truths 3 and 1 (2 seeds each)
the best d was 0.2633 / 0.0538 / 0.0873 / 0.0471 with EGO until then, and 0.2411 / 0.0258 /
0.0651 / 0.0334 with the polish from evaluation 60 (the shrunken trust region gains little).

The posterior refines its emulators with ``refine_rounds`` (default 3) rounds of 8 forward runs
per seed at posterior draws: the twin's model is exact, so the emulators' own error is all the
posterior's width, and without refinement it is not resolved near the truth
(``benchmarks/twin_posterior.py`` prints the 94 % intervals against the truth).

Not recovered so far: a truth below the chi0 ~ 1000 K cliff, (3.5, -3.372, 0.15, 1.05) with chi0
912 K: 2 seeds x 100 ended 40-83 % off in c0 and s_y (d 0.157 / 0.359). One seed sat from
evaluation 40 on a plateau at beta = 2, chi0 ~ 700 K where steps in c0 and s_y did not change
d (to 4 decimals), so neither the GP nor the polish's Jacobian had a direction in them.
The truth's basin is small (``benchmarks/twin_basin.py``): from the truth, c0 +-0.02 (2 % of
its range) raises d to 0.15-0.18, s_y +-0.02 to 0.09 and chi0 +-50 K to 0.49-1.1, while a
second valley at (3.54, 951 K, 0.68, 0.82) has d 0.1647, where the other seed ended; on the
straight line from it to the truth d rises to 0.313 half-way, so no local step leaves it.
Searching log(chi0) instead (from 80 K, the lowest the 20 K constraint admits) ended at
d 0.244 / 0.469: not kept.
"""

from __future__ import annotations

import dataclasses
import functools

import xarray as xr
from cuzr_stz import T_Z
from cuzr_stz import build as build_cuzr

from bayescal.datasets import load_cuzr
from bayescal.study import Study
from models import stz


@functools.lru_cache(maxsize=8)
def _synthetic(truth: tuple, steps_per_frame: int) -> xr.Dataset:
    data = load_cuzr()
    pe0 = data["pe"].isel(frame=0).values
    p = dict(truth)
    pe_final_max = float(data["pe"].isel(frame=-1).max())
    p |= {
        "chi_inf": p["beta"] * (pe_final_max - p["u0"]) * T_Z,
        "chi_len": 25.59275383,
        "ep": 44.52901253,
    }
    out = stz.simulate(pe0, p, steps_per_frame=steps_per_frame)
    # the model's fields on the MD's grid and frames (its strain coordinate agrees with the MD's
    # only to round-off, so take the values, not the coordinates)
    gamma = data["pe"].copy(data=2.0 * out["exy"].transpose(*data["pe"].dims).values)
    ref = xr.Dataset(
        {
            "gamma_xy": gamma,
            "pe": data["pe"],
            "stress": ("stress_frame", out["stress"].values, {"units": "GPa"}),
        },
        coords={"stress_strain": ("stress_frame", out["strain"].values)},
    )
    ref["gamma_xy"].attrs = {"units": "1", "long_name": "engineering shear strain (synthetic)"}
    ref.attrs = {"source": "STZ twin experiment", "truth": repr(dict(truth))}
    return ref


def build(
    beta: float = 8.277,
    u0: float = -3.3682,
    c0: float = 0.55,
    s_y: float = 1.006,
    budget: int = 60,
    seeds: int = 2,
    n_init: int = 20,
    steps_per_frame: int = 60,
    seed: int = 7,
    batch_size: int = 4,
    local_from: int | float | None = None,
    search: str = "chi0",
    local_min_radius: float | None = 0.0125,
    local_quadratic: bool = False,
    polish: int | float = 0.4,
    refine_rounds: int = 3,
    surrogate: str = "scalar",
) -> Study:
    truth = {"beta": beta, "u0": u0, "c0": c0, "s_y": s_y}
    base = build_cuzr(
        budget=budget,
        seeds=seeds,
        n_init=n_init,
        steps_per_frame=steps_per_frame,
        seed=seed,
        batch_size=batch_size,
        local_from=local_from,
        search=search,
        local_min_radius=local_min_radius,
        local_quadratic=local_quadratic,
        polish=polish,
        refine_rounds=refine_rounds,
        surrogate=surrogate,
    )
    reference = _synthetic(tuple(sorted(truth.items())), steps_per_frame)
    if search == "chi0":  # the truth in the searched coordinates
        pe0_mean = float(load_cuzr()["pe"].isel(frame=0).mean())
        truth = {"beta": beta, "chi0": beta * (pe0_mean - u0) * T_Z, "c0": c0, "s_y": s_y}
    base.check_names(truth, what="truth")
    for p in base.parameters:
        if not p.lower <= truth[p.name] <= p.upper:
            raise ValueError(f"truth {p.name}={truth[p.name]} outside [{p.lower}, {p.upper}]")
    return dataclasses.replace(
        base,
        name="twin_stz",
        reference=reference,
        truth=truth,
        description="STZ twin experiment with known parameters.",
    )
