"""Convergence diagnostics of a posterior: R-hat, bulk/tail ESS, divergences, pass/fail."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

import arviz as az
import numpy as np
import xarray as xr

from bayescal.errors import InputDataError

__all__ = ["Diagnostics", "diagnose", "parameter_var_names"]

logger = logging.getLogger(__name__)


def parameter_var_names(idata: az.InferenceData) -> list[str]:
    """Posterior variables that are calibrated parameters (pooled, per group) or tau/sigma.

    Parameters
    ----------
    idata : arviz.InferenceData
        Output of :func:`bayescal.infer.posterior` (or a posterior with the same names).

    Returns
    -------
    list of str
        Names in the posterior group, excluding ``eps``, ``d_mean`` and log-likelihood terms.
    """
    names = [str(n) for n in idata["posterior"].attrs.get("param_names", [])]
    if not names and "constant_data" in idata.groups():
        names = [str(n) for n in idata["constant_data"]["param"].values]
    # parameters sampled instead of searched ones (PosteriorOptions.reparam)
    names += [str(n) for n in np.atleast_1d(idata["posterior"].attrs.get("sampled_names", []))]
    names = list(dict.fromkeys(names))
    sigmas = [str(v) for v in idata["posterior"].data_vars if str(v).startswith("sigma_")]
    wanted = [
        *names,
        *(f"{n}_seed" for n in names),
        *(f"{n}_realization" for n in names),
        "tau",
        "sigma",
        *sigmas,
    ]
    present = [v for v in wanted if v in idata["posterior"]]
    if not present:  # a foreign posterior: every variable but the auxiliaries
        present = [str(v) for v in idata["posterior"].data_vars if v not in ("eps", "d_mean")]
    return present


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class Diagnostics:
    """Convergence diagnostics and their verdict.

    Attributes
    ----------
    rhat, ess_bulk, ess_tail : xarray.Dataset
        Rank-normalised split R-hat and bulk/tail effective sample sizes (Vehtari et al. 2021),
        one variable per posterior variable, per element (e.g. per seed).
    divergences : int
        Divergent NUTS transitions after tuning.
    passed : bool
        ``max rhat < rhat_max``, ``min ess_bulk > ess_min`` and no divergence.
    failures : tuple of str
        Human-readable reasons when not passed.
    """

    rhat: xr.Dataset
    ess_bulk: xr.Dataset
    ess_tail: xr.Dataset
    divergences: int
    passed: bool
    failures: tuple[str, ...]

    @property
    def max_rhat(self) -> float:
        """Largest R-hat over variables and elements."""
        return float(max(np.max(v.values) for v in self.rhat.data_vars.values()))

    @property
    def min_ess_bulk(self) -> float:
        """Smallest bulk ESS over variables and elements."""
        return float(min(np.min(v.values) for v in self.ess_bulk.data_vars.values()))

    def to_dataset(self) -> xr.Dataset:
        """All figures in one dataset (``rhat_<var>``, ``ess_bulk_<var>``, ``ess_tail_<var>``).

        Returns
        -------
        xarray.Dataset
            With attrs ``divergences``, ``passed`` (0/1) and ``failures``.
        """
        parts = [
            ds.rename({v: f"{kind}_{v}" for v in ds.data_vars})
            for kind, ds in (("rhat", self.rhat), ("ess_bulk", self.ess_bulk))
        ]
        parts.append(self.ess_tail.rename({v: f"ess_tail_{v}" for v in self.ess_tail.data_vars}))
        out = xr.merge(parts, compat="override")
        out.attrs = {
            "divergences": self.divergences,
            "passed": int(self.passed),
            "failures": "; ".join(self.failures),
        }
        return out


def diagnose(
    idata: az.InferenceData,
    *,
    var_names: Sequence[str] | None = None,
    rhat_max: float = 1.01,
    ess_min: float = 400.0,
) -> Diagnostics:
    """R-hat, ESS and divergences of the parameters, checked against thresholds.

    Parameters
    ----------
    idata : arviz.InferenceData
        Needs a ``posterior`` group (and ``sample_stats.diverging`` to count divergences).
    var_names : sequence of str or None
        Variables to check; None means :func:`parameter_var_names`.
    rhat_max : float
        R-hat must be below this (DESIGN.md target 1.01).
    ess_min : float
        Bulk ESS must be above this (DESIGN.md target 400).

    Returns
    -------
    Diagnostics
    """
    if "posterior" not in idata.groups():
        raise InputDataError("idata has no posterior group; run bayescal.infer.sample first.")
    names = list(var_names) if var_names is not None else parameter_var_names(idata)
    post = idata["posterior"][names]
    rhat = az.rhat(post)
    ess_bulk = az.ess(post, method="bulk")
    ess_tail = az.ess(post, method="tail")
    divergences = 0
    if "sample_stats" in idata.groups() and "diverging" in idata["sample_stats"]:
        divergences = int(idata["sample_stats"]["diverging"].sum())
    failures = []
    for v in names:
        r = float(np.max(rhat[v].values))
        e = float(np.min(ess_bulk[v].values))
        if not r < rhat_max:  # also catches NaN
            failures.append(f"{v}: R-hat {r:.4f} >= {rhat_max}")
        if not e > ess_min:
            failures.append(f"{v}: bulk ESS {e:.0f} <= {ess_min:.0f}")
    if divergences:
        failures.append(f"{divergences} divergent transitions")
    for msg in failures:
        logger.info("diagnostics: %s", msg)
    return Diagnostics(
        rhat=rhat,
        ess_bulk=ess_bulk,
        ess_tail=ess_tail,
        divergences=divergences,
        passed=not failures,
        failures=tuple(failures),
    )
