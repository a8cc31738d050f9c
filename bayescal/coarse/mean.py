"""Mean functions (physics laws) for the coarse-graining GP: ``m(x, y; params)``."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from bayescal.errors import InputDataError

__all__ = ["MeanFunction", "MeanLaw"]

#: A law ``f(x, y, params) -> values``: x, y arrays of one shape, params a 1-D float array.
MeanLaw = Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray]


def _constant(x: np.ndarray, y: np.ndarray, p: np.ndarray) -> np.ndarray:
    return np.full(np.shape(x), p[0])


def _linear(x: np.ndarray, y: np.ndarray, p: np.ndarray) -> np.ndarray:
    return p[0] + p[1] * x + p[2] * y


@dataclass(frozen=True, kw_only=True)
class MeanFunction:
    """A parametric GP mean, e.g. a physics law fitted together with the GP.

    Parameters
    ----------
    law : callable
        ``law(x, y, params) -> values`` (same shape as x), params a 1-D array; numpy code.
    init : sequence of float
        Starting parameter values (also the default when not fitted).
    names : sequence of str
        Parameter names (reported in the fit), one per value of ``init``.
    fit : bool
        Learn the parameters (default) or keep ``init``.

    Examples
    --------
    >>> band = MeanFunction(
    ...     law=lambda x, y, p: p[0] + p[1] * np.exp(-0.5 * ((y - p[2]) / p[3]) ** 2),
    ...     init=(0.0, 0.1, 20.0, 3.0), names=("base", "height", "y0", "width"))
    >>> band(np.zeros(2), np.array([20.0, 23.0]), band.init).round(4).tolist()
    [0.1, 0.0607]
    """

    law: MeanLaw
    init: tuple[float, ...]
    names: tuple[str, ...] = ()
    fit: bool = True

    def __post_init__(self) -> None:
        init = tuple(float(v) for v in np.ravel(self.init))
        names = tuple(self.names) or tuple(f"mean_{k}" for k in range(len(init)))
        if not callable(self.law):
            raise InputDataError(f"MeanFunction.law must be callable; got {self.law!r}.")
        if len(names) != len(init) or not all(np.isfinite(init)):
            raise InputDataError(
                f"MeanFunction: need one finite init value per name; got names {names}, "
                f"init {init}."
            )
        object.__setattr__(self, "init", init)
        object.__setattr__(self, "names", names)

    @classmethod
    def constant(cls, value: float = 0.0) -> MeanFunction:
        """A learned constant mean."""
        return cls(law=_constant, init=(value,), names=("mean_constant",))

    @classmethod
    def zero(cls) -> MeanFunction:
        """A fixed zero mean."""
        return cls(law=_constant, init=(0.0,), names=("mean_constant",), fit=False)

    @classmethod
    def linear(cls) -> MeanFunction:
        """A learned linear trend ``a + b x + c y``."""
        return cls(law=_linear, init=(0.0, 0.0, 0.0), names=("mean_a", "mean_bx", "mean_cy"))

    @property
    def n_params(self) -> int:
        """Number of parameters."""
        return len(self.init)

    def __call__(
        self, x: np.ndarray, y: np.ndarray, params: Sequence[float] | np.ndarray
    ) -> np.ndarray:
        """Evaluate the law; raises if it returns the wrong shape or non-finite values."""
        out = np.asarray(self.law(x, y, np.asarray(params, dtype=float)), dtype=float)
        if out.shape != np.shape(x):
            out = np.broadcast_to(out, np.shape(x)).copy()
        if not np.all(np.isfinite(out)):
            raise InputDataError(f"the mean law returned non-finite values at params {params}.")
        return out

    def jacobian(self, x: np.ndarray, y: np.ndarray, params: np.ndarray) -> np.ndarray:
        """Central finite-difference Jacobian ``d law / d params``, shape (n, p)."""
        p = np.asarray(params, dtype=float)
        jac = np.empty((np.size(x), p.size))
        for k in range(p.size):
            h = 1e-6 * max(1.0, abs(p[k]))
            up, dn = p.copy(), p.copy()
            up[k] += h
            dn[k] -= h
            jac[:, k] = (self(x, y, up) - self(x, y, dn)).ravel() / (2 * h)
        return jac
