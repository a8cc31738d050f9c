"""Acquisition step of EGO: (q)LogEI maximised over a feasible, repelled candidate set."""

from __future__ import annotations

import logging
import warnings
from collections.abc import Callable

import numpy as np
import torch
from botorch.acquisition import LogExpectedImprovement, qLogExpectedImprovement
from botorch.acquisition.acquisition import AcquisitionFunction
from botorch.acquisition.objective import MCAcquisitionObjective
from botorch.exceptions.warnings import OptimizationWarning
from botorch.models.model import Model
from botorch.optim import optimize_acqf
from botorch.sampling import SobolQMCNormalSampler
from linear_operator.utils.warnings import NumericalWarning
from scipy.spatial.distance import cdist

from bayescal.optimize.lhs import as_feasible_mask, sobol

__all__ = ["propose_batch", "raw_candidates"]

logger = logging.getLogger(__name__)

DTYPE = torch.float64
_CHUNK = 1024


def _evaluate(acq: AcquisitionFunction, x: np.ndarray) -> np.ndarray:
    """Acquisition values of single points ``x`` (m, d) -> (m,), in chunks, without grad."""
    out = []
    with torch.no_grad():
        for start in range(0, len(x), _CHUNK):
            t = torch.as_tensor(x[start : start + _CHUNK], dtype=DTYPE).unsqueeze(-2)
            out.append(acq(t).numpy())
    return np.concatenate(out) if out else np.empty(0)


def _far(x: np.ndarray, avoid: np.ndarray, radius: float) -> np.ndarray:
    """Mask of rows of ``x`` farther than ``radius`` from every row of ``avoid``."""
    if len(avoid) == 0 or len(x) == 0:
        return np.ones(len(x), dtype=bool)
    return cdist(x, avoid).min(axis=1) > radius


