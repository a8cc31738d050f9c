"""Kennedy–O'Hagan likelihood of the emulated residual blocks (the posterior's default).

For each residual block ``b`` (a field term's snapshots, the stress curve) the data say that the
residual vector is zero. The model's residual at ``theta`` is emulated as
``r_b(theta) ~ c_b + Phi_b w_b(theta) + tail`` (:class:`bayescal.emulate.ComponentEmulator`),
and the observation carries a model-form error (learned) plus the data's measured noise. In the
basis of the block:

- component ``j``: ``z_bj = phi_bj^T (0 - c_b) ~ N(w_bj(theta), s_bj^2(theta) + g_bj + sigma_b^2
  + n_bj)`` with ``s_bj^2`` the emulator's latent variance, ``g_bj`` its fitted nugget (the
  simulator's own irregularity), ``sigma_b`` the model error per emulated direction and
  ``n_bj`` the data's noise variance in that direction;
- the part outside the basis, ``t_b = ||(I - Phi_b Phi_b^T) c_b||^2`` over ``m_b - k_b``
  directions, is the mismatch no parameter explains: ``N(0, tau_b^2 + tail_b)`` per direction,
  with ``tail_b`` the emulator's truncation variance per direction and ``tau_b``
  (``sigma_tail_<block>``) its own model error. It does not depend on the parameters; it is
  kept for blocks whose entries are separate observations (the stress block: one entry per
  compared frame, in GPa, without the discrepancy's peak weights), where it gives the model
  error of the frames' predictive distribution outside the emulated directions;
- a block whose components leave variance unexplained and whose entries are not separate
  observations (a field term: a pixel embedding of a few principal angles per snapshot, whose
  residuals are mostly the simulator's chaos, so that only a few components have skill) has
  instead the model's own residual outside the basis, ``S_b(theta) = ||(I - Phi_b Phi_b^T)
  r_b(theta)||^2``, emulated by a GP of ``log S_b``: the observed zero against it is
  ``N(0, tau_b^2)`` in each of ``nu_b`` directions, ``-S_b / (2 tau_b^2) - nu_b/2 log(2 pi
  tau_b^2)`` with ``S_b`` at its log-normal mean. ``nu_b`` is the participation ratio
  ``(sum lambda)^2 / sum lambda^2`` of the covariance of those outside parts over all distinct
  evaluations (not only the emulators' training subset: a training cap that keeps mostly the
  best fits would count only the directions the model varies in near its optimum): the
  number of directions in which the model's output varies over the search. Without this
  term the likelihood would ignore most of a field's misfit: a chaotic field can leave most of
  its residual variance outside the skilled components, and the size of that part can tell
  apart regions the emulated directions alone do not (``benchmarks/FINDINGS.md``, CuZr);
- in such a block the basis does not split the model error: ``tau_b`` acts in every direction,
  inside the basis as outside it, and ``sigma_b`` adds to it along one direction ``u_b`` only,
  the misfit the best fits share (:func:`systematic_direction`). The components' covariance is
  ``diag(s_b^2 + g_b + n_b + tau_b^2) + sigma_b^2 u_b u_b^T``. Which directions the principal
  components take up follows where the evaluations are (a basis fitted to a cluster takes up
  the cluster's local variation); with a separate scale inside the basis, a misfit would count
  less where the basis's evaluations are dense, and two sets of EGO seeds that reached
  different parts of a valley would each favour their own (``benchmarks/basis_dependence.py``).
  The best fits' common misfit is a property of the model's error near its optimum, which
  such sets share.

The model error inside the emulated directions has its own scale because a best fit's misfit is
not white: it lies mostly in the directions the parameters move (the stress peak), and one
``sigma`` per entry, pinned by the many directions outside the basis, would declare that misfit
impossible and push the posterior to wherever the emulator is unsure. In a block with an
emulated outside part that structure is the one direction ``u_b`` above rather than the whole
basis. A field block's entries are a pixel-wise embedding of a few principal angles per
snapshot; it has no data tail (its outside part is emulated instead).
With no more emulated components than parameters the scores carry no information on
``sigma_b`` (the parameters can fit them exactly): its prior scale, from the best fit's misfit,
then sets how wide the posterior is (the simulation-based calibration in
``tests/infer/test_residual_sbc.py`` therefore uses more components than parameters).

``sigma_b`` is shared by the data realizations (the model's error does not depend on which
sample of the material was simulated); the parameters are per realization with a population
level when the reference has a ``realization`` dim
(:func:`bayescal.infer.residual_likelihood.build_residual_model`).

References: Kennedy & O'Hagan, JRSS B 63 (2001); Higdon, Gattiker, Williams & Rightley,
JASA 103 (2008), principal-component emulators of multivariate output.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import ArrayLike

from bayescal.compared_outputs import residual_blocks_from_outputs
from bayescal.discrepancy import Discrepancy
from bayescal.emulate import ComponentEmulator, GPEmulator, fit_components, fit_emulator
from bayescal.errors import InputDataError
from bayescal.noise import StressNoise

if TYPE_CHECKING:
    import xarray as xr


__all__ = [
    "MAX_TRAINING_POINTS",
    "ResidualBlock",
    "block_label",
    "likelihood_residuals",
    "outside_part",
    "participation_ratio",
    "residual_block",
    "residual_blocks",
    "shrink_far_residuals",
    "systematic_direction",
    "training_subset",
    "unique_points",
]


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class ResidualBlock:
    """One block's emulator and the data's side of its likelihood.

    Attributes
    ----------
    emulator : ComponentEmulator
    target : ndarray, shape (k,)
        Scores of the observed residual (zero): ``-basis^T center``.
    noise_var : ndarray, shape (k,)
        Measured observation-noise variance of each component (zeros: not measured, and
        ``sigma_b`` then carries noise and model error together).
    tail_sq : float
        Squared norm of the observed residual outside the basis.
    tail_dof : int
        Directions outside the basis, ``m - k``.
    sigma_scale : float
        Scale of the half-normal prior of ``sigma_b`` (per emulated direction).
    tail_scale : float
        Scale of the half-normal prior of the tail's ``tau_b`` (per direction outside the basis;
        unused without a tail).
    noise_measured : bool
        Whether ``noise_var`` was measured (else ``sigma_b`` carries noise and model error).
    outside : GPEmulator or None
        GP of the log squared norm of the model's residual outside the basis (blocks without a
        data tail whose components leave variance unexplained; see the module docstring).
    outside_dof : float
        Effective number of directions of that part (its participation ratio).
    systematic : ndarray, shape (k,), or None
        Unit vector in component space: the direction of the best fits' common misfit
        (:func:`systematic_direction`). Given (blocks with an emulated outside part), ``sigma_b``
        is the model error along it and ``tau_b`` the model error in every direction, inside
        the basis and outside it; None: ``sigma_b`` in every emulated direction.
    """

    emulator: ComponentEmulator
    target: np.ndarray
    noise_var: np.ndarray
    tail_sq: float
    tail_dof: int
    sigma_scale: float
    tail_scale: float = 1.0
    noise_measured: bool = False
    outside: GPEmulator | None = None
    outside_dof: float = 0.0
    systematic: np.ndarray | None = None

    @property
    def name(self) -> str:
        """The block's name (the emulator's)."""
        return self.emulator.name

    @property
    def sigma_name(self) -> str:
        """Name of the block's model-error sd in the PyMC model (``sigma_<label>``)."""
        return f"sigma_{block_label(self.name)}"

    @property
    def tail_sigma_name(self) -> str:
        """Name of the model-error sd outside the basis (``sigma_tail_<label>``)."""
        return f"sigma_tail_{block_label(self.name)}"

    @property
    def component_sigma_name(self) -> str:
        """Name of the model-error sd in every emulated direction.

        ``sigma_tail_<label>`` where ``sigma_<label>`` acts along the systematic direction only.
        """
        return self.sigma_name if self.systematic is None else self.tail_sigma_name

    @property
    def nugget(self) -> np.ndarray:
        """The GPs' fitted noise variance of each component, shape ``(k,)``."""
        return np.array([gp.noise_sd**2 for gp in self.emulator.gps])

    @property
    def has_tail_sigma(self) -> bool:
        """Whether the block has a model error outside the basis (``sigma_tail_<label>``)."""
        return bool(self.tail_dof) or self.outside is not None

    def log_likelihood(
        self, x_unit: ArrayLike, sigma: float | None = None, tail_sigma: float | None = None
    ) -> np.ndarray:
        """The block's log likelihood at points, with emulator means and variances (NumPy).

        Parameters
        ----------
        x_unit : array_like, shape (n, d)
        sigma, tail_sigma : float or None
            Model-error sds; None takes their prior scales.

        Returns
        -------
        ndarray, shape (n,)
        """
        x = np.asarray(x_unit, dtype=np.float64)
        t2 = (self.tail_scale if tail_sigma is None else tail_sigma) ** 2
        mean, var = self.emulator.predict(x)
        out = self.scores_log_density(self.target - mean, var, sigma, tail_sigma)
        if self.tail_dof:
            tail = t2 + self.tail_var
            out = out - 0.5 * self.tail_sq / tail - 0.5 * self.tail_dof * np.log(2 * np.pi * tail)
        if self.outside is not None:
            m, v = self.outside.predict(x)
            out = (
                out
                - 0.5 * np.exp(m + 0.5 * v) / t2
                - 0.5 * self.outside_dof * np.log(2 * np.pi * t2)
            )
        return out

    def scores_log_density(
        self,
        misfit: np.ndarray,
        variance: np.ndarray | float,
        sigma: float | None = None,
        tail_sigma: float | None = None,
    ) -> np.ndarray:
        """Log density of the observed scores given the model's, in the block's components.

        Parameters
        ----------
        misfit : ndarray, shape (..., k)
            ``target`` minus the model's scores (emulated means, or a run's own scores).
        variance : ndarray, shape (..., k), or float
            Emulator variance of the scores (0 for a run's own scores).
        sigma, tail_sigma : float or None
            Model-error sds; None takes their prior scales.

        Returns
        -------
        ndarray, shape (...)
        """
        s2 = (self.sigma_scale if sigma is None else sigma) ** 2
        base = variance + self.nugget + self.noise_var
        if self.systematic is None:
            total = base + s2
            return -0.5 * np.sum(misfit**2 / total + np.log(2 * np.pi * total), -1)
        t2 = (self.tail_scale if tail_sigma is None else tail_sigma) ** 2
        return _rank_one_log_density(misfit, base + t2, self.systematic, s2)

    @property
    def tail_var(self) -> float:
        """The emulator's truncation variance per direction outside the basis."""
        return self.emulator.tail_variance / max(self.tail_dof, 1)


