"""Effective (configurational) temperature from potential energy per atom."""

from __future__ import annotations

import warnings
from typing import Literal, TypeVar

import numpy as np
import xarray as xr

from bayescal.errors import InputDataError, InputDataWarning

__all__ = ["T_Z", "effective_temperature"]

#: STZ formation-energy temperature scale (K) used by the CuZr calibration.
T_Z = 21000.0

A = TypeVar("A", np.ndarray, xr.DataArray)


def effective_temperature(
    pe: A,
    beta: float,
    u0: float,
    T_Z: float = T_Z,
    *,
    on_invalid: Literal["raise", "warn", "ignore"] = "raise",
) -> A:
    """Effective temperature ``chi = beta (U - u0) T_Z`` in kelvin.

    Parameters
    ----------
    pe : ndarray or xarray.DataArray, any shape
        Potential energy per atom ``U`` (eV/atom), e.g. ``load_cuzr()["pe"]``.
    beta : float
        Energy-to-temperature slope (1/eV), positive.
    u0 : float
        Energy at which chi vanishes (eV/atom).
    T_Z : float
        Temperature scale (K), positive; default 21000 K.
    on_invalid : {"raise", "warn", "ignore"}
        What to do where ``chi <= 0`` (pe at or below ``u0``: not physical).

    Returns
    -------
    ndarray or xarray.DataArray
        ``chi`` (K), same shape and type as ``pe`` (a DataArray named ``chi`` with units ``K``).

    Raises
    ------
    InputDataError
        Non-finite input, ``beta <= 0`` or ``T_Z <= 0``, or ``chi <= 0`` with
        ``on_invalid="raise"``.

    Examples
    --------
    >>> round(float(effective_temperature(np.array(-3.36), beta=10.0, u0=-3.38)), 6)
    4200.0
    """
    for name, val in (("beta", beta), ("T_Z", T_Z)):
        if not (np.isfinite(val) and val > 0):
            raise InputDataError(f"{name} must be a positive finite number; got {val!r}.")
    if not np.isfinite(u0):
        raise InputDataError(f"u0 must be finite; got {u0!r}.")
    if on_invalid not in ("raise", "warn", "ignore"):
        raise InputDataError(f"on_invalid must be 'raise', 'warn' or 'ignore'; got {on_invalid!r}.")
    values = np.asarray(pe, dtype=float)
    if not np.all(np.isfinite(values)):
        raise InputDataError("pe must be finite (NaN or inf found).")
    chi = beta * (values - u0) * T_Z
    bad = int(np.count_nonzero(chi <= 0))
    if bad and on_invalid != "ignore":
        msg = (
            f"{bad} of {chi.size} values give chi <= 0 K (pe <= u0 = {u0}; min pe "
            f"{values.min():.6g}); lower u0 or check the energies."
        )
        if on_invalid == "raise":
            raise InputDataError(msg)
        warnings.warn(msg, InputDataWarning, stacklevel=2)
    if isinstance(pe, xr.DataArray):
        return (
            pe.copy(data=chi)
            .rename("chi")
            .assign_attrs(
                units="K",
                long_name="effective temperature chi = beta (pe - u0) T_Z",
                beta=beta,
                u0=u0,
                T_Z=T_Z,
            )
        )
    return chi
