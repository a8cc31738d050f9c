"""Sequential refinement of the posterior's emulators at the posterior's own draws.

EGO's evaluations concentrate where the discrepancy is small, so an emulator trained on them
alone extrapolates elsewhere; where it is unsure, the emulator-variance term of the likelihood
lets posterior mass settle in modes the model does not have. Each round here samples a short
posterior, runs the forward model at ``refine.points`` draws per emulator, and adds them to
that emulator's training set, before the final posterior is sampled on everything. This is the
usual sequential design for emulator-based calibration (e.g. Sürer, Plumlee & Wild,
Technometrics 2024, which selects points by an acquisition function; here the draws themselves
are used).

With the residual likelihood (the default) the draws are the pooled posterior's (one set of
emulators on all evaluations), and the refinement stops early once the emulators are precise
where the posterior lives: the posterior-weighted emulator (latent) variance of every block's
components below ``STOP_RATIO`` (10 %) of its learned model-error variance ``sigma_b^2`` (for
a block's emulated outside part ``S``: the emulator's variance of ``S`` below 10 % of the
variance ``2 nu tau_b^4`` that ``S`` has under the likelihood, ``tau_b`` its model error), and
the last round's new runs were predicted as precisely as the emulators claim: in every block,
the number of their scores (and ``log S``) outside 2 predictive sd is one a calibrated
Gaussian emulator (4.6 % outside) produces with probability at least ``CALIBRATION_LEVEL``
(1 %, one-sided binomial test; :func:`predictions_calibrated`). The second condition needs a
round of runs first: an emulator's variance cannot show that the emulator is overconfident
where it extrapolates, its predictions of new runs there can. Each round's check also gives the
posterior mean and sd of every searched parameter at that round (:func:`posterior_moments`),
so the report shows how the posterior moved as runs were added.

The evaluations are stored in ``DIR/refinement/evaluations.nc`` (the EGO history in
``DIR/evaluations.nc`` stays untouched, so EGO resumes as before); a rerun reuses the rounds
already stored. Each round also measures how well the emulators predicted the new points (they
are held out at that moment): the report's emulator check.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import xarray as xr

from bayescal.io import EvaluationStore, open_evaluations
from bayescal.optimize import EvalStatus
from bayescal.study.evaluate import evaluate
from bayescal.study.study import Study

if TYPE_CHECKING:
    import arviz as az

    from bayescal.infer import PosteriorOptions

__all__ = [
    "CALIBRATION_LEVEL",
    "STOP_RATIO",
    "EmulatorCheck",
    "ResidualCheck",
    "combined_evaluations",
    "emulator_variance_ratio",
    "posterior_moments",
    "predictions_calibrated",
    "refine_emulators",
]

logger = logging.getLogger(__name__)


#: Sampling settings (:class:`~bayescal.infer.Sampling`) of the short posteriors that pick points.
_QUICK = {"draws": 250, "tune": 500, "chains": 2, "prior_draws": 0, "progressbar": False}


@dataclass(frozen=True, slots=True, kw_only=True)
class EmulatorCheck:
    """Emulator predictions at one round's new points, before they were added.

    Attributes
    ----------
    round : int
        Refinement round (0-based).
    n : int
        OK evaluations in the round.
    rmse : float
        Root-mean-square error on the emulated scale (``log d`` by default).
    coverage_2sd : float
        Fraction of the true values within 2 predictive sd (latent variance plus the
        emulator's noise).
    max_d_error : float
        Largest ``|d - exp(m)|`` (discrepancy units).
    """

    round: int
    n: int
    rmse: float
    coverage_2sd: float
    max_d_error: float

    def line(self) -> str:
        """One line for the report."""
        return (
            f"round {self.round}: {self.n} points, RMSE {self.rmse:.3f} (emulated scale), "
            f"within 2 sd {100 * self.coverage_2sd:.0f} %, max |d - d_emulated| "
            f"{self.max_d_error:.3f}"
        )


#: Refinement stops when every block's posterior-weighted emulator variance is below this
#: fraction of its model-error variance ``sigma_b^2``.
STOP_RATIO = 0.1

#: ... and the last round's misses (new scores outside 2 predictive sd) in every block were a
#: count that a calibrated emulator reaches with at least this probability (with 8 runs and
#: one score each: at most 2 outside).
CALIBRATION_LEVEL = 0.01


def predictions_calibrated(coverage: float, n: int, *, level: float = CALIBRATION_LEVEL) -> bool:
    """Whether ``n`` held-out predictions with ``coverage`` within 2 sd fit a calibrated emulator.

    A one-sided binomial test: a Gaussian emulator whose predictive sd is right leaves each
    prediction outside 2 sd with probability ``2 Phi(-2)`` (4.6 %); the predictions pass
    unless at least as many misses as seen have probability below ``level`` under that rate.
    Scores of one run are treated as independent, which makes the test stricter than exact
    where their errors are correlated (a refinement round more, not less).

    Parameters
    ----------
    coverage : float
        Fraction of the predictions within 2 predictive sd.
    n : int
        Number of predictions (runs x scores).
    level : float
        Significance level.

    Returns
    -------
    bool
        True when ``n`` is 0 or the number of misses is not significant at ``level``.
    """
    from scipy.stats import binom, norm

    if n == 0:
        return True
    misses = round((1.0 - coverage) * n)
    return bool(binom.sf(misses - 1, n, 2 * norm.sf(2.0)) >= level)


def posterior_moments(idata: az.InferenceData, names: list[str]) -> dict[str, tuple[float, float]]:
    """Posterior mean and sd of each pooled parameter in ``names``.

    Parameters
    ----------
    idata : arviz.InferenceData
        A posterior with the pooled parameters by name.
    names : list of str
        Parameter names.

    Returns
    -------
    dict of str to (float, float)
        ``(mean, sd)`` per name, in the parameter's units.
    """
    post = idata["posterior"]
    return {n: (float(post[n].mean()), float(post[n].std())) for n in names}


@dataclass(frozen=True, slots=True, kw_only=True)
class ResidualCheck:
    """Residual emulators at one round: precision at the posterior and predictions of new runs.

    Attributes
    ----------
    round : int
        Refinement round (0-based).
    n : int
        OK forward runs of the round.
    variance_ratio : dict of str to float
        Per block, posterior mean of the emulator variance (per component) over the posterior
        mean of ``sigma_b^2``, at the round's posterior (before its runs); see
        :func:`emulator_variance_ratio`.
    score_rmse : dict of str to float
        Per block, RMS error of the emulated component scores at the new runs, in units of
        the posterior mean ``sigma_b`` (held-out points).
    coverage_2sd : dict of str to float
        Per block, fraction of the new runs' scores (and ``log S`` of an emulated outside part)
        within 2 emulator sd.
    predictions : dict of str to int
        Per block, the number of predictions ``coverage_2sd`` counts (runs x scores).
    moments : dict of str to (float, float)
        Posterior mean and sd of each searched parameter at the round's posterior (before its
        runs); see :func:`posterior_moments`.
    """

    round: int
    n: int
    variance_ratio: dict[str, float]
    score_rmse: dict[str, float]
    coverage_2sd: dict[str, float]
    predictions: dict[str, int] = field(default_factory=dict)
    moments: dict[str, tuple[float, float]] = field(default_factory=dict)

    def calibrated(self) -> bool:
        """Whether every block's predictions pass :func:`predictions_calibrated`."""
        return all(
            predictions_calibrated(c, self.predictions.get(b, 0))
            for b, c in self.coverage_2sd.items()
        )

    def line(self) -> str:
        """One line for the report."""
        parts = [
            f"{b}: variance/sigma^2 {self.variance_ratio[b]:.3f}, "
            f"score RMSE {self.score_rmse.get(b, np.nan):.2f} sigma, "
            f"within 2 sd {100 * self.coverage_2sd.get(b, np.nan):.0f} %"
            + (f" of {self.predictions[b]}" if b in self.predictions else "")
            for b in self.variance_ratio
        ]
        if self.moments:
            parts.append(
                "posterior mean (sd) "
                + ", ".join(f"{n} {m:.4g} ({s:.3g})" for n, (m, s) in self.moments.items())
            )
        return f"round {self.round}: {self.n} points; " + "; ".join(parts)


