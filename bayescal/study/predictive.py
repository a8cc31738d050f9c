"""Posterior predictive of the stress–strain data: model runs plus model error plus noise.

The residual likelihood says the data are the model's output at the parameters, plus a
model-form error ``sigma_stress`` per compared frame, plus the curve's measured noise. Its
predictive distribution of the data is therefore not the band of forward runs alone: each
posterior draw's forward curve gets independent draws of both error terms (marginally per frame).
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Literal

import numpy as np

from bayescal.errors import InputDataError
from bayescal.infer.priors import new_member
from bayescal.study.study import Study

if TYPE_CHECKING:
    import arviz as az
    import xarray as xr

__all__ = ["Member", "StressPredictive", "stress_predictive"]

#: Whose parameters a predictive runs (see :func:`stress_predictive`).
Member = Literal["pooled", "realization", "new"]


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class StressPredictive:
    """Predictive stress curves at posterior draws.

    Attributes
    ----------
    strain : ndarray, shape (frame,)
        Strain of the model's frames.
    model : ndarray, shape (n, frame)
        Forward runs at posterior draws (GPa; NaN rows for failed runs).
    data : ndarray, shape (n * replicates, frame)
        The same plus model error and noise (GPa).
    reference : ndarray, shape (m,)
        The data's stress (GPa).
    reference_strain : ndarray, shape (m,)
        Its strain.
    error_sd : float
        Posterior mean of ``sqrt(sigma_stress^2 + noise_sd^2)`` (GPa).
    units : str
        Unit of the stresses.
    theta : ndarray, shape (n, d) or None
        The parameters of the forward runs (physical units, the study's names).
    runs : xarray.Dataset or None
        The forward runs' whole output (dim ``sample``, one per row of ``model``), for
        comparisons beyond the stress curve (e.g. the fields of a held-out realization).
    """

    strain: np.ndarray
    model: np.ndarray
    data: np.ndarray
    reference: np.ndarray
    reference_strain: np.ndarray
    error_sd: float
    units: str = "GPa"
    theta: np.ndarray | None = None
    runs: xr.Dataset | None = None

    def band(self, level: float = 0.9, *, of: str = "data") -> np.ndarray:
        """Lower quantile, median and upper quantile per frame, shape ``(3, frame)``."""
        rows = self.data if of == "data" else self.model
        rows = rows[np.isfinite(rows).all(axis=1)]
        return np.quantile(rows, [(1 - level) / 2, 0.5, (1 + level) / 2], axis=0)

    def coverage(self, level: float = 0.9) -> float:
        """Fraction of the data's points (within the model's strain range) inside the band."""
        lo, _, hi = self.band(level)
        inside = (self.reference_strain >= self.strain.min()) & (
            self.reference_strain <= self.strain.max()
        )
        x = self.reference_strain[inside]
        ref = self.reference[inside]
        return float(
            np.mean((ref >= np.interp(x, self.strain, lo)) & (ref <= np.interp(x, self.strain, hi)))
        )

    def median_peak(self) -> tuple[float, float]:
        """Peak stress of the median data curve and its strain."""
        _, med, _ = self.band()
        i = int(np.argmax(med))
        return float(med[i]), float(self.strain[i])

    def summary(self, level: float = 0.9) -> str:
        """One line for the report."""
        peak, at = self.median_peak()
        ref_peak = int(np.argmax(self.reference))
        u = self.units
        return (
            f"{level:.0%} predictive band of the data covers {100 * self.coverage(level):.0f} % "
            f"of the reference stress points; median peak {peak:.3f} {u} at strain {at:.3f} "
            f"(data {self.reference[ref_peak]:.3f} {u} at {self.reference_strain[ref_peak]:.3f}); "
            f"model error + noise sd {self.error_sd:.3f} {u}"
        )


def _frame_model_error(idata: az.InferenceData, flat, idx: np.ndarray) -> np.ndarray:
    """Model-error sd per frame at the selected draws, shape ``(n, frame)`` (or ``(n, 1)``).

    ``sigma_stress`` acts in the emulated directions and ``sigma_tail_stress`` outside them, so
    frame ``f`` has variance ``h_f sigma^2 + (1 - h_f) sigma_tail^2`` with ``h_f`` its leverage.
    """
    if "sigma_stress" not in flat:
        return np.zeros((idx.size, 1))
    inside = flat["sigma_stress"].values[idx][:, None] ** 2
    cd = idata["constant_data"]
    if "sigma_tail_stress" not in flat or "stress_leverage" not in cd:
        return np.sqrt(inside)
    h = np.asarray(cd["stress_leverage"].values)[None, :]
    outside = flat["sigma_tail_stress"].values[idx][:, None] ** 2
    return np.sqrt(h * inside + (1 - h) * outside)


def stress_predictive(
    study: Study,
    idata: az.InferenceData,
    *,
    n_draws: int = 24,
    replicates: int = 20,
    rng: int | np.random.Generator | None = None,
    realization: int = 0,
    member: Member = "pooled",
) -> StressPredictive:
    """Forward runs at posterior draws, with model error and measured noise added.

    Parameters
    ----------
    study : Study
        Forward model, stress term, reference.
    idata : arviz.InferenceData
        A residual-likelihood posterior (pooled parameters, ``sigma_stress``); a posterior
        without ``sigma_stress`` gets the forward runs' band only (``data == model``).
    n_draws : int
        Posterior draws run through the forward model.
    replicates : int
        Error draws per forward run.
    rng : int, numpy Generator or None
        Selects the draws and the errors.
    realization : int
        The data realization compared with (and run from, for a forward model that takes
        ``realization``); its measured noise is added.
    member : {"pooled", "realization", "new"}
        Whose parameters: the pooled (population) values by name; that realization's own
        (``<name>_realization``, partial or no pooling); or a new member of the population
        (:func:`bayescal.infer.priors.new_member`), the prediction for a realization the
        posterior has not seen (e.g. one held out).

    Returns
    -------
    StressPredictive

    Raises
    ------
    InputDataError
        No stress term, no pooled parameters, or no feasible draw.
    """
    from bayescal.infer.residual_posterior import measured_stress_noise, realizations_of
    from bayescal.study.evaluate import forward_batch

    term = study.discrepancy.stress
    post = idata["posterior"]
    if term is None or not all(n in post for n in study.names):
        raise InputDataError("the stress predictive needs a stress term and pooled parameters.")
    reference = realizations_of(study.reference)[realization]
    gen = np.random.default_rng(rng)
    flat = post.stack(sample=("chain", "draw"))
    idx = gen.choice(flat.sizes["sample"], size=n_draws, replace=False)
    theta = _member_draws(study, flat, idx, member, realization, gen)
    sigma = _frame_model_error(idata, flat, idx)  # (n_draws, frame)
    noise = measured_stress_noise(study.discrepancy, reference) if "sigma_stress" in flat else None
    noise_sd = 0.0 if noise is None else noise.sd
    ok = study.feasible(theta)
    if not ok.any():
        raise InputDataError("no posterior draw satisfies the study's constraint.")
    model = forward_batch(study, theta[ok], realization)
    curves = model[term.model].transpose("sample", "frame").values.astype(float)
    if "status" in model:
        curves[model["status"].values != 0] = np.nan
    sd = np.sqrt(sigma[ok] ** 2 + noise_sd**2)
    if sd.shape[1] != curves.shape[1]:
        sd = np.broadcast_to(sd[:, :1], curves.shape)
    errors = gen.standard_normal((replicates, *curves.shape)) * sd[None]
    data = (curves[None] + errors).reshape(-1, curves.shape[1])
    ref = reference[term.reference]
    return StressPredictive(
        strain=np.asarray(model["strain"].values, dtype=float),
        model=curves,
        data=data,
        reference=np.asarray(ref.values, dtype=float),
        reference_strain=np.asarray(study.reference[term.reference_strain].values, dtype=float),
        error_sd=float(np.sqrt(np.mean(sd**2))),
        units=str(ref.attrs.get("units", "GPa")),
        theta=theta[ok],
        runs=model,
    )


def _member_draws(study, flat, idx, member, realization, gen) -> np.ndarray:
    """Parameter draws ``(n, d)`` of the pooled values, a realization's, or a new member's."""
    names = list(study.names)
    if member == "pooled":
        return np.stack([flat[n].values[idx] for n in names], axis=-1)
    if member == "realization":
        keys = [f"{n}_realization" for n in names]
        if not all(k in flat for k in keys):
            raise InputDataError("member='realization' needs per-realization parameters.")
        return np.stack([flat[k].values[realization, idx] for k in keys], axis=-1)
    if member == "new":
        if "tau" not in flat:
            raise InputDataError("member='new' needs a partially pooled posterior (tau).")
        pop = np.stack([flat[n].values[idx] for n in names], axis=-1)
        tau = flat["tau"].sel(param=names).values[:, idx].T
        lower, upper = study.bounds.T
        return new_member(pop, tau, lower, upper, rng=gen)
    raise InputDataError(f"member must be 'pooled', 'realization' or 'new'; got {member!r}.")
