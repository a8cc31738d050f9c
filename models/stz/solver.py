"""Time integration of the quasi-static STZ model on a periodic grid (torch, batched).

Each quasi-static step does what the reference ``shear_sim::step_forward_quasistatic`` does:

1. advection and plasticity at the applied shear ``lt`` of the step start: the reference map
   and the cell-centred fields (p, q, s, tau, chi) are advected with ENO2 upwind derivatives by
   the velocity of the previous projection; the deviatoric stress relaxes and chi grows by the
   adaptive STZ update; the stresses get the objective-rate terms of the sheared frame; chi gets
   the plastic-work-weighted diffusion;
2. time advances by dt;
3. projection at the new ``lt``: the velocity that balances forces (FFT solve) and the stress
   change it implies, plus the affine loading of the applied shear.

State tensors have a leading batch dim B (one per parameter set) and grid dims (ny, nx);
stresses are in units of s_y, chi in units of T_Z, lengths in angstrom, time in units of
:func:`models.stz.params.time_unit`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TypedDict

import torch

from models.stz.advection import shift
from models.stz.kernels import EAGER, StepKernels
from models.stz.params import ADAPT_FAC, CUZR, Material
from models.stz.plasticity import adaptive_plastic_update
from models.stz.projection import FFTProjection, correction_coefficients, velocity_gradient

__all__ = [
    "FAILED_NONFINITE",
    "FAILED_SUBSTEPS",
    "OK",
    "RunResult",
    "green_lagrange_exy",
    "integrate",
]


class _Chunking(TypedDict, total=False):
    """Keyword arguments of :func:`adaptive_plastic_update` that only it takes."""

    first_chunk: int
    kernel: Callable[..., tuple[torch.Tensor, ...]]


OK = 0
FAILED_NONFINITE = 1
"""A field became NaN/inf or exceeded 1e10 in magnitude (the reference's own sanity limit)."""
FAILED_SUBSTEPS = 2
"""A cell needed more plastic sub-steps in one step than allowed."""
ABSURD = 1e10


@dataclass(frozen=True, slots=True)
class RunResult:
    """Raw output of :func:`integrate` (leading batch dim B, F = frames + 1).

    Attributes
    ----------
    exy : Tensor, shape (B, F, ny, nx)
        Green-Lagrange tensor shear strain E_xy at the cell corners.
    chi : Tensor, shape (B, F, ny, nx)
        Effective temperature in units of T_Z at the cell centres.
    tau : Tensor, shape (B, F)
        Grid mean of the physical shear stress tau in units of s_y.
    status : Tensor, shape (B,)
        0 ok, 1 non-finite or absurd values, 2 plastic sub-step limit exceeded.
    max_substeps : int
        Largest number of plastic sub-steps taken in one step.
    """

    exy: torch.Tensor
    chi: torch.Tensor
    tau: torch.Tensor
    status: torch.Tensor
    max_substeps: int


def green_lagrange_exy(disp: torch.Tensor, lt: float, dx: float, dy: float) -> torch.Tensor:
    """Off-diagonal Green-Lagrange strain at the corners from the reference map.

    Parameters
    ----------
    disp : Tensor, shape (B, 2, ny, nx)
        Reference map minus the corner coordinates, ``(X - x, Y - y)`` (angstrom).
    lt : float
        Applied shear of the sheared frame.
    dx, dy : float
        Grid spacing (angstrom).

    Returns
    -------
    Tensor, shape (B, ny, nx)
        ``E_xy = (F^T F - I)_xy / 2`` with ``F = [[1, lt], [0, 1]] (grad X)^-1``.
    """
    xi, eta = disp[:, 0], disp[:, 1]
    xx = 1.0 + (0.5 / dx) * (shift(xi, 0, 1) - shift(xi, 0, -1))
    xy = (0.5 / dy) * (shift(xi, 1, 0) - shift(xi, -1, 0))
    yx = (0.5 / dx) * (shift(eta, 0, 1) - shift(eta, 0, -1))
    yy = 1.0 + (0.5 / dy) * (shift(eta, 1, 0) - shift(eta, -1, 0))
    jinv = 1.0 / (xx * yy - xy * yx)
    g00, g01, g10, g11 = yy * jinv, -xy * jinv, -yx * jinv, xx * jinv
    f00, f01 = g00 + lt * g10, g01 + lt * g11
    return 0.5 * (f00 * f01 + g10 * g11)


def _physical_stress(sig: torch.Tensor, lt: float) -> tuple[torch.Tensor, ...]:
    p, q, s, tau = sig.unbind(1)
    tr = p + q + s
    pp = p + lt * ((-2.0 / 3.0) * tau + (1.0 / 3.0) * lt * tr)
    qp = q + lt * (1.0 / 3.0) * (-tau + lt * 0.5 * tr)
    sp = s + lt * (tau - lt * 0.5 * tr)
    taup = tau - lt * tr
    return pp, qp, sp, taup


def integrate(
    chi0: torch.Tensor,
    *,
    s_y: torch.Tensor,
    c0: torch.Tensor,
    chi_inf: torch.Tensor,
    ep: torch.Tensor,
    chi_len: torch.Tensor,
    box: float,
    frames: int,
    steps_per_frame: int,
    strain_rate: float,
    final_strain: float,
    t_scale: float,
    material: Material = CUZR,
    adapt_fac: float = ADAPT_FAC,
    max_substeps: int = 20000,
    ghost_ddev: bool = False,
    kernels: StepKernels = EAGER,
) -> RunResult:
    """Run the quasi-static STZ solver for a batch of parameter sets.

    Parameters
    ----------
    chi0 : Tensor, shape (B, ny, nx)
        Initial effective temperature in units of T_Z (> 0).
    s_y, c0, chi_inf, ep, chi_len : Tensor, shape (B,)
        Yield stress [GPa], plastic work fraction, steady-state chi (units of T_Z), STZ rate
        prefactor, diffusion length [angstrom]; same dtype and device as ``chi0``.
    box : float
        Side of the square periodic box [angstrom].
    frames, steps_per_frame : int
        Output frames after the initial one, and quasi-static steps between them.
    strain_rate : float
        Applied engineering shear rate [1/s].
    final_strain : float
        Applied shear at the last frame.
    t_scale : float
        Seconds per simulation time unit.
    material : Material, optional
        Shear modulus, Poisson's ratio and tau0 (default: the CuZr glass).
    adapt_fac : float, optional
        Largest drop of the deviatoric magnitude per plastic sub-step (units of s_y).
    max_substeps : int, optional
        Plastic sub-steps allowed per step before a sample is flagged failed.
    ghost_ddev : bool, optional
        If False (the reference's behaviour: its ghost cells never receive the plastic
        decrement), the chi-diffusion weights across the periodic seams use zero for the
        neighbour's decrement; if True they use the periodic neighbour.
    kernels : StepKernels, optional
        The per-step functions, eager (default) or compiled (:mod:`models.stz.kernels`).

    Returns
    -------
    RunResult
    """
    B, ny, nx = chi0.shape
    dtype, device = chi0.dtype, chi0.device
    dx, dy = box / nx, box / ny
    lamb = strain_rate * t_scale
    duration = final_strain / lamb
    dt = (duration / frames) * (1.0 / steps_per_frame)
    hx, hy = 0.5 * dt / dx, 0.5 * dt / dy
    xfac, yfac = 0.5 / (dt * dx), 0.5 / (dt * dy)
    nu = material.poisson_ratio
    lame_ratio = 2 * (1 + nu) / (3 * (1 - 2 * nu)) - 2.0 / 3.0

    col = (B, 1, 1)
    mu = (material.shear_modulus / s_y).reshape(col)
    mu4 = mu.reshape(B, 1, 1, 1)
    rate_to_stress = 2.0 * t_scale * mu
    ep_over_tau0 = (ep / material.tau0).reshape(col)
    chi_inf_c = chi_inf.reshape(col)
    c0_c = c0.reshape(col)
    dfac = 0.25 * chi_len.reshape(col) ** 2 / mu
    dfacx, dfacy = dfac / dx**2, dfac / dy**2
    lfac0 = dy / dx * 0.25

    proj = FFTProjection(ny, nx, dx, dy, lame_ratio, dtype=dtype, device=device)

    W = torch.zeros(B, 7, ny, nx, dtype=dtype, device=device)  # see models.stz.step
    W[:, 4] = chi0
    vel = torch.zeros(B, 2, ny, nx, dtype=dtype, device=device)
    grad, centre = velocity_gradient(vel, hx, hy)
    ddev = torch.zeros(B, ny, nx, dtype=dtype, device=device)
    status = torch.zeros(B, dtype=torch.int64, device=device)

    exy_out = torch.zeros(B, frames + 1, ny, nx, dtype=dtype, device=device)
    chi_out = torch.zeros(B, frames + 1, ny, nx, dtype=dtype, device=device)
    tau_out = torch.zeros(B, frames + 1, dtype=dtype, device=device)
    chi_out[:, 0] = chi0
    most_substeps = 0
    if kernels.plastic is None:
        plastic_update = adaptive_plastic_update
        chunking: _Chunking = {"first_chunk": 8, "kernel": kernels.substeps}
    else:  # the C kernel loops over sub-steps per cell: no chunks to guess
        plastic_update, chunking = kernels.plastic, {}

    def neutralise(bad: torch.Tensor) -> None:
        keep = (~bad).to(dtype)
        W.mul_(keep.reshape(B, 1, 1, 1))
        W[:, 4].add_((1.0 - keep).reshape(B, 1, 1))  # inert: chi = 1, zero stress
        vel.mul_(keep.reshape(B, 1, 1, 1))
        grad.mul_(keep.reshape(B, 1, 1, 1))
        centre.mul_(keep.reshape(B, 1, 1, 1))
        ddev.mul_(keep.reshape(B, 1, 1))

    def scalar(x: float) -> torch.Tensor | float:
        # compiled kernels take step-dependent scalars as tensors (no recompile per value)
        return torch.tensor(x, dtype=dtype, device=device) if kernels.compiled else x

    time = 0.0
    for frame in range(1, frames + 1):
        # lambda * time after each step of this frame, accumulated as the step loop does
        t_end = []
        t_acc = time
        for _ in range(steps_per_frame):
            t_acc += dt
            t_end.append(lamb * t_acc)
        lt_end = torch.tensor(t_end, dtype=dtype, device=device)
        inverses = proj.inverse(lt_end)
        coefs, affines = correction_coefficients(lt_end, lamb * dt, lame_ratio)

        for step in range(steps_per_frame):
            # advection + plasticity at the start-of-step shear
            lt = scalar(lamb * time)
            adv, sbar, old_p, padded = kernels.prepare(W, vel, grad, centre, lt, hx, hy)
            plastic = plastic_update(
                sbar,
                W[:, 4],
                ddev,
                dt,
                rate_to_stress=rate_to_stress,
                ep_over_tau0=ep_over_tau0,
                chi_inf=chi_inf_c,
                c0=c0_c,
                t_scale=t_scale,
                adapt_fac=adapt_fac,
                max_substeps=max_substeps,
                **chunking,
            )
            most_substeps = max(most_substeps, plastic.substeps)
            if kernels.plastic is None:  # next step starts with a pass as long as this one's
                chunking["first_chunk"] = max(8, 1 << int(plastic.substeps).bit_length())
            ddev = plastic.ddev
            W = kernels.finish(
                W,
                padded,
                vel,
                grad,
                adv,
                old_p,
                plastic.factor,
                plastic.chi,
                ddev,
                lt,
                dfacx,
                dfacy,
                dt,
                lfac0,
                ghost_ddev,
            )
            time += dt
            if plastic.any_overrun:
                status[plastic.overrun & (status == OK)] = FAILED_SUBSTEPS
                neutralise(plastic.overrun)

            # projection at the end-of-step shear
            W, vel, grad, centre = kernels.project(
                W,
                scalar(lamb * time),
                inverses[step],
                coefs[step],
                affines[step],
                mu4,
                xfac,
                yfac,
                hx,
                hy,
            )

        # once per frame: check and record
        lt_f = lamb * time
        bad = ~torch.isfinite(W).all(dim=(1, 2, 3)) | (W[:, :5].abs() > ABSURD).any(dim=(1, 2, 3))
        bad |= ~torch.isfinite(vel).all(dim=(1, 2, 3))
        if bool(bad.any()):
            status[bad & (status == OK)] = FAILED_NONFINITE
            neutralise(bad)
        exy_out[:, frame] = green_lagrange_exy(W[:, 5:], lt_f, dx, dy)
        chi_out[:, frame] = W[:, 4]
        tau_out[:, frame] = _physical_stress(W[:, :4], lt_f)[3].mean(dim=(-2, -1))

    failed = status != OK
    if bool(failed.any()):
        nan = float("nan")
        exy_out[failed] = nan
        chi_out[failed] = nan
        tau_out[failed] = nan
    return RunResult(exy_out, chi_out, tau_out, status, most_substeps)
