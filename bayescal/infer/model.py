"""Posterior from the discrepancy ``d`` alone: per-seed emulators of ``d``, floor or Gibbs.

For forward models whose evaluations hold only ``d`` (no kept outputs, so no residual vectors).
The default posterior is the residual likelihood of :mod:`bayescal.infer.residual_model`,
which uses the data's structure and noise; this module's likelihoods know only how ``d``
varies.

What the posterior answers
--------------------------
Each EGO seed ``k`` is an independent search of the same discrepancy ``d(theta)``; its OK
evaluations train its own GP emulator, giving mean ``m_k`` and latent variance ``s_k^2`` of
``g(d)`` (``g = log`` by default). Two likelihoods are offered:

``"floor"``
    The calibrated model cannot fit the data exactly; its best attainable discrepancy is the
    floor ``d*_k`` (best observed ``g(d)`` of seed ``k``). The likelihood states that at the true
    parameters the emulated discrepancy sits at that floor up to emulator error and a learned
    model-form error ``sigma``: ``d*_k ~ N(m_k(theta_k), s_k^2(theta_k) + sigma^2)``. The
    posterior is the set of parameters whose discrepancy is indistinguishable from the best one:
    it widens where the emulator is unsure (``s_k^2``) and with the model error, and it is
    proper because the priors are bounded. ``sigma ~ LogNormal(log(s), w)`` with ``s`` and
    ``w`` the ``model_error_scale`` and ``model_error_spread`` of
    :class:`~bayescal.infer.options.FloorLikelihood` (``w = 0.5``: 95 % within a factor 2.7 of
    ``s``). ``sigma`` is learned from only one floor per seed, so its prior acts as the
    tolerance "how far above the floor is still consistent" (0.1 on the log scale: about
    10 %). The prior keeps ``sigma`` away from 0 on purpose: the floor is itself an evaluated
    point where the emulator interpolates (``m = d*``, ``s ~ 0``), so with ``sigma -> 0``
    (allowed by a HalfNormal, still likely under a Gamma(2)) the posterior collapses onto the
    best evaluation and NUTS meets a funnel. ``model_error_spread=0`` fixes ``sigma`` at the
    scale instead: a stated tolerance. A learned ``sigma`` grows with the parameter volume it
    admits, and NUTS crosses that funnel slowly. Its width is therefore a stated tolerance
    more than a property of the data, and several seeds multiply one floor likelihood each
    although they searched the same data: use it only where the residual likelihood cannot be
    used. Two safeguards belong to this likelihood. Each emulator is fitted on values clipped
    at ``floor + emulator_cap`` (a cliff in ``g(d)`` far from the floor would otherwise force a
    short lengthscale everywhere). Seeds whose floor lies more than ``FloorLikelihood.tolerance``
    above the best seed's are left out (their search stopped in another basin).
``"gibbs"``
    A generalised-Bayes (Gibbs) posterior ``p(theta) exp(-d(theta) / T)`` with ``d`` the emulator
    mean back on the discrepancy scale (``exp(m)`` for ``log``, the median). When ``d`` is a
    negative log-likelihood (e.g. ``0.5 |y - f(theta)|^2 / noise^2``) and ``T = 1`` this is exact
    Bayes, which is how the pipeline is checked by simulation-based calibration. The emulator
    variance is not used (plug-in); ``T`` is fixed because its normalising constant is unknown.

Pooling ("over seeds")
    ``"partial"``: parameters ``theta_k`` per seed, non-centred in logit-unit space,
    ``logit(u_k) = logit(u_pop) + tau * eps_k``, ``eps_k ~ N(0, 1)``,
    ``tau ~ HalfNormal(spread_scale)`` per parameter, ``theta_pop`` with the study prior. The
    pooled posterior (variables named as the parameters) is the location shared by the seeds:
    the parameter set the searches agree on, with ``tau`` measuring their disagreement beyond
    each emulator's uncertainty. Per-seed posteriors are ``<name>_seed`` (dim ``seed``).
    ``"none"``: only ``<name>_seed``, independent. ``"complete"``: one emulator on all OK
    evaluations and one ``theta`` (variables named as the parameters).

Coordinates
    With ``PosteriorOptions.reparam`` the free variables (and their priors, and ``tau``'s
    ``param`` dim) are the reparametrisation's names; the searched parameters the emulators
    take are deterministics of them, under the same names as without it.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import xarray as xr

from bayescal._pytensor_blas import configure_pytensor_blas
from bayescal.emulate import GPEmulator, fit_emulator
from bayescal.errors import ConvergenceWarning, InputDataError
from bayescal.infer.options import PosteriorOptions
from bayescal.infer.priors import partially_pooled, prior_variable

if TYPE_CHECKING:
    import pymc as pm

__all__ = ["CalibrationData", "build_model", "evaluation_bounds", "prepare"]

logger = logging.getLogger(__name__)

STATUS_OK = 0
_REQUIRED = ("theta", "discrepancy", "status", "seed")


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class CalibrationData:
    """Everything the PyMC model needs, extracted from the evaluations.

    Attributes
    ----------
    names : tuple of str, length d
        Parameter names (the ``param`` coordinate).
    lower, upper : ndarray, shape (d,)
        Study bounds (physical units).
    seeds : tuple of int, length K
        Seed labels, one per emulator (``(-1,)`` for complete pooling: all seeds).
    emulators : tuple of GPEmulator, length K
        One emulator per seed (or one on all evaluations).
    floors : ndarray, shape (K,)
        Best observed discrepancy of each emulator's training set, on the emulated scale.
    best_theta : ndarray, shape (K, d)
        The EGO optimum (physical units) of each emulator's training set.
    excluded_seeds : tuple of int
        Seeds left out because their search did not reach the best seeds' level
        (``FloorLikelihood.tolerance``).
    """

    names: tuple[str, ...]
    lower: np.ndarray
    upper: np.ndarray
    seeds: tuple[int, ...]
    emulators: tuple[GPEmulator, ...]
    floors: np.ndarray
    best_theta: np.ndarray
    excluded_seeds: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        if len(self.emulators) != len(self.seeds) or len(self.floors) != len(self.seeds):
            raise InputDataError("need one emulator and one floor per seed.")
        if np.any(self.upper <= self.lower):
            raise InputDataError(f"need lower < upper; got {self.lower} and {self.upper}.")


def evaluation_bounds(evaluations: xr.Dataset, d: int) -> tuple[np.ndarray, np.ndarray]:
    """The study bounds in the evaluations' attrs ``param_lower``/``param_upper``, shape (d,)."""
    try:
        lower = np.asarray(evaluations.attrs["param_lower"], dtype=float).reshape(-1)
        upper = np.asarray(evaluations.attrs["param_upper"], dtype=float).reshape(-1)
    except KeyError as exc:
        raise InputDataError(
            "evaluations need attrs 'param_lower' and 'param_upper' (the study bounds)."
        ) from exc
    if lower.shape != (d,) or upper.shape != (d,):
        raise InputDataError(f"param_lower/param_upper must have {d} entries each.")
    return lower, upper