def emulator_variance_ratio(
    idata: az.InferenceData, blocks: list, names: list[str], lower, upper, *, n: int = 200
) -> dict[str, float]:
    """Posterior-weighted emulator variance over the model-error variance, per block.

    The emulator's variance is the GPs' latent variance: their nugget is the simulator's own
    scatter (a chaotic model's run-to-run spread), which more runs do not reduce.

    For a block with an emulated outside part ``S`` (log-normal under its GP), the larger of
    the components' ratio and the emulator's variance of ``S`` over ``2 nu tau_b^4``, the
    variance of ``S`` under the likelihood (``nu`` directions of variance ``tau_b^2``, the
    outside part's model error ``sigma_tail_<block>``).

    Parameters
    ----------
    idata : arviz.InferenceData
        A residual-likelihood posterior (pooled parameters by name, ``sigma_<block>``).
    blocks : list of ResidualBlock
        One realization's blocks.
    names : list of str
        Searched parameter names.
    lower, upper : array_like, shape (d,)
        The searched box.
    n : int
        Posterior draws used.

    Returns
    -------
    dict of str to float
    """
    from bayescal.plots.posterior import posterior_draws

    theta = posterior_draws(idata, n, rng=0)
    unit = (theta - np.asarray(lower)) / (np.asarray(upper) - np.asarray(lower))
    out = {}
    for b in blocks:
        _, var = b.emulator.predict(unit)
        sigma = idata["posterior"][b.component_sigma_name].values
        out[b.name] = float(np.mean(var) / np.mean(sigma**2))
        if b.outside is not None:
            m, v = b.outside.predict(unit)
            var_s = np.expm1(v) * np.exp(2 * m + v)
            tau = idata["posterior"][b.tail_sigma_name].values
            outside = float(np.mean(var_s) / np.mean(2 * b.outside_dof * tau**4))
            out[b.name] = max(out[b.name], outside)
    return out


