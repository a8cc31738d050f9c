"""The model outputs a discrepancy reads, kept compactly so residuals can be recomputed.

A forward run of the STZ model is ``(frame, y, x)`` fields over 101 frames; the discrepancy reads
a few snapshots of them and the stress curve. :func:`compared_outputs` keeps just those
(the fields at the snapshot strains, the stress curve), which is what
``DIR/evaluations.nc`` stores per evaluation; :func:`residuals_from_outputs` recomputes
:meth:`bayescal.discrepancy.Discrepancy.residuals` from them, so that emulators and
likelihoods of the residuals need no forward run.

Layout of the kept outputs (dims ``sample`` or, in the store, ``eval``):

- ``output_<var>(sample, snapshot_<var>, y, x)`` float64 for each field variable a field term
  reads, with coordinate ``snapshot_strain_<var>``: the union of those terms' snapshot strains;
- ``model_stress(sample, frame)`` GPa (float64) with coordinate ``strain(frame)``, the stress
  curve.
"""

from __future__ import annotations

import numpy as np
import xarray as xr
from numpy.typing import DTypeLike

from bayescal.discrepancy import Discrepancy, nearest_points
from bayescal.errors import InputDataError

__all__ = [
    "OUTPUT_PREFIX",
    "blank_rows",
    "block_names",
    "compared_outputs",
    "output_name",
    "residual_blocks_from_outputs",
    "residuals_from_outputs",
]

#: Prefix of the stored field snapshots (``output_exy`` for the model variable ``exy``).
OUTPUT_PREFIX = "output_"
_STRESS = "model_stress"


def output_name(variable: str) -> str:
    """Name under which the snapshots of model variable ``variable`` are stored."""
    return OUTPUT_PREFIX + variable


def _snapshot_strains(discrepancy: Discrepancy, variable: str) -> list[float]:
    strains = {s for f in discrepancy.fields if f.model == variable for s in f.strains}
    return sorted(strains)


def compared_outputs(
    discrepancy: Discrepancy, model: xr.Dataset, *, dtype: DTypeLike = np.float64
) -> xr.Dataset:
    """The parts of a model output that ``discrepancy`` compares with the data.

    Parameters
    ----------
    discrepancy : Discrepancy
    model : xarray.Dataset
        Forward-model output with a ``sample`` dim: field variables ``(sample, frame, y, x)`` and
        the stress ``(sample, frame)``, coordinate ``strain(frame)``.
    dtype : numpy dtype, default float64
        Of the kept field snapshots. float64 recomputes the residuals exactly. float32 halves the
        store but moves them wherever a compared rank sits at a small singular-value gap of the
        snapshot (``benchmarks/stored_outputs_precision.py`` prints the change per point).

    Returns
    -------
    xarray.Dataset
        ``output_<var>(sample, snapshot_<var>, y, x)`` (``dtype``, the frames nearest to the
        snapshot strains) per field variable and ``model_stress(sample, frame)`` (see the
        module doc).

    Examples
    --------
    >>> from bayescal.discrepancy import FieldTerm
    >>> frames = np.linspace(0.0, 0.5, 11)
    >>> model = xr.Dataset(
    ...     {"exy": (("sample", "frame", "y", "x"), np.ones((2, 11, 4, 4)))},
    ...     coords={"strain": ("frame", frames)},
    ... )
    >>> disc = Discrepancy(fields=(FieldTerm(strains=(0.1, 0.5), ranks=(1, 1)),), stress=None)
    >>> out = compared_outputs(disc, model)
    >>> out["output_exy"].dims, out["output_exy"].dtype.name
    (('sample', 'snapshot_exy', 'y', 'x'), 'float64')
    """
    data: dict[str, xr.DataArray] = {}
    for variable in dict.fromkeys(f.model for f in discrepancy.fields):
        field_ = model[variable].transpose("sample", "frame", "y", "x")
        wanted = np.asarray(_snapshot_strains(discrepancy, variable))
        idx = nearest_points(field_["strain"].values, wanted)
        snap = field_.isel(frame=idx).values.astype(dtype)
        data[output_name(variable)] = xr.DataArray(
            snap,
            dims=("sample", f"snapshot_{variable}", "y", "x"),
            coords={f"snapshot_strain_{variable}": (f"snapshot_{variable}", wanted)},
            attrs={**model[variable].attrs, "long_name": f"{variable} at the compared snapshots"},
        )
    if discrepancy.stress is not None:
        stress = model[discrepancy.stress.model].transpose("sample", "frame")
        data[_STRESS] = xr.DataArray(
            np.asarray(stress.values, dtype=np.float64),
            dims=("sample", "frame"),
            coords={"strain": ("frame", np.asarray(stress["strain"].values, dtype=float))},
            attrs={"units": "GPa"},
        )
    return xr.Dataset(data)


def blank_rows(template: xr.DataArray, n: int, dim: str) -> xr.DataArray:
    """``n`` NaN rows along ``dim`` shaped like one row of ``template`` (its other coords kept).

    For evaluations that were not run: their kept outputs are NaN.
    """
    rows = template.isel({dim: [0] * n})
    return rows.copy(data=np.full(rows.shape, np.nan, dtype=template.dtype))


