"""The reduced system of :mod:`bayescal.md.reduced`: options, reduced mass, output record.

``x = x_ref + Phi q`` with an orthonormal ``Phi`` (3N, r); the reduced mass is
``M_r = Phi^T M Phi``. Units: metal (Å, ps, eV, g/mol, K).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike

from bayescal.errors import InputDataError
from bayescal.md.estimators import DiffusivityFit, check_window
from bayescal.md.integrator import check_schedule
from bayescal.md.start import MDOptions

__all__ = [
    "InitialVelocity",
    "ReducedMDOptions",
    "ReducedTrajectory",
    "Thermostat",
    "check_basis",
    "dof_masses",
    "reduced_mass",
]

Thermostat = Literal["nose-hoover", "langevin", "none"]
InitialVelocity = Literal["maxwell", "project"]


@dataclass(frozen=True, slots=True, kw_only=True)
class ReducedMDOptions:
    """Settings of :func:`bayescal.md.reduced.reduced_md` (metal units).

    Parameters
    ----------
    steps : int
        Time steps.
    dt : float
        Time step, ps.
    every : int
        Record the full-space positions every ``every`` steps (must divide ``steps``).
    temperature : float
        Thermostat target, K.
    thermostat : {"nose-hoover", "langevin", "none"}
        See :mod:`bayescal.md.reduced`.
    t_damp : float
        Thermostat time, ps (Nosé–Hoover period scale, or inverse Langevin friction).
    fit_window : tuple of float
        MSD fit window as fractions of the run (as for the full MD).
    remove_drift : bool
        Remove the centre-of-mass motion before the MSD.
    discard : float
        Fraction of the leading frames dropped before ``<u^2>`` and the mean energy.
    initial_velocity : {"maxwell", "project"}
        ``"maxwell"``: draw ``q'(0)`` from the reduced Maxwell–Boltzmann law, Gaussian with
        covariance ``k_B T M_r^{-1}`` (the equilibrium of the reduced system). ``"project"``:
        the mass-weighted projection ``M_r^{-1} Phi^T M v(0)`` of the start velocities — exact
        for a full basis, but a POD basis of a trajectory that left the start with ``v(0)``
        contains ``v(0)`` in its leading modes, so the projection keeps nearly all of the
        ``3N`` degrees of freedom's kinetic energy in ``r`` of them (measured: 7,200 K instead
        of 1,600 K for ``r = 118`` of 768).
    """

    steps: int = 3000
    dt: float = 0.002
    every: int = 10
    temperature: float = 1600.0
    thermostat: Thermostat = "nose-hoover"
    t_damp: float = 0.1
    fit_window: tuple[float, float] = (0.1, 0.6)
    remove_drift: bool = True
    discard: float = 0.2
    initial_velocity: InitialVelocity = "maxwell"

    def __post_init__(self) -> None:
        if self.initial_velocity not in ("maxwell", "project"):
            raise InputDataError(
                f"initial_velocity must be 'maxwell' or 'project'; got {self.initial_velocity!r}."
            )
        if self.thermostat not in ("nose-hoover", "langevin", "none"):
            raise InputDataError(
                f"thermostat must be 'nose-hoover', 'langevin' or 'none'; got {self.thermostat!r}."
            )
        for name in ("dt", "temperature", "t_damp"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value > 0):
                raise InputDataError(f"{name} must be a positive number; got {value!r}.")
        check_schedule(self.steps, self.every)
        if not 0.0 <= self.discard < 0.9:
            raise InputDataError(f"discard must be a fraction in [0, 0.9); got {self.discard!r}.")
        check_window(self.fit_window)

    @classmethod
    def like(cls, md: MDOptions, **kwargs: Any) -> ReducedMDOptions:
        """The full MD's schedule (steps, dt, every, temperature, t_damp, fit window, discard)."""
        base: dict[str, Any] = {
            "steps": md.steps,
            "dt": md.dt,
            "every": md.every,
            "temperature": md.temperature,
            "t_damp": md.t_damp,
            "fit_window": md.fit_window,
            "discard": md.discard,
        }
        return cls(**(base | kwargs))


def dof_masses(masses: ArrayLike, n_dof: int) -> np.ndarray:
    """Masses per degree of freedom, shape (n_dof,), from per-atom or per-dof masses.

    Parameters
    ----------
    masses : array_like, shape (N,) or (3N,)
        Positive atomic masses (per atom, repeated over x, y, z; or per degree of freedom).
    n_dof : int
        ``3N``.

    Returns
    -------
    ndarray, shape (n_dof,)

    Raises
    ------
    InputDataError
        A shape other than (N,) or (3N,), or masses that are not finite and positive.
    """
    m = np.asarray(masses, dtype=float).ravel()
    if m.size * 3 == n_dof:
        m = np.repeat(m, 3)
    if m.shape != (n_dof,) or not np.all(np.isfinite(m) & (m > 0)):
        raise InputDataError(
            f"masses must be positive, shape (N,) with 3N = {n_dof} or ({n_dof},); got "
            f"{np.shape(masses)}."
        )
    return m