def _rank_one_log_density(
    err: np.ndarray, diag: np.ndarray, direction: np.ndarray, scale2: float
) -> np.ndarray:
    """``log N(err; 0, diag(diag) + scale2 u u^T)`` by Sherman–Morrison, over leading dims."""
    w = direction / diag
    along = np.sum(err * w, -1)
    gain = 1.0 + scale2 * np.sum(direction * w, -1)
    quad = np.sum(err**2 / diag, -1) - scale2 * along**2 / gain
    logdet = np.sum(np.log(2 * np.pi * diag), -1) + np.log(gain)
    return -0.5 * (quad + logdet)


def systematic_direction(residuals: np.ndarray, basis: np.ndarray, *, n_best: int) -> np.ndarray:
    """Direction in component space of the misfit that the best fits share.

    The leading right singular vector of the ``n_best`` shortest residual vectors' scores
    ``r @ basis`` (not centred: their common part). It is a property of the model's error near
    its optimum, so bases fitted to different sets of evaluations that reach the optimum agree
    on it (unlike their individual components, which follow where the evaluations are).

    Parameters
    ----------
    residuals : ndarray, shape (n, m)
    basis : ndarray, shape (m, k)
        Orthonormal columns.
    n_best : int
        How many of the shortest rows to use.

    Returns
    -------
    ndarray, shape (k,)
        Unit vector (the sign is arbitrary).

    Raises
    ------
    InputDataError
        If the best fits have no part in the basis.
    """
    order = np.argsort(np.sum(residuals**2, axis=1), kind="stable")[: max(int(n_best), 1)]
    scores = residuals[order] @ basis
    _, s, vt = np.linalg.svd(scores, full_matrices=False)
    if s[0] <= 1e-12 * np.linalg.norm(residuals[order]):
        raise InputDataError("the best fits' misfit is orthogonal to the block's basis.")
    return vt[0]


