"""Evaluate a study at a batch of parameter sets: forward model, then discrepancy.

With a reference of several realizations each parameter set names the realization it is compared
with; the forward model still runs once for the whole batch, and the discrepancy once per
realization present in it.

A failure never escapes: infeasible sets are not run (``INFEASIBLE``), a forward model that
raises for a batch is retried one set at a time, and a set that raises, diverges or gives a
non-finite discrepancy is recorded as ``FAILED`` with its message. A programming error of the
forward model (:data:`PROGRAMMING_ERRORS`) is recorded the same way, and its traceback is kept
in the result's ``attrs["forward_traceback"]`` so that :func:`bayescal.study.calibrate` can stop
with it once the batch is saved.
"""

from __future__ import annotations

import logging
import time
import traceback
from typing import Any, cast

import numpy as np
import xarray as xr
from numpy.typing import ArrayLike

from bayescal.compared_outputs import blank_rows, compared_outputs
from bayescal.errors import StudyDefinitionError
from bayescal.optimize import EvalStatus
from bayescal.study.study import Study

__all__ = ["PROGRAMMING_ERRORS", "evaluate", "forward_batch"]

logger = logging.getLogger(__name__)


def evaluate(
    study: Study,
    theta: np.ndarray,
    realization: ArrayLike | None = None,
    *,
    residuals: bool = False,
) -> xr.Dataset:
    """Run the forward model and the discrepancy at physical parameter sets.

    Parameters
    ----------
    study : Study
        The problem.
    theta : array_like, shape (n, d)
        Parameter sets in physical units, columns in ``study.names`` order.
    realization : int or array_like of int, shape (n,), optional
        Realization of the reference each set is compared with (``study.reference`` with a
        ``realization`` dim); one int for all sets; None means realization 0.
    residuals : bool, default False
        Also return ``residual(sample, residual_dim)``, the smooth residual vectors of
        :meth:`bayescal.discrepancy.Discrepancy.residuals` (NaN rows where not run), for a
        Gauss–Newton refinement.

    Returns
    -------
    xarray.Dataset
        Dims ``sample`` (n) and ``frame``: ``discrepancy``, ``field_term``, ``stress_term``,
        ``status`` (:class:`EvalStatus`), ``message``, ``wall_s`` (amortised seconds per set),
        ``realization`` (int), ``model_stress(sample, frame)`` (GPa, NaN where not run) and
        the compared field snapshots ``output_<var>(sample, snapshot_<var>, y, x)`` (float64,
        NaN where not run; :mod:`bayescal.compared_outputs` recomputes residuals from them).

    Raises
    ------
    StudyDefinitionError
        A realization index outside ``[0, study.realizations)``, or not one per set; or model
        output that cannot be compared with the reference
        (:meth:`bayescal.discrepancy.Discrepancy.check_model`: grid, strain range).
    """
    theta = np.atleast_2d(np.asarray(theta, dtype=float))
    n = theta.shape[0]
    real = _realization_index(study, realization, n)
    status = np.full(n, int(EvalStatus.OK))
    message = np.full(n, "", dtype=object)
    feasible = study.feasible(theta)
    status[~feasible] = int(EvalStatus.INFEASIBLE)
    message[~feasible] = "violates the study's known constraint"
    run = np.flatnonzero(feasible)
    start = time.perf_counter()
    outputs: list[xr.Dataset | None] = [None] * n
    tracebacks: list[str] = []
    if run.size:
        for i, out, err in _forward_robust(study, theta[run], real[run], tracebacks):
            outputs[run[i]] = out
            if err is not None:
                status[run[i]] = int(EvalStatus.FAILED)
                message[run[i]] = err
    wall = (time.perf_counter() - start) / max(run.size, 1)
    result = _assemble(study, theta, outputs, status, message, real, residuals=residuals)
    result["wall_s"] = (("sample",), np.where(feasible, wall, 0.0), {"units": "s"})
    result["realization"] = (("sample",), real.astype(np.int32), _REALIZATION_ATTRS)
    if tracebacks:
        result.attrs["forward_traceback"] = tracebacks[0]
    return result


_REALIZATION_ATTRS = {"long_name": "index of the reference realization compared with"}


def _realization_index(study: Study, realization: ArrayLike | None, n: int) -> np.ndarray:
    if realization is None:
        return np.zeros(n, dtype=np.int64)
    raw = np.asarray(realization)
    if raw.ndim > 1 or (raw.ndim == 1 and raw.size != n):
        raise StudyDefinitionError(
            f"realization must be one int or one per parameter set ({n}); got shape {raw.shape}."
        )
    if raw.size and not np.issubdtype(raw.dtype, np.integer):
        raise StudyDefinitionError(f"realization must hold ints; got dtype {raw.dtype}.")
    real = np.broadcast_to(raw.astype(np.int64), (n,)).copy()
    bad = (real < 0) | (real >= study.realizations)
    if bad.any():
        raise StudyDefinitionError(
            f"realization must be in [0, {study.realizations - 1}] for this reference; got "
            f"{int(real[bad][0])}."
        )
    return real


#: Exceptions of a forward model that are bugs rather than failures at a parameter set.
PROGRAMMING_ERRORS = (TypeError, NameError, AttributeError, ImportError)


def _describe(exc: Exception, tracebacks: list[str]) -> str:
    """``"Type: message"``; a programming error's traceback is appended to ``tracebacks``."""
    if isinstance(exc, PROGRAMMING_ERRORS):
        tracebacks.append("".join(traceback.format_exception(exc)))
    return f"{type(exc).__name__}: {exc}"


