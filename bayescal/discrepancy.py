"""Model/data discrepancy: Grassmann distance between field snapshots plus stress mismatch.

The default reproduces the discrepancy of the original Grassmannian-EGO calibration of STZ theory
(Kontolati et al., Acta Materialia 2021; the public calibration code's ``distanceMetric = 4``):

1. At the applied strains 0.05, 0.06, 0.08, 0.09, 0.10, 0.11, 0.12, 0.35 and 0.5, the MD strain
   field (engineering ``gamma_xy``) and the model strain field (``2 * exy``) are each reduced to the
   span of their leading left singular vectors (ranks 2, 4, 5, 5, 10, 10, 14, 15, 16).
2. The geodesic Grassmann distance between the two spans is averaged over the nine snapshots:
   ``d_G``. The original rounded the cosines of the principal angles to 6 decimals before the
   arccos, which floors every angle below ~1.4e-3 rad; here the angles are computed accurately.
3. The stress term ``d_S``: for each model frame, the absolute difference to the MD stress at the
   nearest MD strain; frames 15-27 (the stress peak) are weighted x5; the sum is divided by the
   number of nonzero terms (the original's normalisation, kept for comparability).
4. ``d = (1 * d_G + 3 * d_S) / 4``.

Every choice is a field of :class:`Discrepancy`, :class:`FieldTerm` or :class:`StressTerm`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TypeVar

import numpy as np
import xarray as xr
from numpy.typing import ArrayLike

from bayescal.errors import InputDataError, StudyDefinitionError
from bayescal.manifold import Metric, distance, subspace

__all__ = [
    "PAPER_RANKS",
    "PAPER_STRAINS",
    "STRAIN_TOLERANCE",
    "Discrepancy",
    "FieldTerm",
    "StressTerm",
    "nearest_points",
]

PAPER_STRAINS: tuple[float, ...] = (0.05, 0.06, 0.08, 0.09, 0.10, 0.11, 0.12, 0.35, 0.5)
PAPER_RANKS: tuple[int, ...] = (2, 4, 5, 5, 10, 10, 14, 15, 16)


@dataclass(frozen=True, slots=True, kw_only=True)
class FieldTerm:
    """Grassmann comparison of one field at a set of snapshot strains.

    Parameters
    ----------
    reference, model : str
        Variable names in the reference and model datasets; both have dims ``(frame, y, x)``
        (the model also ``sample``) and a coordinate ``strain(frame)``.
    model_scale : float
        Factor applied to the model field before comparison (2 turns tensor shear strain ``exy``
        into engineering strain ``gamma_xy``). Subspaces are scale invariant, so this matters only
        for ``energy``-based ranks; it is kept for clarity.
    strains : sequence of float
        Applied strains of the snapshots; each picks the frame nearest in strain.
    ranks : sequence of int or None
        Subspace rank per snapshot. ``None`` uses ``energy`` instead.
    energy : float or None
        With ``ranks=None``: the rank per snapshot is the smallest capturing this fraction of the
        reference snapshot's squared singular values, used for the model snapshot too.
    metric : str
        A metric of :func:`bayescal.manifold.distance` (default geodesic, radians).
    """

    reference: str = "gamma_xy"
    model: str = "exy"
    model_scale: float = 2.0
    strains: tuple[float, ...] = PAPER_STRAINS
    ranks: tuple[int, ...] | None = PAPER_RANKS
    energy: float | None = None
    metric: Metric = "geodesic"

    def __post_init__(self) -> None:
        object.__setattr__(self, "strains", tuple(float(s) for s in self.strains))
        if not self.strains:
            raise InputDataError("FieldTerm: strains must not be empty.")
        if self.ranks is not None:
            object.__setattr__(self, "ranks", tuple(int(r) for r in self.ranks))
            if len(self.ranks) != len(self.strains):
                raise InputDataError(
                    f"FieldTerm: need one rank per snapshot strain; got {len(self.ranks)} ranks "
                    f"for {len(self.strains)} strains."
                )
            if min(self.ranks) < 1:
                raise InputDataError(f"FieldTerm: ranks must be >= 1; got {self.ranks}.")
        elif self.energy is None or not 0.0 < self.energy <= 1.0:
            raise InputDataError(
                f"FieldTerm: with ranks=None give energy in (0, 1]; got energy={self.energy}."
            )

    def snapshot_distances(self, reference: xr.Dataset, model: xr.Dataset) -> np.ndarray:
        """Distance per sample and snapshot, shape ``(n_sample, n_snapshot)``."""
        ref = _at_strains(reference[self.reference], self.strains)  # (k, y, x)
        mod = _at_strains(model[self.model], self.strains)  # (sample, k, y, x)
        mod = mod * self.model_scale
        out = np.empty(mod.shape[:2])
        for k in range(len(self.strains)):
            if self.ranks is not None:
                rank = self.ranks[k]
                ref_basis = subspace(ref[k], rank)
            else:
                ref_basis, rank = subspace(ref[k], energy=self.energy)
            out[:, k] = distance(ref_basis, subspace(mod[:, k], rank), metric=self.metric)
        return out

    def snapshot_sizes(self, reference: xr.Dataset) -> tuple[int, ...]:
        """Length of each snapshot's part of :meth:`snapshot_residuals` (pixels x rank)."""
        ref = _at_strains(reference[self.reference], self.strains)
        if self.ranks is not None:
            return tuple(ref.shape[1] * r for r in self.ranks)
        return tuple(
            ref.shape[1] * subspace(ref[k], energy=self.energy)[1] for k in range(len(ref))
        )

    def snapshot_residuals(self, reference: xr.Dataset, model: xr.Dataset) -> np.ndarray:
        r"""Smooth residual vector per sample whose norm grows with the snapshot distances.

        For snapshot ``k`` with reference basis :math:`U_r` and model basis :math:`U_m` the
        residual is :math:`\operatorname{vec}(U_m Q - U_r) / K` with :math:`Q` the orthogonal
        polar factor of :math:`U_m^T U_r` (the rotation that best aligns the two bases). It
        depends on the model subspace only (not on its basis), is differentiable in the model's
        parameters while every principal angle is below 90 degrees, is zero exactly when the
        subspaces agree, and its norm is the Procrustes distance
        :math:`2 (\sum_i \sin^2(\theta_i/2))^{1/2}`: about the geodesic distance for small
        angles and increasing in every angle up to 90 degrees. (A projection residual
        :math:`(I - U_r U_r^T) U_m U_m^T U_r`, of norm :math:`(\sum \sin^2\theta_i
        \cos^2\theta_i)^{1/2}`, falls back to zero as the subspaces become orthogonal, so a
        likelihood built on it favours fields unlike the data.)

        Returns
        -------
        ndarray, shape (n_sample, sum_k n_pixel * rank_k)
        """
        ref = _at_strains(reference[self.reference], self.strains)
        mod = _at_strains(model[self.model], self.strains) * self.model_scale
        K = len(self.strains)
        parts = []
        for k in range(K):
            if self.ranks is not None:
                rank = self.ranks[k]
                ref_basis = subspace(ref[k], rank)
            else:
                ref_basis, rank = subspace(ref[k], energy=self.energy)
            U = subspace(mod[:, k], rank)  # (sample, pixel, rank)
            w, _, vt = np.linalg.svd(np.swapaxes(U, -1, -2) @ ref_basis)
            r = U @ (w @ vt) - ref_basis
            parts.append(r.reshape(r.shape[0], -1) / K)
        return np.concatenate(parts, axis=1)


