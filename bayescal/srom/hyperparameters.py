r"""Identification of the SROM dispersion by moment matching of observed bases.

The spread of observed reduced bases (the candidates themselves, or bases drawn from an unknown
SROM) around the SROM centre is measured by their mean squared canonical Stiefel distance
:math:`\bar d^2`; :func:`identify_hyperparameters` finds the dispersion :math:`s` of a
:class:`bayescal.srom.SROM` whose samples have the same mean squared distance (Zhang &
Guilleminot [1]_; the maximum-entropy choice under that one constraint).
:meth:`SROM.fit(dispersion="auto") <bayescal.srom.SROM.fit>` calls it.

References
----------
.. [1] H. Zhang and J. Guilleminot, "A Riemannian stochastic representation for quantifying
   model uncertainties in molecular dynamics simulations", Comput. Methods Appl. Mech. Engrg.
   403, 115702, 2023. doi:10.1016/j.cma.2022.115702
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import numpy as np
from numpy.typing import ArrayLike
from scipy.optimize import brentq

from bayescal.errors import InputDataError, NumericsWarning
from bayescal.manifold import stiefel
from bayescal.manifold.validate import as_bases
from bayescal.srom.snapshots import Alignment, align_signs

if TYPE_CHECKING:
    from bayescal.srom.model import SROM

__all__ = ["Hyperparameters", "IdentificationMethod", "identify_hyperparameters"]

IdentificationMethod = Literal["auto", "moments", "samples"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Hyperparameters:
    """Outcome of :func:`identify_hyperparameters`.

    Attributes
    ----------
    dispersion : float
        Identified ``s``.
    concentration : float
        Total Dirichlet concentration used (not identified; see the function's notes).
    target_msd : float
        Mean squared canonical Stiefel distance of the observations to the centre.
    unit_msd : float
        The SROM's mean squared distance at dispersion 1 (closed form or Monte Carlo).
    method : str
        ``"moments"`` or ``"samples"``.
    n_observations : int
    """

    dispersion: float
    concentration: float
    target_msd: float
    unit_msd: float
    method: str
    n_observations: int


def _msd(X: np.ndarray, Ys: np.ndarray, *, check: bool = True) -> np.ndarray:
    """Squared canonical Stiefel distances of bases ``Ys (k, n, r)`` to ``X``.

    The logarithm is iterated to 1e-8 in at most 1000 steps; far samples (near the injectivity
    radius) converge slowly, so instead of the iteration residual the result is checked by the
    round trip ``Exp_X(Log_X Y) = Y``, which bounds the error of the distances. With ``check``
    a round-trip error above 1e-4 warns (ample accuracy for matching a mean).
    """
    D = stiefel.log_map(X, Ys, tol=1e-8, max_iter=1000, on_fail="ignore", check=False)
    if check:
        err = float(np.abs(stiefel.exp_map(X, D, check=False) - Ys).max(initial=0.0))
        if err > 1e-4:
            warnings.warn(
                f"Stiefel distances are accurate only to about {err:.2g} (a sample is near "
                "the injectivity radius of the centre); the moment matching may be biased.",
                NumericsWarning,
                stacklevel=3,
            )
    return stiefel.canonical_norm(X, D, check=False) ** 2


def identify_hyperparameters(
    candidates: ArrayLike,
    srom: SROM,
    *,
    method: IdentificationMethod = "auto",
    n_samples: int = 256,
    align: Alignment | Literal["none"] = "sign",
    rng: int | np.random.Generator | None = None,
) -> Hyperparameters:
    r"""Choose the SROM dispersion by matching the spread of observed bases (moment matching).

    The target is the mean squared canonical Stiefel distance of the observations (the
    candidates themselves, or bases drawn from an unknown SROM) to the centre,
    :math:`\bar d^2 = \frac1k \sum_j \|\operatorname{Log}_X Y_j\|_c^2`. The dispersion is the
    :math:`s` at which the SROM's mean squared distance equals it, i.e. the first moment of
    :math:`d^2` is matched, the maximum-entropy choice under that one constraint:

    - ``"moments"``: closed form :math:`s = \sqrt{\bar d^2 / \mu}` with
      :math:`\mu` = :meth:`SROM.unit_msd` (exact when ``n_fixed = 0`` and the constraint is
      already satisfied by the tangents, within the injectivity radius). For ``k``
      independent observations the relative standard error of :math:`s` is
      :math:`\operatorname{CV}(d^2) / (2\sqrt{k})`.
    - ``"samples"``: Monte Carlo with ``n_samples`` fixed Dirichlet draws (common random
      numbers) through the full :meth:`SROM.sample` pipeline (frequency split, constraint),
      root-found in :math:`s` with Brent's method.

    The total concentration :math:`\sum_i \alpha_i` and :math:`s` enter the second moment of the
    tangent only through :math:`s^2` and :math:`1/(\alpha_0 + 1)` together when the candidates
    are balanced, so both cannot be identified from :math:`\bar d^2`; the concentration is kept
    as given (default ``m`` in :meth:`SROM.fit`).

    Parameters
    ----------
    candidates : array_like, shape (k, n, r)
        Observed bases.
    srom : SROM
        The model whose centre, tangents and concentration are used.
    method : {"auto", "moments", "samples"}, default "auto"
        ``"auto"`` is ``"moments"`` without frequency split and ``"samples"`` with one
        (``n_fixed > 0``), where the closed form underestimates ``s``.
    n_samples : int, default 256
        Monte Carlo size for ``"samples"``.
    align : {"sign", "permute", "procrustes", "none"}, default "sign"
        Alignment of the observations to the centre before measuring distances.
    rng : int, numpy.random.Generator or None
        For ``"samples"``.

    Returns
    -------
    Hyperparameters

    Raises
    ------
    InputDataError
        Shapes that disagree, an unknown method, all-zero tangents, or a target spread the
        SROM cannot reach.
    """
    obs = as_bases("candidates", candidates)
    if obs.ndim != 3 or obs.shape[1:] != srom.center.shape:
        raise InputDataError(
            f"candidates must have shape (k, {srom.n_dof}, {srom.rank}) like the SROM centre; "
            f"got {obs.shape}."
        )
    if method not in ("auto", "moments", "samples"):
        raise InputDataError(f"method must be 'auto', 'moments' or 'samples'; got {method!r}.")
    if method == "auto":
        method = "samples" if srom.n_fixed > 0 else "moments"
    X = srom.center
    if align != "none":
        obs = align_signs(obs, X, method=align)
    target = float(_msd(X, obs).mean())
    mu = srom.unit_msd()
    if not mu > 0:
        raise InputDataError("the SROM tangents are all zero: no dispersion reproduces a spread.")
    s_mom = float(np.sqrt(target / mu))
    common = {"concentration": srom.concentration, "target_msd": target}
    if method == "moments" or target == 0:
        return Hyperparameters(
            dispersion=s_mom, unit_msd=mu, method=method, n_observations=obs.shape[0], **common
        )
    gen = np.random.default_rng(rng)
    W = gen.dirichlet(srom.alpha, size=int(n_samples))

    def excess(s: float) -> float:  # trial dispersions may overshoot: no warning there
        Ys = srom.bases_from_weights(W, dispersion=s)
        return float(_msd(X, Ys, check=False).mean()) - target

    hi = 2.0 * s_mom
    for _ in range(6):
        if excess(hi) > 0:
            break
        hi *= 2.0
    else:
        raise InputDataError(
            f"the SROM's spread does not reach the target mean squared distance {target:.3g} "
            f"for dispersions up to {hi:.3g}; check n_fixed and the constraint."
        )
    s = float(brentq(excess, 0.0, hi, xtol=1e-6 * s_mom, rtol=1e-10))
    unit = float(_msd(X, srom.bases_from_weights(W, dispersion=s)).mean()) / s**2
    return Hyperparameters(
        dispersion=s, unit_msd=unit, method=method, n_observations=obs.shape[0], **common
    )
