"""The default posterior: residual emulators of all evaluations, KOH likelihood, NUTS.

``residual_posterior(evaluations, discrepancy, reference)`` fits one principal-component
emulator per residual block and data realization on every evaluation (all EGO seeds together:
they are repeats of one search, not independent data), measures the stress curve's noise,
builds :func:`bayescal.infer.residual_likelihood.build_residual_model`, samples it and assembles the
InferenceData.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from typing import Any

import arviz as az
import numpy as np
import xarray as xr

from bayescal.discrepancy import Discrepancy
from bayescal.errors import InputDataError
from bayescal.infer.model import evaluation_bounds
from bayescal.infer.options import PosteriorOptions
from bayescal.infer.residual_likelihood import build_residual_model, prior_box, sampled_box
from bayescal.infer.residual_model import MAX_TRAINING_POINTS, ResidualBlock, residual_blocks
from bayescal.io import PER_REALIZATION_ATTR
from bayescal.noise import StressNoise, stress_noise

__all__ = [
    "fit_residual_blocks",
    "measured_field_noise",
    "measured_stress_noise",
    "per_seed_hdi",
    "realizations_of",
    "residual_posterior",
    "starting_point",
]

logger = logging.getLogger(__name__)

_EVAL_VARS = ("theta", "unit", "discrepancy", "status", "seed")


def realizations_of(reference: xr.Dataset) -> list[xr.Dataset]:
    """The reference split along its ``realization`` dim (itself when it has none)."""
    if "realization" not in reference.dims:
        return [reference]
    return [reference.isel(realization=i) for i in range(reference.sizes["realization"])]


def measured_stress_noise(discrepancy: Discrepancy, reference: xr.Dataset) -> StressNoise | None:
    """Noise of one realization's stress curve (:func:`bayescal.noise.stress_noise`), or None.

    None when the discrepancy has no stress term or the curve is too short to measure it (the
    stress block's ``sigma`` then carries noise and model error together).
    """
    term = discrepancy.stress
    if term is None:
        return None
    try:
        return stress_noise(reference, variable=term.reference, strain=term.reference_strain)
    except InputDataError as exc:
        logger.warning("stress noise not measured (%s); sigma_stress carries it", exc)
        return None


def measured_field_noise(
    discrepancy: Discrepancy,
    reference: xr.Dataset,
    outputs: xr.Dataset,
    *,
    n_draws: int = 64,
    rng: int | np.random.Generator | None = None,
) -> dict[str, np.ndarray]:
    """Noise covariance of each field block's residual, from the data's per-cell sd.

    A field term whose reference variable ``v`` comes with ``v_std`` (the coarse-graining's
    standard deviation per cell, :mod:`bayescal.coarse`) has measured noise: the data field is
    redrawn ``n_draws`` times with independent Gaussian errors of that sd per cell and frame,
    the block residual of ``outputs`` (one evaluation, typically the best fit) is recomputed
    against each draw, and their covariance is the noise's in residual space, linearised at
    that evaluation.

    Parameters
    ----------
    discrepancy : Discrepancy
        Defines the blocks.
    reference : xarray.Dataset
        The data of one realization.
    outputs : xarray.Dataset
        Kept outputs of one evaluation (dim ``eval`` of size 1).
    n_draws : int
        Redrawn data fields.
    rng : int, numpy Generator or None
        Seed of the draws.

    Returns
    -------
    dict of str to ndarray
        Covariance ``(m_b, m_b)`` by block name, for the field blocks with a measured sd only.
    """
    from bayescal.compared_outputs import block_names, residual_blocks_from_outputs

    gen = np.random.default_rng(rng)
    out = {}
    for name, term in zip(block_names(discrepancy), discrepancy.fields, strict=False):
        std = f"{term.reference}_std"
        if std not in reference:
            continue
        sd = reference[std].values
        if not np.all(np.isfinite(sd) & (sd >= 0)):
            raise InputDataError(f"{std} of the reference must be finite and >= 0.")
        field = reference[term.reference]
        alone = Discrepancy(fields=(term,), stress=None)  # per draw, this block only
        draws = []
        for _ in range(n_draws):
            noisy = reference.assign({term.reference: field + sd * gen.standard_normal(sd.shape)})
            block = next(iter(residual_blocks_from_outputs(alone, noisy, outputs).values()))
            draws.append(block[0])
        out[name] = np.cov(np.asarray(draws), rowvar=False)
    return out


def fit_residual_blocks(
    evaluations: xr.Dataset,
    discrepancy: Discrepancy,
    reference: xr.Dataset,
    *,
    variance: float = 0.99,
    measure_noise: bool = True,
    max_points: int | None = MAX_TRAINING_POINTS,
    rng: int | np.random.Generator | None = None,
) -> list[list[ResidualBlock]]:
    """Residual blocks per data realization, trained on all evaluations.

    When ``evaluations.attrs["forward_per_realization"]`` is 1 (the forward model ran from each
    realization's own inputs), realization ``r``'s blocks train on the evaluations of
    realization ``r`` only.

    Parameters
    ----------
    evaluations : xarray.Dataset
        With kept outputs (``output_<var>``, ``model_stress``) and ``unit``.
    discrepancy : Discrepancy
        Defines the blocks.
    reference : xarray.Dataset
        The data, with or without a ``realization`` dim.
    variance : float
        Variance fraction each block's components keep.
    measure_noise : bool
        Measure each realization's stress-curve noise, and the field blocks' noise where the
        reference has the fields' per-cell sd (:func:`measured_field_noise`); else ``sigma``
        carries it.
    max_points : int or None
        At most this many evaluations train the emulators (see
        :func:`bayescal.infer.residual_model.training_subset`).
    rng : int, numpy Generator or None
        Seed of the GP fits.

    Returns
    -------
    list (per realization) of list of ResidualBlock
    """
    gen = np.random.default_rng(rng)
    out = []
    per_realization = bool(int(evaluations.attrs.get(PER_REALIZATION_ATTR, 0)))
    for r, ref in enumerate(realizations_of(reference)):
        noise = measured_stress_noise(discrepancy, ref) if measure_noise else None
        mine = evaluations
        if per_realization:  # runs from another realization's inputs are not comparable
            rows = np.flatnonzero(np.asarray(evaluations["realization"].values) == r)
            if rows.size < 3:
                raise InputDataError(
                    f"realization {r} has {rows.size} evaluations of its own; the forward model "
                    "runs from each realization's inputs, so every realization needs an EGO "
                    "seed (seeds >= the number of realizations)."
                )
            mine = evaluations.isel(eval=rows)
        fields = None
        if measure_noise and any(f"{t.reference}_std" in ref for t in discrepancy.fields):
            d = np.asarray(mine["discrepancy"].values, dtype=float)
            best = int(np.argmin(np.where(np.isfinite(d), d, np.inf)))
            fields = measured_field_noise(
                discrepancy, ref, mine.isel(eval=[best]), rng=int(gen.integers(2**31 - 1))
            )
        out.append(
            residual_blocks(
                mine,
                discrepancy,
                ref,
                stress_noise=noise,
                field_noise=fields,
                variance=variance,
                max_points=max_points,
                rng=int(gen.integers(2**31 - 1)),
            )
        )
    return out


def residual_constant_data(
    evaluations: xr.Dataset,
    realizations: Sequence[Sequence[ResidualBlock]],
    names: Sequence[str],
    lower: np.ndarray,
    upper: np.ndarray,
) -> xr.Dataset:
    """The evaluations, each EGO seed's optimum and a summary of each block's emulator.

    Returns
    -------
    xarray.Dataset
        ``theta``, ``unit``, ``discrepancy``, ``status``, ``seed`` (dim ``eval``);
        ``best_theta(emulator, param)`` with ``emulator_seed`` (each EGO seed's optimum);
        ``lower``, ``upper(param)``; per ``block`` (and ``realization``): ``n_components``,
        ``explained``, ``sigma_scale``, ``noise_measured``, ``tail_dof``, ``outside_dof`` (0:
        no emulated outside part); with a stress block,
        ``stress_leverage(stress_frame)``: the squared norm of each frame's row of its basis.
    """
    keep = [v for v in _EVAL_VARS if v in evaluations]
    ds = evaluations[keep].reset_coords(drop=True).assign_coords(param=list(names))
    d = np.asarray(evaluations["discrepancy"].values, dtype=float)
    ok = np.isfinite(d)
    if "status" in evaluations:
        ok &= evaluations["status"].values == 0
    seeds = np.asarray(evaluations["seed"].values, dtype=int)
    labels = [int(s) for s in np.unique(seeds[ok])]
    theta = evaluations["theta"].transpose("eval", "param").values
    best = [
        theta[np.flatnonzero(ok & (seeds == s))[np.argmin(d[ok & (seeds == s)])]] for s in labels
    ]
    ds["emulator_seed"] = ("emulator", np.asarray(labels, dtype=np.int64))
    ds["best_theta"] = (("emulator", "param"), np.asarray(best).reshape(len(labels), len(names)))
    ds["lower"] = ("param", np.asarray(lower, dtype=float))
    ds["upper"] = ("param", np.asarray(upper, dtype=float))
    dims = ("realization", "block")
    ds = ds.assign_coords(block=[b.name for b in realizations[0]])
    for key in (
        "n_components",
        "explained",
        "sigma_scale",
        "noise_measured",
        "tail_dof",
        "outside_dof",
    ):
        values = [
            [
                float(
                    getattr(b.emulator, key)
                    if key in ("n_components", "explained")
                    else getattr(b, key)
                )
                for b in blocks
            ]
            for blocks in realizations
        ]
        ds[f"block_{key}"] = (dims, np.asarray(values))
    stress = [b for b in realizations[0] if b.name == "stress"]
    if stress:  # how much of each frame's model error lies in the emulated directions
        ds["stress_leverage"] = ("stress_frame", np.sum(stress[0].emulator.basis ** 2, axis=1))
    return ds


def residual_posterior(
    evaluations: xr.Dataset,
    discrepancy: Discrepancy,
    reference: xr.Dataset,
    *,
    options: PosteriorOptions | None = None,
    measure_noise: bool = True,
) -> tuple[az.InferenceData, list[list[ResidualBlock]], dict]:
    """Sample the residual-likelihood posterior.

    Parameters
    ----------
    evaluations : xarray.Dataset
        ``DIR/evaluations.nc`` (and refinement rows) with kept outputs.
    discrepancy : Discrepancy
        The study's (defines the blocks).
    reference : xarray.Dataset
        The data (``realization`` dim optional).
    options : PosteriorOptions or None
        Sampler settings, priors, ``reparam``, ``pooling`` over realizations.
    measure_noise : bool
        Measure the stress noise from the reference curve.

    Returns
    -------
    idata, blocks, timings
        The InferenceData (``posterior``, ``sample_stats``, ``prior``, ``constant_data``), the
        fitted blocks per realization, and ``{"emulator_fit_s": ..., "sampling_wall_s": ...}``.
    """
    from bayescal.infer.sample import sample, seed_plan

    opts = options if options is not None else PosteriorOptions()
    plan = seed_plan(opts.seed)
    names = [str(n) for n in evaluations["param"].values]
    lower, upper = evaluation_bounds(evaluations, len(names))
    t0 = time.perf_counter()
    blocks = fit_residual_blocks(
        evaluations, discrepancy, reference, measure_noise=measure_noise, rng=plan.emulators
    )
    for i, bs in enumerate(blocks):
        for b in bs:
            logger.info(
                "realization %d, block %s: %d components (%.1f %% of the variance), noise %s",
                i,
                b.name,
                b.emulator.n_components,
                100 * b.emulator.explained,
                "measured" if b.noise_measured else "in sigma",
            )
    t1 = time.perf_counter()
    model = build_residual_model(blocks, names=names, lower=lower, upper=upper, options=opts)
    ok = np.isfinite(np.asarray(evaluations["discrepancy"].values, dtype=float))
    theta = evaluations["theta"].transpose("eval", "param").values[ok]
    initvals = starting_point(blocks, names, lower, upper, opts, evaluated=theta, rng=plan.sampler)
    logger.info("chains start at %s", {k: float(v) for k, v in initvals.items()})
    if len(blocks) > 1 and opts.pooling != "complete":
        initvals = grouped_start(initvals, names, lower, upper, len(blocks), opts)
    idata = sample(model, opts, seeds=plan, initvals=initvals)
    t2 = time.perf_counter()
    ours = residual_constant_data(evaluations, blocks, names, lower, upper)
    if "constant_data" in idata.groups():  # the model's data containers (observed scores)
        ours = xr.merge([idata["constant_data"], ours], combine_attrs="override")
        del idata["constant_data"]
    idata.add_groups(constant_data=ours)
    return idata, blocks, {"emulator_fit_s": t1 - t0, "sampling_wall_s": t2 - t1}


def per_seed_hdi(
    evaluations: xr.Dataset,
    discrepancy: Discrepancy,
    reference: xr.Dataset,
    *,
    options: PosteriorOptions | None = None,
    hdi_prob: float = 0.94,
) -> xr.Dataset:
    """HDIs of the posterior from each EGO seed's own evaluations: how robust the search was.

    EGO seeds are repeats of one search, so the posterior pools their evaluations into one
    emulator set; this diagnostic instead samples one posterior per seed from its own
    evaluations (its EGO and polish rows; refinement rows, drawn from the pooled posterior, are
    left out). Seeds whose intervals disagree searched different regions, and the pooled
    posterior rests on the union of what they found.

    Parameters
    ----------
    evaluations : xarray.Dataset
        With kept outputs, ``seed`` and ``batch`` (refinement rows have ``batch < 0``).
    discrepancy, reference, options
        As for :func:`residual_posterior`.
    hdi_prob : float
        Mass of the intervals.

    Returns
    -------
    xarray.Dataset
        ``lower``, ``upper``, ``mean`` with dims ``(seed, param)`` over the searched and
        sampled parameters, and ``max_rhat``, ``min_ess_bulk`` per seed.

    Raises
    ------
    InputDataError
        A seed with fewer than 3 distinct finished evaluations (from the emulator fit).
    """
    opts = options if options is not None else PosteriorOptions()
    wanted = [str(n) for n in evaluations["param"].values]
    if opts.reparam is not None:
        wanted += [n for n in opts.reparam.names if n not in wanted]
    seeds = np.asarray(evaluations["seed"].values, dtype=int)
    own = np.asarray(evaluations["batch"].values, dtype=int) >= 0
    rows = []
    labels = [int(s) for s in np.unique(seeds[own])]
    for s in labels:
        subset = evaluations.isel(eval=np.flatnonzero(own & (seeds == s)))
        idata, _, _ = residual_posterior(subset, discrepancy, reference, options=opts)
        post = idata["posterior"]
        names = [n for n in wanted if n in post and post[n].ndim == 2]
        summary: Any = az.summary(idata, var_names=names, hdi_prob=hdi_prob)  # a DataFrame
        rows.append(
            xr.Dataset(
                {
                    "lower": ("param", np.asarray(summary.iloc[:, 2], dtype=float)),
                    "upper": ("param", np.asarray(summary.iloc[:, 3], dtype=float)),
                    "mean": ("param", np.asarray(summary["mean"], dtype=float)),
                    "max_rhat": float(summary["r_hat"].max()),
                    "min_ess_bulk": float(summary["ess_bulk"].min()),
                },
                coords={"param": names},
            )
        )
    out = xr.concat(rows, dim="seed", join="inner").assign_coords(seed=labels)
    out.attrs["hdi_prob"] = hdi_prob
    return out


def grouped_start(
    start: dict[str, np.ndarray],
    names: Sequence[str],
    lower: np.ndarray,
    upper: np.ndarray,
    n_realizations: int,
    options: PosteriorOptions,
) -> dict[str, np.ndarray]:
    """Initial values of the per-realization model with every realization at ``start``.

    With partial pooling the population values are ``start``'s, the offsets ``eps`` zero and
    the spreads ``tau`` half their prior scale; without pooling each ``<name>_realization``
    repeats ``start``. Chains of a partially pooled model started at random jitter can settle
    with some realizations in a worse local mode and the spread ``tau`` wide enough to hold
    them there; from the pooled best fit they reach the realizations' own modes through the
    population.

    Parameters
    ----------
    start : dict of str to ndarray
        :func:`starting_point`'s values (sampled parameters and sigmas).
    names, lower, upper
        Searched parameters and box (to find the sampled ones).
    n_realizations : int
        Number of data realizations.
    options : PosteriorOptions
        ``pooling``, ``spread_scale`` and ``reparam``.

    Returns
    -------
    dict of str to ndarray
        Initial values for :func:`bayescal.infer.sample`.
    """
    sampled, _, _ = sampled_box(names, lower, upper, options)
    out = {k: v for k, v in start.items() if k not in sampled}
    if options.pooling == "none":
        out |= {f"{k}_realization": np.full(n_realizations, float(start[k])) for k in sampled}
        return out
    out |= {k: start[k] for k in sampled}
    out["eps"] = np.zeros((n_realizations, len(sampled)))
    out["tau"] = np.full(len(sampled), 0.5 * float(options.spread_scale))
    return out


def starting_point(
    realizations: Sequence[Sequence[ResidualBlock]],
    names: Sequence[str],
    lower: np.ndarray,
    upper: np.ndarray,
    options: PosteriorOptions,
    *,
    evaluated: np.ndarray | None = None,
    n: int = 4000,
    rng: int | np.random.Generator | None = None,
) -> dict[str, np.ndarray]:
    """The best of ``n`` prior points and the evaluated points under the likelihood.

    The residual posterior of a calibration is often one narrow mode (a few per cent of a
    parameter's range, or less for a noise-free twin) beside a broad plateau of worse fits;
    chains started at random jitter settle on the plateau and stay there. Scoring uniform points of
    the box the prior is stated in (the reparametrisation's, if any) and the evaluated points
    with the likelihood (emulator means and variances, each ``sigma_b`` at its prior scale)
    and starting every chain at the best puts them in the mode; NUTS's warm-up then finds its
    width. Evaluated points count where they can be stated in the prior's coordinates (no
    reparametrisation, or one with ``from_search``) and lie in its box.

    Parameters
    ----------
    evaluated : ndarray, shape (m, d), optional
        Searched parameter values of evaluations (physical units).

    Returns
    -------
    dict of str to ndarray
        Initial values (constrained space) of the sampled parameters and of the ``sigma``
        variables, for :func:`bayescal.infer.sample` (``initvals``).
    """
    gen = np.random.default_rng(rng)
    r = options.reparam
    stated, p_lo, p_hi = prior_box(names, lower, upper, options)
    cand = p_lo + (p_hi - p_lo) * gen.random((n, len(stated)))
    values = {k: cand[:, j] for j, k in enumerate(stated)}
    if r is not None:
        values |= {k: np.asarray(v, dtype=float) for k, v in r.to_search(values).items()}
    inverse = None if r is None else r.from_search
    if evaluated is not None and len(evaluated) and (r is None or inverse is not None):
        theta = np.asarray(evaluated, dtype=float).reshape(-1, len(names))
        more = {k: theta[:, j] for j, k in enumerate(names)}
        if inverse is not None:
            more |= {k: np.asarray(v, dtype=float) for k, v in inverse(more).items()}
        values = {k: np.concatenate([v, more[k]]) for k, v in values.items()}
    unit = (np.stack([values[k] for k in names], axis=-1) - lower) / (upper - lower)
    prior = np.stack([values[k] for k in stated], axis=-1)
    inside = np.all((unit >= 0) & (unit <= 1), axis=1)
    inside &= np.all((prior >= p_lo) & (prior <= p_hi), axis=1)
    score = np.where(inside, 0.0, -np.inf)
    for blocks in realizations:
        for b in blocks:
            score += b.log_likelihood(np.clip(unit, 0, 1))
    best = int(np.argmax(score))
    sampled, s_lo, s_hi = sampled_box(names, lower, upper, options)
    at = {k: np.asarray(v, dtype=float)[best : best + 1] for k, v in values.items()}
    if r is not None and r.sampled is not None:
        at |= {k: np.asarray(v, dtype=float) for k, v in r.sampled.from_prior(at).items()}
    margin = 1e-6 * (s_hi - s_lo)  # box edges are at infinity in NUTS's coordinates
    start = {
        k: np.asarray(np.clip(at[k][0], s_lo[j] + margin[j], s_hi[j] - margin[j]))
        for j, k in enumerate(sampled)
    }
    for b in realizations[0]:
        start[b.sigma_name] = np.asarray(b.sigma_scale)
        if b.has_tail_sigma:
            start[b.tail_sigma_name] = np.asarray(b.tail_scale)
    return start
