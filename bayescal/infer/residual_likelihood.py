"""The PyMC model of the residual likelihood: priors, coordinates and one term per block.

:func:`build_residual_model` turns the residual blocks of :mod:`bayescal.infer.residual_model`
(emulators, measured noise, model-error scales) into a PyMC model of the parameters: the
parameters' priors in the coordinates NUTS moves in (:class:`bayescal.infer.Reparametrization`),
per-realization parameters with a population level, and each block's Normal likelihood of the
observed zero residual against the emulated one, with the learned model error.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import ArrayLike

from bayescal._pytensor_blas import configure_pytensor_blas
from bayescal.errors import InputDataError
from bayescal.infer.residual_model import ResidualBlock, block_label

if TYPE_CHECKING:
    import pymc as pm

    from bayescal.infer.options import PosteriorOptions

__all__ = ["build_residual_model", "prior_box", "sampled_box"]


def build_residual_model(
    realizations: Sequence[Sequence[ResidualBlock]],
    *,
    names: Sequence[str],
    lower: ArrayLike,
    upper: ArrayLike,
    options: PosteriorOptions | None = None,
) -> pm.Model:
    """PyMC model of the parameters given the residual blocks of each data realization.

    Parameters
    ----------
    realizations : sequence of sequences of ResidualBlock
        Per data realization, its blocks (same block names in each; the emulators share the
        parameter box).
    names : sequence of str
        Searched parameter names, in unit-cube column order.
    lower, upper : array_like, shape (d,)
        The searched box.
    options : PosteriorOptions or None
        Uses ``priors`` (uniform by default), ``reparam`` (sample other coordinates: its names,
        or its ``sampled`` coordinates under the prior stated in its names),
        ``pooling`` (over realizations: ``"partial"``, ``"complete"`` or ``"none"``) and
        ``spread_scale``.

    Returns
    -------
    pymc.Model
        Free variables: the sampled parameters by name (one realization, or complete pooling),
        or ``<name>_realization`` (dim ``realization``) around the population values by name
        (partial pooling; ``tau``, ``eps``) or alone (no pooling); ``sigma_<block>`` and, with
        a tail or an emulated outside part, ``sigma_tail_<block>``. Searched parameters not
        sampled (``reparam``) are deterministics under the same scheme.
        Observed ``z_<block>`` (``z_<block>_r<i>`` with several realizations); potentials
        ``tail_<block>`` (blocks with a data tail) and ``outside_<block>`` (blocks with an
        emulated outside part). The observed scores and the tail's squared norm are data
        containers ``target_<block>`` and ``tail_sq_<block>``, so a compiled model can be reused
        for other data with the same emulators (``pm.set_data``, nutpie's ``with_data``; an
        outside part is fitted to one data set's residuals and is not swapped). Block names with
        characters other than
        letters, digits and ``_`` have them replaced by ``_``.
    """
    configure_pytensor_blas()
    import pymc as pm
    import pytensor.tensor as pt

    from bayescal.infer.options import PosteriorOptions

    opts = options if options is not None else PosteriorOptions(likelihood="residual")
    lo, hi = np.asarray(lower, dtype=np.float64), np.asarray(upper, dtype=np.float64)
    if not (len(names) == lo.shape[0] == hi.shape[0]) or not np.all(lo < hi):
        raise InputDataError(f"need one lower < upper per name; got {list(names)}, {lo}, {hi}.")
    if not realizations or not all(realizations):
        raise InputDataError("build_residual_model needs at least one residual block.")
    labels = [[b.name for b in blocks] for blocks in realizations]
    if any(lab != labels[0] for lab in labels):
        raise InputDataError(f"every realization needs the same blocks; got {labels}.")
    n_real = len(realizations)
    grouped = n_real > 1 and opts.pooling != "complete"
    sampled, s_lo, s_hi = sampled_box(names, lo, hi, opts)
    mapped = opts.reparam is not None and opts.reparam.sampled is not None
    known = list(opts.reparam.names) if opts.reparam is not None and mapped else sampled
    unknown = sorted(set(opts.priors) - set(known))
    if unknown:
        raise InputDataError(f"priors given for unknown parameters {unknown}; known: {known}.")
    if mapped and grouped:
        raise InputDataError(
            "Reparametrization.sampled needs one parameter set (one data realization or "
            "pooling='complete'); drop it to sample the reparametrisation's names."
        )
    coords: dict[str, list] = {"param": sampled, "block": labels[0]}
    if grouped:
        coords["realization"] = list(range(n_real))
    with pm.Model(coords=coords) as model:
        if mapped:
            values = _mapped_parameters(sampled, s_lo, s_hi, names, opts)
        else:
            values = _sampled_parameters(sampled, s_lo, s_hi, opts, grouped)
            if opts.reparam is not None:
                values = _searched_from_sampled(values, names, opts, grouped)
        unit = (pt.stack([values[n] for n in names], axis=-1) - lo) / (hi - lo)
        sigmas = {
            b.name: pm.HalfNormal(
                b.sigma_name,
                sigma=max(max(bs[i].sigma_scale for bs in realizations), 1e-12),
            )
            for i, b in enumerate(realizations[0])
        }
        # a block's tail sd exists when any realization's block has a tail or outside part
        tails = {
            b.name: pm.HalfNormal(
                b.tail_sigma_name,
                sigma=max(
                    max(bs[i].tail_scale for bs in realizations if bs[i].has_tail_sigma), 1e-12
                ),
            )
            for i, b in enumerate(realizations[0])
            if any(bs[i].has_tail_sigma for bs in realizations)
        }
        for i, blocks in enumerate(realizations):
            x = unit[i] if grouped else unit
            suffix = f"_r{i}" if n_real > 1 else ""
            for b in blocks:
                _block_likelihood(b, x, sigmas[b.name], tails.get(b.name), suffix)
    return model


def sampled_box(
    names: Sequence[str], lower: np.ndarray, upper: np.ndarray, options: PosteriorOptions
) -> tuple[list[str], np.ndarray, np.ndarray]:
    """The sampled parameters and their bounds.

    The searched ones, ``options.reparam``'s names, or its ``sampled`` coordinates.
    """
    r = options.reparam
    if r is None:
        return list(names), np.asarray(lower, dtype=float), np.asarray(upper, dtype=float)
    if r.sampled is not None:
        return list(r.sampled.names), np.array(r.sampled.lower), np.array(r.sampled.upper)
    return list(r.names), np.array(r.lower), np.array(r.upper)


def prior_box(
    names: Sequence[str], lower: np.ndarray, upper: np.ndarray, options: PosteriorOptions
) -> tuple[list[str], np.ndarray, np.ndarray]:
    """The parameters the prior is stated in and their bounds (``options.reparam``'s names)."""
    r = options.reparam
    if r is None:
        return list(names), np.asarray(lower, dtype=float), np.asarray(upper, dtype=float)
    return list(r.names), np.array(r.lower), np.array(r.upper)


def _sampled_parameters(
    names: list[str], lo: np.ndarray, hi: np.ndarray, opts: PosteriorOptions, grouped: bool
) -> dict:
    """The sampled parameters: one set, or one per realization (dim ``realization``)."""
    from bayescal.infer.priors import partially_pooled, prior_variable

    priors = {n: opts.priors.get(n, ("uniform",)) for n in names}
    if not grouped:
        return {
            n: prior_variable(n, priors[n], float(a), float(b))
            for n, a, b in zip(names, lo, hi, strict=True)
        }
    if opts.pooling == "none":
        return {
            n: prior_variable(f"{n}_realization", priors[n], float(a), float(b), "realization")
            for n, a, b in zip(names, lo, hi, strict=True)
        }
    members, _ = partially_pooled(
        names, lo, hi, priors, group="realization", spread_scale=opts.spread_scale
    )
    return members


def _mapped_parameters(
    sampled: list[str], lo: np.ndarray, hi: np.ndarray, names: Sequence[str], opts
) -> dict:
    """Flat variables on ``reparam.sampled``'s box carrying the prior of ``reparam.names``."""
    import pymc as pm

    from bayescal.infer.priors import prior_through_map

    flat = {n: pm.Uniform(n, float(a), float(b)) for n, a, b in zip(sampled, lo, hi, strict=True)}
    values = prior_through_map(flat, opts.reparam, opts.priors)
    missing = [n for n in names if n not in values]
    if missing:
        computed = dict(opts.reparam.to_search(values))
        values |= {n: pm.Deterministic(n, computed[n]) for n in missing}
    return values


def _searched_from_sampled(values: dict, names: Sequence[str], opts, grouped: bool) -> dict:
    """Add the searched parameters computed from the sampled ones (``reparam``)."""
    import pymc as pm

    r = opts.reparam
    missing = [n for n in names if n not in values]
    computed = dict(r.to_search(values))
    if sorted(computed) != sorted(missing):
        raise InputDataError(
            f"Reparametrization.to_search must return exactly {missing}; got {sorted(computed)}."
        )
    out = dict(values)
    for n in missing:
        if grouped:
            out[n] = pm.Deterministic(f"{n}_realization", computed[n], dims="realization")
        else:
            out[n] = pm.Deterministic(n, computed[n])
    if grouped and opts.pooling == "partial":
        model = pm.modelcontext(None)
        pop = {n: model[n] for n in r.names}
        for n, v in r.to_search(pop).items():
            pm.Deterministic(n, v)
    return out


def _block_likelihood(block: ResidualBlock, x, sigma, tail_sigma, suffix: str) -> None:
    """Observed scores and the tail potential of one block at unit point ``x``."""
    import pymc as pm
    import pytensor.tensor as pt

    label = block_label(block.name) + suffix
    mean, var = block.emulator.pytensor_mean_var(x)
    target = pm.Data(f"target_{label}", block.target)
    if block.systematic is None:
        sd = pt.sqrt(var + block.nugget + sigma**2 + block.noise_var)
        pm.Normal(f"z_{label}", mu=mean, sigma=sd, observed=target)
    else:
        # covariance diag(total) + sigma^2 u u^T (tau_b in every direction, sigma_b along the
        # best fits' common misfit u): independent normals with the diagonal, plus the
        # Sherman-Morrison correction of the rank-one term
        total = var + block.nugget + block.noise_var + tail_sigma**2
        pm.Normal(f"z_{label}", mu=mean, sigma=pt.sqrt(total), observed=target)
        u = np.asarray(block.systematic)
        along = pt.sum((target - mean) * u / total)
        gain = 1.0 + sigma**2 * pt.sum(u**2 / total)
        pm.Potential(f"systematic_{label}", 0.5 * sigma**2 * along**2 / gain - 0.5 * pt.log(gain))
    if block.tail_dof:
        tail = tail_sigma**2 + block.tail_var
        tail_sq = pm.Data(f"tail_sq_{label}", np.asarray(block.tail_sq))
        pm.Potential(
            f"tail_{label}",
            -0.5 * tail_sq / tail - 0.5 * block.tail_dof * pt.log(2 * np.pi * tail),
        )
    if block.outside is not None:
        from bayescal.emulate import gp_mean_var

        log_sq, log_var = gp_mean_var(x, block.outside)
        tau2 = tail_sigma**2
        pm.Potential(
            f"outside_{label}",
            -0.5 * pt.exp(log_sq + 0.5 * log_var) / tau2
            - 0.5 * block.outside_dof * pt.log(2 * np.pi * tau2),
        )