def prepare(
    evaluations: xr.Dataset,
    options: PosteriorOptions,
    *,
    rng: int | np.random.Generator | None = None,
) -> CalibrationData:
    """Select OK evaluations, split them by seed and fit the emulators.

    Parameters
    ----------
    evaluations : xarray.Dataset
        ``theta(eval, param)``, ``discrepancy(eval)``, ``status(eval)``, ``seed(eval)``,
        optionally ``unit(eval, param)``; attrs ``param_lower``, ``param_upper``.
    options : PosteriorOptions
        Uses ``pooling`` and ``transform``.
    rng : int, numpy Generator or None
        Seeds the emulator fits.

    Returns
    -------
    CalibrationData

    Raises
    ------
    InputDataError
        Missing variables or bounds, or a seed with fewer than 3 OK evaluations.
    """
    missing = [v for v in _REQUIRED if v not in evaluations]
    if missing:
        raise InputDataError(f"evaluations lack variables {missing}; need {list(_REQUIRED)}.")
    names = tuple(str(n) for n in evaluations["param"].values)
    lower, upper = evaluation_bounds(evaluations, len(names))
    theta = evaluations["theta"].transpose("eval", "param").values.astype(float)
    if "unit" in evaluations:
        unit = evaluations["unit"].transpose("eval", "param").values.astype(float)
    else:
        unit = (theta - lower) / (upper - lower)
    d = evaluations["discrepancy"].values.astype(float)
    ok = (evaluations["status"].values == STATUS_OK) & np.isfinite(d)
    ok &= np.all(np.isfinite(unit), axis=1)
    seed_of = evaluations["seed"].values.astype(int)
    if options.pooling == "complete":
        groups: list[tuple[int, np.ndarray]] = [(-1, ok)]
    else:
        groups = [(int(s), ok & (seed_of == s)) for s in np.unique(seed_of[ok])]
    if not groups or not np.any(ok):
        raise InputDataError("evaluations hold no OK evaluation with a finite discrepancy.")
    for label, mask in groups:
        if mask.sum() < 3:
            raise InputDataError(
                f"seed {label} has {int(mask.sum())} OK evaluations; need >= 3 to fit its "
                "emulator. Use pooling='complete' or drop the seed."
            )
    # one generator per seed, whichever seeds are then left out
    labels = [label for label, _ in groups]
    rngs = dict(zip(labels, np.random.default_rng(rng).spawn(len(groups)), strict=True))
    emulators, floors, best = [], [], []
    groups, excluded = _converged_groups(groups, d, options)
    for label, mask in groups:
        child = rngs[label]
        em = fit_emulator(
            unit[mask], d[mask], transform=options.floor.transform, cap=options.cap, rng=child
        )
        i = int(np.argmin(em.y))
        emulators.append(em)
        floors.append(em.y[i])
        best.append(theta[mask][i])
        logger.info("seed %d: emulator on %d evaluations, floor %.4g", label, mask.sum(), em.y[i])
    return CalibrationData(
        names=names,
        lower=lower,
        upper=upper,
        seeds=tuple(g[0] for g in groups),
        emulators=tuple(emulators),
        floors=np.asarray(floors),
        best_theta=np.asarray(best),
        excluded_seeds=excluded,
    )


