r"""The Grassmann manifold Gr(n, p) of p-dimensional subspaces of R^n.

Points are represented by orthonormal bases :math:`U \in \mathbb{R}^{n \times p}`
(:math:`U^T U = I`), tangent vectors at :math:`U` by horizontal matrices
:math:`\Delta` with :math:`U^T \Delta = 0`, and the metric is the canonical one,
:math:`\langle \Delta_1, \Delta_2 \rangle = \operatorname{tr}(\Delta_1^T \Delta_2)`.
All functions are batched over leading dims.

References
----------
.. [1] A. Edelman, T. A. Arias and S. T. Smith, "The geometry of algorithms with
   orthogonality constraints", SIAM J. Matrix Anal. Appl. 20(2), 303-353, 1998.
.. [2] T. Bendokat, R. Zimmermann and P.-A. Absil, "A Grassmann manifold handbook: basic
   geometry and computational aspects", Adv. Comput. Math. 50, 6, 2024.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from bayescal.errors import InputDataError
from bayescal.manifold.distance import Metric, distance
from bayescal.manifold.validate import (
    ORTHONORMAL_ATOL,
    as_bases,
    as_positive_int,
    broadcast_batch,
    check_same_ambient,
)

__all__ = [
    "Grassmann",
    "exp_map",
    "log_map",
    "parallel_transport",
    "projection_to_tangent",
]


def _mT(A: np.ndarray) -> np.ndarray:
    return np.swapaxes(A, -1, -2)


def _same_shape(names: tuple[str, str], U: np.ndarray, V: np.ndarray) -> None:
    check_same_ambient(names, U, V)
    if U.shape[-1] != V.shape[-1]:
        raise InputDataError(
            f"{names[0]} and {names[1]} must have the same number of columns p on Gr(n, p); got "
            f"{names[0]}.shape={U.shape} and {names[1]}.shape={V.shape}."
        )
    broadcast_batch(names, U, V)


def _as_tangent(U: np.ndarray, Delta: ArrayLike, *, name: str, check: bool) -> np.ndarray:
    D = np.asarray(Delta, dtype=np.float64)
    if D.ndim < 2:
        raise InputDataError(f"{name} must have shape (..., n, p); got shape {D.shape}.")
    _same_shape(("U", name), U, D)
    if check:
        if not np.isfinite(D).all():
            raise InputDataError(f"{name} contains non-finite values (NaN or inf).")
        off = np.abs(_mT(U) @ D).max(initial=0.0)
        scale = max(1.0, float(np.abs(D).max(initial=0.0)))
        if off > ORTHONORMAL_ATOL * scale:
            raise InputDataError(
                f"{name} is not a tangent vector at U: max |U^T {name}| = {off:.3g}. "
                "Use projection_to_tangent(U, Z) first."
            )
    return D


def projection_to_tangent(U: ArrayLike, Z: ArrayLike, *, check: bool = True) -> np.ndarray:
    r"""Orthogonal projection of an ambient matrix onto the tangent space at ``U``.

    Parameters
    ----------
    U : array_like, shape (..., n, p)
        Orthonormal bases.
    Z : array_like, shape (..., n, p)
        Ambient matrices.
    check : bool, default True
        Validate ``U``.

    Returns
    -------
    ndarray, shape (..., n, p)
        :math:`(I - UU^T) Z`, computed as ``Z - U (U^T Z)``.

    Examples
    --------
    >>> e = np.eye(2)
    >>> projection_to_tangent(e[:, :1], np.array([[1.0], [2.0]]))
    array([[0.],
           [2.]])
    """
    U = as_bases("U", U, check=check)
    Zarr = np.asarray(Z, dtype=np.float64)
    _same_shape(("U", "Z"), U, Zarr)
    return Zarr - U @ (_mT(U) @ Zarr)


def log_map(U: ArrayLike, V: ArrayLike, *, check: bool = True) -> np.ndarray:
    r"""Riemannian logarithm: the tangent vector at ``U`` pointing to ``span(V)``.

    Robust SVD form of Bendokat, Zimmermann & Absil [2]_ (Algorithm 5.3): with
    :math:`V^T U = Q S R^T`, align :math:`V_* = V Q R^T` (so :math:`U^T V_*` is symmetric
    positive semi-definite), take the thin SVD
    :math:`V_* - U U^T V_* = \hat Q \hat S \hat R^T` and return
    :math:`\Delta = \hat Q \Theta \hat R^T` with :math:`\Theta = \operatorname{arctan2}(\hat S,
    S)` (sines and cosines paired by ordering), which keeps full accuracy for tiny and for
    near-right angles. Then :math:`\|\Delta\|_F` is the geodesic distance and
    ``exp_map(U, log_map(U, V))`` spans ``V``. Unique when every principal angle is below
    pi/2 (otherwise one of the minimal geodesics is returned).

    Parameters
    ----------
    U, V : array_like, shape (..., n, p)
        Orthonormal bases; leading dims broadcast.
    check : bool, default True
        Validate finiteness and orthonormality.

    Returns
    -------
    ndarray, shape (..., n, p)
        Tangent vector at ``U`` (:math:`U^T \Delta = 0`).

    Examples
    --------
    >>> e = np.eye(2)
    >>> c, s = np.cos(0.3), np.sin(0.3)
    >>> log_map(e[:, :1], np.array([[c], [s]]))
    array([[0. ],
           [0.3]])
    """
    U = as_bases("U", U, check=check)
    V = as_bases("V", V, check=check)
    _same_shape(("U", "V"), U, V)
    Q, cos, Rt = np.linalg.svd(_mT(V) @ U)
    Vstar = V @ (Q @ Rt)
    L = Vstar - U @ (_mT(U) @ Vstar)
    Qh, sin, Rht = np.linalg.svd(L, full_matrices=False)
    theta = np.arctan2(sin, np.clip(cos[..., ::-1], 0.0, 1.0))
    return (Qh * theta[..., None, :]) @ Rht


def exp_map(
    U: ArrayLike, Delta: ArrayLike, t: ArrayLike = 1.0, *, check: bool = True
) -> np.ndarray:
    r"""Riemannian exponential: follow the geodesic from ``U`` with velocity ``Delta``.

    With the thin SVD :math:`t\Delta = Q \Sigma R^T` (Edelman, Arias & Smith [1]_, Thm 2.3),
    :math:`\operatorname{Exp}_U(t\Delta) = U R \cos\Sigma\, R^T + Q \sin\Sigma\, R^T`.

    Parameters
    ----------
    U : array_like, shape (..., n, p)
        Orthonormal bases.
    Delta : array_like, shape (..., n, p)
        Tangent vectors at ``U``.
    t : float or array_like, shape (...), default 1.0
        Time(s); broadcast against the batch dims.
    check : bool, default True
        Validate ``U`` and that ``Delta`` is tangent (``U^T Delta = 0``).

    Returns
    -------
    ndarray, shape (..., n, p)
        Orthonormal bases of the end points.

    Examples
    --------
    >>> e = np.eye(2)
    >>> np.round(exp_map(e[:, :1], np.array([[0.0], [np.pi / 2]])), 12)
    array([[0.],
           [1.]])
    """
    U = as_bases("U", U, check=check)
    D = _as_tangent(U, Delta, name="Delta", check=check)
    tD = D * np.asarray(t, dtype=np.float64)[..., None, None]
    Q, sigma, Rt = np.linalg.svd(tD, full_matrices=False)
    R = _mT(Rt)
    return (U @ (R * np.cos(sigma)[..., None, :]) + Q * np.sin(sigma)[..., None, :]) @ Rt


def parallel_transport(
    U: ArrayLike, Delta: ArrayLike, H: ArrayLike, t: ArrayLike = 1.0, *, check: bool = True
) -> np.ndarray:
    r"""Parallel transport of ``H`` along the geodesic :math:`\operatorname{Exp}_U(t\Delta)`.

    With the thin SVD :math:`\Delta = Q \Sigma R^T` (Edelman, Arias & Smith [1]_, Thm 2.4),
    :math:`\tau H = (-U R \sin t\Sigma + Q \cos t\Sigma) Q^T H + (I - Q Q^T) H`.

    Parameters
    ----------
    U : array_like, shape (..., n, p)
        Orthonormal bases (start points).
    Delta : array_like, shape (..., n, p)
        Tangent vectors at ``U`` giving the geodesic.
    H : array_like, shape (..., n, p)
        Tangent vectors at ``U`` to transport.
    t : float or array_like, shape (...), default 1.0
        Time(s) along the geodesic.
    check : bool, default True
        Validate the inputs.

    Returns
    -------
    ndarray, shape (..., n, p)
        Tangent vectors at ``exp_map(U, Delta, t)``; the transport is an isometry.

    Examples
    --------
    >>> e = np.eye(3)
    >>> H = parallel_transport(e[:, :1], np.array([[0.0], [1.0], [0.0]]), e[:, 2:], 0.7)
    >>> np.round(H, 12)
    array([[0.],
           [0.],
           [1.]])
    """
    U = as_bases("U", U, check=check)
    D = _as_tangent(U, Delta, name="Delta", check=check)
    Harr = _as_tangent(U, H, name="H", check=check)
    Q, sigma, Rt = np.linalg.svd(D, full_matrices=False)
    ts = np.asarray(t, dtype=np.float64)[..., None] * sigma
    R = _mT(Rt)
    QtH = _mT(Q) @ Harr
    moved = (-(U @ (R * np.sin(ts)[..., None, :])) + Q * np.cos(ts)[..., None, :]) @ QtH
    return moved + Harr - Q @ QtH


class Grassmann:
    r"""The Grassmann manifold Gr(n, p) with points stored as n x p orthonormal bases.

    Parameters
    ----------
    n : int
        Ambient dimension, ``n >= 1``.
    p : int
        Subspace dimension, ``1 <= p <= n``.

    Attributes
    ----------
    n, p : int
    dim : int
        Manifold dimension :math:`p (n - p)`.

    Examples
    --------
    >>> gr = Grassmann(5, 2)
    >>> U, V = gr.random_point(size=2, rng=0)
    >>> bool(np.isclose(np.linalg.norm(gr.log(U, V)), gr.distance(U, V)))
    True
    >>> gr.dim
    6
    """

    __slots__ = ("n", "p")

    def __init__(self, n: int, p: int) -> None:
        self.n = as_positive_int("n", n, upper=np.iinfo(np.int64).max)
        self.p = as_positive_int("p", p, upper=self.n, context=f" for n = {self.n}")

    def __repr__(self) -> str:
        return f"Grassmann(n={self.n}, p={self.p})"

    @property
    def dim(self) -> int:
        """Dimension of the manifold, ``p (n - p)``."""
        return self.p * (self.n - self.p)

    def _point(self, name: str, U: ArrayLike, check: bool) -> np.ndarray:
        arr = as_bases(name, U, check=check)
        if arr.shape[-2:] != (self.n, self.p):
            raise InputDataError(
                f"{name} must have core shape ({self.n}, {self.p}) on {self!r}; "
                f"got shape {arr.shape}."
            )
        return arr

    def belongs(self, U: ArrayLike, *, atol: float = ORTHONORMAL_ATOL) -> np.ndarray:
        """Whether each basis is an n x p orthonormal matrix (to ``atol``).

        Parameters
        ----------
        U : array_like, shape (..., n', p')
            Candidate points.
        atol : float, default ORTHONORMAL_ATOL
            Tolerance on ``max |U^T U - I|``.

        Returns
        -------
        ndarray of bool, shape (...)
        """
        arr = np.asarray(U, dtype=np.float64)
        if arr.ndim < 2 or arr.shape[-2:] != (self.n, self.p):
            return np.zeros(arr.shape[:-2] if arr.ndim >= 2 else (), dtype=bool)
        finite = np.isfinite(arr).all(axis=(-2, -1))
        gram = _mT(arr) @ arr - np.eye(self.p)
        with np.errstate(invalid="ignore"):
            return finite & (np.abs(np.nan_to_num(gram, nan=np.inf)).max(axis=(-2, -1)) <= atol)

    def random_point(
        self, size: int | tuple[int, ...] = (), rng: int | np.random.Generator | None = None
    ) -> np.ndarray:
        """Uniform (Haar) random points: Q factors of Gaussian matrices with sign-fixed R.

        Parameters
        ----------
        size : int or tuple of int, default ()
            Batch shape.
        rng : int or numpy.random.Generator, optional
            Seed or generator (``np.random.default_rng(rng)``).

        Returns
        -------
        ndarray, shape (*size, n, p)
        """
        gen = np.random.default_rng(rng)
        shape = (size,) if isinstance(size, int) else tuple(size)
        Q, R = np.linalg.qr(gen.standard_normal((*shape, self.n, self.p)))
        signs = np.where(np.diagonal(R, axis1=-2, axis2=-1) < 0, -1.0, 1.0)
        return Q * signs[..., None, :]

    def random_tangent(
        self, U: ArrayLike, rng: int | np.random.Generator | None = None
    ) -> np.ndarray:
        """Gaussian random tangent vectors at ``U`` (projected standard normal matrices).

        Parameters
        ----------
        U : array_like, shape (..., n, p)
            Base points.
        rng : int or numpy.random.Generator, optional
            Seed or generator.

        Returns
        -------
        ndarray, shape (..., n, p)
        """
        base = self._point("U", U, True)
        Z = np.random.default_rng(rng).standard_normal(base.shape)
        return projection_to_tangent(base, Z, check=False)

    def projection_to_tangent(self, U: ArrayLike, Z: ArrayLike) -> np.ndarray:
        """Project ``Z`` onto the tangent space at ``U``; see :func:`projection_to_tangent`."""
        return projection_to_tangent(self._point("U", U, True), Z, check=False)

    def log(self, U: ArrayLike, V: ArrayLike, *, check: bool = True) -> np.ndarray:
        """Riemannian logarithm; see :func:`log_map`."""
        return log_map(self._point("U", U, check), self._point("V", V, check), check=False)

    def exp(
        self, U: ArrayLike, Delta: ArrayLike, t: ArrayLike = 1.0, *, check: bool = True
    ) -> np.ndarray:
        """Riemannian exponential; see :func:`exp_map`."""
        return exp_map(self._point("U", U, check), Delta, t, check=check)

    def distance(
        self, U: ArrayLike, V: ArrayLike, *, metric: Metric = "geodesic", check: bool = True
    ) -> np.ndarray:
        """Distance between points; see :func:`bayescal.manifold.distance`."""
        return distance(
            self._point("U", U, check), self._point("V", V, check), metric=metric, check=False
        )

    def geodesic(
        self, U: ArrayLike, V: ArrayLike, t: ArrayLike, *, check: bool = True
    ) -> np.ndarray:
        """Point(s) at time ``t`` on the minimal geodesic from ``U`` (t=0) to ``V`` (t=1).

        Parameters
        ----------
        U, V : array_like, shape (..., n, p)
            End points.
        t : float or array_like, shape (...)
            Time(s), broadcast against the batch dims.
        check : bool, default True
            Validate the inputs.

        Returns
        -------
        ndarray, shape (..., n, p)

        Examples
        --------
        >>> gr = Grassmann(2, 1)
        >>> np.round(gr.geodesic([[1.0], [0.0]], [[0.0], [1.0]], [0.0, 0.5]), 12)
        array([[[1.        ],
                [0.        ]],
        <BLANKLINE>
               [[0.70710678],
                [0.70710678]]])
        """
        Delta = self.log(U, V, check=check)
        return exp_map(np.asarray(U, dtype=np.float64), Delta, t, check=False)

    def parallel_transport(
        self, U: ArrayLike, Delta: ArrayLike, H: ArrayLike, t: ArrayLike = 1.0
    ) -> np.ndarray:
        """Parallel transport along a geodesic; see :func:`parallel_transport`."""
        return parallel_transport(self._point("U", U, True), Delta, H, t)
