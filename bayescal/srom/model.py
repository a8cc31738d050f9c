r"""Stochastic reduced-order model (SROM) of a reduced basis on the Stiefel manifold.

Given ``m`` candidate reduced-order bases :math:`Y_1, \dots, Y_m \in St(n, r)` (e.g. POD bases
of MD trajectories run with different interatomic potentials, or of an MD reference and of
continuum models), the SROM is the random basis

.. math:: \mathbf{Y} = \operatorname{Exp}_{X}\Big(s \sum_{i=1}^m w_i V_i\Big), \qquad
          V_i = \operatorname{Log}_X(Y_i), \qquad w \sim \operatorname{Dirichlet}(\alpha),

with centre :math:`X`, Stiefel exponential and logarithm of the canonical metric
(:mod:`bayescal.manifold.stiefel`), and dispersion :math:`s \ge 0`. The Dirichlet mean
:math:`\alpha / \sum_i \alpha_i` solves a small quadratic program so that the expected tangent
:math:`\sum_i \mathbb{E}[w_i] V_i` is (close to) zero, i.e. the centre is the Fréchet mean of the
random basis; the total concentration :math:`\sum_i \alpha_i` and :math:`s` set its spread.
This is the construction of Zhang & Guilleminot [1]_ (after Soize & Farhat [2]_), with the
frequency split of Quek et al. [3]_: the leading ``n_fixed`` (low-frequency) modes are kept at
the centre and only the others are random. Linear constraints :math:`B^T Y = 0` (fixed DOFs,
zero net translation) hold for every sample.

References
----------
.. [1] H. Zhang and J. Guilleminot, "A Riemannian stochastic representation for quantifying
   model uncertainties in molecular dynamics simulations", Comput. Methods Appl. Mech. Engrg.
   403, 115702, 2023. doi:10.1016/j.cma.2022.115702
.. [2] C. Soize and C. Farhat, "A nonparametric probabilistic approach for quantifying
   uncertainties in low-dimensional and high-dimensional nonlinear models", Int. J. Numer.
   Meth. Engng. 109(6), 837-888, 2017.
.. [3] Quek et al., Mech. Mater. 202, 105237, 2025.
"""

from __future__ import annotations

import dataclasses
import warnings
from dataclasses import dataclass
from typing import Literal

import numpy as np
import xarray as xr
from numpy.typing import ArrayLike
from scipy.optimize import minimize

from bayescal.errors import InputDataError, InputDataWarning, NumericsWarning
from bayescal.manifold import stiefel
from bayescal.manifold.validate import as_bases, as_positive_int
from bayescal.srom.constraints import constrain, constraint_basis
from bayescal.srom.hyperparameters import IdentificationMethod, identify_hyperparameters
from bayescal.srom.snapshots import Alignment, align_signs, pod_basis

__all__ = ["SROM", "balancing_weights"]

#: Tolerance on ``|B^T Y|`` and ``|X^T V + V^T X|`` for stored SROM fields.
_FIELD_ATOL = 1e-8


def _readonly(a: np.ndarray) -> np.ndarray:
    a = np.array(a, dtype=np.float64, copy=True)
    a.setflags(write=False)
    return a


def _canonical_gram(X: np.ndarray, V: np.ndarray) -> np.ndarray:
    """Canonical-metric Gram matrix ``<V_i, V_j>_c`` of tangents ``V (m, n, r)`` at ``X``."""
    XtV = np.swapaxes(X, -1, -2) @ V
    return np.einsum("inr,jnr->ij", V, V) - 0.5 * np.einsum("ipr,jpr->ij", XtV, XtV)


