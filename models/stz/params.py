"""Physical constants of the STZ model and validation of its parameters.

Parameters enter :func:`models.stz.simulate` as a mapping ``name -> float or 1-D array``.
This module checks them once, at the boundary, and turns them into float64 arrays of one
common length (the ``sample`` dimension).
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

__all__ = [
    "CUZR",
    "DEFAULTS",
    "DENSITY",
    "K_BOLTZMANN",
    "K_BOLTZMANN_EV",
    "LENGTH_UNIT",
    "OPTIONAL",
    "POISSON_RATIO",
    "REQUIRED",
    "SHEAR_MODULUS_GPA",
    "TAU0",
    "T_Z",
    "Material",
    "ParamSet",
    "chi_scale_kelvin",
    "normalize_params",
    "time_unit",
]

# --- constants of the reference model (SURGroup/STZ aea52b3, shear_energy_Adam3) -------------
T_Z: float = 21000.0
"""STZ formation temperature e_Z / k_B [K]; effective temperatures chi are in units of T_Z."""
K_BOLTZMANN: float = 1.3806503e-23
"""Boltzmann constant [J/K], the value the reference uses."""
K_BOLTZMANN_EV: float = 8.617330350e-5
"""Boltzmann constant [eV/K], the value the reference uses."""
EV_PER_J: float = 6.241509e18
"""Electronvolts per joule, the value the reference uses."""
SHEAR_MODULUS_GPA: float = 20.0
"""Elastic shear modulus mu [GPa]; in the solver stresses are in units of s_y, mu = 20 / s_y."""
POISSON_RATIO: float = 0.35
"""Poisson's ratio nu [-]."""
DENSITY: float = 6125.0
"""Mass density rho [kg/m^3]; only sets the time unit."""
TAU0: float = 1e-13
"""STZ vibration time scale tau0 [s]."""
LENGTH_UNIT: float = 1e-10
"""Length unit of the solver [m] (one angstrom)."""
ADAPT_FAC: float = 2e-3
"""Largest change of the deviatoric stress magnitude (units of s_y) per plastic sub-step."""

REQUIRED: tuple[str, ...] = ("beta", "u0", "c0", "s_y", "chi_inf")
OPTIONAL: tuple[str, ...] = ("chi_len", "ep")
DEFAULTS: dict[str, float] = {"chi_len": 25.59275383, "ep": 44.52901253}
UNITS: dict[str, str] = {
    "beta": "1/eV",
    "u0": "eV",
    "c0": "1",
    "s_y": "GPa",
    "chi_inf": "K",
    "chi_len": "angstrom",
    "ep": "1",
}


@dataclass(frozen=True, slots=True, kw_only=True)
class Material:
    """The material constants of an STZ run (default: the CuZr glass of the reference).

    Any consistent unit system works: stresses in the unit of ``shear_modulus`` (``s_y`` is
    then in the same unit), lengths in ``length_unit`` metres (``box``, ``chi_len``), effective
    temperatures in the unit of ``t_z`` (``chi_inf``; ``beta (pe - u0) t_z``).

    Attributes
    ----------
    shear_modulus : float
        Elastic shear modulus mu (GPa for CuZr); the solver uses ``mu / s_y``.
    poisson_ratio : float
        Poisson's ratio nu, in (-1, 0.5); the bulk modulus is ``2 mu (1 + nu) / (3 (1 - 2 nu))``.
    density : float
        Mass density (kg/m^3 for CuZr); only sets the time unit.
    t_z : float
        STZ formation energy over k_B (K for CuZr): effective temperatures are in units of it.
    tau0 : float
        STZ vibration time scale [s].
    length_unit : float
        Length unit of the solver [m] (one angstrom for CuZr).
    """

    shear_modulus: float = SHEAR_MODULUS_GPA
    poisson_ratio: float = POISSON_RATIO
    density: float = DENSITY
    t_z: float = T_Z
    tau0: float = TAU0
    length_unit: float = LENGTH_UNIT

    def __post_init__(self) -> None:
        for name in ("shear_modulus", "density", "t_z", "tau0", "length_unit"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value > 0):
                raise ValueError(f"Material.{name} must be a finite number > 0; got {value!r}.")
        if not -1.0 < self.poisson_ratio < 0.5:
            raise ValueError(
                f"Material.poisson_ratio must be in (-1, 0.5); got {self.poisson_ratio!r}."
            )

    @property
    def bulk_modulus(self) -> float:
        """Bulk modulus K = 2 mu (1 + nu) / (3 (1 - 2 nu)), in the unit of ``shear_modulus``."""
        nu = self.poisson_ratio
        return 2 * self.shear_modulus * (1 + nu) / (3 * (1 - 2 * nu))


#: The CuZr glass of the reference solver.
CUZR = Material()


