"""Prior variables of the calibrated parameters, alone or partially pooled over a group dim."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, cast

import numpy as np

from bayescal.errors import InputDataError
from bayescal.infer.options import PriorSpec, Reparametrization

__all__ = ["new_member", "partially_pooled", "prior_through_map", "prior_variable"]


def prior_variable(
    name: str, spec: PriorSpec, lower: float, upper: float, dims: str | None = None
) -> Any:
    """One parameter's prior as a PyMC variable (inside a model context).

    Parameters
    ----------
    name : str
        Variable name.
    spec : PriorSpec
        ``("uniform",)``, ``("normal", mu, sd)`` (truncated to the bounds) or a callable
        ``f(name, lower, upper, dims=None)``.
    lower, upper : float
        Bounds, physical units.
    dims : str or None
        Model dim of the variable.

    Returns
    -------
    pytensor.tensor.TensorVariable
    """
    import pymc as pm

    if callable(spec):
        return spec(name, lower, upper, dims=dims)
    if spec[0] == "normal":
        _, mu, sd = cast("tuple[str, float, float]", spec)
        return pm.TruncatedNormal(
            name, mu=float(mu), sigma=float(sd), lower=lower, upper=upper, dims=dims
        )
    return pm.Uniform(name, lower=lower, upper=upper, dims=dims)


def partially_pooled(
    names: Sequence[str],
    lower: np.ndarray,
    upper: np.ndarray,
    priors: Mapping[str, PriorSpec],
    *,
    group: str,
    spread_scale: float,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Parameters per member of ``group`` around a population location (non-centred).

    ``logit(u_g) = logit(u_pop) + tau * eps_g`` in unit coordinates of the bounds, with
    ``eps_g ~ N(0, 1)`` and ``tau ~ HalfNormal(spread_scale)`` per parameter (dim ``param``);
    ``u_pop`` has the parameters' priors. The model needs coords ``param`` and ``group``.

    Parameters
    ----------
    names : sequence of str
        Parameter names (the ``param`` coordinate).
    lower, upper : ndarray, shape (d,)
        Bounds, physical units.
    priors : mapping of str to PriorSpec
        Population priors; missing names are uniform.
    group : str
        Dim of the members (``"seed"``, ``"realization"``); the per-member variables are
        ``<name>_<group>``.
    spread_scale : float
        Scale of ``tau`` (logit-unit space).

    Returns
    -------
    per_member, population : dict of str to TensorVariable
        Shapes ``(G,)`` and ``()``, physical units.
    """
    import pymc as pm
    import pytensor.tensor as pt

    lo = np.asarray(lower, dtype=float)
    rg = np.asarray(upper, dtype=float) - lo
    pop = {
        n: prior_variable(n, priors.get(n, ("uniform",)), float(a), float(a + r))
        for n, a, r in zip(names, lo, rg, strict=True)
    }
    u_pop = (pt.stack(list(pop.values())) - lo) / rg
    mu = pt.log(u_pop) - pt.log1p(-u_pop)  # logit, (d,)
    tau = pm.HalfNormal("tau", sigma=spread_scale, dims="param")
    eps = pm.Normal("eps", 0.0, 1.0, dims=(group, "param"))
    unit = pt.sigmoid(mu + tau * eps)  # (G, d)
    members = {
        n: pm.Deterministic(f"{n}_{group}", lo[j] + rg[j] * unit[:, j], dims=group)
        for j, n in enumerate(names)
    }
    return members, pop


