r"""The Stiefel manifold St(n, p) of orthonormal n x p bases, with the canonical metric.

Points are orthonormal bases :math:`X \in \mathbb{R}^{n \times p}` (:math:`X^T X = I`); tangent
vectors at :math:`X` are :math:`\Delta` with :math:`X^T \Delta` skew-symmetric; the canonical
metric is :math:`\langle \Delta_1, \Delta_2 \rangle_c = \operatorname{tr}\big(\Delta_1^T
(I - \tfrac12 X X^T) \Delta_2\big)`. Unlike the Grassmann manifold
(:mod:`bayescal.manifold.grassmann`), a point is the basis itself: column order and signs matter.
Linear constraints :math:`B^T Y = 0` (fixed degrees of freedom, zero-mean translation) restrict
the manifold to the bases whose columns lie in the null space of :math:`B^T`;
:func:`bayescal.srom.constraints.constrain` enforces them.

All functions are batched over leading dims ``(..., n, p)``. The names follow
:mod:`bayescal.manifold.grassmann` (``exp_map``, ``log_map``, ``projection_to_tangent``) and
the package (``distance``, ``karcher_mean``); call them through the module, e.g.
``stiefel.exp_map(X, Delta)``, since the package-level names are Grassmann's.

References
----------
.. [1] A. Edelman, T. A. Arias and S. T. Smith, "The geometry of algorithms with
   orthogonality constraints", SIAM J. Matrix Anal. Appl. 20(2), 303-353, 1998 (Section 2.4).
.. [2] R. Zimmermann, "A matrix-algebraic algorithm for the Riemannian logarithm on the
   Stiefel manifold under the canonical metric", SIAM J. Matrix Anal. Appl. 38(2), 322-342,
   2017.
"""

from __future__ import annotations

import warnings
from typing import Literal

import numpy as np
import scipy.linalg
from numpy.typing import ArrayLike

from bayescal.errors import ConvergenceWarning, InputDataError, OnFail
from bayescal.manifold.validate import (
    ORTHONORMAL_ATOL,
    as_bases,
    as_matrix_stack,
    as_weighted_stack,
    broadcast_batch,
)

__all__ = [
    "Orthonormalization",
    "canonical_norm",
    "distance",
    "exp_map",
    "karcher_mean",
    "log_map",
    "orthonormalize",
    "projection_to_tangent",
]

Orthonormalization = Literal["polar", "qr"]


def _mT(A: np.ndarray) -> np.ndarray:
    return np.swapaxes(A, -1, -2)


def _same_shape(names: tuple[str, str], X: np.ndarray, Y: np.ndarray) -> None:
    if X.shape[-2:] != Y.shape[-2:]:
        raise InputDataError(
            f"{names[0]} and {names[1]} must have the same core shape (n, p); got "
            f"{names[0]}.shape={X.shape} and {names[1]}.shape={Y.shape}."
        )
    broadcast_batch(names, X, Y)


def _skew(A: np.ndarray) -> np.ndarray:
    return 0.5 * (A - _mT(A))


def _as_tangent(X: np.ndarray, Delta: ArrayLike, *, check: bool) -> np.ndarray:
    D = np.asarray(Delta, dtype=np.float64)
    if D.ndim < 2:
        raise InputDataError(f"Delta must have shape (..., n, p); got shape {D.shape}.")
    _same_shape(("X", "Delta"), X, D)
    if check:
        if not np.isfinite(D).all():
            raise InputDataError("Delta contains non-finite values (NaN or inf).")
        A = _mT(X) @ D
        off = float(np.abs(A + _mT(A)).max(initial=0.0))
        scale = max(1.0, float(np.abs(D).max(initial=0.0)))
        if off > 1e3 * ORTHONORMAL_ATOL * scale:
            raise InputDataError(
                f"Delta is not a tangent vector at X: max |X^T Delta + Delta^T X| = {off:.3g}; "
                "use projection_to_tangent(X, Z) first."
            )
    return D