def combined_evaluations(evaluations: xr.Dataset, out: str | Path | None) -> xr.Dataset:
    """EGO evaluations plus the stored refinement evaluations of ``DIR`` (if any)."""
    if out is None:
        return evaluations
    path = Path(out) / "refinement" / EvaluationStore.filename
    if not path.exists():
        return evaluations
    return _append(evaluations, open_evaluations(path))


def _append(evaluations: xr.Dataset, extra: xr.Dataset | None) -> xr.Dataset:
    """``evaluations`` followed by ``extra`` (renumbered, its shared variables only)."""
    if extra is None:
        return evaluations
    n = evaluations.sizes["eval"]
    extra = extra.assign_coords(eval=np.arange(n, n + extra.sizes["eval"]))
    # stores written before evaluate() stopped keeping parameters as coordinates still have
    # them (beta(eval), chi_len, ...): the variables are what counts
    stray = [c for c in evaluations.coords if c not in extra.coords and c not in evaluations.dims]
    evaluations = evaluations.drop_vars(stray)
    keep = [v for v in extra.data_vars if v in evaluations.data_vars]
    return xr.concat(
        [evaluations, extra[keep]],
        dim="eval",
        data_vars="minimal",
        coords="minimal",
        compat="override",
        join="outer",
    ).assign_attrs(evaluations.attrs)


def refine_emulators(
    study: Study,
    evaluations: xr.Dataset,
    out: str | Path | None,
    options: PosteriorOptions,
) -> tuple[xr.Dataset, list[EmulatorCheck] | list[ResidualCheck]]:
    """Run ``options.refine.rounds`` rounds of refinement; return all evaluations and checks.

    Parameters
    ----------
    study : Study
        Forward model and discrepancy.
    evaluations : xarray.Dataset
        EGO evaluations (``DIR/evaluations.nc``).
    out : str, Path or None
        The run directory (refinement evaluations go to ``DIR/refinement/``); None keeps them
        in memory.
    options : PosteriorOptions
        ``refine`` (rounds, points) and the posterior settings (sampled briefly).

    Returns
    -------
    (xarray.Dataset, list of EmulatorCheck or ResidualCheck)
        EGO plus refinement evaluations, and the check of each round run now.
    """
    from bayescal.infer import posterior

    if options.likelihood == "residual":
        return _refine_residual(study, evaluations, out, options)
    store, done = _refinement_store(study, evaluations, out)
    checks: list[EmulatorCheck] = []
    quick = _quick(options)
    for r in range(done, options.refine.rounds):
        data = _append(evaluations, store.data)
        round_seed = _round_seed(options, r)
        idata = posterior(data, options=quick.replace(seed=round_seed))
        theta, seed, real = _draws(idata, data, options, study.feasible, rng=round_seed)
        if len(theta) == 0:
            logger.warning("refinement round %d: no feasible posterior draw; stopping", r)
            break
        logger.info("refinement round %d: %d forward runs", r, len(theta))
        result = evaluate(study, theta, real)
        checks.append(_check(r, idata, study.to_unit(theta), result, seed))
        logger.info("refinement %s", checks[-1].line())
        store.append(_record(study, theta, result, seed, real, batch=-(r + 1)))
    return _append(evaluations, store.data), checks