def reduced_mass(basis: ArrayLike, masses: ArrayLike) -> np.ndarray:
    """Reduced mass matrix ``M_r = Phi^T M Phi``.

    Parameters
    ----------
    basis : array_like, shape (..., 3N, r)
        Reduced-order bases.
    masses : array_like, shape (N,) or (3N,)
        Atomic masses (per atom, repeated over x, y, z; or per degree of freedom).

    Returns
    -------
    ndarray, shape (..., r, r)
        Symmetric positive definite for a full-column-rank basis (``m I`` for one species and
        an orthonormal basis).

    Examples
    --------
    >>> phi = np.eye(6)[:, :2]
    >>> reduced_mass(phi, [1.0, 2.0])
    array([[1., 0.],
           [0., 1.]])
    """
    phi = np.asarray(basis, dtype=float)
    if phi.ndim < 2:
        raise InputDataError(f"basis must have shape (..., 3N, r); got {phi.shape}.")
    m = dof_masses(masses, phi.shape[-2])
    return np.swapaxes(phi, -1, -2) @ (m[:, None] * phi)


@dataclass(frozen=True, slots=True, kw_only=True)
class ReducedTrajectory:
    """Output of :func:`bayescal.md.reduced.reduced_md`.

    Attributes
    ----------
    times : ndarray, shape (T,)
        ps.
    q : ndarray, shape (T, r)
        Reduced coordinates, Å (mass-unweighted: ``x = x_ref + Phi q``).
    positions : ndarray, shape (T, N, 3)
        Full-space unwrapped positions ``x_ref + Phi q``, Å.
    temperature : ndarray, shape (T,)
        Reduced kinetic temperature ``2 K / (r k_B)``, K.
    pe : ndarray, shape (T,)
        Potential energy, eV.
    fit : DiffusivityFit
        MSD and diffusivity of ``positions``.
    u2 : float
        Mean-squared vibrational displacement of ``positions`` (after ``discard``), Å^2.
    pe_atom : float
        Mean potential energy per atom over the same frames, eV.
    rank : int
        ``r``.
    n_force_calls : int
        LAMMPS force evaluations.
    seconds_per_force : float
        Wall time per force evaluation (scatter, LAMMPS step, gather), s.
    seconds : float
        Wall time of the whole run, s.
    """

    times: np.ndarray = field(repr=False)
    q: np.ndarray = field(repr=False)
    positions: np.ndarray = field(repr=False)
    temperature: np.ndarray = field(repr=False)
    pe: np.ndarray = field(repr=False)
    fit: DiffusivityFit
    u2: float
    pe_atom: float
    rank: int
    n_force_calls: int
    seconds_per_force: float
    seconds: float


def check_basis(basis: ArrayLike, n_dof: int, *, atol: float = 1e-8) -> np.ndarray:
    """``basis`` as a float array (n_dof, r) with orthonormal columns, or raise.

    Parameters
    ----------
    basis : array_like, shape (n_dof, r)
        Reduced-order basis, ``1 <= r <= n_dof``.
    n_dof : int
        Degrees of freedom ``3N``.
    atol : float, default 1e-8
        Tolerance on ``max |Phi^T Phi - I|``.

    Returns
    -------
    ndarray, shape (n_dof, r)

    Raises
    ------
    InputDataError
        Wrong shape, non-finite entries or columns that are not orthonormal.
    """
    phi = np.asarray(basis, dtype=float)
    if phi.ndim != 2 or phi.shape[0] != n_dof or not 1 <= phi.shape[1] <= n_dof:
        raise InputDataError(
            f"basis must have shape (3N, r) = ({n_dof}, r) with 1 <= r <= {n_dof}; got {phi.shape}."
        )
    if not np.all(np.isfinite(phi)):
        raise InputDataError("basis contains non-finite values.")
    err = np.abs(phi.T @ phi - np.eye(phi.shape[1])).max()
    if err > atol:
        raise InputDataError(
            f"basis columns must be orthonormal (max |Phi^T Phi - I| = {err:.2e} > {atol:g}); "
            "orthonormalise it first (e.g. numpy.linalg.qr)."
        )
    return phi