def new_member(
    population: np.ndarray,
    tau: np.ndarray,
    lower: np.ndarray,
    upper: np.ndarray,
    *,
    rng: int | np.random.Generator | None = None,
) -> np.ndarray:
    """Parameters of a new member of a partially pooled population (:func:`partially_pooled`).

    ``logit(u_new) = logit(u_pop) + tau * eps`` with a fresh ``eps ~ N(0, 1)`` per draw and
    parameter: the predictive of a member not in the data (e.g. a held-out realization).

    Parameters
    ----------
    population : ndarray, shape (n, d)
        Posterior draws of the population values, physical units.
    tau : ndarray, shape (n, d)
        The same draws' spreads (logit-unit space).
    lower, upper : ndarray, shape (d,)
        Bounds, physical units.
    rng : int, numpy Generator or None
        Source of ``eps``.

    Returns
    -------
    ndarray, shape (n, d)
        One new member per draw, physical units.
    """
    lo = np.asarray(lower, dtype=float)
    rg = np.asarray(upper, dtype=float) - lo
    u = np.clip((np.asarray(population, dtype=float) - lo) / rg, 1e-12, 1 - 1e-12)
    eps = np.random.default_rng(rng).standard_normal(u.shape)
    logit = np.log(u) - np.log1p(-u) + np.asarray(tau, dtype=float) * eps
    return lo + rg / (1.0 + np.exp(-logit))


def prior_through_map(
    sampled: Mapping[str, Any],
    reparam: Reparametrization,
    priors: Mapping[str, PriorSpec],
) -> dict[str, Any]:
    """Put the prior of ``reparam.names`` on the variables of ``reparam.sampled``.

    Adds the potential ``prior_<names>``: the log prior density at the mapped point (uniform
    or truncated normal specs; ``-inf`` outside ``reparam``'s bounds, with a relative
    tolerance of 1e-9 of each range for rounding) plus ``log |det J|`` of the map from the
    sampled values to ``names``; and a deterministic per name of ``reparam`` not sampled.

    Parameters
    ----------
    sampled : mapping of str to TensorVariable
        The variables of ``reparam.sampled.names``, scalars, flat over its box (inside a model
        context).
    reparam : Reparametrization
        With ``sampled``.
    priors : mapping of str to PriorSpec
        Priors of ``reparam.names`` (uniform when missing; callables are not supported here).

    Returns
    -------
    dict of str to TensorVariable
        Every sampled name and every name of ``reparam``.

    Raises
    ------
    InputDataError
        ``to_prior`` not returning every name of ``reparam``, fewer or more sampled
        coordinates than names, or a callable prior.
    """
    import pymc as pm
    import pytensor.tensor as pt

    coords = reparam.sampled
    if coords is None:
        raise InputDataError("prior_through_map needs Reparametrization.sampled.")
    computed = dict(coords.to_prior(sampled))
    if sorted(computed) != sorted(reparam.names) or len(coords.names) != len(reparam.names):
        raise InputDataError(
            f"SampledCoordinates.to_prior must return exactly {sorted(reparam.names)} from as "
            f"many coordinates; got {sorted(computed)} from {list(coords.names)}."
        )
    mapped = [pt.as_tensor_variable(computed[n]) for n in reparam.names]
    wrt = [sampled[n] for n in coords.names]
    rows = [cast("list[Any]", pt.grad(m, wrt, disconnected_inputs="ignore")) for m in mapped]
    jac = pt.stack([pt.stack(row) for row in rows])
    logp = pt.log(pt.abs(pt.nlinalg.det(jac)))
    inside = pt.as_tensor_variable(np.array(True))
    for n, v, lo, hi in zip(reparam.names, mapped, reparam.lower, reparam.upper, strict=True):
        tol = 1e-9 * (hi - lo)
        inside = pt.and_(inside, pt.and_(pt.ge(v, lo - tol), pt.le(v, hi + tol)))
        spec = priors.get(n, ("uniform",))
        if callable(spec):
            raise InputDataError(
                f"prior of {n!r}: a callable prior cannot be mapped onto sampled coordinates; "
                "use ('uniform',) or ('normal', mu, sd)."
            )
        if spec[0] == "normal":
            _, mu, sd = cast("tuple[str, float, float]", spec)
            dist = pm.TruncatedNormal.dist(mu=float(mu), sigma=float(sd), lower=lo, upper=hi)
            logp = logp + pm.logp(dist, pt.clip(v, lo, hi))
        else:
            logp = logp - np.log(hi - lo)
    pm.Potential("prior_" + "_".join(reparam.names), pt.switch(inside, logp, -np.inf))
    values = dict(sampled)
    for n, v in zip(reparam.names, mapped, strict=True):
        if n not in values:
            values[n] = pm.Deterministic(n, v)
    return values