def _converged_groups(
    groups: list[tuple[int, np.ndarray]], d: np.ndarray, options: PosteriorOptions
) -> tuple[list[tuple[int, np.ndarray]], tuple[int, ...]]:
    """Drop seeds whose best ``g(d)`` is more than ``floor.tolerance`` above the best seed's.

    Such a search stopped in another basin. Its floor is not an observation of the attainable
    discrepancy, and with it the floor likelihood can only be met by a large model error
    ``sigma`` that spreads every seed's posterior over the whole box.
    """
    tol = options.floor.tolerance
    if tol is None or len(groups) < 2 or options.likelihood != "floor":
        return groups, ()
    raw = np.array([np.min(d[mask]) for _, mask in groups])  # every group has >= 3 points
    best = np.log(raw) if options.floor.transform == "log" else raw
    keep = best <= best.min() + tol
    excluded = tuple(label for (label, _), k in zip(groups, keep, strict=True) if not k)
    if excluded:
        warnings.warn(
            f"seeds {list(excluded)} left out of the posterior: their best discrepancy "
            f"{np.round(raw[~keep], 4).tolist()} is more than floor.tolerance={tol} above the "
            "best seed's; their searches did not reach its basin (rerun them with a larger "
            "budget, or set FloorLikelihood(tolerance=None)).",
            ConvergenceWarning,
            stacklevel=3,
        )
    return [grp for grp, k in zip(groups, keep, strict=True) if k], excluded


def _free_parameters(
    names: Sequence[str], lower: np.ndarray, upper: np.ndarray, options: PosteriorOptions
) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """Create the sampled parameter variables (physical units).

    Returns the per-seed values (each of shape ``(K,)``; ``()`` for complete pooling) and, for
    partial pooling, the population values (shape ``()``), else None.
    """
    bounds = [
        (n, options.priors.get(n, ("uniform",)), float(a), float(b))
        for n, a, b in zip(names, lower, upper, strict=True)
    ]
    if options.pooling == "complete":
        return {n: prior_variable(n, s, a, b, None) for n, s, a, b in bounds}, None
    if options.pooling == "none":
        return {n: prior_variable(f"{n}_seed", s, a, b, "seed") for n, s, a, b in bounds}, None
    return partially_pooled(
        names, lower, upper, options.priors, group="seed", spread_scale=options.spread_scale
    )


