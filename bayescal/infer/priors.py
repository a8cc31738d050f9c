"""Prior variables of the calibrated parameters, alone or partially pooled over a group dim."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, cast

import numpy as np

from bayescal.infer.options import PriorSpec

__all__ = ["partially_pooled", "prior_variable"]


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
