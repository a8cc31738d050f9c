"""Composite EGO: GPs of the residual vector's principal parts, the discrepancy from their samples.

The discrepancy is a sum of norms of a structured residual vector (its snapshot parts and its
stress part, :meth:`bayescal.discrepancy.Discrepancy.residual_parts`): a cone at an exact
match and flat plateaus far from it, which one GP of ``d`` represents poorly. Composite Bayesian
optimisation (Astudillo & Frazier, ICML 2019) models the residual instead, which is smooth, and
applies the known map to ``d`` inside the acquisition (Monte-Carlo ``qLogEI`` on joint samples).

The model here, fitted on ``n`` evaluations:

- the field parts (all snapshot parts together) reduced to at most ``max_components``
  principal components, a GP per component score;
- per snapshot part, a GP of ``log`` of the squared norm of what those components leave out;
- the stress part reduced to its own principal components (``variance`` of its spread), a GP
  per score.

A sample of the outputs gives each snapshot part's squared norm as the norm of its
reconstruction plus the left-out part, and the stress part's absolute sum from its
reconstruction: :func:`procrustes_discrepancy` of the sample, whose log the acquisition
minimises.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from botorch.acquisition.objective import MCAcquisitionObjective
from botorch.models.model import Model

from bayescal.emulate.components import principal_components
from bayescal.errors import InputDataError
from bayescal.optimize.surrogate import DTYPE, fit_gp

__all__ = [
    "ResidualSurrogate",
    "fit_residual_surrogate",
    "procrustes_discrepancy",
]

_TINY = 1e-300


def procrustes_discrepancy(residuals: np.ndarray, parts: Sequence[int]) -> np.ndarray:
    """The discrepancy a residual vector adds up to (Procrustes snapshot distances).

    Parameters
    ----------
    residuals : ndarray, shape (..., m)
        Weighted residual vectors (:meth:`bayescal.discrepancy.Discrepancy.residuals`).
    parts : sequence of int
        Lengths of the snapshot parts at the start of the vector; the rest is the stress part
        (:meth:`~bayescal.discrepancy.Discrepancy.residual_parts`).

    Returns
    -------
    ndarray, shape (...)
        Sum of the snapshot parts' Euclidean norms plus the stress part's absolute sum.
    """
    r = np.asarray(residuals, dtype=float)
    edges = np.cumsum((0, *parts))
    if edges[-1] > r.shape[-1]:
        raise InputDataError(
            f"residual parts of total length {edges[-1]} exceed the vector length {r.shape[-1]}."
        )
    norms = [np.linalg.norm(r[..., a:b], axis=-1) for a, b in itertools.pairwise(edges)]
    return np.sum(norms, axis=0) + np.abs(r[..., edges[-1] :]).sum(axis=-1)


def _principal(r: np.ndarray, max_components: int, variance: float):
    """Centre, basis (m, k) and scores (n, k) of at most ``max_components`` components."""
    center, directions, scores, _ = principal_components(
        r, variance=variance, max_components=max_components
    )
    return center, directions.T, scores


@dataclass(frozen=True, slots=True, kw_only=True)
class ResidualSurrogate:
    """A multi-output GP of residual summaries and the map from its outputs to ``log d``.

    Attributes
    ----------
    model : botorch Model
        Outputs: field component scores (``k_f``), log left-out squared norm per snapshot part
        (``p``), stress component scores (``k_s``), in that order.
    part_const, part_lin, part_quad : tensors, shapes (p,), (p, k_f), (p, k_f, k_f)
        Squared norm of snapshot part ``j``'s reconstruction from field scores ``s``:
        ``const_j + 2 lin_j . s + s . quad_j . s``.
    stress_center, stress_basis : tensors, shapes (m_s,), (m_s, k_s)
        Reconstruction of the stress part from its scores.
    k_field : int
        Number of field components.
    best_log_d : float
        Smallest ``log`` of :func:`procrustes_discrepancy` over the training residuals.
    """

    model: Model
    part_const: torch.Tensor
    part_lin: torch.Tensor
    part_quad: torch.Tensor
    stress_center: torch.Tensor
    stress_basis: torch.Tensor
    k_field: int
    best_log_d: float

    def log_discrepancy(self, outputs: torch.Tensor) -> torch.Tensor:
        """``log d`` of output samples ``(..., n_out)`` -> ``(...)``."""
        kf, p = self.k_field, self.part_const.shape[0]
        s = outputs[..., :kf]
        left_out = torch.exp(outputs[..., kf : kf + p])
        sq = (
            self.part_const
            + 2.0 * s @ self.part_lin.T
            + torch.einsum("...i,jik,...k->...j", s, self.part_quad, s)
        )
        field = torch.sqrt(torch.clamp(sq, min=0.0) + left_out).sum(-1)
        stress_scores = outputs[..., kf + p :]
        if stress_scores.shape[-1]:
            stress = self.stress_center + stress_scores @ self.stress_basis.T
            field = field + stress.abs().sum(-1)
        return torch.log(torch.clamp(field, min=_TINY))

    def objective(self) -> MCAcquisitionObjective:
        """``-log d`` of posterior samples, for maximising acquisitions."""
        from botorch.acquisition.objective import GenericMCObjective

        def minus_log_d(samples: torch.Tensor, X: torch.Tensor | None = None) -> torch.Tensor:
            return -self.log_discrepancy(samples)

        return GenericMCObjective(minus_log_d)


def fit_residual_surrogate(
    x: np.ndarray,
    residuals: np.ndarray,
    parts: Sequence[int],
    *,
    input_bounds: np.ndarray,
    seed: int,
    max_components: int = 8,
    variance: float = 0.999,
) -> ResidualSurrogate:
    """Fit the composite surrogate on evaluated points and their residual vectors.

    Parameters
    ----------
    x : ndarray, shape (n, d)
        Unit-cube points.
    residuals : ndarray, shape (n, m)
        Their weighted residual vectors (finite).
    parts : sequence of int
        Snapshot part lengths (see :func:`procrustes_discrepancy`).
    input_bounds : ndarray, shape (2, d)
        Bounds of the GP's input normalisation.
    seed : int
        Seed of the GP fit.
    max_components : int
        Principal components of the field parts (and of the stress part), at most.
    variance : float
        Variance fraction the stress components keep (at most ``max_components``).

    Returns
    -------
    ResidualSurrogate
    """
    r = np.asarray(residuals, dtype=float)
    if r.ndim != 2 or r.shape[0] != len(x) or not np.isfinite(r).all():
        raise InputDataError(
            f"residuals must be a finite ({len(x)}, m) array; got shape {r.shape} "
            f"({int((~np.isfinite(r)).sum())} non-finite entries)."
        )
    edges = np.cumsum((0, *parts))
    n_field = int(edges[-1])
    if n_field == 0:
        raise InputDataError("composite EGO needs at least one snapshot part (a field term).")
    field, stress = r[:, :n_field], r[:, n_field:]
    center, basis, scores = _principal(field, max_components, 1.0)
    recon = center + scores @ basis.T
    left_out = np.stack(
        [np.sum((field - recon)[:, a:b] ** 2, axis=1) for a, b in itertools.pairwise(edges)],
        axis=1,
    )
    outputs = [scores, np.log(np.maximum(left_out, _TINY))]
    if stress.shape[1]:
        s_center, s_basis, s_scores = _principal(stress, max_components, variance)
        outputs.append(s_scores)
    else:
        s_center, s_basis = np.zeros(0), np.zeros((0, 0))
    model = fit_gp(x, np.concatenate(outputs, axis=1), input_bounds=input_bounds, seed=seed)
    const = np.array([center[a:b] @ center[a:b] for a, b in itertools.pairwise(edges)])
    lin = np.stack([basis[a:b].T @ center[a:b] for a, b in itertools.pairwise(edges)])
    quad = np.stack([basis[a:b].T @ basis[a:b] for a, b in itertools.pairwise(edges)])
    best = float(np.log(max(np.min(procrustes_discrepancy(r, parts)), _TINY)))

    def t(a: np.ndarray) -> torch.Tensor:
        return torch.as_tensor(a, dtype=DTYPE)

    return ResidualSurrogate(
        model=model,
        part_const=t(const),
        part_lin=t(lin),
        part_quad=t(quad),
        stress_center=t(s_center),
        stress_basis=t(s_basis),
        k_field=basis.shape[1],
        best_log_d=best,
    )