def _refinement_store(
    study: Study, evaluations: xr.Dataset, out: str | Path | None
) -> tuple[EvaluationStore, int]:
    """``DIR/refinement``'s store (in memory when ``out`` is None) and its number of rounds."""
    where = None if out is None else Path(out) / "refinement"
    store = EvaluationStore(where, study.names, {**evaluations.attrs, "content": "refinement"})
    return store, 0 if store.data is None else np.unique(store.data["batch"].values).size


def _refine_residual(
    study: Study, evaluations: xr.Dataset, out: str | Path | None, options: PosteriorOptions
) -> tuple[xr.Dataset, list[ResidualCheck]]:
    """:func:`refine_emulators` for the residual likelihood (pooled draws, early stop)."""
    from bayescal.infer.residual_posterior import realizations_of, residual_posterior

    store, done = _refinement_store(study, evaluations, out)
    checks: list[ResidualCheck] = []
    quick = _quick(options)
    lower, upper = study.bounds.T
    names = list(study.names)
    reference = realizations_of(study.reference)[0]
    for r in range(done, options.refine.rounds):
        data = _append(evaluations, store.data)
        round_seed = _round_seed(options, r)
        idata, blocks, _ = residual_posterior(
            data,
            study.discrepancy,
            study.reference,
            options=quick.replace(seed=round_seed),
        )
        ratio = emulator_variance_ratio(idata, blocks[0], names, lower, upper)
        moments = posterior_moments(idata, names)
        predicted = bool(checks) and checks[-1].calibrated()
        if predicted and all(v < STOP_RATIO for v in ratio.values()):
            logger.info(
                "refinement round %d: emulator variance below %.0f %% of sigma^2 in every "
                "block %s and the last runs predicted; done",
                r,
                100 * STOP_RATIO,
                {k: round(v, 3) for k, v in ratio.items()},
            )
            checks.append(
                ResidualCheck(
                    round=r,
                    n=0,
                    variance_ratio=ratio,
                    score_rmse={},
                    coverage_2sd={},
                    moments=moments,
                )
            )
            break
        gen = np.random.default_rng(round_seed)
        theta = _feasible_draws(idata, options.refine.points, study.feasible, None, gen)
        if len(theta) == 0:
            logger.warning("refinement round %d: no feasible posterior draw; stopping", r)
            break
        seeds = np.unique(data["seed"].values)
        seed = seeds[np.arange(len(theta)) % seeds.size].astype(np.int32)
        real = np.zeros(len(theta), dtype=np.int64)
        logger.info("refinement round %d: %d forward runs", r, len(theta))
        result = evaluate(study, theta, real)
        record = _record(study, theta, result, seed, real, batch=-(r + 1))
        checks.append(
            _residual_check(r, idata, blocks[0], record, study, reference, ratio, moments)
        )
        logger.info("refinement %s", checks[-1].line())
        store.append(record)
    return _append(evaluations, store.data), checks


def _residual_check(r, idata, blocks, record, study, reference, ratio, moments) -> ResidualCheck:
    """Emulated against computed scores of the round's new runs (held out at that moment)."""
    from bayescal.infer.residual_model import likelihood_residuals, outside_part

    residuals = likelihood_residuals(record, study.discrepancy, reference)
    unit = np.asarray(record["unit"].values, dtype=float)
    ok = np.all([np.isfinite(v).all(axis=1) for v in residuals.values()], axis=0)
    rmse, cover, count = {}, {}, {}
    for b in blocks:
        if not ok.any():
            break
        scores = b.emulator.project(residuals[b.name][ok])
        mean, var = b.emulator.predict(unit[ok])
        sigma = idata["posterior"][b.component_sigma_name].values
        err = scores - mean
        rmse[b.name] = float(np.sqrt(np.mean(err**2)) / np.sqrt(np.mean(sigma**2)))
        inside = np.abs(err) <= 2 * np.sqrt(var + b.nugget)
        if b.outside is not None:
            rest = outside_part(residuals[b.name][ok], b.emulator.basis)
            log_s = np.log(np.maximum(np.sum(rest**2, axis=1), 1e-300))
            m, v = b.outside.predict(unit[ok])
            near = np.abs(log_s - m) <= 2 * np.sqrt(v + b.outside.noise_sd**2)
            inside = np.column_stack([inside, near])
        cover[b.name] = float(np.mean(inside))
        count[b.name] = int(inside.size)
    return ResidualCheck(
        round=r,
        n=int(ok.sum()),
        variance_ratio=ratio,
        score_rmse=rmse,
        coverage_2sd=cover,
        predictions=count,
        moments=moments,
    )


