r"""Distances between subspaces, each a thin function of the principal angles.

Every metric is registered with :func:`register_metric` and receives the ascending principal
angles :math:`0 \le \theta_1 \le \dots \le \theta_k \le \pi/2`, shape ``(..., k)``.

Subspaces of different dimensions ``p != q``
    The ``|p - q|`` missing angles are set to :math:`\pi/2` and the equal-dimension formula is
    applied to the padded angles. This is the embedding of both subspaces in the doubly
    infinite Grassmannian of Ye & Lim [2]_ (their :math:`\delta_\infty` distances, true metrics
    across dimensions); for the geodesic distance it is the "method 0" extension of the
    original calibration code, :math:`\sqrt{|p-q|\pi^2/4 + \sum \theta_i^2}`. The padding gives
    chordal :math:`\sqrt{|p-q| + \sum\sin^2\theta_i}`, projection and binet_cauchy 1, asimov and
    fubini_study :math:`\pi/2`, martin :math:`\infty`, spectral :math:`\sqrt 2` and procrustes
    :math:`\sqrt{2|p-q| + 4\sum\sin^2(\theta_i/2)}`.

References
----------
.. [1] A. Edelman, T. A. Arias and S. T. Smith, "The geometry of algorithms with
   orthogonality constraints", SIAM J. Matrix Anal. Appl. 20(2), 303-353, 1998 (Table 4.3).
.. [2] K. Ye and L.-H. Lim, "Schubert varieties and distances between subspaces of different
   dimensions", SIAM J. Matrix Anal. Appl. 37(3), 1176-1197, 2016 (Tables 2 and 3).
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Literal, get_args

import numpy as np
from numpy.typing import ArrayLike

from bayescal.errors import InputDataError
from bayescal.manifold.angles import angles_of_bases, angles_of_pairs
from bayescal.manifold.validate import as_bases, check_same_ambient

__all__ = [
    "METRICS",
    "Metric",
    "MetricFunction",
    "MetricSpec",
    "distance",
    "distance_from_angles",
    "pairwise_distances",
    "register_metric",
]

Metric = Literal[
    "geodesic",
    "chordal",
    "projection",
    "procrustes",
    "spectral",
    "asimov",
    "binet_cauchy",
    "martin",
    "fubini_study",
]
MetricFunction = Callable[[np.ndarray], np.ndarray]


@dataclass(frozen=True, slots=True, kw_only=True)
class MetricSpec:
    """A registered distance.

    Attributes
    ----------
    name : str
        Registry name.
    function : callable
        ``function(theta: (..., k)) -> (...)`` on ascending principal angles.
    is_metric : bool
        Whether it satisfies the triangle inequality (``martin`` does not).
    """

    name: str
    function: MetricFunction
    is_metric: bool


_REGISTRY: dict[str, MetricSpec] = {}

#: Read-only view ``name -> MetricSpec`` of the registered distances.
METRICS: Mapping[str, MetricSpec] = MappingProxyType(_REGISTRY)


def register_metric(
    name: str, *, is_metric: bool = True
) -> Callable[[MetricFunction], MetricFunction]:
    """Register ``function(theta: (..., k)) -> (...)`` as the distance ``name``.

    Parameters
    ----------
    name : str
        Registry name, used as ``distance(..., metric=name)``.
    is_metric : bool, default True
        Whether the distance satisfies the triangle inequality (tests rely on it).

    Returns
    -------
    callable
        Decorator that registers and returns the function unchanged.

    Raises
    ------
    InputDataError
        If ``name`` is already registered.

    Examples
    --------
    >>> @register_metric("doc_l1")
    ... def _l1(theta):
    ...     return theta.sum(axis=-1)
    >>> "doc_l1" in METRICS
    True
    >>> _ = _REGISTRY.pop("doc_l1")
    """

    def decorate(function: MetricFunction) -> MetricFunction:
        if name in _REGISTRY:
            raise InputDataError(f"metric {name!r} is already registered.")
        _REGISTRY[name] = MetricSpec(name=name, function=function, is_metric=is_metric)
        return function

    return decorate


def _log_prod_cos2(theta: np.ndarray) -> np.ndarray:
    """``log prod cos^2(theta)`` as ``sum log1p(-sin^2)``: exact for tiny angles, -inf at pi/2."""
    with np.errstate(divide="ignore"):
        return np.sum(np.log1p(-(np.sin(theta) ** 2)), axis=-1)


@register_metric("geodesic")
def _geodesic(theta: np.ndarray) -> np.ndarray:
    r"""Arc length :math:`\sqrt{\sum_i \theta_i^2}` (the Riemannian distance)."""
    return np.sqrt(np.sum(theta**2, axis=-1))


@register_metric("chordal")
def _chordal(theta: np.ndarray) -> np.ndarray:
    r"""Chordal Frobenius :math:`\sqrt{\sum_i \sin^2\theta_i} = \|UU^T - VV^T\|_F/\sqrt 2`."""
    return np.sqrt(np.sum(np.sin(theta) ** 2, axis=-1))


@register_metric("projection")
def _projection(theta: np.ndarray) -> np.ndarray:
    r"""Projection (chordal 2-norm) :math:`\sin\theta_k = \|UU^T - VV^T\|_2`."""
    return np.sin(theta[..., -1])


@register_metric("procrustes")
def _procrustes(theta: np.ndarray) -> np.ndarray:
    r"""Procrustes :math:`2\sqrt{\sum_i \sin^2(\theta_i/2)} = \min_Q \|UQ_1 - VQ_2\|_F`."""
    return 2.0 * np.sqrt(np.sum(np.sin(theta / 2) ** 2, axis=-1))


@register_metric("spectral")
def _spectral(theta: np.ndarray) -> np.ndarray:
    r"""Spectral (Procrustes 2-norm) :math:`2\sin(\theta_k/2)`."""
    return 2.0 * np.sin(theta[..., -1] / 2)


@register_metric("asimov")
def _asimov(theta: np.ndarray) -> np.ndarray:
    r"""Asimov :math:`\theta_k` (the largest angle)."""
    return theta[..., -1].copy()


@register_metric("binet_cauchy")
def _binet_cauchy(theta: np.ndarray) -> np.ndarray:
    r"""Binet-Cauchy :math:`\sqrt{1 - \prod_i \cos^2\theta_i}` (``expm1`` form, exact near 0)."""
    return np.sqrt(-np.expm1(_log_prod_cos2(theta)))


@register_metric("martin", is_metric=False)
def _martin(theta: np.ndarray) -> np.ndarray:
    r"""Martin :math:`\sqrt{-\log\prod_i\cos^2\theta_i}`; ``inf`` when an angle is pi/2.

    Not a metric: it fails the triangle inequality (e.g. lines in the plane at 0, 0.8, 1.6 rad).
    """
    return np.sqrt(-_log_prod_cos2(theta))


@register_metric("fubini_study")
def _fubini_study(theta: np.ndarray) -> np.ndarray:
    r"""Fubini-Study :math:`\arccos\prod_i\cos\theta_i`, as an ``arctan2`` (accurate near 0)."""
    log_p2 = _log_prod_cos2(theta)
    return np.arctan2(np.sqrt(-np.expm1(log_p2)), np.exp(log_p2 / 2))


if set(get_args(Metric)) != set(_REGISTRY):  # pragma: no cover - developer error
    raise ImportError("the Metric Literal and the built-in metric registry disagree")


def _metric_function(metric: str) -> MetricFunction:
    try:
        return _REGISTRY[metric].function
    except (KeyError, TypeError):
        close = difflib.get_close_matches(str(metric), list(_REGISTRY), n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise InputDataError(
            f"unknown metric {metric!r}.{hint} Known: {', '.join(_REGISTRY)}."
        ) from None


def distance_from_angles(
    theta: ArrayLike, *, metric: Metric = "geodesic", q: int | None = None
) -> np.ndarray:
    r"""Apply a registered metric to ascending principal angles.

    Parameters
    ----------
    theta : array_like, shape (..., k)
        Ascending principal angles in radians.
    metric : Metric, default "geodesic"
        A name in :data:`METRICS`.
    q : int, optional
        Dimension of the larger subspace when it exceeds ``k``: ``q - k`` angles of
        :math:`\pi/2` are appended (see the module notes on different dimensions).

    Returns
    -------
    ndarray, shape (...)

    Examples
    --------
    >>> float(distance_from_angles([0.3, 0.4]))
    0.5
    >>> float(distance_from_angles([0.0], q=2, metric="chordal"))
    1.0
    """
    function = _metric_function(metric)
    angles = np.asarray(theta, dtype=np.float64)
    k = angles.shape[-1]
    if q is not None and q > k:
        pad = np.full((*angles.shape[:-1], q - k), np.pi / 2)
        angles = np.concatenate([angles, pad], axis=-1)
    return function(angles)


def distance(
    U: ArrayLike, V: ArrayLike, *, metric: Metric = "geodesic", check: bool = True
) -> np.ndarray:
    r"""Distance between the subspaces spanned by orthonormal bases, batched.

    Parameters
    ----------
    U : array_like, shape (..., n, p)
        Orthonormal bases; leading dims broadcast against those of ``V``.
    V : array_like, shape (..., n, q)
        Orthonormal bases; ``q`` may differ from ``p`` (missing angles count as pi/2, see the
        module notes).
    metric : Metric, default "geodesic"
        One of :data:`METRICS`: ``geodesic`` :math:`\sqrt{\sum\theta_i^2}`, ``chordal``
        :math:`\sqrt{\sum\sin^2\theta_i}`, ``projection`` :math:`\sin\theta_{max}`,
        ``procrustes`` :math:`2\sqrt{\sum\sin^2(\theta_i/2)}`, ``spectral``
        :math:`2\sin(\theta_{max}/2)`, ``asimov`` :math:`\theta_{max}`, ``binet_cauchy``
        :math:`\sqrt{1-\prod\cos^2\theta_i}`, ``martin`` :math:`\sqrt{-\log\prod\cos^2\theta_i}`
        (``inf`` if an angle is pi/2), ``fubini_study`` :math:`\arccos\prod\cos\theta_i`.
    check : bool, default True
        Validate finiteness and orthonormality (``False`` skips it in hot loops).

    Returns
    -------
    ndarray, shape (...)
        Distances; radians for the angle-valued metrics.

    Raises
    ------
    InputDataError
        Unknown metric, malformed or non-orthonormal bases, different ``n``.

    See Also
    --------
    principal_angles, pairwise_distances

    Examples
    --------
    >>> e = np.eye(3)
    >>> float(distance(e[:, :1], e[:, 1:2]))
    1.5707963267948966
    >>> distance(e[:, :2], np.stack([e[:, :2], e[:, 1:]]), metric="chordal")
    array([0., 1.])
    """
    _metric_function(metric)
    theta, batch = angles_of_bases(U, V, check=check)
    q = max(np.shape(U)[-1], np.shape(V)[-1])
    return distance_from_angles(theta, metric=metric, q=q).reshape(batch)


def pairwise_distances(
    Us: ArrayLike, Vs: ArrayLike | None = None, *, metric: Metric = "geodesic", check: bool = True
) -> np.ndarray:
    """Distances between every basis of ``Us`` and every basis of ``Vs``, without a pair loop.

    Parameters
    ----------
    Us : array_like, shape (k, n, p)
        Orthonormal bases.
    Vs : array_like, shape (m, n, q), optional
        Orthonormal bases; default ``Us`` (then only the upper triangle is computed and the
        result is exactly symmetric with a zero diagonal).
    metric : Metric, default "geodesic"
        One of :data:`METRICS`.
    check : bool, default True
        Validate finiteness and orthonormality.

    Returns
    -------
    ndarray, shape (k, m)
        ``out[i, j] = distance(Us[i], Vs[j], metric=metric)``.

    Examples
    --------
    >>> e = np.eye(3)
    >>> pairwise_distances(np.stack([e[:, :1], e[:, 1:2]]), metric="asimov")
    array([[0.        , 1.57079633],
           [1.57079633, 0.        ]])
    """
    _metric_function(metric)
    A = as_bases("Us", Us, check=check)
    if A.ndim != 3:
        raise InputDataError(f"Us must have shape (k, n, p); got shape {A.shape}.")
    q = A.shape[-1]
    if Vs is None:
        k = A.shape[0]
        iu, iv = np.triu_indices(k, 1)
        theta = angles_of_pairs(A, A, iu, iv, iu.size)
        out = np.zeros((k, k))
        out[iu, iv] = distance_from_angles(theta, metric=metric)
        out[iv, iu] = out[iu, iv]
        return out
    B = as_bases("Vs", Vs, check=check)
    if B.ndim != 3:
        raise InputDataError(f"Vs must have shape (m, n, q); got shape {B.shape}.")
    check_same_ambient(("Us", "Vs"), A, B)
    k, m = A.shape[0], B.shape[0]
    iu, iv = np.repeat(np.arange(k), m), np.tile(np.arange(m), k)
    theta = angles_of_pairs(A, B, iu, iv, k * m)
    q = max(q, B.shape[-1])
    return distance_from_angles(theta, metric=metric, q=q).reshape(k, m)
