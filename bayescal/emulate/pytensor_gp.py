"""The emulator's predictive mean and variance as PyTensor expressions (gradients for NUTS).

The algebra is that of :meth:`bayescal.emulate.GPEmulator.predict`; the only difference is that
``L^{-1}`` is applied as a precomputed dense matrix (a matrix–vector product is cheaper to
differentiate than a triangular solve and agrees with it to ~1e-12 for nugget >= 1e-8).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import scipy.linalg

from bayescal._pytensor_blas import configure_pytensor_blas

if TYPE_CHECKING:
    import pytensor.tensor as pt

    from bayescal.emulate.gp import GPEmulator

__all__ = [
    "gp_mean_var",
    "gp_mean_var_arrays",
    "gp_mean_var_stacked",
    "gp_mean_var_tensors",
]

_SQRT5 = float(np.sqrt(5.0))
_R2_EPS = 1e-36


def gp_mean_var_arrays(emulator: GPEmulator) -> dict[str, np.ndarray]:
    """Arrays the PyTensor graph needs, as a mapping of name to numpy array.

    Parameters
    ----------
    emulator : GPEmulator
        A fitted emulator.

    Returns
    -------
    dict of str to ndarray
        ``train_x (n, d)``, ``alpha (n,)``, ``chol_inv (n, n)``, ``lengthscale (d,)`` and the
        scalars ``outputscale``, ``mean_constant``, ``y_mean``, ``y_std`` (0-d arrays).
    """
    n = emulator.n_train
    chol_inv = scipy.linalg.solve_triangular(emulator.chol, np.eye(n), lower=True)
    return {
        "train_x": emulator.x,
        "alpha": emulator.alpha,
        "chol_inv": chol_inv,
        "lengthscale": emulator.lengthscale,
        "outputscale": np.asarray(emulator.outputscale),
        "mean_constant": np.asarray(emulator.mean_constant),
        "y_mean": np.asarray(emulator.y_mean),
        "y_std": np.asarray(emulator.y_std),
    }


def gp_mean_var_tensors(
    x: pt.TensorLike,
    *,
    train_x: pt.TensorLike,
    alpha: pt.TensorLike,
    chol_inv: pt.TensorLike,
    lengthscale: pt.TensorLike,
    outputscale: pt.TensorLike,
    mean_constant: pt.TensorLike,
    y_mean: pt.TensorLike,
    y_std: pt.TensorLike,
) -> tuple[pt.TensorVariable, pt.TensorVariable]:
    """GP predictive mean and latent variance from (possibly symbolic) emulator arrays.

    Parameters
    ----------
    x : tensor, shape (..., d)
        Points in the unit cube.
    train_x, alpha, chol_inv, lengthscale, outputscale, mean_constant, y_mean, y_std : tensors
        As returned by :func:`gp_mean_var_arrays` (numpy arrays, constants or shared data).

    Returns
    -------
    mean, var : tensors, shape (...)
    """
    import pytensor.tensor as pt

    configure_pytensor_blas()
    x = pt.as_tensor_variable(x)
    diff = (x[..., None, :] - train_x) / lengthscale  # (..., n, d)
    r2 = pt.sum(diff * diff, axis=-1)  # (..., n)
    r = pt.sqrt(r2 + _R2_EPS)
    k = outputscale * (1.0 + _SQRT5 * r + (5.0 / 3.0) * r2) * pt.exp(-_SQRT5 * r)
    mean = y_mean + y_std * (mean_constant + pt.dot(k, alpha))
    v = pt.dot(k, pt.transpose(chol_inv))
    var = pt.as_tensor_variable(y_std) ** 2 * pt.maximum(outputscale - pt.sum(v * v, axis=-1), 0.0)
    return mean, var


def gp_mean_var(
    x: pt.TensorLike, emulator: GPEmulator
) -> tuple[pt.TensorVariable, pt.TensorVariable]:
    """GP predictive mean and latent variance of ``emulator`` at symbolic ``x``.

    Parameters
    ----------
    x : tensor, shape (..., d)
        Points in the unit cube.
    emulator : GPEmulator
        The fitted emulator (its arrays become graph constants).

    Returns
    -------
    mean, var : tensors, shape (...)
    """
    return gp_mean_var_tensors(x, **gp_mean_var_arrays(emulator))


def gp_mean_var_stacked(
    x: pt.TensorLike, emulators: Sequence[GPEmulator]
) -> tuple[pt.TensorVariable, pt.TensorVariable]:
    """Predictive means and latent variances of several GPs on one training set, as one graph.

    One expression for ``k`` emulators of the same points (e.g. the component scores of one
    residual block) keeps the compiled log density small: ``k`` separate graphs of
    :func:`gp_mean_var` make NUTS back ends (numba) compile for minutes.

    Parameters
    ----------
    x : tensor, shape (d,)
        A point in the unit cube.
    emulators : sequence of GPEmulator, length k
        Fitted on the same inputs.

    Returns
    -------
    mean, var : tensors, shape (k,)

    Raises
    ------
    InputDataError
        Emulators with different training inputs.
    """
    import pytensor.tensor as pt

    from bayescal.errors import InputDataError

    configure_pytensor_blas()
    arrays = [gp_mean_var_arrays(em) for em in emulators]
    train_x = arrays[0]["train_x"]
    if any(a["train_x"].shape != train_x.shape or np.any(a["train_x"] != train_x) for a in arrays):
        raise InputDataError("gp_mean_var_stacked needs emulators fitted on the same inputs.")

    def stack(key: str) -> np.ndarray:
        return np.stack([a[key] for a in arrays])

    lengthscale = stack("lengthscale")  # (k, d)
    outputscale, mean_constant = stack("outputscale"), stack("mean_constant")  # (k,)
    y_mean, y_std = stack("y_mean"), stack("y_std")
    x = pt.as_tensor_variable(x)
    diff = (x - train_x)[None, :, :] / lengthscale[:, None, :]  # (k, n, d)
    r2 = pt.sum(diff * diff, axis=-1)  # (k, n)
    r = pt.sqrt(r2 + _R2_EPS)
    kern = outputscale[:, None] * (1.0 + _SQRT5 * r + (5.0 / 3.0) * r2) * pt.exp(-_SQRT5 * r)
    mean = y_mean + y_std * (mean_constant + pt.sum(kern * stack("alpha"), axis=-1))
    # (k, n): L^{-1} k*, as a batched matrix-vector product (BLAS; an elementwise product and
    # sum would build a (k, n, n) temporary at every gradient evaluation)
    v = pt.matmul(stack("chol_inv"), kern[:, :, None])[:, :, 0]
    var = y_std**2 * pt.maximum(outputscale - pt.sum(v * v, axis=-1), 0.0)
    return mean, var
