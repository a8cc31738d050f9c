"""Dispersion of an SROM identified from the candidates' quantity of interest.

:func:`bayescal.srom.identify_hyperparameters` matches the *bases'* spread: the SROM then
reproduces how far the candidates' reduced bases lie from the centre. When the candidates
differ mostly in stiffness rather than in mode shape (copper potentials bending the same
plate), that spread is small and so is the band of the propagated quantity of interest.
Soize & Farhat (IJNME 109, 837-888, 2017) instead identify the hyperparameters of the
random reduced basis from target values of the quantity of interest. This module does the one-
parameter version of that inverse problem:

- draw the Dirichlet weights once (common random numbers, so the band moves smoothly with
  ``s``);
- starting from a given dispersion (normally the basis-spread one), enlarge ``s`` geometrically
  until the central ``level`` band of the QoI over the sampled bases contains every target,
  then bisect between the last two rungs;
- the answer is the smallest such ``s`` found: the least dispersed model consistent with the
  targets.

Coverage of the targets used here holds by construction; whether the SROM is predictive is a
question for targets held out of the identification (other potentials), which the MD study
reports separately.
"""

from __future__ import annotations

import logging
import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from bayescal.errors import ConvergenceWarning, InputDataError
from bayescal.srom.model import SROM

__all__ = ["QoIIdentification", "band_covers", "identify_dispersion_by_qoi"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True, kw_only=True)
class QoIIdentification:
    """Result of :func:`identify_dispersion_by_qoi`.

    Attributes
    ----------
    dispersion : float
        Identified ``s`` (the largest one tried when ``covered`` is False).
    covered : bool
        Whether the band at ``dispersion`` contains every target.
    level : float
        Central probability of the band.
    targets : ndarray, shape (k,)
        Target values of the QoI.
    tried : ndarray, shape (t,)
        Dispersions evaluated, in order.
    bands : ndarray, shape (t, 2)
        Lower and upper band limits at each tried dispersion.
    samples : ndarray, shape (t, n_samples)
        QoI of the sampled bases at each tried dispersion.
    weights : ndarray, shape (n_samples, m)
        The Dirichlet weights used at every dispersion.
    """

    dispersion: float
    covered: bool
    level: float
    targets: np.ndarray
    tried: np.ndarray
    bands: np.ndarray
    samples: np.ndarray
    weights: np.ndarray

    @property
    def values(self) -> np.ndarray:
        """QoI of the sampled bases at :attr:`dispersion`, shape (n_samples,)."""
        return self.samples[int(np.flatnonzero(self.tried == self.dispersion)[0])]

    @property
    def band(self) -> tuple[float, float]:
        """Band limits at :attr:`dispersion`."""
        values = self.values
        q = 0.5 * (1.0 - self.level)
        lo, hi = np.quantile(values, [q, 1.0 - q])
        return float(lo), float(hi)


def band_covers(values: ArrayLike, targets: ArrayLike, level: float) -> np.ndarray:
    """Which targets lie in the central ``level`` band of ``values`` (sample quantiles)."""
    v = np.asarray(values, dtype=float)
    t = np.asarray(targets, dtype=float)
    q = 0.5 * (1.0 - level)
    lo, hi = np.quantile(v, [q, 1.0 - q])
    return (t >= lo) & (t <= hi)


def _check(level: float, start: float, factor: float, max_dispersion: float) -> None:
    if not 0.0 < level < 1.0:
        raise InputDataError(f"level must lie in (0, 1); got {level!r}.")
    if not (math.isfinite(start) and start > 0):
        raise InputDataError(f"start must be a positive number; got {start!r}.")
    if not (math.isfinite(factor) and factor > 1):
        raise InputDataError(f"factor must be a number > 1; got {factor!r}.")
    if not max_dispersion >= start:
        raise InputDataError(f"max_dispersion must be >= start = {start}; got {max_dispersion!r}.")