def _quick(options: PosteriorOptions) -> PosteriorOptions:
    """The options of a round's short posterior (:data:`_QUICK`, no convergence warning)."""
    return options.replace(sampling=_QUICK, convergence={"on_fail": "ignore"})


def _round_seed(options: PosteriorOptions, r: int) -> int:
    root = np.random.SeedSequence(options.seed if options.seed is not None else 0)
    return int(np.random.default_rng(root.spawn(r + 1)[r]).integers(2**31 - 1))


def _draws(
    idata: az.InferenceData,
    data: xr.Dataset,
    options: PosteriorOptions,
    feasible: Callable[[np.ndarray], np.ndarray],
    *,
    rng: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``refine.points`` feasible draws per emulator, with the seed and realization of each.

    The posterior does not know the study's constraint, so a draw can violate it; such draws
    could not be run and are replaced by others (up to 8 x ``refine.points`` are looked at).
    """
    gen = np.random.default_rng(rng)
    seeds = np.unique(data["seed"].values)
    realization = {
        int(s): int(data["realization"].values[np.flatnonzero(data["seed"].values == s)[0]])
        for s in seeds
    }
    k = options.refine.points
    if options.pooling == "complete":  # one emulator: its draws, spread over the seed labels
        theta = _feasible_draws(idata, k, feasible, None, gen)
        label = seeds[np.arange(len(theta)) % seeds.size]
    else:
        per_seed = [_feasible_draws(idata, k, feasible, int(s), gen) for s in seeds]
        theta = np.vstack(per_seed)
        label = np.repeat(seeds, [len(t) for t in per_seed])
    real = np.array([realization[int(s)] for s in label], dtype=np.int64)
    return theta, label.astype(np.int32), real


def _feasible_draws(
    idata: az.InferenceData,
    k: int,
    feasible: Callable[[np.ndarray], np.ndarray],
    ego_seed: int | None,
    gen: np.random.Generator,
) -> np.ndarray:
    from bayescal.plots.posterior import posterior_draws

    theta = posterior_draws(idata, 8 * k, ego_seed=ego_seed, rng=gen)
    ok = theta[feasible(theta)][:k]
    if len(ok) < k:
        logger.warning(
            "refinement: only %d of %d posterior draws%s satisfy the study's constraint",
            len(ok),
            len(theta),
            "" if ego_seed is None else f" of seed {ego_seed}",
        )
    return ok


def _check(r: int, idata: az.InferenceData, unit, result, seed: np.ndarray) -> EmulatorCheck:
    from bayescal.infer import emulators_from_idata

    emulators = emulators_from_idata(idata)
    labels = [int(s) for s in idata["constant_data"]["emulator_seed"].values]
    which = [0 if labels == [-1] else labels.index(int(s)) for s in seed]  # -1: complete
    d = result["discrepancy"].values
    log = emulators[0].transform == "log"
    ok = (result["status"].values == EvalStatus.OK) & np.isfinite(d) & (d > 0 if log else True)
    if not ok.any():
        return EmulatorCheck(round=r, n=0, rmse=np.nan, coverage_2sd=np.nan, max_d_error=np.nan)
    mean, sd = np.empty(len(d)), np.empty(len(d))
    for i in np.flatnonzero(ok):
        em = emulators[which[i]]
        m, v = em.predict(unit[i : i + 1])
        mean[i], sd[i] = float(m[0]), float(np.sqrt(v[0] + em.noise_sd**2))
    err = (np.log(d[ok]) if log else d[ok]) - mean[ok]
    back = np.exp(mean[ok]) if log else mean[ok]
    return EmulatorCheck(
        round=r,
        n=int(ok.sum()),
        rmse=float(np.sqrt(np.mean(err**2))),
        coverage_2sd=float(np.mean(np.abs(err) <= 2 * sd[ok])),
        max_d_error=float(np.max(np.abs(d[ok] - back))),
    )


def _record(study, theta, result, seed, real, *, batch: int) -> xr.Dataset:
    from bayescal.study.calibrate import evaluation_record

    n = len(theta)
    return evaluation_record(result, study.to_unit(theta), study, seed, np.full(n, batch), real)