@dataclass(frozen=True, slots=True, kw_only=True)
class StressTerm:
    """Mismatch of the macroscopic stress–strain curves.

    Parameters
    ----------
    reference, model : str
        Reference stress variable (1-D, with a strain coordinate ``reference_strain``) and model
        stress variable (``(sample, frame)`` with coordinate ``strain``), both in GPa.
    reference_strain : str
        Name of the reference stress's strain coordinate.
    peak_frames : tuple of int
        Half-open range of model frames weighted by ``peak_weight`` (default 15-27 inclusive).
    peak_weight : float
        Weight of the peak frames.
    normalise : {"nonzero", "count"}
        Divide the weighted sum by the number of nonzero terms (the original) or of all terms.
    """

    reference: str = "stress"
    model: str = "stress"
    reference_strain: str = "stress_strain"
    peak_frames: tuple[int, int] = (15, 28)
    peak_weight: float = 5.0
    normalise: str = "nonzero"

    def __post_init__(self) -> None:
        if self.normalise not in ("nonzero", "count"):
            raise InputDataError(
                f"StressTerm: normalise must be 'nonzero' or 'count'; got {self.normalise!r}."
            )
        lo, hi = self.peak_frames
        if not 0 <= lo <= hi:
            raise InputDataError(f"StressTerm: need 0 <= start <= stop; got {self.peak_frames}.")

    def mismatch(self, reference: xr.Dataset, model: xr.Dataset) -> np.ndarray:
        """Weighted mean absolute stress difference per sample, shape ``(n_sample,)``, GPa."""
        ref = reference[self.reference]
        mod = _with_sample(model[self.model]).transpose("sample", "frame")
        nearest, weights = self._frame_map(reference, mod["strain"].values)
        diff = np.abs(np.asarray(ref.values, dtype=float)[nearest][None, :] - mod.values)
        diff = diff * weights
        count = np.count_nonzero(diff, axis=1) if self.normalise == "nonzero" else diff.shape[1]
        return diff.sum(axis=1) / np.maximum(count, 1)

    def residuals(self, reference: xr.Dataset, model: xr.Dataset) -> np.ndarray:
        """Signed weighted stress differences per frame, shape ``(n_sample, n_frame)``, GPa.

        Their absolute sum is :meth:`mismatch` with ``normalise="count"`` (every frame counted).
        """
        ref = reference[self.reference]
        mod = _with_sample(model[self.model]).transpose("sample", "frame")
        nearest, scale = self.residual_map(reference, mod["strain"].values)
        diff = mod.values - np.asarray(ref.values, dtype=float)[nearest][None, :]
        return diff * scale

    def residual_map(
        self, reference: xr.Dataset, model_strain: ArrayLike
    ) -> tuple[np.ndarray, np.ndarray]:
        """How :meth:`residuals` reads the reference: index and factor per model frame.

        Returns
        -------
        nearest : ndarray of int, shape (n_frame,)
            Reference point compared with each model frame (nearest in strain).
        scale : ndarray, shape (n_frame,)
            Factor of each difference (peak weight over the number of frames).
        """
        nearest, weights = self._frame_map(reference, model_strain)
        return nearest, weights / weights.size

    def _frame_map(
        self, reference: xr.Dataset, model_strain: ArrayLike
    ) -> tuple[np.ndarray, np.ndarray]:
        """Reference point nearest to each model frame, and each frame's weight."""
        ref_strain = reference[self.reference][self.reference_strain].values
        nearest = nearest_points(ref_strain, model_strain)
        weights = np.ones(nearest.size)
        weights[slice(*self.peak_frames)] = self.peak_weight
        return nearest, weights


