"""Quick-start twin study on the analytic shear-band toy model (runs in seconds).

The reference data are the toy model's own output at known parameters, so the calibration should
recover them: ``bayescal run studies/toy_shear_band.py --out runs/toy --budget 30``.
Override the truth with ``--set tau_peak=2.0`` etc.
"""

from __future__ import annotations

import xarray as xr

from bayescal.discrepancy import Discrepancy, FieldTerm
from bayescal.infer import PosteriorOptions, Sampling
from bayescal.optimize import EGOOptions
from bayescal.study import Parameter, RunSettings, Study
from models.toy import shear_band

CALIBRATED = ("tau_peak", "tau_flow", "y0", "width")


def reference_from(out: xr.Dataset) -> xr.Dataset:
    """Turn model output into reference data with the layout of ``load_cuzr()``."""
    ref = xr.Dataset(
        {
            "gamma_xy": 2.0 * out["exy"],
            "stress": ("stress_frame", out["stress"].values, {"units": "GPa"}),
        },
        coords={"stress_strain": ("stress_frame", out["strain"].values)},
    )
    ref["gamma_xy"].attrs = {"units": "1", "long_name": "engineering shear strain"}
    return ref


def build(
    tau_peak: float = shear_band.DEFAULT_PARAMS["tau_peak"],
    tau_flow: float = shear_band.DEFAULT_PARAMS["tau_flow"],
    y0: float = shear_band.DEFAULT_PARAMS["y0"],
    width: float = shear_band.DEFAULT_PARAMS["width"],
    budget: int = 30,
    seeds: int = 2,
    n: int = 32,
    seed: int = 0,
    draws: int = 1000,
    tune: int = 1000,
) -> Study:
    truth = {"tau_peak": tau_peak, "tau_flow": tau_flow, "y0": y0, "width": width}
    fixed = {k: v for k, v in shear_band.DEFAULT_PARAMS.items() if k not in CALIBRATED}
    reference = reference_from(shear_band.simulate(fixed | truth, nx=n, ny=n))
    bounds = {
        "tau_peak": (1.0, 2.5),
        "tau_flow": (0.5, 1.5),
        "y0": (5.0, 35.0),
        "width": (2.0, 10.0),
    }
    return Study(
        name="toy_shear_band",
        parameters=tuple(
            Parameter(name=k, lower=lo, upper=hi, units=shear_band.UNITS[k])
            for k, (lo, hi) in bounds.items()
        ),
        forward=lambda p: shear_band.simulate(p, nx=n, ny=n),
        reference=reference,
        discrepancy=Discrepancy(fields=(FieldTerm(ranks=(2, 2, 3, 3, 3, 3, 3, 4, 4)),)),
        fixed=fixed,
        # the toy flows only below its peak: a known constraint, never run
        constraint=lambda p: p["tau_flow"] <= p["tau_peak"],
        truth=truth,
        run=RunSettings(
            seed=seed,
            seeds=seeds,
            budget=budget,
            ego=EGOOptions(n_init=10),
            posterior=PosteriorOptions(sampling=Sampling(draws=draws, tune=tune), seed=seed),
        ),
        description="Twin experiment on the analytic shear-band toy model.",
    )