def raw_candidates(
    n: int,
    *,
    box: np.ndarray,
    centres: np.ndarray,
    rng: np.random.Generator,
    feasible: Callable[[np.ndarray], np.ndarray] | None,
) -> np.ndarray:
    """Feasible raw candidates in ``box``: scrambled Sobol plus steps around ``centres``.

    ``n`` (rounded up to a power of two) Sobol points scaled to ``box`` and ``n // 2`` Gaussian
    steps (standard deviation 10 % or 1 % of the box width, at random) from random rows of
    ``centres`` (the best OK points), clipped to the box; infeasible ones are dropped and the
    set is enlarged (x4, up to x64) until ``n`` feasible candidates remain.

    Returns
    -------
    ndarray, shape (m, d)
        Candidates (``m >= n`` unless the constraint is nearly empty).
    """
    d = box.shape[1]
    width = box[1] - box[0]
    out: list[np.ndarray] = []
    n_have, scale = 0, 1
    while n_have < n and scale <= 64:
        u = sobol(n * scale, d, seed=rng)
        steps = rng.normal(size=(n * scale // 2, d)) * width
        steps *= rng.choice([0.1, 0.01], size=(len(steps), 1))
        around = centres[rng.integers(len(centres), size=len(steps))] + steps
        c = np.concatenate([box[0] + u * width, np.clip(around, box[0], box[1])])
        c = c[as_feasible_mask(feasible, c)]
        out.append(c)
        n_have += len(c)
        scale *= 4
    return np.concatenate(out)


def propose_batch(
    model: Model,
    *,
    best_z: float,
    q: int,
    bounds: np.ndarray,
    candidates: np.ndarray,
    avoid: np.ndarray,
    avoid_radius: float,
    feasible: Callable[[np.ndarray], np.ndarray] | None,
    num_restarts: int,
    mc_samples: int,
    seed: int,
    pending: np.ndarray | None = None,
    objective: MCAcquisitionObjective | None = None,
) -> np.ndarray | None:
    """Propose ``q`` points maximising expected improvement over ``best_z`` (maximisation).

    For ``q == 1`` the analytic ``LogExpectedImprovement`` is used; for ``q > 1`` the batch is
    built greedily (sequential greedy, as BoTorch's ``optimize_acqf(sequential=True)``): point
    ``i`` maximises ``qLogExpectedImprovement`` with points ``0..i-1`` as ``X_pending``.
    Each point: the acquisition is evaluated on ``candidates`` (feasible, inside ``bounds``);
    the best ``num_restarts`` of those farther than ``avoid_radius`` from ``avoid`` and the
    points already chosen start L-BFGS-B (``optimize_acqf`` with ``batch_initial_conditions``);
    the first optimiser result (best first) that is feasible and far enough is taken, else the
    best such raw candidate.

    Parameters
    ----------
    model : botorch Model
        Fitted surrogate of the (transformed, negated) objective.
    best_z : float
        Incumbent in the model's output space.
    q : int
        Batch size.
    bounds : ndarray, shape (2, d)
        Search box (unit cube or the local trust region).
    candidates : ndarray, shape (m, d)
        Feasible raw candidates inside ``bounds``.
    avoid : ndarray, shape (k, d)
        Evaluated points (any status).
    avoid_radius : float
        Minimum Euclidean distance of a proposal to ``avoid`` and to the rest of its batch.
    feasible : callable or None
        Known constraint.
    num_restarts : int
        Optimiser starts.
    mc_samples : int
        QMC samples for ``qLogExpectedImprovement``.
    seed : int
        Seed of the QMC sampler.
    pending : ndarray, shape (k, d), optional
        Points already in the batch (chosen by another rule): they are ``X_pending`` of every
        new point and lead the returned batch.
    objective : MCAcquisitionObjective, optional
        Map from the model's (multi-output) samples to the maximised quantity; with it every
        point uses ``qLogExpectedImprovement`` (composite EGO, ``best_z`` on its scale).

    Returns
    -------
    ndarray, shape (k + q, d), or None
        The batch, or ``None`` if no admissible point was found (the caller falls back).
    """
    torch_bounds = torch.as_tensor(bounds, dtype=DTYPE)
    chosen: list[np.ndarray] = [] if pending is None else list(np.atleast_2d(pending))
    for i in range(q):
        if q == 1 and not chosen and objective is None:
            acq: AcquisitionFunction = LogExpectedImprovement(model, best_f=best_z)
        else:
            sampler = SobolQMCNormalSampler(torch.Size([mc_samples]), seed=seed + i)
            x_pending = torch.as_tensor(np.array(chosen), dtype=DTYPE) if chosen else None
            acq = qLogExpectedImprovement(
                model, best_f=best_z, sampler=sampler, X_pending=x_pending, objective=objective
            )
        blocked = np.concatenate([avoid, np.array(chosen).reshape(-1, avoid.shape[1])])
        raw = candidates[_far(candidates, blocked, avoid_radius)]
        if len(raw) == 0:
            return None
        values = _evaluate(acq, raw)
        order = np.argsort(-values, kind="stable")
        raw = raw[order]
        starts = torch.as_tensor(raw[:num_restarts], dtype=DTYPE).unsqueeze(-2)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", OptimizationWarning)
            warnings.simplefilter("ignore", NumericalWarning)  # Cholesky jitter added
            opt_x_t, opt_v_t = optimize_acqf(
                acq,
                bounds=torch_bounds,
                q=1,
                num_restarts=len(starts),
                batch_initial_conditions=starts,
                return_best_only=False,
                retry_on_optimization_warning=False,
            )
        if opt_v_t is None:  # only with return_acq_values=False
            raise RuntimeError("optimize_acqf returned no acquisition values")
        opt_x = opt_x_t.detach().squeeze(-2).numpy()
        opt_v = opt_v_t.detach().reshape(-1).numpy()
        opt_x = np.clip(opt_x[np.argsort(-opt_v, kind="stable")], bounds[0], bounds[1])
        ok = _far(opt_x, blocked, avoid_radius) & as_feasible_mask(feasible, opt_x)
        if ok.any():
            point = opt_x[np.argmax(ok)]
        else:
            logger.debug("optimiser left the admissible set; using the best raw candidate")
            point = raw[0]
        chosen.append(point)
    return np.array(chosen)