@dataclass(frozen=True, slots=True, kw_only=True)
class Discrepancy:
    """Combined discrepancy ``d = (sum_i w_i d_field_i + w_s d_stress) / (sum_i w_i + w_s)``.

    Parameters
    ----------
    fields : sequence of FieldTerm
        Field comparisons (default: the paper's strain snapshots).
    stress : StressTerm or None
        Stress–strain term, or ``None`` to leave it out.
    field_weights : sequence of float
        One weight per field term (paper: 1).
    stress_weight : float
        Weight of the stress term (paper: 3).

    Examples
    --------
    >>> Discrepancy().field_weights, Discrepancy().stress_weight
    ((1.0,), 3.0)
    """

    fields: tuple[FieldTerm, ...] = (FieldTerm(),)
    stress: StressTerm | None = field(default_factory=StressTerm)
    field_weights: tuple[float, ...] = (1.0,)
    stress_weight: float = 3.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "fields", tuple(self.fields))
        object.__setattr__(self, "field_weights", tuple(float(w) for w in self.field_weights))
        if len(self.field_weights) != len(self.fields):
            raise InputDataError(
                f"Discrepancy: need one weight per field term; got {len(self.field_weights)} "
                f"weights for {len(self.fields)} fields."
            )
        if not self.fields and self.stress is None:
            raise InputDataError("Discrepancy: needs at least one field term or a stress term.")
        total = sum(self.field_weights) + (self.stress_weight if self.stress else 0.0)
        if min((*self.field_weights, self.stress_weight)) < 0 or total <= 0:
            raise InputDataError("Discrepancy: weights must be >= 0 with a positive sum.")

    @property
    def reference_variables(self) -> tuple[str, ...]:
        """Variables the reference dataset must hold."""
        names = [f.reference for f in self.fields]
        if self.stress is not None:
            names.append(self.stress.reference)
        return tuple(names)

    def check_reference(self, reference: xr.Dataset) -> None:
        """Raise :class:`StudyDefinitionError` if ``reference`` lacks a needed variable.

        A leading ``realization`` dim is accepted here (a study selects one realization per
        evaluation); :meth:`__call__` needs a single realization.
        """
        missing = [n for n in self.reference_variables if n not in reference]
        if missing:
            raise StudyDefinitionError(
                f"reference data lacks {missing}; it has {sorted(map(str, reference.data_vars))}."
            )
        if self.stress is not None and self.stress.reference_strain not in reference.coords:
            raise StudyDefinitionError(
                f"reference stress needs the coordinate {self.stress.reference_strain!r}."
            )

    def check_model(self, reference: xr.Dataset, model: xr.Dataset) -> None:
        """Raise :class:`StudyDefinitionError` if a model output cannot be compared.

        Each compared field must exist, have the reference's ``(y, x)`` grid, and at every
        snapshot strain its nearest frame must lie within :data:`STRAIN_TOLERANCE` of the
        reference's nearest frame; the model's stress curve must span the
        reference curve's strain range within the same tolerance at both ends (frames are
        matched by nearest strain, so a shorter run would be compared with the wrong data).
        """
        tol = STRAIN_TOLERANCE
        for f in self.fields:
            if f.model not in model:
                raise StudyDefinitionError(
                    f"the forward model's output lacks the field {f.model!r}; it has "
                    f"{sorted(map(str, model.data_vars))}."
                )
            grid_ref = tuple(reference[f.reference].sizes.get(d, 0) for d in ("y", "x"))
            grid_mod = tuple(model[f.model].sizes.get(d, 0) for d in ("y", "x"))
            if grid_ref != grid_mod:
                raise StudyDefinitionError(
                    f"the forward model's {f.model!r} is on a {grid_mod[0]} x {grid_mod[1]} "
                    f"(y, x) grid, the reference's {f.reference!r} on {grid_ref[0]} x "
                    f"{grid_ref[1]}."
                )
            _check_strain_cover(
                model[f.model],
                reference[f.reference],
                f.strains,
                f"the forward model's {f.model!r}",
            )
        if self.stress is not None:
            if self.stress.model not in model:
                raise StudyDefinitionError(
                    f"the forward model's output lacks the stress {self.stress.model!r}."
                )
            ref = reference[self.stress.reference][self.stress.reference_strain].values
            mod = model[self.stress.model]["strain"].values
            lo, hi = float(np.min(ref)), float(np.max(ref))
            if np.min(mod) > lo + tol or np.max(mod) < hi - tol:
                raise StudyDefinitionError(
                    f"the forward model's stress covers strain {np.min(mod):.4g}-"
                    f"{np.max(mod):.4g}, the reference's {lo:.4g}-{hi:.4g} (tolerance {tol}); "
                    f"run the model over the reference's strain range."
                )

    def __call__(self, reference: xr.Dataset, model: xr.Dataset) -> xr.Dataset:
        """Discrepancy of each model sample against the reference.

        Parameters
        ----------
        reference : xarray.Dataset
            Reference data, e.g. :func:`bayescal.datasets.load_cuzr`.
        model : xarray.Dataset
            Model output with or without a ``sample`` dim; samples whose ``status`` is nonzero or
            whose fields are not finite get NaN.

        Returns
        -------
        xarray.Dataset
            ``discrepancy(sample)``, ``stress_term(sample)``, ``field_term(sample, term)``, and
            ``snapshot_distance(sample, term, snapshot)`` for the first field term's snapshots.
        """
        self.check_reference(reference)
        several = [n for n in self.reference_variables if "realization" in reference[n].dims]
        if several:
            raise InputDataError(
                f"reference variables {several} have a 'realization' dim; compare with one "
                "realization at a time, reference.isel(realization=r)."
            )
        batched = "sample" in model.dims
        model = _with_sample(model)
        n = model.sizes["sample"]
        ok = _valid_samples(model, self)
        good = model.isel(sample=np.flatnonzero(ok))
        field_terms = np.full((n, len(self.fields)), np.nan)
        snapshots = [np.full((n, len(f.strains)), np.nan) for f in self.fields]
        stress_term = np.full(n, np.nan)
        total = np.full(n, np.nan)
        if ok.any():
            numerator = np.zeros(int(ok.sum()))
            for i, (term, w) in enumerate(zip(self.fields, self.field_weights, strict=True)):
                per_snapshot = term.snapshot_distances(reference, good)
                snapshots[i][ok] = per_snapshot
                field_terms[ok, i] = per_snapshot.mean(axis=1)
                numerator += w * field_terms[ok, i]
            weight_sum = sum(self.field_weights)
            if self.stress is not None:
                stress_term[ok] = self.stress.mismatch(reference, good)
                numerator += self.stress_weight * stress_term[ok]
                weight_sum += self.stress_weight
            total[ok] = numerator / weight_sum
        out = xr.Dataset(
            {
                "discrepancy": (("sample",), total, {"units": "1", "long_name": "discrepancy"}),
                "field_term": (("sample", "term"), field_terms, {"units": "rad"}),
                "stress_term": (("sample",), stress_term, {"units": "GPa"}),
            },
            coords={"term": [f"{f.reference}:{f.model}" for f in self.fields]},
        )
        if self.fields:
            out["snapshot_distance"] = (("sample", "snapshot"), snapshots[0], {"units": "rad"})
            out = out.assign_coords(snapshot_strain=("snapshot", list(self.fields[0].strains)))
        return out if batched else out.isel(sample=0)

    def residuals(self, reference: xr.Dataset, model: xr.Dataset) -> np.ndarray:
        """Smooth residual vector of each model sample, zero where the model matches exactly.

        The weighted concatenation ``[w_i r_field_i, w_s r_stress] / (sum_i w_i + w_s)`` of
        :meth:`FieldTerm.snapshot_residuals` and :meth:`StressTerm.residuals`: the same terms and
        weights as the discrepancy, as differentiable vectors instead of norms, for
        least-squares (Gauss–Newton) refinement (:mod:`bayescal.optimize.gauss_newton`).

        Returns
        -------
        ndarray, shape (n_sample, m)
            NaN rows for samples the discrepancy rejects (status or non-finite fields).
        """
        self.check_reference(reference)
        model = _with_sample(model)
        ok = _valid_samples(model, self)
        good = model.isel(sample=np.flatnonzero(ok))
        fields = [term.snapshot_residuals(reference, good) for term in self.fields]
        stress = self.stress.residuals(reference, good) if self.stress is not None else None
        good_rows = self.combine_residuals(fields, stress)
        out = np.full((model.sizes["sample"], good_rows.shape[1]), np.nan)
        out[ok] = good_rows
        return out

    def residual_parts(self, reference: xr.Dataset) -> tuple[int, ...]:
        """Lengths of the snapshot parts that start :meth:`residuals`; the rest is the stress.

        With the weighted residual vector ``r`` of :meth:`residuals`, the sum of the Euclidean
        norms of these parts plus the sum of the absolute values of the rest is the discrepancy
        with each snapshot's geodesic distance replaced by its Procrustes distance
        ``2 (sum_i sin^2(theta_i / 2))^{1/2}`` (equal to second order in the angles) and the
        stress normalised by the number of frames (the original's normalisation when no frame
        matches exactly): :func:`bayescal.optimize.composite.procrustes_discrepancy`.
        """
        return tuple(n for term in self.fields for n in term.snapshot_sizes(reference))

    def combine_residuals(
        self, fields: Sequence[np.ndarray], stress: np.ndarray | None
    ) -> np.ndarray:
        """The weighted concatenation of per-term residual blocks (see :meth:`residuals`).

        Parameters
        ----------
        fields : sequence of ndarray, shape (n_sample, m_i)
            One block per field term, in ``self.fields`` order.
        stress : ndarray, shape (n_sample, n_frame), or None
            The stress block (None without a stress term).

        Returns
        -------
        ndarray, shape (n_sample, sum_i m_i + n_frame)
        """
        weight_sum = sum(self.field_weights) + (self.stress_weight if self.stress else 0.0)
        parts = [w * r for r, w in zip(fields, self.field_weights, strict=True)]
        if self.stress is not None and stress is not None:
            parts.append(self.stress_weight * stress)
        return np.concatenate(parts, axis=1) / weight_sum