def _forward_robust(
    study: Study, theta: np.ndarray, realization: np.ndarray, tracebacks: list[str]
):
    """Yield ``(index, one-sample Dataset or None, error message or None)`` per set.

    Tracebacks of programming errors (:data:`PROGRAMMING_ERRORS`) are appended to
    ``tracebacks``.
    """
    try:
        batch = forward_batch(study, theta, realization)
    except Exception as exc:  # the model rejected the batch: find which sets fail
        logger.info(
            "forward model failed on a batch of %d (%s); retrying one by one", len(theta), exc
        )
        for i in range(len(theta)):
            try:
                one_run = forward_batch(study, theta[i : i + 1], realization[i : i + 1])
                yield i, one_run.isel(sample=0), None
            except Exception as one:
                yield i, None, _describe(one, tracebacks)
        return
    for i in range(len(theta)):
        out = batch.isel(sample=i)
        bad = "status" in out and int(out["status"]) != 0
        yield i, out, (f"forward model status {int(out['status'])}" if bad else None)


def forward_batch(
    study: Study, theta: np.ndarray, realization: ArrayLike | None = None
) -> xr.Dataset:
    """The study's forward model at physical ``theta`` (n, d), with a ``sample`` dim of n.

    Unlike :func:`evaluate` it lets the model's exceptions through and computes no discrepancy.

    Parameters
    ----------
    study : Study
        The problem.
    theta : ndarray, shape (n, d)
        Parameter sets in physical units.
    realization : int or array_like of int, shape (n,), optional
        The data realization of each set (None: 0). Used only by a forward model that takes
        ``realization`` (:attr:`Study.forward_per_realization`): it is called once per
        realization present, and the outputs are put back in the order of ``theta``.

    Raises
    ------
    ValueError
        The model returned another number of samples than parameter sets.
    """
    theta = np.atleast_2d(np.asarray(theta, dtype=float))
    if not study.forward_per_realization:
        return _checked_samples(study.forward(study.model_inputs(theta)), len(theta))
    real = _realization_index(study, realization, len(theta))
    groups = [np.flatnonzero(real == r) for r in np.unique(real)]
    per_realization = cast(Any, study.forward)  # takes `realization` (checked above)
    parts = [
        _checked_samples(
            per_realization(study.model_inputs(theta[rows]), realization=int(real[rows[0]])),
            rows.size,
        )
        for rows in groups
    ]
    if len(parts) == 1:
        return parts[0]
    order = np.argsort(np.concatenate(groups), kind="stable")
    joined = xr.concat(parts, dim="sample", coords="different", compat="equals", join="override")
    return joined.isel(sample=order)


def _checked_samples(out: xr.Dataset, n: int) -> xr.Dataset:
    if "sample" not in out.dims:
        out = out.expand_dims("sample")
    if out.sizes["sample"] != n:
        raise ValueError(f"forward model returned {out.sizes['sample']} samples for {n} inputs")
    return out


def _assemble(
    study: Study,
    theta: np.ndarray,
    outputs: list[xr.Dataset | None],
    status: np.ndarray,
    message: np.ndarray,
    realization: np.ndarray,
    *,
    residuals: bool = False,
) -> xr.Dataset:
    n = len(theta)
    ran = [i for i in range(n) if outputs[i] is not None and status[i] == EvalStatus.OK]
    disc = study.discrepancy
    template = next((o for o in outputs if o is not None), None)
    n_terms = len(disc.fields)
    total, stress_term = np.full(n, np.nan), np.full(n, np.nan)
    field_term = np.full((n, n_terms), np.nan)
    # the compared outputs (field snapshots, stress curve), NaN where not run
    kept: dict[str, xr.DataArray] = {}
    if template is not None:
        shapes = compared_outputs(disc, template.expand_dims("sample"))
        kept = {str(k): blank_rows(v, n, "sample") for k, v in shapes.data_vars.items()}
    res_rows: dict[int, np.ndarray] = {}
    for r in np.unique(realization[ran]):
        mine = [i for i in ran if realization[i] == r]
        model = xr.concat(
            [cast(xr.Dataset, outputs[i]) for i in mine],
            dim="sample",
            coords="different",
            compat="equals",
        )
        disc.check_model(study.reference_for(int(r)), model)
        d = disc(study.reference_for(int(r)), model)
        if residuals:
            res_rows.update(
                zip(mine, disc.residuals(study.reference_for(int(r)), model), strict=True)
            )
        total[mine] = d["discrepancy"].values
        stress_term[mine] = d["stress_term"].values
        field_term[mine] = d["field_term"].values
        for name, values in compared_outputs(disc, model).data_vars.items():
            kept[str(name)].values[mine] = values.values
    bad = [i for i in ran if not np.isfinite(total[i])]
    status[bad] = int(EvalStatus.FAILED)
    message[bad] = "non-finite discrepancy"
    data = {
        "discrepancy": (("sample",), total, {"units": "1"}),
        "stress_term": (("sample",), stress_term, {"units": "GPa"}),
        "field_term": (("sample", "term"), field_term, {"units": "rad"}),
        "status": (("sample",), status.astype(np.int8)),
        "message": (("sample",), message.astype(str)),
    }
    coords: dict[str, Any] = {"term": [f"{f.reference}:{f.model}" for f in disc.fields]}
    if residuals:
        m = len(next(iter(res_rows.values()))) if res_rows else 0
        res = np.full((n, m), np.nan)
        for i, row in res_rows.items():
            res[i] = row
        data["residual"] = (("sample", "residual_dim"), res)
    return xr.Dataset(data, coords=coords).assign(kept)