def _as_model(outputs: xr.Dataset, discrepancy: Discrepancy, dim: str) -> list[xr.Dataset]:
    """One model-like dataset per term (fields on their snapshot frames, the stress curve)."""
    models = []
    for term in discrepancy.fields:
        name = output_name(term.model)
        if name not in outputs:
            raise InputDataError(
                f"the stored outputs lack {name!r} (written before model outputs were kept, "
                f"or by a discrepancy without the field {term.model!r}); they hold "
                f"{sorted(map(str, outputs.data_vars))}. For a run directory, "
                f"'bayescal outputs DIR' reruns the forward model to add them."
            )
        kept = np.asarray(outputs[f"snapshot_strain_{term.model}"].values, dtype=float)
        missing = [s for s in term.strains if not np.isclose(kept, s, rtol=0, atol=1e-12).any()]
        if missing:
            raise InputDataError(
                f"snapshots of {term.model!r} at strains {missing} were not kept (kept: "
                f"{kept.tolist()}); recomputing needs the strains of the stored run."
            )
        snap = outputs[name].rename(
            {
                dim: "sample",
                f"snapshot_{term.model}": "frame",
                f"snapshot_strain_{term.model}": "strain",
            }
        )
        models.append(snap.to_dataset(name=term.model))
    if discrepancy.stress is not None:
        if _STRESS not in outputs:
            raise InputDataError(f"the stored outputs lack {_STRESS!r}.")
        stress = outputs[_STRESS].rename({dim: "sample"})
        models.append(stress.to_dataset(name=discrepancy.stress.model))
    return models


def block_names(discrepancy: Discrepancy) -> list[str]:
    """Names of the residual blocks: ``"<reference>:<model>"`` per field term, then ``"stress"``.

    Examples
    --------
    >>> block_names(Discrepancy())
    ['gamma_xy:exy', 'stress']
    """
    names = [f"{f.reference}:{f.model}" for f in discrepancy.fields]
    names = [n if names.count(n) == 1 else f"{n}#{i}" for i, n in enumerate(names)]
    return names + (["stress"] if discrepancy.stress is not None else [])


def residual_blocks_from_outputs(
    discrepancy: Discrepancy, reference: xr.Dataset, outputs: xr.Dataset, *, dim: str = "eval"
) -> dict[str, np.ndarray]:
    """The unweighted residual blocks of each evaluation, recomputed from kept outputs.

    Parameters
    ----------
    discrepancy : Discrepancy
        Its field terms must read snapshot strains that were kept (the same strains; ranks,
        metric and weights may differ from those of the run that stored them).
    reference : xarray.Dataset
        The data of one realization.
    outputs : xarray.Dataset
        Kept outputs along ``dim`` (e.g. a selection of ``evaluations.nc``).
    dim : str
        The dim along which evaluations run (``"eval"`` in a store, ``"sample"`` fresh from
        :func:`compared_outputs`).

    Returns
    -------
    dict of str to ndarray, shape (n, m_b)
        One block per :func:`block_names` entry: :meth:`FieldTerm.snapshot_residuals` and
        :meth:`StressTerm.residuals`; NaN rows where a kept output is not finite (failed or
        infeasible evaluations).

    Raises
    ------
    InputDataError
        The outputs lack a variable or a snapshot strain the discrepancy reads.
    """
    discrepancy.check_reference(reference)
    models = _as_model(outputs, discrepancy, dim)
    n = outputs.sizes[dim]
    ok = np.ones(n, dtype=bool)
    for m in models:
        values = next(iter(m.data_vars.values())).values
        ok &= np.isfinite(values.reshape(n, -1)).all(axis=1)
    good = [m.isel(sample=np.flatnonzero(ok)) for m in models]
    k = len(discrepancy.fields)
    parts = [
        term.snapshot_residuals(reference, m)
        for term, m in zip(discrepancy.fields, good[:k], strict=True)
    ]
    if discrepancy.stress is not None:
        parts.append(discrepancy.stress.residuals(reference, good[k]))
    blocks = {}
    for name, part in zip(block_names(discrepancy), parts, strict=True):
        block = np.full((n, part.shape[1]), np.nan)
        block[ok] = part
        blocks[name] = block
    return blocks


def residuals_from_outputs(
    discrepancy: Discrepancy, reference: xr.Dataset, outputs: xr.Dataset, *, dim: str = "eval"
) -> np.ndarray:
    """:meth:`Discrepancy.residuals` recomputed from kept outputs, without a forward run.

    The weighted concatenation (:meth:`Discrepancy.combine_residuals`) of
    :func:`residual_blocks_from_outputs`; same parameters.

    Returns
    -------
    ndarray, shape (n, m)
        NaN rows where a kept output is not finite (failed or infeasible evaluations).
    """
    blocks = list(residual_blocks_from_outputs(discrepancy, reference, outputs, dim=dim).values())
    k = len(discrepancy.fields)
    stress = blocks[k] if discrepancy.stress is not None else None
    return discrepancy.combine_residuals(blocks[:k], stress)
