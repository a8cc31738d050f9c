"""Propagate sampled reduced bases through a quantity of interest."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import xarray as xr
from numpy.typing import ArrayLike

from bayescal.errors import InputDataError

__all__ = ["propagate"]


def propagate(
    bases: ArrayLike,
    qoi: Callable[[np.ndarray], float | np.ndarray],
    *,
    dims: Sequence[str] | None = None,
    name: str = "qoi",
    progress: bool = False,
) -> xr.DataArray:
    """Evaluate a quantity of interest on every sampled basis.

    The QoI is an arbitrary Python callable (e.g. a reduced-order simulation), so it is called
    once per realization; every call must return the same shape.

    Parameters
    ----------
    bases : array_like, shape (k, n, r)
        Sampled bases, e.g. :meth:`bayescal.srom.SROM.sample`.
    qoi : callable
        ``qoi(basis (n, r)) -> float or ndarray``.
    dims : sequence of str, optional
        Names of the QoI's dims; default ``qoi_dim_0, qoi_dim_1, ...``.
    name : str, default "qoi"
        Name of the returned array.
    progress : bool, default False
        Show a tqdm progress bar (tqdm is optional; without it no bar is shown).

    Returns
    -------
    xarray.DataArray
        Dims ``(realization, *dims)``.

    Raises
    ------
    InputDataError
        ``bases`` not 3-D, QoI results of differing shapes, or ``dims`` of the wrong length.

    Examples
    --------
    >>> out = propagate(np.stack([np.eye(3)[:, :2]] * 4), lambda Y: float(Y[0, 0]))
    >>> out.dims, out.values.tolist()
    (('realization',), [1.0, 1.0, 1.0, 1.0])
    """
    arr = np.asarray(bases, dtype=np.float64)
    if arr.ndim != 3 or arr.shape[0] == 0:
        raise InputDataError(f"bases must have shape (k, n, r) with k >= 1; got {arr.shape}.")
    iterator = iter(arr)
    if progress:
        try:
            from tqdm.auto import tqdm
        except ImportError:  # pragma: no cover - tqdm is a dependency, but optional here
            pass
        else:
            iterator = iter(tqdm(arr, desc="propagate", unit="basis"))
    results = [np.asarray(qoi(Y), dtype=np.float64) for Y in iterator]
    shapes = {r.shape for r in results}
    if len(shapes) != 1:
        raise InputDataError(f"qoi returned results of differing shapes {sorted(shapes)}.")
    out = np.stack(results)
    ndim = out.ndim - 1
    names = tuple(f"qoi_dim_{i}" for i in range(ndim)) if dims is None else tuple(dims)
    if len(names) != ndim:
        raise InputDataError(f"dims must name the qoi's {ndim} dims; got {names}.")
    return xr.DataArray(
        out,
        dims=("realization", *names),
        coords={"realization": np.arange(out.shape[0])},
        name=name,
    )