def _theta_unit(data: CalibrationData, options: PosteriorOptions) -> Any:
    """Create the parameter variables; return the searched unit-cube points, shape (K, d)."""
    import pymc as pm
    import pytensor.tensor as pt

    r = options.reparam
    if r is None:
        values, pop = _free_parameters(data.names, data.lower, data.upper, options)
    else:
        values, pop = _free_parameters(r.names, np.array(r.lower), np.array(r.upper), options)
        missing = [n for n in data.names if n not in values]
        computed = dict(r.to_search(values))
        if sorted(computed) != sorted(missing):
            raise InputDataError(
                f"Reparametrization.to_search must return exactly {missing}; "
                f"got {sorted(computed)}."
            )
        seed_suffix = "" if options.pooling == "complete" else "_seed"
        dims = None if options.pooling == "complete" else "seed"
        for n in missing:
            values[n] = pm.Deterministic(n + seed_suffix, computed[n], dims=dims)
        if pop is not None:
            for n, v in r.to_search(pop).items():
                pm.Deterministic(n, v)
    unit = (pt.stack([values[n] for n in data.names], axis=-1) - data.lower) / (
        data.upper - data.lower
    )
    return unit[None, :] if options.pooling == "complete" else unit


def build_model(data: CalibrationData, options: PosteriorOptions) -> pm.Model:
    """Build the PyMC model (priors, pooling, emulator likelihood); see the module docstring.

    Parameters
    ----------
    data : CalibrationData
        Emulators, floors and bounds from :func:`prepare`.
    options : PosteriorOptions
        Uses ``pooling``, ``likelihood``, ``priors``, scales and ``temperature``.

    Returns
    -------
    pymc.Model
        Free variables: the parameters (pooled, physical units), ``tau``/``eps`` (partial) or
        ``<name>_seed`` (none), ``sigma`` (floor); deterministics ``<name>_seed`` (partial) and
        ``d_mean`` (emulated ``g(d)``); observed ``d_floor`` (floor) or potential ``gibbs``.
    """
    configure_pytensor_blas()
    import pymc as pm
    import pytensor.tensor as pt

    if options.likelihood == "residual":
        raise InputDataError(
            "build_model emulates d alone (likelihood 'floor' or 'gibbs'); the residual "
            "likelihood is built by bayescal.infer.residual_likelihood.build_residual_model."
        )
    sampled = data.names if options.reparam is None else options.reparam.names
    unknown = sorted(set(options.priors) - set(sampled))
    if unknown:
        raise InputDataError(f"priors given for unknown parameters {unknown}; known: {sampled}.")
    complete = options.pooling == "complete"
    if complete and len(data.emulators) != 1:
        raise InputDataError("pooling='complete' needs exactly one emulator; rerun prepare().")
    # "param": the sampled parameters (the searched ones unless options.reparam)
    coords: dict[str, Sequence[Any]] = {"param": list(sampled)}
    if not complete:
        coords["seed"] = list(data.seeds)
    dims = None if complete else "seed"
    with pm.Model(coords=coords) as model:
        unit = _theta_unit(data, options)
        pairs = [em.pytensor_mean_var(unit[k]) for k, em in enumerate(data.emulators)]
        mean = pt.stack([p[0] for p in pairs])
        var = pt.stack([p[1] for p in pairs])
        if complete:
            mean, var = mean[0], var[0]
        pm.Deterministic("d_mean", mean, dims=dims)
        if options.likelihood == "floor":
            # log-normal around `scale`: no mass near sigma = 0 (see the module docstring)
            scale = options.floor.error_scale([em.noise_sd for em in data.emulators])
            if options.floor.model_error_spread > 0:
                spread = options.floor.model_error_spread
                sigma = pm.LogNormal("sigma", mu=np.log(scale), sigma=spread)
            else:  # a stated tolerance, not learned
                sigma = pt.constant(scale)
            floors = data.floors[0] if complete else data.floors
            pm.Normal("d_floor", mu=mean, sigma=pt.sqrt(var + sigma**2), observed=floors, dims=dims)
        else:
            d = pt.exp(mean) if data.emulators[0].transform == "log" else mean
            pm.Potential("gibbs", -pt.sum(d) / options.floor.temperature)
    return model
