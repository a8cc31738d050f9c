"""GP emulator of the discrepancy: fitted with BoTorch, evaluated in numpy or PyTensor.

The emulator is a zero-noise-floor Gaussian process regression of a (transformed) discrepancy
``z = g(d)`` on inputs in the unit cube. It is fitted once by BoTorch (``SingleTaskGP`` with
``ScaleKernel(MaternKernel(nu=2.5, ard_num_dims=d))``, ``Standardize`` outcome, float64, MAP of
the marginal likelihood), then frozen into plain numpy arrays so that its predictive mean and
variance can be rebuilt as numpy (``GPEmulator.predict``) or PyTensor expressions
(``GPEmulator.pytensor_mean_var``, exact gradients for NUTS) and stored in netCDF.

Predictive equations (Rasmussen & Williams 2006, eqs. 2.25–2.26) with ``Standardize``
(``z_std = (z - y_mean) / y_std``) and a constant mean ``c``::

    k(x, x') = outputscale * m52(r),  r^2 = sum_j (x_j - x'_j)^2 / lengthscale_j^2
    m52(r)   = (1 + sqrt(5) r + 5 r^2 / 3) exp(-sqrt(5) r)
    alpha    = (K + noise I)^{-1} (z_std - c),  K + noise I = L L^T
    mean(x)  = y_mean + y_std * (c + k(x, X) alpha)
    var(x)   = y_std^2 * (outputscale - |L^{-1} k(X, x)|^2)      (latent, without noise)
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import scipy.linalg

from bayescal.errors import InputDataError

if TYPE_CHECKING:
    import pytensor.tensor as pt
    import xarray as xr

__all__ = ["GPEmulator", "Transform", "matern52"]

Transform = Literal["log", "none"]

_SQRT5 = float(np.sqrt(5.0))
#: Added to squared distances before the square root so gradients exist at training points.
_R2_EPS = 1e-36


def matern52(r2: np.ndarray) -> np.ndarray:
    """Matérn-5/2 correlation as a function of the squared scaled distance.

    Parameters
    ----------
    r2 : ndarray, shape (...)
        Squared distance ``sum_j (x_j - x'_j)^2 / lengthscale_j^2``.

    Returns
    -------
    ndarray, shape (...)
        ``(1 + sqrt(5) r + 5 r^2 / 3) exp(-sqrt(5) r)``.

    Examples
    --------
    >>> float(matern52(np.array(0.0)))
    1.0
    """
    r = np.sqrt(r2 + _R2_EPS)
    return (1.0 + _SQRT5 * r + (5.0 / 3.0) * r2) * np.exp(-_SQRT5 * r)


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class GPEmulator:
    """A fitted GP emulator frozen into numpy arrays.

    Attributes
    ----------
    x : ndarray, shape (n, d)
        Training inputs in the unit cube.
    y : ndarray, shape (n,)
        Training outputs on the emulated (transformed) scale.
    lengthscale : ndarray, shape (d,)
        ARD lengthscales (unit-cube units).
    outputscale : float
        Kernel variance on the standardised scale.
    noise : float
        Gaussian noise variance (nugget) on the standardised scale.
    mean_constant : float
        Constant prior mean on the standardised scale.
    y_mean, y_std : float
        ``Standardize`` outcome transform: ``y_std_scale = (y - y_mean) / y_std``.
    transform : {"log", "none"}
        ``y = log(d)`` or ``y = d``.
    chol : ndarray, shape (n, n)
        Lower Cholesky factor of ``K + noise I`` (computed in ``__post_init__``).
    alpha : ndarray, shape (n,)
        ``(K + noise I)^{-1} ((y - y_mean) / y_std - mean_constant)``.
    """

    x: np.ndarray
    y: np.ndarray
    lengthscale: np.ndarray
    outputscale: float
    noise: float
    mean_constant: float
    y_mean: float
    y_std: float
    transform: Transform = "log"
    chol: np.ndarray = dataclasses.field(init=False, repr=False)
    alpha: np.ndarray = dataclasses.field(init=False, repr=False)

    def __post_init__(self) -> None:
        x = np.atleast_2d(np.asarray(self.x, dtype=np.float64))
        y = np.asarray(self.y, dtype=np.float64).reshape(-1)
        ls = np.asarray(self.lengthscale, dtype=np.float64).reshape(-1)
        if x.shape[0] != y.shape[0] or ls.shape[0] != x.shape[1]:
            raise InputDataError(
                f"emulator arrays disagree: x {x.shape}, y {y.shape}, lengthscale {ls.shape}."
            )
        if self.transform not in ("log", "none"):
            raise InputDataError(f"transform must be 'log' or 'none'; got {self.transform!r}.")
        for name in ("x", "y", "lengthscale"):
            object.__setattr__(self, name, {"x": x, "y": y, "lengthscale": ls}[name])
        for name in ("outputscale", "noise", "mean_constant", "y_mean", "y_std"):
            object.__setattr__(self, name, float(getattr(self, name)))
        gram = self.outputscale * matern52(self._r2(x, x)) + self.noise * np.eye(len(x))
        chol = np.linalg.cholesky(gram)
        resid = (y - self.y_mean) / self.y_std - self.mean_constant
        alpha = scipy.linalg.cho_solve((chol, True), resid)
        object.__setattr__(self, "chol", chol)
        object.__setattr__(self, "alpha", alpha)

    @property
    def n_train(self) -> int:
        """Number of training points."""
        return int(self.x.shape[0])

    @property
    def dim(self) -> int:
        """Input dimension."""
        return int(self.x.shape[1])

    @property
    def noise_sd(self) -> float:
        """Fitted noise standard deviation on the emulated scale (``sqrt(noise) * y_std``)."""
        return float(np.sqrt(self.noise) * self.y_std)

    def _r2(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        diff = (a[..., :, None, :] - b[..., None, :, :]) / self.lengthscale
        return np.sum(diff * diff, axis=-1)

    def predict(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Predictive mean and latent variance on the emulated (transformed) scale.

        Parameters
        ----------
        x : array_like, shape (..., d)
            Points in the unit cube.

        Returns
        -------
        mean, var : ndarray, shape (...)
            Mean and variance of the latent GP (noise excluded), e.g. of ``log d``.
        """
        x = np.asarray(x, dtype=np.float64)
        if x.shape[-1] != self.dim:
            raise InputDataError(f"x must have {self.dim} columns; got shape {x.shape}.")
        batch = x.shape[:-1]
        xf = x.reshape(-1, self.dim)
        kx = self.outputscale * matern52(self._r2(xf, self.x))  # (m, n)
        mean = self.y_mean + self.y_std * (self.mean_constant + kx @ self.alpha)
        v = scipy.linalg.solve_triangular(self.chol, kx.T, lower=True)
        var = self.y_std**2 * np.maximum(self.outputscale - np.sum(v * v, axis=0), 0.0)
        return mean.reshape(batch), var.reshape(batch)

    def pytensor_mean_var(self, x: pt.TensorLike) -> tuple[pt.TensorVariable, pt.TensorVariable]:
        """Predictive mean and latent variance as PyTensor expressions of ``x``.

        Parameters
        ----------
        x : pytensor tensor, shape (d,) or (m, d)
            Symbolic points in the unit cube.

        Returns
        -------
        mean, var : pytensor tensors, shape () or (m,)
            The same algebra as :meth:`predict`, differentiable in ``x``.
        """
        from bayescal.emulate.pytensor_gp import gp_mean_var

        return gp_mean_var(x, self)

    def to_dataset(self, prefix: str = "emulator_") -> xr.Dataset:
        """Serialise to an ``xarray.Dataset`` (variables named ``prefix + field``).

        Parameters
        ----------
        prefix : str
            Prefix of every variable and of the training dim (``prefix + "obs"``).

        Returns
        -------
        xarray.Dataset
            ``x(obs, param)``, ``y(obs)``, ``alpha(obs)``, ``lengthscale(param)`` and scalars;
            ``attrs[prefix + "transform"]``. Read back with :meth:`from_dataset`.
        """
        import xarray as xr

        obs = prefix + "obs"
        dims = (obs, "param")
        scalars = ("outputscale", "noise", "mean_constant", "y_mean", "y_std")
        data: dict[str, Any] = {
            prefix + "x": (dims, self.x),
            prefix + "y": ((obs,), self.y),
            prefix + "alpha": ((obs,), self.alpha),
            prefix + "lengthscale": (("param",), self.lengthscale),
        }
        data.update({prefix + s: ((), getattr(self, s)) for s in scalars})
        return xr.Dataset(data, attrs={prefix + "transform": self.transform})

    @classmethod
    def from_dataset(cls, ds: xr.Dataset, prefix: str = "emulator_") -> GPEmulator:
        """Rebuild an emulator written by :meth:`to_dataset` (the Cholesky factor is recomputed).

        Parameters
        ----------
        ds : xarray.Dataset
            Dataset holding the ``prefix``-ed variables.
        prefix : str
            The prefix used when writing.

        Returns
        -------
        GPEmulator
        """
        fields = ("x", "y", "lengthscale", "outputscale", "noise", "mean_constant")
        kw: dict[str, Any] = {f: ds[prefix + f].values for f in (*fields, "y_mean", "y_std")}
        return cls(transform=ds.attrs.get(prefix + "transform", "log"), **kw)