_XR = TypeVar("_XR", xr.Dataset, xr.DataArray)


def _with_sample(obj: _XR) -> _XR:
    return obj if "sample" in obj.dims else obj.expand_dims("sample")


def _valid_samples(model: xr.Dataset, disc: Discrepancy) -> np.ndarray:
    ok = np.ones(model.sizes["sample"], dtype=bool)
    if "status" in model:
        ok &= np.asarray(model["status"].values).reshape(-1) == 0
    names = [f.model for f in disc.fields] + ([disc.stress.model] if disc.stress else [])
    for name in names:
        if name not in model:
            raise InputDataError(
                f"model output lacks {name!r}; it has {sorted(map(str, model.data_vars))}."
            )
        values = _with_sample(model[name]).transpose("sample", ...).values
        ok &= np.isfinite(values.reshape(values.shape[0], -1)).all(axis=1)
    return ok


def nearest_points(grid: ArrayLike, values: ArrayLike) -> np.ndarray:
    """Index of the point of ``grid`` nearest to each of ``values`` (the first on a tie).

    Parameters
    ----------
    grid : array_like, shape (n,)
        E.g. the strains of a model's frames.
    values : array_like, shape (k,)
        The strains wanted.

    Returns
    -------
    ndarray of int, shape (k,)

    Examples
    --------
    >>> nearest_points([0.0, 0.1, 0.2], [0.09, 0.2, 1.0]).tolist()
    [1, 2, 2]
    """
    g = np.asarray(grid, dtype=float)
    v = np.asarray(values, dtype=float)
    return np.abs(g[None, :] - v[:, None]).argmin(axis=1)