def balancing_weights(gram: np.ndarray, *, min_weight: float = 1e-3) -> np.ndarray:
    r"""Weights on the simplex that make :math:`\sum_i a_i V_i` as small as possible.

    Solves :math:`\min_a a^T G a + \lambda \|a - \tfrac1m\|^2` subject to
    :math:`\sum_i a_i = 1`, :math:`a_i \ge` ``min_weight`` (SLSQP from the uniform weights), with
    :math:`G` the canonical Gram matrix of the tangents and a tiny
    :math:`\lambda = 10^{-8} \operatorname{tr}(G)/m` that breaks ties toward the uniform weights
    (maximum entropy); symmetric candidates (:math:`V_2 = -V_1`) give exactly (1/2, 1/2).

    Parameters
    ----------
    gram : ndarray, shape (m, m)
        Gram matrix of the tangent vectors.
    min_weight : float, default 1e-3
        Lower bound on every weight (Dirichlet parameters must be positive).

    Returns
    -------
    ndarray, shape (m,)
        Weights summing to one.
    """
    m = gram.shape[0]
    if not 0 <= min_weight < 1.0 / m:
        raise InputDataError(
            f"min_weight must be in [0, 1/m) = [0, {1.0 / m:.3g}); got {min_weight}."
        )
    scale = float(np.trace(gram)) / m
    if m == 1 or not scale > 0:
        return np.full(m, 1.0 / m)
    G = gram / scale
    lam = 1e-8
    u = np.full(m, 1.0 / m)

    def fun(a: np.ndarray) -> tuple[float, np.ndarray]:
        Ga = G @ a
        d = a - u
        return float(a @ Ga + lam * d @ d), 2.0 * Ga + 2.0 * lam * d

    res = minimize(
        fun,
        u,
        jac=True,
        method="SLSQP",
        bounds=[(min_weight, 1.0)] * m,
        constraints=[{"type": "eq", "fun": lambda a: a.sum() - 1.0, "jac": lambda a: np.ones(m)}],
        options={"ftol": 1e-15, "maxiter": 500},
    )
    if not res.success:
        warnings.warn(
            f"balancing_weights: SLSQP stopped without success ({res.message}); the Dirichlet "
            "mean may not balance the tangents.",
            NumericsWarning,
            stacklevel=2,
        )
    a = np.clip(res.x, min_weight, 1.0)
    return a / a.sum()


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class SROM:
    r"""Stochastic reduced-order basis on St(n, r); see the module docstring.

    Build one with :meth:`SROM.fit`; draw bases with :meth:`sample`.

    Parameters
    ----------
    center : array_like, shape (n, r)
        Orthonormal centre basis :math:`X`.
    tangents : array_like, shape (m, n, r)
        Tangent vectors :math:`V_i = \operatorname{Log}_X(Y_i)` of the candidates.
    alpha : array_like, shape (m,)
        Dirichlet concentration parameters, > 0.
    dispersion : float, default 1.0
        :math:`s \ge 0`, scales the tangent sum (0: every sample is the centre; 1: a weight
        vector at a vertex of the simplex gives candidate ``i`` itself).
    n_fixed : int, default 0
        Leading modes (columns) kept equal to the centre's (frequency split); the other
        ``r - n_fixed`` columns are random and re-orthonormalised against them.
    constraint : array_like, shape (n, k), optional
        Constraint matrix :math:`B`; the centre, the tangents and every sample satisfy
        :math:`B^T Y = 0`.

    Attributes
    ----------
    n_dof, rank, n_candidates : int
    concentration : float
        :math:`\sum_i \alpha_i`.
    mean_weights : ndarray, shape (m,)
        :math:`\mathbb{E}[w] = \alpha / \sum_i \alpha_i`.

    Raises
    ------
    InputDataError
        Shapes that disagree, a non-orthonormal centre, tangents that are not tangent at the
        centre, non-positive ``alpha``, negative ``dispersion``, ``n_fixed`` out of
        ``[0, r]``, or fields violating the constraint.

    Examples
    --------
    >>> X = np.eye(4)[:, :1]
    >>> c, s = np.cos(0.2), np.sin(0.2)
    >>> Ys = np.array([[[c], [s], [0], [0]], [[c], [-s], [0], [0]]])
    >>> srom = SROM.fit(Ys, center=X)
    >>> srom.mean_weights.tolist()
    [0.5, 0.5]
    >>> srom.sample(3, rng=0).shape
    (3, 4, 1)
    """

    center: np.ndarray
    tangents: np.ndarray
    alpha: np.ndarray
    dispersion: float = 1.0
    n_fixed: int = 0
    constraint: np.ndarray | None = None

    def __post_init__(self) -> None:
        X = as_bases("center", self.center)
        if X.ndim != 2:
            raise InputDataError(f"center must have shape (n, r); got {X.shape}.")
        n, r = X.shape
        V = np.asarray(self.tangents, dtype=np.float64)
        if V.ndim != 3 or V.shape[1:] != (n, r) or V.shape[0] < 1:
            raise InputDataError(
                f"tangents must have shape (m, n, r) = (m, {n}, {r}) with m >= 1; got {V.shape}."
            )
        if not np.isfinite(V).all():
            raise InputDataError("tangents contain non-finite values (NaN or inf).")
        A = X.T @ V
        off = float(np.abs(A + np.swapaxes(A, -1, -2)).max())
        if off > _FIELD_ATOL * max(1.0, float(np.abs(V).max())):
            raise InputDataError(
                f"tangents are not tangent at center: max |X^T V + V^T X| = {off:.3g}; use "
                "stiefel.log_map(center, Y) or stiefel.projection_to_tangent(center, Z)."
            )
        m = V.shape[0]
        a = np.asarray(self.alpha, dtype=np.float64)
        if a.shape != (m,) or not np.isfinite(a).all() or not (a > 0).all():
            raise InputDataError(
                f"alpha must be {m} finite Dirichlet parameters > 0 (one per tangent); got "
                f"{np.asarray(self.alpha)!r}."
            )
        s = self.dispersion
        if isinstance(s, bool) or not isinstance(s, int | float | np.floating | np.integer):
            raise InputDataError(f"dispersion must be a float >= 0; got {s!r}.")
        if not (np.isfinite(s) and s >= 0):
            raise InputDataError(f"dispersion must be a finite float >= 0; got {s!r}.")
        k = self.n_fixed
        if isinstance(k, bool) or not isinstance(k, int | np.integer) or not 0 <= k <= r:
            raise InputDataError(f"n_fixed must be an int in [0, r] = [0, {r}]; got {k!r}.")
        B = None
        if self.constraint is not None:
            B = np.asarray(self.constraint, dtype=np.float64)
            Qb = constraint_basis(B, n=n)
            if n - Qb.shape[1] < r:
                raise InputDataError(
                    f"constraint of rank {Qb.shape[1]} leaves {n - Qb.shape[1]} free directions, "
                    f"fewer than r = {r} modes."
                )
            viol = max(float(np.abs(Qb.T @ X).max()), float(np.abs(Qb.T @ V).max()))
            if viol > _FIELD_ATOL:
                raise InputDataError(
                    f"center/tangents violate the constraint: max |B^T Y| = {viol:.3g} (with B "
                    "orthonormalised); build the SROM with SROM.fit(..., constraint=B)."
                )
            B = _readonly(B)
        object.__setattr__(self, "center", _readonly(X))
        object.__setattr__(self, "tangents", _readonly(V))
        object.__setattr__(self, "alpha", _readonly(a))
        object.__setattr__(self, "dispersion", float(s))
        object.__setattr__(self, "n_fixed", int(k))
        object.__setattr__(self, "constraint", B)

    # ----------------------------------------------------------------------------- properties
    @property
    def n_dof(self) -> int:
        """Rows ``n`` of the bases."""
        return int(self.center.shape[0])

    @property
    def rank(self) -> int:
        """Columns ``r`` of the bases."""
        return int(self.center.shape[1])

    @property
    def n_candidates(self) -> int:
        """Number ``m`` of tangents (candidates)."""
        return int(self.tangents.shape[0])

    @property
    def concentration(self) -> float:
        """Total Dirichlet concentration ``sum(alpha)``."""
        return float(self.alpha.sum())

    @property
    def mean_weights(self) -> np.ndarray:
        """Dirichlet mean ``alpha / sum(alpha)``, shape (m,)."""
        return self.alpha / self.alpha.sum()

    @property
    def mean_tangent(self) -> np.ndarray:
        """Expected tangent ``s sum_i E[w_i] V_i`` (about zero by construction), shape (n, r)."""
        return self.dispersion * np.tensordot(self.mean_weights, self.tangents, axes=1)

    def unit_msd(self) -> float:
        r"""Expected squared canonical norm of the tangent sum at dispersion 1.

        :math:`\mathbb{E}\|\sum_i w_i V_i\|_c^2 = \sum_{ij} \mathbb{E}[w_i w_j] G_{ij}` with the
        Dirichlet moments :math:`\mathbb{E}[w_i w_j] = (\alpha_i \alpha_j + \delta_{ij}
        \alpha_i) / (\alpha_0 (\alpha_0 + 1))`. Without frequency split and constraint
        projection, and within the injectivity radius, this times :math:`s^2` is the mean
        squared Stiefel distance of the samples to the centre.

        Returns
        -------
        float
        """
        a, a0 = self.alpha, self.concentration
        second = (np.outer(a, a) + np.diag(a)) / (a0 * (a0 + 1.0))
        return float(np.sum(second * _canonical_gram(self.center, self.tangents)))

    # ----------------------------------------------------------------------------- sampling
    def bases_from_weights(
        self, weights: ArrayLike, *, dispersion: float | None = None
    ) -> np.ndarray:
        """Bases for given simplex weights (the deterministic part of :meth:`sample`).

        Parameters
        ----------
        weights : array_like, shape (..., m)
            Weights on the candidates (normally Dirichlet draws).
        dispersion : float, optional
            Overrides :attr:`dispersion`.

        Returns
        -------
        ndarray, shape (..., n, r)
            Orthonormal bases satisfying the frequency split and the constraint.
        """
        w = np.asarray(weights, dtype=np.float64)
        if w.ndim < 1 or w.shape[-1] != self.n_candidates or not np.isfinite(w).all():
            raise InputDataError(
                f"weights must have shape (..., {self.n_candidates}) and be finite; got {w.shape}."
            )
        s = self.dispersion if dispersion is None else float(dispersion)
        if s == 0 or self.n_fixed == self.rank:
            return np.broadcast_to(self.center, (*w.shape[:-1], *self.center.shape)).copy()
        T = s * np.tensordot(w, self.tangents, axes=(-1, 0))
        return self._postprocess(stiefel.exp_map(self.center, T, check=False))

    def _postprocess(self, Y: np.ndarray) -> np.ndarray:
        k = self.n_fixed
        if k == 0:
            return Y if self.constraint is None else constrain(Y, self.constraint)
        F = self.center[:, :k]
        Z = Y[..., k:]
        Z = Z - F @ (F.T @ Z)
        if self.constraint is not None:
            Qb = constraint_basis(self.constraint)
            Z = Z - Qb @ (Qb.T @ Z)
        Z = stiefel.orthonormalize(Z)
        Z = Z - F @ (F.T @ Z)  # round-off along the fixed columns
        if self.constraint is not None:
            Z = Z - Qb @ (Qb.T @ Z)
        return np.concatenate([np.broadcast_to(F, (*Z.shape[:-1], k)), Z], axis=-1)

    def sample(self, n_samples: int, *, rng: int | np.random.Generator | None = None) -> np.ndarray:
        """Draw random bases: ``w ~ Dirichlet(alpha)``, ``Y = Exp_X(s sum_i w_i V_i)``.

        Then the first ``n_fixed`` columns are replaced by the centre's, the others projected
        off them (and off the constraint) and re-orthonormalised (polar factor).

        Parameters
        ----------
        n_samples : int
            Number of bases, >= 1.
        rng : int, numpy.random.Generator or None
            Seed or generator.

        Returns
        -------
        ndarray, shape (n_samples, n, r)
            Orthonormal bases (to round-off) with ``B^T Y = 0``.
        """
        if isinstance(n_samples, bool) or not isinstance(n_samples, int | np.integer):
            raise InputDataError(f"n_samples must be an int >= 1; got {n_samples!r}.")
        if n_samples < 1:
            raise InputDataError(f"n_samples must be an int >= 1; got {n_samples!r}.")
        gen = np.random.default_rng(rng)
        return self.bases_from_weights(gen.dirichlet(self.alpha, size=int(n_samples)))

    def to_xarray(self, samples: ArrayLike) -> xr.Dataset:
        """Label sampled bases: dims ``(realization, dof, mode)``.

        Parameters
        ----------
        samples : array_like, shape (k, n, r)
            Output of :meth:`sample`.

        Returns
        -------
        xarray.Dataset
            ``basis(realization, dof, mode)``, ``center(dof, mode)``, ``alpha(candidate)``;
            attrs ``dispersion``, ``concentration``, ``n_fixed``, ``constrained``.
        """
        arr = np.asarray(samples, dtype=np.float64)
        if arr.ndim != 3 or arr.shape[1:] != self.center.shape:
            raise InputDataError(
                f"samples must have shape (k, {self.n_dof}, {self.rank}); got {arr.shape}."
            )
        return xr.Dataset(
            {
                "basis": (("realization", "dof", "mode"), arr),
                "center": (("dof", "mode"), np.array(self.center)),
                "alpha": (("candidate",), np.array(self.alpha)),
            },
            coords={
                "realization": np.arange(arr.shape[0]),
                "mode": np.arange(self.rank),
            },
            attrs={
                "dispersion": self.dispersion,
                "concentration": self.concentration,
                "n_fixed": self.n_fixed,
                "constrained": int(self.constraint is not None),
                "long_name": "stochastic reduced-order basis (Stiefel SROM)",
            },
        )

    # ----------------------------------------------------------------------------- fitting
    @classmethod
    def fit(
        cls,
        candidates: ArrayLike,
        *,
        center: ArrayLike | None = None,
        pooled_snapshots: ArrayLike | None = None,
        rank: int | None = None,
        n_fixed: int = 0,
        constraint: ArrayLike | None = None,
        dispersion: float | Literal["auto"] = 1.0,
        concentration: float | None = None,
        align: Alignment | Literal["none"] = "sign",
        min_weight: float = 1e-3,
        identification: IdentificationMethod = "auto",
        rng: int | np.random.Generator | None = None,
    ) -> SROM:
        """Build the SROM of candidate bases.

        Parameters
        ----------
        candidates : array_like, shape (m, n, r_c)
            Orthonormal candidate bases (modes ordered by importance).
        center : array_like, shape (n, r), optional
            Centre basis. Default: the POD basis of ``pooled_snapshots`` if given, else the
            Stiefel Karcher mean of the (sign-aligned) candidates.
        pooled_snapshots : array_like, shape (n, k), optional
            Snapshots of all candidates side by side; their centred POD basis is the centre.
        rank : int, optional
            ``r``; default the centre's columns, else ``r_c``. Candidates are cut to ``r``.
        n_fixed : int, default 0
            Leading modes kept at the centre (frequency split).
        constraint : array_like, shape (n, k), optional
            Constraint matrix ``B`` (``B^T Y = 0``); centre and candidates are projected first.
        dispersion : float or "auto", default 1.0
            ``s``; ``"auto"`` identifies it with :func:`identify_hyperparameters`, matching the
            mean squared Stiefel distance of the samples to the centre with the candidates'.
        concentration : float, optional
            Total Dirichlet concentration ``sum(alpha)``; default ``m``, which for balanced
            candidates is the flat Dirichlet(1, ..., 1).
        align : {"sign", "permute", "procrustes", "none"}, default "sign"
            How candidates are aligned to the centre (:func:`align_signs`).
        min_weight : float, default 1e-3
            Lower bound of the Dirichlet mean weights.
        identification : {"auto", "moments", "samples"}, default "auto"
            Method of ``dispersion="auto"`` (see :func:`identify_hyperparameters`).
        rng : int, numpy.random.Generator or None
            Only used by ``identification="samples"``.

        Returns
        -------
        SROM
        """
        cands = as_bases("candidates", candidates)
        if cands.ndim != 3:
            raise InputDataError(f"candidates must have shape (m, n, r); got {cands.shape}.")
        m, n, rc = cands.shape
        if center is not None and pooled_snapshots is not None:
            raise InputDataError("give center or pooled_snapshots, not both.")
        if align not in ("sign", "permute", "procrustes", "none"):
            raise InputDataError(
                f"align must be 'sign', 'permute', 'procrustes' or 'none'; got {align!r}."
            )
        if concentration is None:
            concentration = float(m)
        if not (np.isfinite(concentration) and concentration > 0):
            raise InputDataError(f"concentration must be a float > 0; got {concentration!r}.")
        if not (dispersion == "auto" or isinstance(dispersion, int | float | np.floating)):
            raise InputDataError(f"dispersion must be a float >= 0 or 'auto'; got {dispersion!r}.")
        B = None if constraint is None else np.asarray(constraint, dtype=np.float64)

        if center is not None:
            X = as_bases("center", center)
            if X.ndim != 2 or X.shape[0] != n:
                raise InputDataError(f"center must have shape ({n}, r); got {X.shape}.")
            r_max = min(rc, X.shape[1])
            r = X.shape[1] if rank is None else rank
        else:
            r_max = rc
            r = rc if rank is None else rank
        r = as_positive_int("rank", r, upper=r_max, context=" (candidate and centre columns)")
        if center is not None:
            X = X[:, :r]
        cands = cands[..., :r]
        if B is not None:
            viol = float(np.abs(constraint_basis(B, n=n).T @ cands).max())
            if viol > 1e-6:
                warnings.warn(
                    f"candidates violate the constraint (max |B^T Y| = {viol:.3g}); they are "
                    "projected onto it.",
                    InputDataWarning,
                    stacklevel=2,
                )
            cands = constrain(cands, B)
        if center is None and pooled_snapshots is not None:
            X = pod_basis(pooled_snapshots, rank=r)[0]
            if X.shape[0] != n:
                raise InputDataError(
                    f"pooled_snapshots must have n = {n} rows; got {np.shape(pooled_snapshots)}."
                )
        elif center is None:
            start = cands if align == "none" else align_signs(cands, cands[0], method=align)
            X = stiefel.karcher_mean(start)
        if B is not None:
            X = constrain(X, B)
        if align != "none":
            cands = align_signs(cands, X, method=align)
        V = stiefel.log_map(X, cands, check=False)
        if B is not None:
            Qb = constraint_basis(B)
            V = V - Qb @ (Qb.T @ V)
        a = balancing_weights(_canonical_gram(X, V), min_weight=min_weight)
        srom = cls(
            center=X,
            tangents=V,
            alpha=concentration * a,
            dispersion=1.0 if dispersion == "auto" else dispersion,
            n_fixed=n_fixed,
            constraint=B,
        )
        if dispersion == "auto":
            hp = identify_hyperparameters(cands, srom, method=identification, align="none", rng=rng)
            srom = dataclasses.replace(srom, dispersion=hp.dispersion)
        return srom
