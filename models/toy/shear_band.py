"""A cheap analytic shear-band model with the STZ model's outputs.

Simple shear of a periodic ``box x box`` square to engineering strain ``max_strain``:

- stress: linear elastic, ``tau = mu * gamma``, up to the peak ``tau_peak`` at
  ``gamma_p = tau_peak / mu``; after it exponential softening to the flow stress,
  ``tau = tau_flow + (tau_peak - tau_flow) * exp(-soft * (gamma - gamma_p))``;
- strain field (tensor shear strain ``exy = gamma_xy / 2``): the elastic part ``tau / (2 mu)`` is
  uniform; the plastic part, ``(gamma - tau / mu) / 2`` on average (zero before the peak),
  localises into a band with a periodic Gaussian profile in y of standard deviation ``width``
  whose centre meanders in x, ``y0 + WAVE_FRACTION * width * sin(2 pi x / box)``, so a snapshot
  is not a rank-one matrix. Each column of the band profile is normalised to mean one, so the
  domain mean of ``exy`` is exactly ``gamma / 2`` at every frame (to rounding).

The defaults fit the bundled CuZr MD data (peak 1.54 GPa at strain 0.088, flow 0.945 GPa, band at
y = 21.8 nm of standard deviation 5.1 nm at strain 0.5). Vectorised over a leading ``sample`` dim.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

import numpy as np
import xarray as xr
from numpy.typing import ArrayLike

from models.toy._params import broadcast_params, check_positive_int, check_positive_number

__all__ = [
    "BOUNDS",
    "DEFAULT_PARAMS",
    "PARAM_NAMES",
    "UNITS",
    "WAVE_FRACTION",
    "band_profile",
    "simulate",
]

#: Parameter names, in order.
PARAM_NAMES: tuple[str, ...] = ("mu", "tau_peak", "tau_flow", "soft", "y0", "width")

#: Defaults (fitted by eye and least squares to the bundled CuZr MD reference).
DEFAULT_PARAMS: dict[str, float] = {
    "mu": 17.5,
    "tau_peak": 1.54,
    "tau_flow": 0.945,
    "soft": 69.0,
    "y0": 21.8,
    "width": 5.1,
}

#: Suggested calibration bounds (lower, upper); the model accepts any valid value.
BOUNDS: dict[str, tuple[float, float]] = {
    "mu": (5.0, 50.0),
    "tau_peak": (0.5, 3.0),
    "tau_flow": (0.1, 3.0),
    "soft": (1.0, 200.0),
    "y0": (0.0, 40.0),
    "width": (0.5, 20.0),
}

#: Units of each parameter.
UNITS: dict[str, str] = {
    "mu": "GPa",
    "tau_peak": "GPa",
    "tau_flow": "GPa",
    "soft": "1",
    "y0": "nm",
    "width": "nm",
}

#: Amplitude of the band centre's sinusoidal meander in x, as a fraction of ``width``.
WAVE_FRACTION = 0.5


def _validate(p: Mapping[str, np.ndarray]) -> None:
    """Raise ValueError naming the parameter, value and sample of the first invalid entry."""
    checks = (
        ("mu", p["mu"] > 0, "must be > 0"),
        ("tau_peak", p["tau_peak"] > 0, "must be > 0"),
        ("tau_flow", p["tau_flow"] > 0, "must be > 0"),
        ("tau_flow", p["tau_flow"] <= p["tau_peak"], "must be <= tau_peak"),
        ("soft", p["soft"] >= 0, "must be >= 0"),
        ("width", p["width"] > 0, "must be > 0"),
    )
    for name, ok, rule in checks:
        if not ok.all():
            i = int(np.flatnonzero(~ok)[0])
            extra = f" (tau_peak={p['tau_peak'][i]})" if "tau_peak" in rule else ""
            raise ValueError(
                f"parameter {name!r} {rule}; got {name}={p[name][i]}{extra} at sample {i}."
            )


def band_profile(
    y0: ArrayLike, width: ArrayLike, *, nx: int = 32, ny: int = 32, box: float = 40.0
) -> np.ndarray:
    """Plastic-strain weights of the meandering Gaussian band, each column of mean one.

    Parameters
    ----------
    y0, width : array_like, shape (n,)
        Band centre and standard deviation (nm); ``y0`` is periodic in ``box``.
    nx, ny : int
        Cells in x and y.
    box : float
        Side of the periodic square (nm).

    Returns
    -------
    ndarray, shape (n, ny, nx)
        Non-negative weights; ``w.mean(axis=1) == 1`` for every sample and column.
    """
    y0 = np.atleast_1d(np.asarray(y0, dtype=np.float64))
    width = np.atleast_1d(np.asarray(width, dtype=np.float64))
    x = (np.arange(nx) + 0.5) * (box / nx)
    y = (np.arange(ny) + 0.5) * (box / ny)
    centre = y0[:, None] + WAVE_FRACTION * width[:, None] * np.sin(2 * np.pi * x / box)  # (n, nx)
    d = y[None, :, None] - centre[:, None, :]  # (n, ny, nx)
    d = (d + box / 2) % box - box / 2  # nearest periodic image
    g = np.exp(-0.5 * (d / width[:, None, None]) ** 2)
    return g / g.mean(axis=1, keepdims=True)


def simulate(
    params: Mapping[str, ArrayLike] | None = None,
    *,
    n_frames: int = 101,
    max_strain: float = 0.5,
    nx: int = 32,
    ny: int = 32,
    box: float = 40.0,
) -> xr.Dataset:
    """Run the shear-band toy model.

    Parameters
    ----------
    params : mapping of str to float or array_like of shape (n,), optional
        ``mu`` elastic slope of the stress–strain curve (GPa, > 0); ``tau_peak`` peak stress
        (GPa, > 0); ``tau_flow`` flow stress (GPa, in (0, tau_peak]); ``soft`` softening rate per
        unit engineering strain (>= 0); ``y0`` band centre (nm, periodic); ``width`` band standard
        deviation (nm, > 0). Missing names take :data:`DEFAULT_PARAMS`. A 1-D array makes a batch
        (leading ``sample`` dim); scalars are broadcast to it.
    n_frames : int
        Output frames, evenly spaced in applied strain from 0 to ``max_strain``.
    max_strain : float
        Final applied engineering shear strain.
    nx, ny : int
        Grid cells in x and y.
    box : float
        Side of the periodic square (nm).

    Returns
    -------
    xarray.Dataset
        ``exy([sample,] frame, y, x)`` tensor shear strain (``1``), ``stress([sample,] frame)``
        (GPa), ``status([sample])`` (int8, 0 = ok; always 0 here), coords ``strain(frame)``
        (applied engineering shear strain), ``y``, ``x`` (cell centres, nm); attrs ``model``,
        ``parameters`` (JSON).

    Raises
    ------
    ValueError
        An unknown parameter, or an invalid value or option; the message names it and its value.

    Examples
    --------
    >>> out = simulate({"tau_peak": [1.5, 2.0]})
    >>> dict(out["exy"].sizes)
    {'sample': 2, 'frame': 101, 'y': 32, 'x': 32}
    >>> bool(abs(out["exy"].mean(("y", "x")) - out["strain"] / 2).max() < 1e-12)
    True
    """
    n_frames = check_positive_int("n_frames", n_frames, minimum=2)
    nx = check_positive_int("nx", nx)
    ny = check_positive_int("ny", ny)
    max_strain = check_positive_number("max_strain", max_strain)
    box = check_positive_number("box", box)
    p, batched = broadcast_params(params, PARAM_NAMES, DEFAULT_PARAMS)
    _validate(p)

    gamma = np.linspace(0.0, max_strain, n_frames)  # (F,)
    mu, peak, flow, soft = (p[k][:, None] for k in ("mu", "tau_peak", "tau_flow", "soft"))
    gamma_p = peak / mu  # (S, 1)
    past = gamma[None, :] - gamma_p  # (S, F)
    softened = flow + (peak - flow) * np.exp(-soft * np.maximum(past, 0.0))
    tau = np.where(past <= 0.0, mu * gamma[None, :], softened)  # (S, F)
    elastic = tau / (2.0 * mu)
    plastic = np.maximum(gamma[None, :] - tau / mu, 0.0) / 2.0
    weights = band_profile(p["y0"], p["width"], nx=nx, ny=ny, box=box)  # (S, ny, nx)
    exy = elastic[:, :, None, None] + plastic[:, :, None, None] * weights[:, None, :, :]

    x = (np.arange(nx) + 0.5) * (box / nx)
    y = (np.arange(ny) + 0.5) * (box / ny)
    out = xr.Dataset(
        {
            "exy": (
                ("sample", "frame", "y", "x"),
                exy,
                {"units": "1", "long_name": "tensor shear strain eps_xy"},
            ),
            "stress": (("sample", "frame"), tau, {"units": "GPa", "long_name": "shear stress"}),
            "status": (
                ("sample",),
                np.zeros(exy.shape[0], dtype=np.int8),
                {"long_name": "run status", "flag_values": [0], "flag_meanings": "ok"},
            ),
        },
        coords={
            "strain": (("frame",), gamma, {"units": "1", "long_name": "applied shear strain"}),
            "y": (("y",), y, {"units": "nm", "long_name": "cell-centre y position"}),
            "x": (("x",), x, {"units": "nm", "long_name": "cell-centre x position"}),
        },
        attrs={
            "model": "models.toy.shear_band",
            "parameters": json.dumps(
                {k: v.tolist() if batched else float(v[0]) for k, v in p.items()}
            ),
            "box_size": box,
            "box_size_units": "nm",
        },
    )
    return out if batched else out.isel(sample=0)