def projection_to_tangent(X: ArrayLike, Z: ArrayLike, *, check: bool = True) -> np.ndarray:
    r"""Orthogonal projection of ambient matrices onto the tangent space at ``X``.

    The normal space at :math:`X` is :math:`\{X S : S = S^T\}` for both the Euclidean and the
    canonical metric, so the projection is the same for both:
    :math:`Z - X \operatorname{sym}(X^T Z)`.

    Parameters
    ----------
    X : array_like, shape (..., n, p)
        Orthonormal bases.
    Z : array_like, shape (..., n, p)
        Ambient matrices; leading dims broadcast with those of ``X``.
    check : bool, default True
        Validate that ``X`` is orthonormal.

    Returns
    -------
    ndarray, shape (..., n, p)
        Tangent vectors: ``X^T result`` is skew-symmetric.

    Examples
    --------
    >>> X = np.eye(3)[:, :1]
    >>> projection_to_tangent(X, np.array([[2.0], [1.0], [0.0]]))
    array([[0.],
           [1.],
           [0.]])
    """
    Xa = as_bases("X", X, check=check)
    Za = as_matrix_stack("Z", Z)
    _same_shape(("X", "Z"), Xa, Za)
    XtZ = _mT(Xa) @ Za
    return Za - Xa @ (0.5 * (XtZ + _mT(XtZ)))


def orthonormalize(Z: ArrayLike, *, method: Orthonormalization = "polar") -> np.ndarray:
    r"""Nearest orthonormal basis (polar factor) or sign-fixed QR factor of ``Z``.

    Parameters
    ----------
    Z : array_like, shape (..., n, p)
        Full-column-rank matrices, ``p <= n``.
    method : {"polar", "qr"}, default "polar"
        ``"polar"``: :math:`U V^T` from the thin SVD :math:`Z = U \Sigma V^T`, the orthonormal
        basis nearest to ``Z`` in the Frobenius norm (it leaves an orthonormal ``Z`` unchanged
        and does not favour any column). ``"qr"``: the Q factor with the signs chosen so that
        ``diag(R) > 0`` (Gram-Schmidt order: column j depends on columns 1..j only).

    Returns
    -------
    ndarray, shape (..., n, p)
        Orthonormal bases spanning the column spaces of ``Z``.

    Raises
    ------
    InputDataError
        Wrong shape, non-finite entries, an unknown method or a numerically rank-deficient
        ``Z`` (no unique orthonormalisation).

    Examples
    --------
    >>> orthonormalize(np.array([[2.0, 0.0], [0.0, 0.5], [0.0, 0.0]]))
    array([[1., 0.],
           [0., 1.],
           [0., 0.]])
    """
    A = as_matrix_stack("Z", Z)
    n, p = A.shape[-2:]
    if p > n:
        raise InputDataError(f"Z must be tall (..., n, p) with p <= n; got n={n}, p={p}.")
    if method == "polar":
        U, s, Vt = np.linalg.svd(A, full_matrices=False)
        smin, smax = s[..., -1], s[..., 0]
        out = U @ Vt
    elif method == "qr":
        Q, R = np.linalg.qr(A)
        d = np.diagonal(R, axis1=-2, axis2=-1)
        out = Q * np.where(d < 0, -1.0, 1.0)[..., None, :]
        absd = np.abs(d)
        smin, smax = absd.min(axis=-1), absd.max(axis=-1)
    else:
        raise InputDataError(f"method must be 'polar' or 'qr'; got {method!r}.")
    if not (smin > max(n, p) * np.finfo(np.float64).eps * smax).all():
        raise InputDataError(
            "Z is numerically rank-deficient (smallest/largest singular value "
            f"{float(np.min(smin / np.where(smax > 0, smax, 1.0))):.3g}); its orthonormalisation "
            "is not unique. Check the constraint and the fixed columns leave room for p columns."
        )
    return out


def _expm(A: np.ndarray) -> np.ndarray:
    return np.asarray(scipy.linalg.expm(A))


