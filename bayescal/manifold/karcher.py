"""Karcher (Riemannian centre of mass) mean of subspaces on the Grassmann manifold."""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Literal, overload

import numpy as np
from numpy.typing import ArrayLike

from bayescal.errors import ConvergenceWarning, InputDataError
from bayescal.manifold.grassmann import exp_map, log_map
from bayescal.manifold.validate import as_weighted_stack

__all__ = ["KarcherInfo", "karcher_mean"]


@dataclass(frozen=True, slots=True, kw_only=True)
class KarcherInfo:
    """Outcome of :func:`karcher_mean`.

    Attributes
    ----------
    converged : bool
        Whether the Riemannian gradient norm reached ``tol``.
    n_iter : int
        Number of gradient steps taken.
    grad_norm : float
        Frobenius norm of the weighted mean of the logarithms at the returned point.
    """

    converged: bool
    n_iter: int
    grad_norm: float


@overload
def karcher_mean(
    Us: ArrayLike,
    *,
    weights: ArrayLike | None = ...,
    tol: float = ...,
    max_iter: int = ...,
    step: float = ...,
    check: bool = ...,
    return_info: Literal[False] = ...,
) -> np.ndarray: ...
@overload
def karcher_mean(
    Us: ArrayLike,
    *,
    weights: ArrayLike | None = ...,
    tol: float = ...,
    max_iter: int = ...,
    step: float = ...,
    check: bool = ...,
    return_info: Literal[True],
) -> tuple[np.ndarray, KarcherInfo]: ...


def karcher_mean(
    Us: ArrayLike,
    *,
    weights: ArrayLike | None = None,
    tol: float = 1e-10,
    max_iter: int = 200,
    step: float = 1.0,
    check: bool = True,
    return_info: bool = False,
) -> np.ndarray | tuple[np.ndarray, KarcherInfo]:
    r"""Weighted Karcher mean of subspaces by Riemannian gradient descent.

    Minimises :math:`f(M) = \tfrac12 \sum_i w_i\, d_g(M, U_i)^2` (weights normalised to sum 1).
    The Riemannian gradient is :math:`-\sum_i w_i \log_M U_i`, so each step is
    :math:`M \leftarrow \operatorname{Exp}_M(\text{step} \sum_i w_i \log_M U_i)`. The start is
    the extrinsic (chordal) mean: the dominant p-dimensional eigenspace of
    :math:`\sum_i w_i U_i U_i^T`, computed from the SVD of :math:`[\sqrt{w_i} U_i]_i`.
    The mean is unique when the points lie in a geodesic ball of radius below pi/4.

    Parameters
    ----------
    Us : array_like, shape (k, n, p)
        Orthonormal bases of the k subspaces.
    weights : array_like, shape (k,), optional
        Non-negative weights with a positive sum; default uniform.
    tol : float, default 1e-10
        Stop when the gradient norm (Frobenius) is at most ``tol``.
    max_iter : int, default 200
        Cap on the number of gradient steps; reaching it warns.
    step : float, default 1.0
        Step length in (0, 2); 1 is the classical fixed-point iteration.
    check : bool, default True
        Validate that ``Us`` are orthonormal bases.
    return_info : bool, default False
        Also return a :class:`KarcherInfo`.

    Returns
    -------
    mean : ndarray, shape (n, p)
        Orthonormal basis of the mean subspace.
    info : KarcherInfo
        Only with ``return_info=True``.

    Raises
    ------
    InputDataError
        Malformed ``Us`` or ``weights``, or options out of range.

    Warns
    -----
    ConvergenceWarning
        When ``max_iter`` steps did not bring the gradient norm to ``tol``.

    References
    ----------
    .. [1] H. Karcher, "Riemannian center of mass and mollifier smoothing", Comm. Pure Appl.
       Math. 30(5), 509-541, 1977.
    .. [2] T. Bendokat, R. Zimmermann and P.-A. Absil, "A Grassmann manifold handbook",
       Adv. Comput. Math. 50, 6, 2024 (Section 7).

    Examples
    --------
    >>> e = np.eye(2)
    >>> c, s = np.cos(0.2), np.sin(0.2)
    >>> Us = np.array([[[c], [s]], [[c], [-s]]])
    >>> M, info = karcher_mean(Us, return_info=True)
    >>> np.round(np.abs(M), 12), info.converged
    (array([[1.],
           [0.]]), True)
    """
    arr, w = as_weighted_stack("Us", Us, weights, check=check)
    if not tol > 0:
        raise InputDataError(f"tol must be > 0; got {tol!r}.")
    if isinstance(max_iter, bool) or not isinstance(max_iter, int | np.integer) or max_iter < 0:
        raise InputDataError(f"max_iter must be an int >= 0; got {max_iter!r}.")
    if not 0 < step < 2:
        raise InputDataError(f"step must be in (0, 2); got {step!r}.")

    k, n, p = arr.shape
    stacked = np.moveaxis(arr * np.sqrt(w)[:, None, None], 0, 1).reshape(n, k * p)
    mean = np.linalg.svd(stacked, full_matrices=False)[0][:, :p]

    n_iter = 0
    while True:
        grad = np.tensordot(w, log_map(mean, arr, check=False), axes=1)
        grad_norm = float(np.linalg.norm(grad))
        if grad_norm <= tol or n_iter >= max_iter:
            break
        mean = exp_map(mean, step * grad, check=False)
        mean = np.linalg.qr(mean)[0]  # keep orthonormality at machine precision
        n_iter += 1

    converged = grad_norm <= tol
    if not converged:
        warnings.warn(
            f"karcher_mean stopped after max_iter={max_iter} steps with gradient norm "
            f"{grad_norm:.3g} > tol={tol:g}; raise max_iter or tol, or lower step.",
            ConvergenceWarning,
            stacklevel=2,
        )
    if return_info:
        return mean, KarcherInfo(converged=converged, n_iter=n_iter, grad_norm=grad_norm)
    return mean
