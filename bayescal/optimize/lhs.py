"""Space-filling designs in the unit cube, known constraints, and unit-cube maps."""

from __future__ import annotations

import logging
from collections.abc import Callable

import numpy as np
from numpy.typing import ArrayLike
from scipy.spatial.distance import pdist, squareform
from scipy.stats import qmc

from bayescal.errors import InputDataError, StudyDefinitionError

__all__ = ["as_feasible_mask", "from_unit", "latin_hypercube", "sobol", "to_unit"]

logger = logging.getLogger(__name__)

Feasible = Callable[[np.ndarray], np.ndarray]
Seed = int | np.random.SeedSequence | np.random.Generator

#: Largest design size tried before a known constraint is declared (nearly) empty.
_MAX_OVERSAMPLE = 1000
#: Largest LHS that is optimised with ``optimization`` (larger ones are plain LHS).
_MAX_OPTIMIZED = 512


def _rng(seed: Seed) -> np.random.Generator:
    return np.random.default_rng(seed)


def _bounds(bounds: ArrayLike) -> np.ndarray:
    b = np.asarray(bounds, dtype=float)
    if b.ndim != 2 or b.shape[1] != 2 or not np.all(np.isfinite(b)) or np.any(b[:, 0] >= b[:, 1]):
        raise InputDataError(
            f"bounds must be a finite (d, 2) array with lower < upper in every row; got {b!r}."
        )
    return b


def to_unit(x: ArrayLike, bounds: ArrayLike) -> np.ndarray:
    """Map parameters to the unit cube.

    Parameters
    ----------
    x : array_like, shape (..., d)
        Points in parameter space.
    bounds : array_like, shape (d, 2)
        Lower and upper bound of each parameter.

    Returns
    -------
    ndarray, shape (..., d)
        ``(x - lower) / (upper - lower)``.

    Examples
    --------
    >>> to_unit([[0.0, 10.0]], [[-1.0, 1.0], [0.0, 20.0]])
    array([[0.5, 0.5]])
    """
    b = _bounds(bounds)
    return (np.asarray(x, dtype=float) - b[:, 0]) / (b[:, 1] - b[:, 0])


def from_unit(u: ArrayLike, bounds: ArrayLike) -> np.ndarray:
    """Map unit-cube points to parameters (inverse of :func:`to_unit`).

    Parameters
    ----------
    u : array_like, shape (..., d)
        Points in the unit cube.
    bounds : array_like, shape (d, 2)
        Lower and upper bound of each parameter.

    Returns
    -------
    ndarray, shape (..., d)
        ``lower + u * (upper - lower)``.

    Examples
    --------
    >>> from_unit([[0.5, 0.5]], [[-1.0, 1.0], [0.0, 20.0]])
    array([[ 0., 10.]])
    """
    b = _bounds(bounds)
    return b[:, 0] + np.asarray(u, dtype=float) * (b[:, 1] - b[:, 0])


def as_feasible_mask(feasible: Feasible | None, x: np.ndarray) -> np.ndarray:
    """Evaluate a known constraint on ``x`` (shape (n, d)) and check its output (n,) bool."""
    if feasible is None:
        return np.ones(len(x), dtype=bool)
    mask = np.asarray(feasible(x))
    if mask.shape != (len(x),) or mask.dtype.kind not in "bi":
        raise InputDataError(
            f"feasible must map an (n, d) array to an (n,) bool array; got shape {mask.shape} "
            f"and dtype {mask.dtype} for n = {len(x)}."
        )
    return mask.astype(bool)


def _thin(x: np.ndarray, n: int) -> np.ndarray:
    """Drop points of the closest pairs until ``n`` remain (keeps order of the survivors)."""
    keep = np.ones(len(x), dtype=bool)
    dist = squareform(pdist(x))
    np.fill_diagonal(dist, np.inf)
    for _ in range(len(x) - n):
        i, j = np.unravel_index(np.argmin(dist), dist.shape)
        # Drop the one of the pair that is more crowded by its other neighbours.
        di = np.partition(dist[i], 1)[1]
        dj = np.partition(dist[j], 1)[1]
        drop = i if di <= dj else j
        keep[drop] = False
        dist[drop, :] = np.inf
        dist[:, drop] = np.inf
    return x[keep]


