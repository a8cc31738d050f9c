"""NUTS sampling and the one-call ``posterior`` (evaluations -> InferenceData)."""

from __future__ import annotations

import json
import logging
import time
import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING, cast

import arviz as az
import numpy as np
import xarray as xr

from bayescal.discrepancy import Discrepancy
from bayescal.errors import ConvergenceWarning, InputDataError
from bayescal.infer.diagnostics import diagnose
from bayescal.infer.model import build_model, prepare
from bayescal.infer.options import PosteriorOptions
from bayescal.infer.output import constant_data, provenance
from bayescal.infer.residual_posterior import residual_posterior

if TYPE_CHECKING:
    import pymc as pm

__all__ = ["SeedPlan", "posterior", "sample", "seed_plan"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True, kw_only=True)
class SeedPlan:
    """Seeds derived from one root seed with ``np.random.SeedSequence``.

    Attributes
    ----------
    entropy : int
        The root entropy (the options' seed, or fresh entropy when it was None).
    emulators : int
        Seed of the emulator fits.
    sampler : int
        Seed passed to ``pm.sample(random_seed=...)``; PyMC 5.28 spawns the per-chain seeds
        from it with ``SeedSequence`` (a list of per-chain seeds is deprecated there).
    prior : int
        Seed of the prior (predictive) draws.
    """

    entropy: int
    emulators: int
    sampler: int
    prior: int


def seed_plan(seed: int | None) -> SeedPlan:
    """Derive the emulator, sampler and prior seeds from a root seed.

    Parameters
    ----------
    seed : int or None
        Root seed; None draws fresh OS entropy (kept in ``SeedPlan.entropy``).

    Returns
    -------
    SeedPlan

    Examples
    --------
    >>> seed_plan(0) == seed_plan(0)
    True
    """
    root = np.random.SeedSequence(seed)
    emu, sampler, prior = (int(c.generate_state(1)[0]) for c in root.spawn(3))
    return SeedPlan(
        entropy=int(cast(int, root.entropy)), emulators=emu, sampler=sampler, prior=prior
    )


def _backend_kwargs(options: PosteriorOptions) -> dict:
    """Extra ``pm.sample`` arguments selecting the NUTS implementation."""
    if options.sampling.nuts_sampler == "pymc":
        return {}
    # nutpie ignores pm.sample's `cores`; the low-rank mass matrix follows the emulators'
    # correlated valleys (see Sampling.sampler)
    nutpie_kwargs = {"cores": options.sampling.n_cores, "low_rank_modified_mass_matrix": True}
    return {"nuts_sampler": "nutpie", "nuts_sampler_kwargs": nutpie_kwargs}


def sample(
    model: pm.Model,
    options: PosteriorOptions,
    *,
    seeds: SeedPlan | None = None,
    initvals: dict[str, np.ndarray] | None = None,
) -> az.InferenceData:
    """Sample a model with NUTS (nutpie or PyMC's) and draw from its prior (predictive).

    Parameters
    ----------
    model : pymc.Model
        Typically from :func:`bayescal.infer.build_model`.
    options : PosteriorOptions
        Uses ``sampling`` (with :attr:`PosteriorOptions.accept`) and ``seed`` (when ``seeds``
        is None).
    seeds : SeedPlan or None
        Precomputed seeds (``posterior`` passes its own so that emulators and chains agree).
    initvals : dict or None
        Where every chain starts (constrained values by variable name), with no jitter on the
        parameters (only the variables not given are jittered); None: PyMC's default
        (jittered support points).

    Returns
    -------
    arviz.InferenceData
        ``posterior``, ``sample_stats`` (and ``observed_data`` for the floor likelihood), plus
        ``prior`` / ``prior_predictive`` when ``sampling.prior_draws > 0``.
    """
    import pymc as pm

    plan = seeds if seeds is not None else seed_plan(options.seed)
    sampling = options.sampling
    with model, warnings.catch_warnings():
        # PyMC's own notes on potentials in prior predictive draws are expected here.
        warnings.filterwarnings("ignore", message=".*Potential.*", category=UserWarning)
        idata: az.InferenceData
        if initvals is not None and sampling.nuts_sampler == "nutpie":
            idata = _nutpie_from(model, options, plan, initvals)
        else:
            idata = pm.sample(
                draws=sampling.draws,
                tune=sampling.tune,
                chains=sampling.chains,
                cores=sampling.n_cores,
                target_accept=options.accept,
                random_seed=plan.sampler,
                progressbar=sampling.progressbar,
                compute_convergence_checks=False,
                return_inferencedata=True,
                **({} if initvals is None else {"initvals": initvals, "init": "adapt_diag"}),
                **_backend_kwargs(options),
            )
        # nutpie also stores the unconstrained values (``beta_interval__``, ...)
        post = idata["posterior"]
        unconstrained = [v for v in post.data_vars if str(v).endswith("__")]
        # by attribute: item assignment would list the group twice in ArviZ 0.2x
        idata.posterior = post.drop_vars(unconstrained)  # type: ignore[attr-defined]
        idata["posterior"].attrs["nuts_sampler"] = sampling.nuts_sampler
        if sampling.prior_draws:
            # numba, as nutpie's log density: no C compilation (about 15 s on a fresh machine)
            idata.extend(
                pm.sample_prior_predictive(
                    draws=sampling.prior_draws,
                    random_seed=plan.prior,
                    compile_kwargs={"mode": "NUMBA"},
                )
            )
    return idata