def chi_scale_kelvin(material: Material = CUZR) -> float:
    """Kelvin per unit of ``beta * (pe - u0)`` as the reference computes it.

    The reference maps potential energy to effective temperature with ``e_Z / k_B`` written as
    ``T_Z k_B [J/K] eV_per_J / k_B [eV/K]``, which is T_Z to 1.3e-6 relative.

    Returns
    -------
    float
        About 21000.027 K for CuZr.
    """
    return material.t_z * K_BOLTZMANN * EV_PER_J / K_BOLTZMANN_EV


def time_unit(material: Material = CUZR) -> float:
    """Simulation time unit [s]: one length unit over the shear-wave speed sqrt(mu / rho).

    Returns
    -------
    float
        About 1.75e-9 s for CuZr.
    """
    return material.length_unit / math.sqrt(material.shear_modulus / material.density)


@dataclass(frozen=True, slots=True, kw_only=True)
class ParamSet:
    """Validated parameters, each a float64 array of shape (n,).

    Attributes
    ----------
    values : dict of str to ndarray, shape (n,)
        beta [1/eV], u0 [eV], c0, s_y [GPa], chi_inf [K], chi_len [angstrom], ep.
    batched : bool
        Whether any parameter was given as an array (then outputs carry a ``sample`` dim).
    """

    values: dict[str, np.ndarray]
    batched: bool

    @property
    def n(self) -> int:
        """Number of parameter sets."""
        return int(next(iter(self.values.values())).shape[0])

    def row(self, k: int) -> dict[str, float]:
        """Parameter set ``k`` as plain floats."""
        return {name: float(v[k]) for name, v in self.values.items()}


def normalize_params(params: Mapping[str, ArrayLike]) -> ParamSet:
    """Check a parameter mapping and broadcast it to one batch length.

    Parameters
    ----------
    params : mapping of str to float or array_like, shape (n,)
        Required ``beta`` [1/eV], ``u0`` [eV], ``c0`` [-], ``s_y`` [GPa], ``chi_inf`` [K];
        optional ``chi_len`` [angstrom] and ``ep`` [-] (defaults in :data:`DEFAULTS`).
        Floats broadcast against the arrays; all arrays must have the same length.

    Returns
    -------
    ParamSet

    Raises
    ------
    ValueError
        Unknown or missing names, arrays of the wrong shape or length, non-finite values,
        ``c0``, ``s_y`` or ``chi_inf`` not > 0, ``ep`` or ``chi_len`` < 0.
    """
    if not isinstance(params, Mapping):
        raise ValueError(f"params must be a mapping of name -> value; got {type(params).__name__}.")
    known = REQUIRED + OPTIONAL
    for name in params:
        if name not in known:
            close = difflib.get_close_matches(str(name), known, n=1)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            raise ValueError(
                f"unknown parameter {name!r}.{hint} Known: {', '.join(known)}.",
            )
    missing = [name for name in REQUIRED if name not in params]
    if missing:
        raise ValueError(f"missing parameter(s) {', '.join(missing)}; required: {REQUIRED}.")

    arrays: dict[str, np.ndarray] = {}
    lengths: set[int] = set()
    batched = False
    for name in known:
        raw = params.get(name, DEFAULTS.get(name))
        try:
            arr = np.asarray(raw, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise ValueError(
                f"parameter {name!r} must be a float or 1-D array; got {raw!r}."
            ) from exc
        if arr.ndim > 1:
            raise ValueError(
                f"parameter {name!r} must be a float or a 1-D array; got shape {arr.shape}."
            )
        if arr.ndim == 1:
            batched = True
            lengths.add(arr.shape[0])
        arrays[name] = arr
    if len(lengths) > 1:
        shapes = {k: v.shape for k, v in arrays.items() if v.ndim == 1}
        raise ValueError(f"parameter arrays must have equal length; got {shapes}.")
    n = lengths.pop() if lengths else 1
    if n == 0:
        raise ValueError("parameter arrays are empty; give at least one parameter set.")
    values = {k: np.broadcast_to(v, (n,)).copy() for k, v in arrays.items()}

    for name, v in values.items():
        bad = ~np.isfinite(v)
        if bad.any():
            k = int(np.flatnonzero(bad)[0])
            raise ValueError(f"parameter {name!r} must be finite; got {v[k]} (sample {k}).")
    for name in ("c0", "s_y", "chi_inf"):
        _check_bound(name, values[name], strict=True)
    for name in ("ep", "chi_len"):
        _check_bound(name, values[name], strict=False)
    return ParamSet(values=values, batched=batched)


def _check_bound(name: str, v: np.ndarray, *, strict: bool) -> None:
    bad = v <= 0 if strict else v < 0
    if bad.any():
        k = int(np.flatnonzero(bad)[0])
        need = "> 0" if strict else ">= 0"
        raise ValueError(
            f"parameter {name!r} must be {need} ({UNITS[name]}); got {v[k]} (sample {k})."
        )
