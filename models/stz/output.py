"""Assemble the solver's tensors into a labelled :class:`xarray.Dataset`."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import numpy as np
import torch
import xarray as xr

from models.stz.params import CUZR, UNITS, Material, ParamSet
from models.stz.solver import RunResult

__all__ = ["to_dataset"]

MODEL_NAME = "models.stz"
REFERENCE = "SURGroup/STZ aea52b3 esim/coord_transforms/simple_shear (shear_energy_Adam3)"


def to_dataset(
    result: RunResult,
    params: ParamSet,
    *,
    s_y: np.ndarray,
    strain: np.ndarray,
    box: float,
    options: Mapping[str, Any],
    material: Material = CUZR,
) -> xr.Dataset:
    """Label the solver output.

    Parameters
    ----------
    result : RunResult
        Tensors with a leading batch dim.
    params : ParamSet
        The validated parameters (``params.batched`` decides whether a ``sample`` dim is kept).
    s_y : ndarray, shape (B,)
        Yield stress [GPa] to turn the stress into GPa.
    strain : ndarray, shape (F,)
        Applied engineering shear strain at each frame.
    box : float
        Box side [angstrom].
    options : mapping
        Solver options, stored in the attrs.
    material : Material, optional
        Gives the unit of chi (``t_z``).

    Returns
    -------
    xarray.Dataset
    """
    exy = result.exy.detach().cpu().numpy()
    chi = result.chi.detach().cpu().numpy() * material.t_z
    stress = result.tau.detach().cpu().numpy() * s_y[:, None]
    status = result.status.detach().cpu().numpy().astype(np.int8)
    ny, nx = exy.shape[-2:]
    dx, dy = box / nx, box / ny

    dims_f = ("sample", "frame", "y", "x")
    data = {
        "exy": (
            dims_f,
            exy,
            {
                "units": "1",
                "long_name": "Green-Lagrange tensor shear strain E_xy (gamma_xy / 2)",
                "location": "cell corners (x = i dx, y = j dy)",
            },
        ),
        "chi": (
            dims_f,
            chi,
            {
                "units": "K",
                "long_name": "effective temperature chi",
                "location": "cell centres (x = (i + 1/2) dx, y = (j + 1/2) dy)",
            },
        ),
        "stress": (
            ("sample", "frame"),
            stress,
            {
                "units": "GPa",
                "long_name": "grid-mean physical shear stress tau",
            },
        ),
        "status": (
            ("sample",),
            status,
            {
                "units": "1",
                "long_name": "0 ok, 1 non-finite or |field| > 1e10, 2 plastic sub-step limit",
            },
        ),
    }
    coords = {
        "strain": (
            "frame",
            strain,
            {"units": "1", "long_name": "applied engineering shear strain"},
        ),
        "frame": ("frame", np.arange(strain.shape[0])),
        "y": ("y", np.arange(ny) * dy, {"units": "angstrom"}),
        "x": ("x", np.arange(nx) * dx, {"units": "angstrom"}),
    }
    for name, v in params.values.items():
        coords[name] = ("sample", v, {"units": UNITS[name]})
    attrs = {
        "model": MODEL_NAME,
        "reference_solver": REFERENCE,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "torch_version": torch.__version__,
        "max_plastic_substeps": int(result.max_substeps),
        "index_convention": "(frame, y, x): y = line of the PE file, x = value within the line",
    }
    for k, v in options.items():
        attrs[f"option_{k}"] = str(v) if not isinstance(v, int | float) else v
    ds = xr.Dataset(data, coords=coords, attrs=attrs)
    if not params.batched:
        ds = ds.isel(sample=0).drop_vars("status")
        for name, v in params.values.items():
            ds.attrs[f"param_{name}"] = float(v[0])
    return ds