def _logm_orthogonal(V: np.ndarray) -> np.ndarray:
    """Principal real logarithm of orthogonal matrices ``(..., k, k)`` with det +1.

    With ``S = (V + V^T)/2`` and ``K = (V - V^T)/2`` (commuting, since V is normal),
    ``log V = f(S) K`` with ``f(cos t) = t / sin t``; ``f(S)`` comes from the symmetric
    eigendecomposition of ``S``, which is batched and stable for repeated eigenvalues.
    ``f`` is evaluated in ``u = 1 - cos t`` as ``2 arcsin(sqrt(u/2)) / sqrt(u (2 - u))``,
    accurate for small angles. Fails (non-finite) only for rotation angles of pi.
    """
    S = 0.5 * (V + _mT(V))
    K = 0.5 * (V - _mT(V))
    c, P = np.linalg.eigh(S)
    u = np.clip(1.0 - c, 0.0, 2.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        f = np.where(
            u > 1e-12,
            2.0 * np.arcsin(np.sqrt(0.5 * u)) / np.sqrt(u * (2.0 - u)),
            1.0 + u / 3.0,
        )
    L = (P * f[..., None, :]) @ (_mT(P) @ K)
    return _skew(L)


def exp_map(X: ArrayLike, Delta: ArrayLike, *, check: bool = True) -> np.ndarray:
    r"""Riemannian exponential of the canonical metric on St(n, p).

    Edelman, Arias & Smith [1]_ (eq. 2.42): with :math:`A = X^T \Delta` (skew) and the thin QR
    factorisation :math:`(I - X X^T)\Delta = Q R`,

    .. math:: \operatorname{Exp}_X(\Delta) = X M + Q N, \qquad
              \begin{pmatrix} M \\ N \end{pmatrix} =
              \exp\begin{pmatrix} A & -R^T \\ R & 0 \end{pmatrix}
              \begin{pmatrix} I_p \\ 0 \end{pmatrix}.

    Parameters
    ----------
    X : array_like, shape (..., n, p)
        Orthonormal bases (base points).
    Delta : array_like, shape (..., n, p)
        Tangent vectors at ``X``; leading dims broadcast with those of ``X``.
    check : bool, default True
        Validate ``X`` and that ``X^T Delta`` is skew-symmetric.

    Returns
    -------
    ndarray, shape (..., n, p)
        Orthonormal bases of the geodesic end points.

    Examples
    --------
    >>> X = np.eye(3)[:, :1]
    >>> np.round(exp_map(X, np.array([[0.0], [np.pi / 2], [0.0]])), 12)
    array([[0.],
           [1.],
           [0.]])
    """
    Xa = as_bases("X", X, check=check)
    D = _as_tangent(Xa, Delta, check=check)
    batch = np.broadcast_shapes(Xa.shape[:-2], D.shape[:-2])
    n, p = Xa.shape[-2:]
    Xb = np.broadcast_to(Xa, (*batch, n, p))
    A = _skew(_mT(Xb) @ D)
    Q, R = np.linalg.qr(D - Xb @ A)
    k = Q.shape[-1]
    block = np.zeros((*batch, p + k, p + k))
    block[..., :p, :p] = A
    block[..., :p, p:] = -_mT(R)
    block[..., p:, :p] = R
    E = _expm(block)[..., :, :p]
    return Xb @ E[..., :p, :] + Q @ E[..., p:, :]


def _completion(MN: np.ndarray, p: int) -> np.ndarray:
    """Orthogonal ``(p+k) x (p+k)`` matrices with first p columns ``MN`` and det +1.

    The completing block is rotated so that its lower k x k part is symmetric positive
    semi-definite (Procrustes choice, closest to the identity), which keeps the rotation
    angles of the start matrix small.
    """
    full = np.linalg.qr(MN, mode="complete")[0]
    comp = full[..., :, p:]
    U, _, Vt = np.linalg.svd(comp[..., p:, :])
    k = comp.shape[-1]
    V0 = np.concatenate([MN, comp @ (_mT(Vt) @ _mT(U))], axis=-1)
    flip = np.linalg.det(V0) < 0
    if flip.any():
        D = np.ones((*flip.shape, k))
        D[..., -1] = np.where(flip, -1.0, 1.0)
        V0 = np.concatenate([MN, comp @ (_mT(Vt) * D[..., None, :]) @ _mT(U)], axis=-1)
    return V0


def _check_on_fail(on_fail: str) -> None:
    if on_fail not in ("raise", "warn", "ignore"):
        raise InputDataError(f"on_fail must be 'raise', 'warn' or 'ignore'; got {on_fail!r}.")


def log_map(
    X: ArrayLike,
    Y: ArrayLike,
    *,
    tol: float = 1e-10,
    max_iter: int = 200,
    on_fail: OnFail = "warn",
    check: bool = True,
) -> np.ndarray:
    r"""Riemannian logarithm of the canonical metric on St(n, p) (Zimmermann's algorithm).

    Zimmermann [2]_, Algorithm 1: with :math:`M = X^T Y` and the thin QR factorisation
    :math:`Y - X M = Q N`, complete :math:`(M; N)` to an orthogonal
    :math:`V = \begin{pmatrix} M & X_0 \\ N & Y_0 \end{pmatrix} \in SO(p+k)`, then iterate
    :math:`L = \log V`, :math:`V \leftarrow V \operatorname{diag}(I, \exp(-C))` with :math:`C`
    the lower-right block of :math:`L`, until :math:`\|C\|_F \le` ``tol``; the result is
    :math:`\Delta = X A + Q B` from the blocks :math:`A` (upper left) and :math:`B` (lower left)
    of :math:`L`. The completion is chosen with a symmetric positive semi-definite lower block
    (closest to the identity), and the matrix logarithm of the orthogonal iterates is computed
    by a symmetric eigendecomposition, so the whole algorithm is batched. It converges when
    ``Y`` is close enough to ``X`` (Zimmermann proves it for distances below about 0.09 pi and
    observes it far beyond).

    Parameters
    ----------
    X, Y : array_like, shape (..., n, p)
        Orthonormal bases; leading dims broadcast.
    tol : float, default 1e-10
        Stop when the Frobenius norm of the lower-right block is at most ``tol`` in every batch
        entry.
    max_iter : int, default 200
        Cap on the number of iterations.
    on_fail : {"raise", "warn", "ignore"}, default "warn"
        What to do when ``max_iter`` is reached before ``tol``: raise :class:`InputDataError`,
        warn with :class:`ConvergenceWarning`, or return silently. A non-finite result (``Y``
        too far from ``X``, e.g. at a rotation angle of pi) always raises.
    check : bool, default True
        Validate that ``X`` and ``Y`` are orthonormal.

    Returns
    -------
    ndarray, shape (..., n, p)
        Tangent vectors at ``X`` with ``exp_map(X, result) == Y`` (to ``tol``).

    Raises
    ------
    InputDataError
        Malformed input, options out of range, a non-finite result, or with
        ``on_fail="raise"`` no convergence.

    Warns
    -----
    ConvergenceWarning
        With ``on_fail="warn"`` when ``max_iter`` iterations did not reach ``tol``.

    Examples
    --------
    >>> X = np.eye(3)[:, :1]
    >>> c, s = np.cos(0.3), np.sin(0.3)
    >>> np.round(log_map(X, np.array([[c], [s], [0.0]])), 12)
    array([[0. ],
           [0.3],
           [0. ]])
    """
    Xa = as_bases("X", X, check=check)
    Ya = as_bases("Y", Y, check=check)
    _same_shape(("X", "Y"), Xa, Ya)
    if not tol > 0:
        raise InputDataError(f"tol must be > 0; got {tol!r}.")
    if isinstance(max_iter, bool) or not isinstance(max_iter, int | np.integer) or max_iter < 0:
        raise InputDataError(f"max_iter must be an int >= 0; got {max_iter!r}.")
    _check_on_fail(on_fail)
    batch = np.broadcast_shapes(Xa.shape[:-2], Ya.shape[:-2])
    n, p = Xa.shape[-2:]
    Xb = np.broadcast_to(Xa, (*batch, n, p))
    Yb = np.broadcast_to(Ya, (*batch, n, p))
    M = _mT(Xb) @ Yb
    Q, N = np.linalg.qr(Yb - Xb @ M)
    V = _completion(np.concatenate([M, N], axis=-2), p)

    err = np.full(batch, np.inf)
    for _ in range(max_iter + 1):
        L = _logm_orthogonal(V)
        C = L[..., p:, p:]
        err = np.linalg.norm(C, axis=(-2, -1))
        if not np.isfinite(err).all() or (err <= tol).all():
            break
        V[..., :, p:] = V[..., :, p:] @ _expm(-C)
    Delta = Xb @ L[..., :p, :p] + Q @ L[..., p:, :p]
    if not np.isfinite(Delta).all():
        raise InputDataError(
            "stiefel.log_map failed (non-finite result): Y is too far from X for the canonical "
            "logarithm (a rotation angle reached pi). Align column signs first "
            "(bayescal.srom.align_signs) or choose a closer base point."
        )
    worst = float(err.max(initial=0.0))
    if worst > tol and on_fail != "ignore":
        msg = (
            f"stiefel.log_map did not converge in max_iter={max_iter} iterations: residual "
            f"{worst:.3g} > tol={tol:g}. Y may be far from X (distance near the injectivity "
            "radius); align column signs or raise max_iter."
        )
        if on_fail == "raise":
            raise InputDataError(msg)
        warnings.warn(msg, ConvergenceWarning, stacklevel=2)
    return Delta


def canonical_norm(X: ArrayLike, Delta: ArrayLike, *, check: bool = True) -> np.ndarray:
    r"""Norm of tangent vectors in the canonical metric.

    :math:`\|\Delta\|_c^2 = \operatorname{tr}(\Delta^T \Delta) - \tfrac12
    \|X^T \Delta\|_F^2`.

    Parameters
    ----------
    X : array_like, shape (..., n, p)
        Orthonormal bases.
    Delta : array_like, shape (..., n, p)
        Tangent vectors at ``X``.
    check : bool, default True
        Validate ``X`` and that ``Delta`` is tangent.

    Returns
    -------
    ndarray, shape (...)

    Examples
    --------
    >>> X = np.eye(2)
    >>> float(canonical_norm(X, np.array([[0.0, -1.0], [1.0, 0.0]])))
    1.0
    """
    Xa = as_bases("X", X, check=check)
    D = _as_tangent(Xa, Delta, check=check)
    sq = np.sum(D * D, axis=(-2, -1)) - 0.5 * np.sum((_mT(Xa) @ D) ** 2, axis=(-2, -1))
    return np.sqrt(np.maximum(sq, 0.0))


def distance(
    X: ArrayLike, Y: ArrayLike, *, tol: float = 1e-10, max_iter: int = 200, check: bool = True
) -> np.ndarray:
    """Canonical-metric geodesic distance, the canonical norm of :func:`log_map`.

    Parameters
    ----------
    X, Y : array_like, shape (..., n, p)
        Orthonormal bases; leading dims broadcast.
    tol, max_iter : float, int
        Passed to :func:`log_map` (which warns if it does not converge).
    check : bool, default True
        Validate the bases.

    Returns
    -------
    ndarray, shape (...)
        Distance (radians-like; a single rotated column at angle t gives t).

    Examples
    --------
    >>> X = np.eye(3)[:, :1]
    >>> Y = np.array([[np.cos(0.4)], [np.sin(0.4)], [0.0]])
    >>> round(float(distance(X, Y)), 12)
    0.4
    """
    Xa = as_bases("X", X, check=check)
    D = log_map(Xa, Y, tol=tol, max_iter=max_iter, check=check)
    return canonical_norm(Xa, D, check=False)


def karcher_mean(
    Ys: ArrayLike,
    *,
    weights: ArrayLike | None = None,
    init: ArrayLike | None = None,
    tol: float = 1e-10,
    max_iter: int = 100,
    check: bool = True,
) -> np.ndarray:
    r"""Weighted Karcher (Fréchet) mean of bases on St(n, p) under the canonical metric.

    Fixed-point iteration :math:`M \leftarrow \operatorname{Exp}_M\big(\sum_i w_i
    \log_M Y_i\big)` from the polar factor of the weighted arithmetic mean, until the canonical
    norm of the mean logarithm is at most ``tol``.

    Parameters
    ----------
    Ys : array_like, shape (k, n, p)
        Orthonormal bases (column signs already aligned).
    weights : array_like, shape (k,), optional
        Non-negative weights with a positive sum; default uniform.
    init : array_like, shape (n, p), optional
        Start; default the polar factor of the weighted arithmetic mean.
    tol : float, default 1e-10
        Tolerance on the norm of the Riemannian gradient.
    max_iter : int, default 100
        Cap on the iterations; reaching it warns with :class:`ConvergenceWarning`.
    check : bool, default True
        Validate the bases.

    Returns
    -------
    ndarray, shape (n, p)
        The mean basis.

    Raises
    ------
    InputDataError
        Malformed input.

    Examples
    --------
    >>> c, s = np.cos(0.2), np.sin(0.2)
    >>> Ys = np.array([[[c], [s]], [[c], [-s]]])
    >>> np.round(karcher_mean(Ys), 12)
    array([[1.],
           [0.]])
    """
    arr, w = as_weighted_stack("Ys", Ys, weights, check=check)
    if init is None:
        mean = orthonormalize(np.tensordot(w, arr, axes=1))
    else:
        mean = as_bases("init", init, check=True)
        if mean.shape != arr.shape[1:]:
            raise InputDataError(f"init must have shape {arr.shape[1:]}; got {mean.shape}.")
    grad_norm = np.inf
    for _ in range(max_iter + 1):
        grad = np.tensordot(w, log_map(mean, arr, check=False), axes=1)
        grad_norm = float(canonical_norm(mean, grad, check=False))
        if grad_norm <= tol:
            break
        mean = orthonormalize(exp_map(mean, grad, check=False))
    if grad_norm > tol:
        warnings.warn(
            f"stiefel.karcher_mean stopped after max_iter={max_iter} steps with gradient norm "
            f"{grad_norm:.3g} > tol={tol:g}.",
            ConvergenceWarning,
            stacklevel=2,
        )
    return mean