def _nutpie_from(
    model: pm.Model, options: PosteriorOptions, plan: SeedPlan, initvals: dict
) -> az.InferenceData:
    """NUTS of nutpie from given initial values (``pm.sample`` does not pass them to nutpie)."""
    import nutpie

    sampling = options.sampling
    jitter = {rv for rv in model.free_RVs if rv.name not in initvals}
    compiled = nutpie.compile_pymc_model(model, initial_points=initvals, jitter_rvs=jitter)
    return nutpie.sample(
        compiled,
        draws=sampling.draws,
        tune=sampling.tune,
        chains=sampling.chains,
        target_accept=options.accept,
        seed=plan.sampler,
        progress_bar=sampling.progressbar,
        cores=sampling.n_cores,
        low_rank_modified_mass_matrix=True,
    )


def posterior(
    evaluations: xr.Dataset,
    *,
    options: PosteriorOptions | None = None,
    discrepancy: Discrepancy | None = None,
    reference: xr.Dataset | None = None,
) -> az.InferenceData:
    """Posterior over the calibrated parameters from EGO evaluations.

    Residual likelihood (default): one principal-component emulator per residual block on all
    evaluations, the model-error and measured-noise likelihood of
    :mod:`bayescal.infer.residual_model`, parameters per data realization when the reference
    has several. Floor and Gibbs likelihoods: one GP emulator of ``d`` per seed (or one for
    ``pooling="complete"``; see :mod:`bayescal.infer.model`). Then NUTS, convergence checks
    and the InferenceData.

    Parameters
    ----------
    evaluations : xarray.Dataset
        EGO evaluations: ``theta(eval, param)``, ``discrepancy(eval)``, ``status(eval)``,
        ``seed(eval)``, attrs ``param_lower``, ``param_upper`` (see DESIGN.md); for the
        residual likelihood also ``unit`` and the kept outputs.
    options : PosteriorOptions or None
        None means the defaults.
    discrepancy, reference : Discrepancy, xarray.Dataset
        The study's discrepancy and data (residual likelihood only).

    Returns
    -------
    arviz.InferenceData
        Groups ``posterior``, ``sample_stats``, ``prior``, ``constant_data`` (evaluations and
        emulators). Residual: parameters by name (``<name>_realization`` per realization),
        ``sigma_<block>``, ``tau``. Floor/Gibbs: parameters by name, ``<name>_seed`` with dim
        ``seed``, ``tau``, ``sigma``, ``d_mean``; ``prior_predictive`` and ``observed_data``
        (floor). Posterior attrs: study identity, versions, seeds, timings, options (JSON) and
        the diagnostics verdict.

    Warns
    -----
    ConvergenceWarning
        When R-hat, bulk ESS or divergences miss their thresholds
        (``convergence.on_fail="warn"``).

    Raises
    ------
    ConvergenceWarning
        As an error, with ``convergence.on_fail="raise"``.
    InputDataError
        Residual likelihood without ``discrepancy`` and ``reference``.
    """
    options = options if options is not None else PosteriorOptions()
    plan = seed_plan(options.seed)
    if options.likelihood == "residual":
        if discrepancy is None or reference is None:
            raise InputDataError(
                "likelihood='residual' needs the study's discrepancy and reference "
                "(posterior(evaluations, discrepancy=..., reference=...)); evaluations that "
                "hold only d can use likelihood='floor' or 'gibbs'."
            )
        idata, _, timings = residual_posterior(evaluations, discrepancy, reference, options=options)
        names = [str(n) for n in evaluations["param"].values]
        excluded = []
    else:
        t0 = time.perf_counter()
        data = prepare(evaluations, options, rng=plan.emulators)
        t1 = time.perf_counter()
        model = build_model(data, options)
        idata = sample(model, options, seeds=plan)
        timings = {"emulator_fit_s": t1 - t0, "sampling_wall_s": time.perf_counter() - t1}
        idata.add_groups(constant_data=constant_data(evaluations, data))
        names = list(data.names)
        excluded = [int(k) for k in data.excluded_seeds]
    if options.reparam is not None:
        idata["posterior"].attrs["sampled_names"] = list(options.reparam.names)
    conv = options.convergence
    diag = diagnose(idata, rhat_max=conv.rhat_max, ess_min=conv.ess_min)
    attrs = {
        **provenance(evaluations),
        "param_names": names,
        "excluded_seeds": json.dumps(excluded),
        "pooling": options.pooling,
        "likelihood": options.likelihood,
        "options": options.to_json(),
        "root_entropy": str(plan.entropy),
        "sampler_seed": plan.sampler,
        "emulator_seed": plan.emulators,
        "prior_seed": plan.prior,
        **timings,
        "max_rhat": diag.max_rhat,
        "min_ess_bulk": diag.min_ess_bulk,
        "divergences": diag.divergences,
        "diagnostics_passed": int(diag.passed),
    }
    for group in ("posterior", "constant_data"):
        idata[group].attrs.update(attrs)
    logger.info(
        "posterior: emulators %.1f s, sampling %.1f s, max R-hat %.4f, min bulk ESS %.0f",
        timings["emulator_fit_s"],
        timings["sampling_wall_s"],
        diag.max_rhat,
        diag.min_ess_bulk,
    )
    if not diag.passed and conv.on_fail != "ignore":
        msg = "posterior diagnostics failed: " + "; ".join(diag.failures)
        if conv.on_fail == "raise":
            raise ConvergenceWarning(msg)
        warnings.warn(msg, ConvergenceWarning, stacklevel=2)
    return idata