def identify_dispersion_by_qoi(
    srom: SROM,
    qoi: Callable[[np.ndarray], float],
    targets: ArrayLike,
    *,
    start: float = 1.0,
    factor: float = 1.5,
    max_dispersion: float = 32.0,
    bisections: int = 3,
    n_samples: int = 24,
    level: float = 0.9,
    rng: int | np.random.Generator | None = None,
    progress: Callable[[str], None] | None = None,
) -> QoIIdentification:
    """Smallest dispersion whose QoI band contains every target (see the module docstring).

    Parameters
    ----------
    srom : SROM
        The model (centre, tangents, concentration, frequency split, constraint); its own
        ``dispersion`` is not used.
    qoi : callable
        ``qoi(basis (n, r)) -> float``, e.g. a reduced-order simulation; called
        ``n_samples`` times per dispersion tried.
    targets : array_like, shape (k,)
        Values the band must contain (the candidates' own QoIs).
    start : float, default 1.0
        First dispersion tried (e.g. the basis-spread one of
        :func:`bayescal.srom.identify_hyperparameters`).
    factor : float, default 1.5
        Ratio of successive dispersions.
    max_dispersion : float, default 32.0
        Largest dispersion tried.
    bisections : int, default 3
        Bisection steps between the last uncovered and the first covering dispersion.
    n_samples : int, default 24
        Bases per dispersion.
    level : float, default 0.9
        Central probability of the band (sample quantiles).
    rng : int, numpy.random.Generator or None
        Seed of the Dirichlet weights.
    progress : callable, optional
        Called with one line per dispersion tried.

    Returns
    -------
    QoIIdentification

    Warns
    -----
    ConvergenceWarning
        When no dispersion up to ``max_dispersion`` covers the targets (the result then holds
        the largest one tried, ``covered=False``).

    Raises
    ------
    InputDataError
        Bad settings, no targets, or a QoI that is not finite.
    """
    _check(level, start, factor, max_dispersion)
    t = np.asarray(targets, dtype=float).ravel()
    if t.size == 0 or not np.isfinite(t).all():
        raise InputDataError(f"targets must be a non-empty array of finite values; got {t!r}.")
    if isinstance(n_samples, bool) or not isinstance(n_samples, int) or n_samples < 2:
        raise InputDataError(f"n_samples must be an int >= 2; got {n_samples!r}.")
    weights = np.random.default_rng(rng).dirichlet(srom.alpha, size=n_samples)
    tried: list[float] = []
    bands: list[tuple[float, float]] = []
    samples: list[np.ndarray] = []

    def evaluate(s: float) -> bool:
        bases = srom.bases_from_weights(weights, dispersion=s)
        values = np.array([float(qoi(Y)) for Y in bases])
        if not np.isfinite(values).all():
            raise InputDataError(f"qoi returned non-finite values at dispersion {s:.4g}.")
        samples.append(values)
        q = 0.5 * (1.0 - level)
        lo, hi = np.quantile(values, [q, 1.0 - q])
        tried.append(s)
        bands.append((float(lo), float(hi)))
        ok = bool(band_covers(values, t, level).all())
        line = f"dispersion {s:.4g}: band [{lo:.5g}, {hi:.5g}] {'covers' if ok else 'misses'}"
        logger.info(line)
        if progress is not None:
            progress(line)
        return ok

    below, above = None, None
    s = float(start)
    while s <= max_dispersion * (1 + 1e-12):
        if evaluate(s):
            above = s
            break
        below = s
        s *= factor
    if above is None:
        warnings.warn(
            f"no dispersion up to {max_dispersion:.4g} gives a {level:.0%} QoI band that "
            f"contains every target ({t.min():.5g} to {t.max():.5g}); kept the largest tried.",
            ConvergenceWarning,
            stacklevel=2,
        )
        best = tried[-1]
    else:
        if below is not None:
            for _ in range(int(bisections)):
                mid = 0.5 * (below + above)
                if evaluate(mid):
                    above = mid
                else:
                    below = mid
        best = above
    return QoIIdentification(
        dispersion=float(best),
        covered=above is not None,
        level=float(level),
        targets=t,
        tried=np.asarray(tried),
        bands=np.asarray(bands),
        samples=np.stack(samples),
        weights=weights,
    )
