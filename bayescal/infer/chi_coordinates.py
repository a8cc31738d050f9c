"""Posterior coordinates for a linear potential-energy -> effective-temperature map.

STZ calibrations against MD map each cell's potential energy U to an effective temperature
``chi = beta (U - u0) T_Z``. The data fix the mean initial effective temperature
``chi0 = beta (<U_0> - u0) T_Z`` and leave beta nearly free along it: in (beta, u0) that valley is
a narrow curve, and in (beta, chi0) the bounds of u0 are a wall across it at small beta. NUTS
therefore moves best in (chi0, w, ...), with beta at fraction ``w`` of the interval that keeps u0
inside its bounds at that chi0, while the prior stays the one stated on (beta, u0, ...).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from bayescal.infer.options import Reparametrization, SampledCoordinates

__all__ = ["beta_interval", "mean_chi_reparametrization"]


def beta_interval(
    chi0: Any,
    *,
    pe0_mean: float,
    t_z: float,
    beta_bounds: tuple[float, float],
    u0_bounds: tuple[float, float],
    lib: Any = np,
) -> tuple[Any, Any]:
    """The beta interval that keeps ``u0 = pe0_mean - chi0 / (beta t_z)`` in ``u0_bounds``.

    Parameters
    ----------
    chi0 : array_like or PyTensor variable
        Mean initial effective temperature [K].
    pe0_mean : float
        Mean initial potential energy <U_0> [eV/atom].
    t_z : float
        STZ formation energy over k_B [K].
    beta_bounds, u0_bounds : (float, float)
        Bounds of beta [1/eV] and u0 [eV].
    lib : module
        ``numpy`` or ``pytensor.tensor`` (for ``maximum``/``minimum``).

    Returns
    -------
    (low, high)
        Like ``chi0``.
    """
    low = lib.maximum(beta_bounds[0], chi0 / ((pe0_mean - u0_bounds[0]) * t_z))
    high = lib.minimum(beta_bounds[1], chi0 / ((pe0_mean - u0_bounds[1]) * t_z))
    return low, high


def mean_chi_reparametrization(
    *,
    pe0_mean: float,
    t_z: float,
    beta_bounds: tuple[float, float],
    u0_bounds: tuple[float, float],
    others: Mapping[str, tuple[float, float]],
) -> Reparametrization:
    """Prior on (beta, u0, others), search in (beta, chi0, others), NUTS in (chi0, w, others).

    Parameters
    ----------
    pe0_mean : float
        Mean initial potential energy <U_0> [eV/atom].
    t_z : float
        STZ formation energy over k_B [K].
    beta_bounds, u0_bounds : (float, float)
        Prior bounds of beta [1/eV] and u0 [eV].
    others : mapping of str to (float, float)
        The other calibrated parameters and their bounds, passed through unchanged.

    Returns
    -------
    Reparametrization
        For :class:`bayescal.infer.PosteriorOptions` ``reparam``.
    """
    import pytensor.tensor as pt

    names = tuple(others)
    box = {"beta_bounds": beta_bounds, "u0_bounds": u0_bounds, "pe0_mean": pe0_mean, "t_z": t_z}

    def u0_of(v):
        return pe0_mean - v["chi0"] / (v["beta"] * t_z)

    def chi0_of(v):
        return v["beta"] * (pe0_mean - v["u0"]) * t_z

    def to_prior(v):
        low, high = beta_interval(v["chi0"], lib=pt, **box)
        beta = low + (high - low) * v["w"]
        return {"beta": beta, "u0": u0_of({"chi0": v["chi0"], "beta": beta})} | {
            n: v[n] for n in names
        }

    def from_prior(v):
        chi0 = chi0_of(v)
        low, high = beta_interval(chi0, **box)
        return {"chi0": chi0, "w": (v["beta"] - low) / (high - low)}

    chi0_low = beta_bounds[0] * (pe0_mean - u0_bounds[1]) * t_z
    chi0_high = beta_bounds[1] * (pe0_mean - u0_bounds[0]) * t_z
    sampled = SampledCoordinates(
        names=("chi0", "w", *names),
        lower=(chi0_low, 0.0, *(others[n][0] for n in names)),
        upper=(chi0_high, 1.0, *(others[n][1] for n in names)),
        to_prior=to_prior,
        from_prior=from_prior,
    )
    return Reparametrization(
        names=("beta", "u0", *names),
        lower=(beta_bounds[0], u0_bounds[0], *(others[n][0] for n in names)),
        upper=(beta_bounds[1], u0_bounds[1], *(others[n][1] for n in names)),
        to_search=lambda v: {"chi0": chi0_of(v)},
        from_search=lambda v: {"u0": u0_of(v)},
        sampled=sampled,
    )