def latin_hypercube(
    n: int,
    d: int,
    *,
    seed: Seed,
    feasible: Feasible | None = None,
    optimization: str | None = "random-cd",
) -> np.ndarray:
    """Draw a Latin-hypercube design in ``[0, 1]^d``, optionally restricted to a known constraint.

    Without a constraint this is ``scipy.stats.qmc.LatinHypercube(d, optimization="random-cd")``
    (centred-discrepancy-optimised LHS). With ``feasible``, an LHS of ``N >= n`` points is drawn
    with ``N`` grown until at least ``n`` of them are feasible (``N`` about ``n`` divided by the
    feasible fraction); the feasible subset is then thinned to ``n`` by repeatedly dropping one
    point of the closest pair (the one nearer its next neighbour). The design thus keeps the
    stratification of the LHS inside the feasible region and gains minimum distance.

    Parameters
    ----------
    n, d : int
        Number of points and dimension.
    seed : int, SeedSequence or Generator
        Source of randomness (passed to ``np.random.default_rng`` once).
    feasible : callable, optional
        Known constraint: ``(m, d)`` unit-cube points -> ``(m,)`` bool.
    optimization : {"random-cd", "lloyd", None}
        Passed to ``LatinHypercube``.

    Returns
    -------
    ndarray, shape (n, d)
        Design points.

    Raises
    ------
    StudyDefinitionError
        If fewer than ``n`` feasible points are found among ``1000 n`` LHS points.

    Examples
    --------
    >>> x = latin_hypercube(4, 2, seed=0)
    >>> x.shape, bool(((x >= 0) & (x <= 1)).all())
    ((4, 2), True)
    """
    if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 1:
        raise InputDataError(f"n must be a positive int; got {n!r}.")
    if isinstance(d, bool) or not isinstance(d, int | np.integer) or d < 1:
        raise InputDataError(f"d must be a positive int; got {d!r}.")
    rng = _rng(seed)
    size = int(n)
    while True:
        # random-cd costs O(size^2) per sweep; past _MAX_OPTIMIZED points the thinning below
        # does the space filling.
        opt = optimization if size <= _MAX_OPTIMIZED else None
        x = qmc.LatinHypercube(d, optimization=opt, rng=rng).random(size)
        if feasible is None:
            return x
        x = x[as_feasible_mask(feasible, x)]
        if len(x) >= n:
            break
        if size >= _MAX_OVERSAMPLE * n:
            raise StudyDefinitionError(
                f"the known constraint accepted only {len(x)} of {size} Latin-hypercube points; "
                f"need {n}. Check that `feasible` returns True on a non-negligible region."
            )
        size = min(_MAX_OVERSAMPLE * n, int(np.ceil(1.2 * size * n / max(len(x), 1))))
    logger.debug("LHS: %d of %d points feasible, thinned to %d", len(x), size, n)
    return _thin(x, n)


def sobol(n: int, d: int, *, seed: Seed, feasible: Feasible | None = None) -> np.ndarray:
    """Draw at least ``n`` scrambled-Sobol points, keeping only feasible ones.

    The Sobol' set has the next power of two above ``n`` points; with a constraint it is
    enlarged (up to ``1000 n``) until ``n`` feasible points remain. Returns shape ``(m, d)``
    with ``m >= n`` (``m`` may be smaller only if the constraint is nearly empty).
    """
    rng = _rng(seed)
    m = int(np.ceil(np.log2(max(n, 2))))
    while True:
        x = qmc.Sobol(d, rng=rng).random_base2(m)
        x = x[as_feasible_mask(feasible, x)]
        if len(x) >= n or 2**m >= _MAX_OVERSAMPLE * n:
            return x
        m += 1
