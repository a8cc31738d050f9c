"""Recompute the kept model outputs of evaluations stored without them.

Stores written before :mod:`bayescal.compared_outputs` existed hold the parameters and the
discrepancy of every evaluation but not the model outputs the residuals need.
:func:`fill_compared_outputs` reruns the forward model at those evaluations (the rows whose
outputs are missing and whose status is OK) and adds the outputs; ``bayescal outputs DIR`` does
this for a run directory.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from bayescal.compared_outputs import OUTPUT_PREFIX, blank_rows, output_name
from bayescal.optimize import EvalStatus
from bayescal.study.evaluate import evaluate
from bayescal.study.study import Study

__all__ = ["fill_compared_outputs", "missing_outputs"]


def missing_outputs(study: Study, evaluations: xr.Dataset) -> np.ndarray:
    """Indices of OK evaluations whose kept field outputs are missing (absent or NaN).

    Parameters
    ----------
    study : Study
    evaluations : xarray.Dataset
        ``DIR/evaluations.nc`` (dim ``eval``).

    Returns
    -------
    ndarray of int
    """
    ok = evaluations["status"].values == EvalStatus.OK
    missing = np.zeros(evaluations.sizes["eval"], dtype=bool)
    for variable in dict.fromkeys(f.model for f in study.discrepancy.fields):
        name = output_name(variable)
        if name not in evaluations:
            missing[:] = True
            break
        values = evaluations[name].values.reshape(evaluations.sizes["eval"], -1)
        missing |= ~np.isfinite(values).all(axis=1)
    return np.flatnonzero(ok & missing)


def fill_compared_outputs(study: Study, evaluations: xr.Dataset) -> xr.Dataset:
    """``evaluations`` with the kept outputs of every OK evaluation, rerunning where missing.

    Parameters
    ----------
    study : Study
        The study that wrote the evaluations (same forward model and discrepancy).
    evaluations : xarray.Dataset
        ``DIR/evaluations.nc`` (dim ``eval``).

    Returns
    -------
    xarray.Dataset
        A copy with ``output_<var>`` filled (and their snapshot coordinates added); rows that
        fail when rerun stay NaN.
    """
    rows = missing_outputs(study, evaluations)
    out = evaluations.copy()
    if not rows.size:
        return out
    realization = evaluations["realization"].values[rows] if "realization" in evaluations else None
    fresh = evaluate(study, evaluations["theta"].values[rows], realization).rename(sample="eval")
    for name in [str(v) for v in fresh.data_vars if str(v).startswith(OUTPUT_PREFIX)]:
        kept = fresh[name]
        if name not in out:  # NaN for every row first, then the rerun rows
            blank = blank_rows(kept, out.sizes["eval"], "eval")
            out[name] = blank.assign_coords(eval=out["eval"])
        out[name].values[rows] = kept.values
    return out