#: Largest gap (engineering strain) between the model's and the reference's compared frames.
STRAIN_TOLERANCE = 0.01


def _check_strain_cover(
    model: xr.DataArray, reference: xr.DataArray, strains: Sequence[float], what: str
) -> None:
    """Raise unless ``model`` is compared within :data:`STRAIN_TOLERANCE` of ``reference``.

    At each compared strain both pick their nearest frame; those frames' strains must agree.
    """
    if "strain" not in model.coords:
        raise StudyDefinitionError(f"{what} needs a 'strain' coordinate on 'frame'.")
    have = np.asarray(model["strain"].values, dtype=float)
    ref = np.asarray(reference["strain"].values, dtype=float)
    used = have[nearest_points(have, strains)]
    wanted = ref[nearest_points(ref, strains)]
    gap = np.abs(used - wanted)
    if gap.max() > STRAIN_TOLERANCE:
        i = int(gap.argmax())
        raise StudyDefinitionError(
            f"{what} is compared at strain {used[i]:.4g} with the reference's frame at "
            f"{wanted[i]:.4g} (snapshot {strains[i]:.4g}; tolerance {STRAIN_TOLERANCE}; its "
            f"frames cover {have.min():.4g}-{have.max():.4g})."
        )


def _at_strains(field_: xr.DataArray, strains: Sequence[float]) -> np.ndarray:
    """Frames of ``field_`` nearest to ``strains``: ``(..., k, y, x)`` with leading dims kept."""
    if "strain" not in field_.coords:
        raise InputDataError(f"field {field_.name!r} needs a 'strain' coordinate on 'frame'.")
    idx = nearest_points(field_["strain"].values, strains)
    ordered = field_.transpose(..., "frame", "y", "x")
    return np.asarray(ordered.isel(frame=idx).values, dtype=float)