def residual_block(
    x_unit: ArrayLike,
    residuals: ArrayLike,
    *,
    name: str,
    noise_cov: ArrayLike | None = None,
    tail: bool = True,
    sigma_scale: float | None = None,
    tail_scale: float | None = None,
    variance: float = 0.99,
    max_components: int | None = None,
    spread: ArrayLike | None = None,
    rng: int | np.random.Generator | None = None,
) -> ResidualBlock:
    """Fit a block's component emulator and compute the data's side of its likelihood.

    Parameters
    ----------
    x_unit : array_like, shape (n, d)
        Evaluated points (all EGO seeds together) in the unit cube.
    residuals : array_like, shape (n, m)
        The block's residual vectors there (finite rows only).
    name : str
        Block name.
    noise_cov : array_like, shape (m, m) or (m,), optional
        Covariance (or per-entry variance) of the data's noise in this block; None: not measured.
    tail : bool
        Whether the entries are separate observations, so that the part of the observed residual
        outside the basis enters the likelihood (see the module docstring). Otherwise, when the
        components hold less than ``variance`` of the residuals' variance, the model's residual
        outside the basis is emulated (``outside``) and enters instead.
    sigma_scale : float or None
        Scale of the half-normal prior of ``sigma_b``; None derives it from the best evaluation
        (see Returns). A fixed value makes the prior independent of the data (simulation-based
        calibration).
    tail_scale : float or None
        The same for ``sigma_tail`` (the data tail's or the emulated outside part's).
    variance : float
        Variance fraction the principal components keep.
    max_components : int or None
        Upper bound on the number of components.
    spread : array_like, shape (n_all, m), optional
        Residual vectors of every evaluation when ``residuals`` are a training subset of them:
        the emulated outside part's ``outside_dof`` is the participation ratio of their parts
        outside the basis. None: ``residuals``.
    rng : int, numpy Generator or None
        Seed of the GP fits.

    Returns
    -------
    ResidualBlock
        ``sigma_scale`` is the RMS per component of the best evaluation's residual projected onto
        the basis, ``tail_scale`` the RMS per direction of its part outside the basis (over
        ``m - k`` directions with a data tail): weakly informative scales (the model error is
        not larger than the best fit's misfit by much). With an emulated outside part they come
        from the best tenth of the evaluations (at least 5), the fits that define the
        systematic direction: ``sigma_scale`` their RMS misfit along it, ``tail_scale`` their
        RMS misfit per direction in the ``k - 1 + outside_dof`` others.
    """
    r = np.asarray(residuals, dtype=np.float64)
    emulator = fit_components(
        x_unit, r, name=name, variance=variance, max_components=max_components, rng=rng
    )
    basis, center = emulator.basis, emulator.center
    target = -(basis.T @ center)
    outside = -center - basis @ target  # (I - Phi Phi^T)(0 - c)
    m, k = basis.shape
    if noise_cov is None:
        noise_var = np.zeros(k)
    else:
        cov = np.asarray(noise_cov, dtype=np.float64)
        if cov.shape not in ((m,), (m, m)):
            raise InputDataError(
                f"noise_cov of block {name!r} must have shape ({m},) or ({m}, {m}); "
                f"got {cov.shape}."
            )
        cov = np.diag(cov) if cov.ndim == 1 else cov
        noise_var = np.einsum("mj,mn,nj->j", basis, cov, basis)
    best = r[int(np.argmin(np.sum(r**2, axis=1)))]
    inside = basis.T @ best
    rest = best - basis @ inside
    scale_in = np.sqrt(np.mean(inside**2))
    scale_out = np.sqrt(rest @ rest / max(m - k, 1))
    outside_gp, outside_dof, systematic = None, 0.0, None
    if not tail and emulator.explained < variance:
        parts = outside_part(r, basis)
        outside_gp = _outside_emulator(
            x_unit, np.sum(parts**2, axis=1), int(np.random.default_rng(rng).integers(2**31 - 1))
        )
        outside_dof = participation_ratio(parts if spread is None else outside_part(spread, basis))
        n_best = max(5, r.shape[0] // 10)
        fits = r[np.argsort(np.sum(r**2, axis=1), kind="stable")[:n_best]]
        systematic = systematic_direction(fits, basis, n_best=n_best)
        # scales from the same best fits: sigma_b their RMS misfit along the systematic
        # direction, tau_b their RMS misfit per direction in all the others (inside the basis
        # and outside it)
        along = fits @ basis @ systematic
        scale_in = np.sqrt(np.mean(along**2))
        others = np.mean(np.clip(np.sum(fits**2, axis=1) - along**2, 0.0, None))
        scale_out = np.sqrt(others / (k - 1 + outside_dof))
    return ResidualBlock(
        emulator=emulator,
        target=target,
        noise_var=noise_var,
        tail_sq=float(outside @ outside),
        tail_dof=m - k if tail else 0,
        sigma_scale=float(max(scale_in, 1e-12)) if sigma_scale is None else float(sigma_scale),
        tail_scale=float(max(scale_out, 1e-12)) if tail_scale is None else float(tail_scale),
        noise_measured=noise_cov is not None,
        outside=outside_gp,
        outside_dof=outside_dof,
        systematic=systematic,
    )


def _outside_emulator(x_unit: ArrayLike, sq: np.ndarray, seed: int) -> GPEmulator:
    """GP of ``log S``, ``S = ||(I - Phi Phi^T) r||^2`` at the training points."""
    return fit_emulator(
        np.asarray(x_unit, dtype=np.float64),
        np.log(np.maximum(sq, 1e-300)),
        transform="none",
        rng=seed,
    )


def participation_ratio(samples: ArrayLike) -> float:
    """Effective number of directions of the samples' spread, ``(tr C)^2 / tr C^2``.

    ``C`` is the covariance of the centred samples; the ratio is 1 for a spread along one
    direction and ``m`` for an isotropic one (with at least ``m + 1`` samples: ``n`` samples span
    at most ``n - 1`` directions). It is computed from the smaller of the two Gram matrices.

    Parameters
    ----------
    samples : array_like, shape (n, m)
        One sample per row, ``n >= 2``.

    Returns
    -------
    float
        In ``[1, min(n - 1, m)]``.

    Raises
    ------
    InputDataError
        If there are fewer than 2 samples or they do not vary.

    Examples
    --------
    >>> participation_ratio(np.eye(4))  # 4 samples spread evenly over 3 directions
    3.0
    """
    x = np.asarray(samples, dtype=np.float64)
    if x.ndim != 2 or x.shape[0] < 2:
        raise InputDataError(
            f"participation_ratio needs samples of shape (n >= 2, m); got {x.shape}."
        )
    centred = x - x.mean(axis=0)
    gram = centred @ centred.T if x.shape[0] <= x.shape[1] else centred.T @ centred
    square = float(np.sum(gram**2))
    if square <= 0.0:
        raise InputDataError("participation_ratio: the samples do not vary.")
    return float(max(np.trace(gram) ** 2 / square, 1.0))


def outside_part(residuals: ArrayLike, basis: np.ndarray) -> np.ndarray:
    """The part of residual vectors outside a block's basis, ``(I - Phi Phi^T) r``.

    Parameters
    ----------
    residuals : array_like, shape (n, m)
    basis : ndarray, shape (m, k)
        Orthonormal columns.

    Returns
    -------
    ndarray, shape (n, m)
    """
    r = np.asarray(residuals, dtype=np.float64)
    return r - (r @ basis) @ basis.T


MAX_TRAINING_POINTS = 400


def residual_blocks(
    evaluations: xr.Dataset,
    discrepancy: Discrepancy,
    reference: xr.Dataset,
    *,
    stress_noise: StressNoise | None = None,
    field_noise: Mapping[str, np.ndarray] | None = None,
    variance: float = 0.99,
    max_components: int | None = 12,
    far_factor: float | None = 5.0,
    max_points: int | None = MAX_TRAINING_POINTS,
    rng: int | np.random.Generator | None = None,
) -> list[ResidualBlock]:
    """Residual blocks of a run's evaluations (all EGO seeds: one training set).

    The stress block is in GPa per compared frame (the discrepancy's peak weights and
    normalisation removed: the likelihood weighs blocks by their learned ``sigma_b``). Points
    evaluated more than once (a seed's evaluations repeated under another label) count once.

    Parameters
    ----------
    evaluations : xarray.Dataset
        ``DIR/evaluations.nc`` with kept outputs (:mod:`bayescal.compared_outputs`) and ``unit``.
    discrepancy : Discrepancy
        Defines the blocks (field terms, stress term).
    reference : xarray.Dataset
        The data of one realization.
    stress_noise : StressNoise or None
        Measured noise of the reference stress curve (:func:`bayescal.noise.stress_noise`), with
        its correlation between the compared frames; None leaves the stress block's noise to its
        ``sigma``.
    field_noise : mapping of str to ndarray, optional
        Noise covariance ``(m, m)`` of field blocks' residuals by block name
        (:func:`bayescal.infer.residual_posterior.measured_field_noise`); a field block without
        one has its noise in its ``sigma``, together with the model error.
    variance : float
        Variance fraction kept by each block's principal components.
    max_components : int or None
        At most this many components per block (each is a GP in the log density).
    far_factor : float or None
        Residual vectors longer than this many times the block's shortest one are shortened
        to that length (:func:`shrink_far_residuals`); None keeps them.
    max_points : int or None
        At most this many distinct evaluations train the emulators
        (:func:`training_subset`); None keeps all. The log density's cost grows with the
        square of this number (the emulators' variances). A field block's ``outside_dof``
        counts every distinct evaluation (:func:`residual_block`'s ``spread``): it summarises
        how the model's output varies over the search, not over the cap's choice of points.
    rng : int, numpy Generator or None
        Seed of the GP fits.

    Returns
    -------
    list of ResidualBlock
        In :func:`bayescal.compared_outputs.block_names` order.
    """
    blocks = likelihood_residuals(evaluations, discrepancy, reference)
    unit = np.asarray(evaluations["unit"].values, dtype=np.float64)
    ok = np.all([np.isfinite(b).all(axis=1) for b in blocks.values()], axis=0)
    ok &= np.isfinite(unit).all(axis=1)
    keep = unique_points(unit, ok)
    if keep.size < 3:
        raise InputDataError(
            f"only {keep.size} distinct evaluations with finite outputs; the residual "
            "emulators need at least 3."
        )
    shrunk = {name: shrink_far_residuals(r, keep, factor=far_factor) for name, r in blocks.items()}
    every = keep
    if max_points is not None:
        misfit = sum(
            np.sum(r**2, axis=1) / max(float(np.median(np.sum(r[keep] ** 2, axis=1))), 1e-300)
            for r in shrunk.values()
        )
        keep = training_subset(unit, misfit, keep, max_points)
    gen = np.random.default_rng(rng)
    out = []
    for name, r in shrunk.items():
        cov = None if field_noise is None else field_noise.get(name)
        term = discrepancy.stress if name == "stress" else None
        is_stress = term is not None
        if term is not None and stress_noise is not None:
            nearest, _ = term.residual_map(reference, evaluations["strain"].values)
            cov = stress_noise.covariance(nearest)
        out.append(
            residual_block(
                unit[keep],
                r[keep],
                name=name,
                noise_cov=cov,
                tail=is_stress,
                variance=variance,
                max_components=max_components,
                spread=r[every],
                rng=int(gen.integers(2**31 - 1)),
            )
        )
    return out


def likelihood_residuals(
    evaluations: xr.Dataset, discrepancy: Discrepancy, reference: xr.Dataset
) -> dict[str, np.ndarray]:
    """The residual blocks as the likelihood compares them, from kept outputs.

    :func:`bayescal.compared_outputs.residual_blocks_from_outputs`, with the stress block in GPa
    per compared frame (the discrepancy's peak weights and normalisation divided out).

    Returns
    -------
    dict of str to ndarray, shape (n_eval, m_b)
        NaN rows for failed evaluations.
    """
    blocks = residual_blocks_from_outputs(discrepancy, reference, evaluations)
    if discrepancy.stress is not None:
        _, scale = discrepancy.stress.residual_map(reference, evaluations["strain"].values)
        blocks["stress"] = blocks["stress"] / scale
    return blocks


def shrink_far_residuals(
    residuals: np.ndarray, rows: np.ndarray, *, factor: float | None
) -> np.ndarray:
    """Shorten the longest residual vectors, keeping their directions.

    The limit is ``factor`` times the shortest vector's length, or the median length if that
    is larger. Where a block's residual is several times the best fit's, its likelihood is
    negligible whatever its exact length (with the model error near the best fit's misfit,
    ``exp(-12)`` per direction at 5 times). Left at full length, such points (a cliff of the
    model's response, tens of times the best misfit) set the GPs' output scale and short
    lengthscales, so that everywhere between evaluations the emulator's variance is hundreds of
    times the model error and the posterior settles where nothing was evaluated. Shortened,
    they still say "far from the data" in the same direction. The median keeps that message
    where the best fit is nearly exact (a noise-free twin, whose best misfit times 5 can be the
    size of the emulator's own error, so that the emulated residual would be "small"
    everywhere).

    Parameters
    ----------
    residuals : ndarray, shape (n, m)
    rows : ndarray of int
        Rows that count (finite, distinct points); the shortest is taken among them.
    factor : float or None
        None returns ``residuals`` unchanged.

    Returns
    -------
    ndarray, shape (n, m)
    """
    if factor is None:
        return residuals
    norm = np.linalg.norm(residuals, axis=1)
    limit = max(factor * float(np.min(norm[rows])), float(np.median(norm[rows])), 1e-300)
    scale = np.minimum(1.0, limit / np.where(norm > 0, norm, 1.0))
    return residuals * scale[:, None]


def training_subset(
    unit: np.ndarray, misfit: np.ndarray, rows: np.ndarray, max_points: int
) -> np.ndarray:
    """At most ``max_points`` of ``rows``: the best fits, then the rest spread over the box.

    Three quarters of the points are those of smallest ``misfit`` (where the posterior lives,
    the emulators must be accurate); the others are added one at a time, each the remaining
    point farthest from those chosen (in the unit cube), so that regions of poor fit stay
    covered and the emulators keep predicting poor fits there instead of reverting to the mean.
    Three quarters is about the share of an EGO seed's evaluations that its local search places
    near its optimum, so a capped set resembles an uncapped one.

    Parameters
    ----------
    unit : ndarray, shape (n, d)
        Evaluated points in the unit cube.
    misfit : ndarray, shape (n,)
        Smaller is better.
    rows : ndarray of int
        Candidate rows (finite, distinct).
    max_points : int
        Size of the subset (at least 3).

    Returns
    -------
    ndarray of int
        Chosen rows, in increasing order.
    """
    if max_points < 3:
        raise ValueError(f"max_points must be at least 3; got {max_points}.")
    rows = np.asarray(rows)
    if rows.size <= max_points:
        return rows
    order = rows[np.argsort(misfit[rows], kind="stable")]
    n_best = (3 * max_points) // 4
    chosen = list(order[:n_best])
    rest = order[n_best:]
    gap = np.full(rest.size, np.inf)
    for c in chosen:
        gap = np.minimum(gap, np.linalg.norm(unit[rest] - unit[c], axis=1))
    while len(chosen) < max_points:
        i = int(np.argmax(gap))
        chosen.append(rest[i])
        gap = np.minimum(gap, np.linalg.norm(unit[rest] - unit[rest[i]], axis=1))
        gap[i] = -1.0
    return np.sort(np.asarray(chosen))


def unique_points(unit: np.ndarray, ok: np.ndarray) -> np.ndarray:
    """Indices of the first occurrence of each distinct row of ``unit`` among ``ok`` rows."""
    idx = np.flatnonzero(ok)
    _, first = np.unique(unit[idx], axis=0, return_index=True)
    return idx[np.sort(first)]


def block_label(name: str) -> str:
    """A block name as it appears in variable names (``"gamma_xy:exy"`` -> ``"gamma_xy_exy"``)."""
    return re.sub(r"\W", "_", name)  # "gamma_xy:exy" -> "gamma_xy_exy"
