"""The grid-wide pieces of one quasi-static step, as pure tensor functions.

The solver calls them in this order each step (the plastic update in between is
:func:`models.stz.plasticity.adaptive_plastic_update`, whose sub-step count depends on the data):

1. :func:`advect_prepare` -- ENO2 advection increments of every advected field, the
   deviatoric magnitude ``sbar`` and ``old_p`` (physical pressure), at the step-start shear;
2. plastic update (elsewhere);
3. :func:`advect_finish` -- objective-rate and plastic stress terms, chi diffusion, new state;
4. :func:`projection_rhs` -- ``T f`` for the quasi-static solve, at the step-end shear;
5. FFT solve (:class:`models.stz.projection.FFTProjection`);
6. :func:`apply_correction` -- stress change from the projected velocity; also returns the
   velocity gradient and cell-centre velocity that the next step's advection reuses.


State layout: ``W`` of shape (B, 7, ny, nx) holds p, q, s, tau (units of s_y, transformed
frame), chi (units of T_Z) and the reference-map displacement (xi, eta) = (X - x, Y - y) in
angstrom; ``vel`` of shape (B, 2, ny, nx) the corner velocities (u, v).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from models.stz.advection import ENO_PAD, eno_differences, periodic_pad
from models.stz.projection import net_force, solve_fourier, velocity_gradient

__all__ = [
    "advect_finish",
    "advect_prepare",
    "apply_correction",
    "project_and_correct",
    "projection_rhs",
]

THIRD = 1.0 / 3.0
SQRT3 = 3.0**0.5
CENTRED = torch.tensor([True] * 5 + [False] * 2).reshape(1, 7, 1, 1)
"""Channels advected with the cell-centre velocity (the rest with the corner velocity)."""


def advect_prepare(
    W: torch.Tensor,
    vel: torch.Tensor,
    grad: torch.Tensor,
    centre: torch.Tensor,
    lt: torch.Tensor | float,
    hx: float,
    hy: float,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Advection increments and stress invariants at the start of a step.

    Parameters
    ----------
    W : Tensor, shape (B, 7, ny, nx)
        State (see module docstring).
    vel : Tensor, shape (B, 2, ny, nx)
        Corner velocities from the last projection.
    grad, centre : Tensor, shape (B, 4, ny, nx) and (B, 2, ny, nx)
        :func:`models.stz.projection.velocity_gradient` of ``vel``.
    lt : float or 0-d Tensor
        Applied shear at the step start.
    hx, hy : float
        ``dt / (2 dx)``, ``dt / (2 dy)``.

    Returns
    -------
    adv : Tensor, shape (B, 7, ny, nx)
        ``dt (v . grad) W`` with ENO2 upwinding (cell-centre velocity for channels 0-4, corner
        velocity for the reference map).
    sbar : Tensor, shape (B, ny, nx)
        Deviatoric stress magnitude of the physical stress (units of s_y).
    old_p : Tensor, shape (B, ny, nx)
        Physical pressure.
    padded : Tensor, shape (B, 7, ny + 4, nx + 4)
        ``W`` with a periodic halo of 2 (reused by :func:`advect_finish`).
    """
    centred = CENTRED.to(W.device)
    vx_all = torch.where(centred, centre[:, 0:1], vel[:, 0:1])
    vy_all = torch.where(centred, centre[:, 1:2], vel[:, 1:2])
    Wp = periodic_pad(W, ENO_PAD, ENO_PAD, ENO_PAD, ENO_PAD)
    adv = eno_differences(Wp, vx_all > 0, -1).mul_(vx_all).mul_(hx)
    adv.addcmul_(vy_all, eno_differences(Wp, vy_all > 0, -2), value=hy)

    p, q, s, tau = W[:, 0], W[:, 1], W[:, 2], W[:, 3]
    tr = p + q + s
    qp = q + (lt * THIRD) * (lt * 0.5 * tr - tau)
    sp = s + lt * (tau - lt * 0.5 * tr)
    taup = tau - lt * tr
    # hypot, not sqrt: a contiguous sqrt enters an OpenMP region even for tiny tensors
    sbar = torch.hypot(torch.hypot(sp, taup), qp * SQRT3)
    old_p = p + (THIRD * lt) * (lt * tr - 2.0 * tau)
    return adv, sbar, old_p, Wp


def advect_finish(
    W: torch.Tensor,
    padded: torch.Tensor,
    vel: torch.Tensor,
    grad: torch.Tensor,
    adv: torch.Tensor,
    old_p: torch.Tensor,
    factor: torch.Tensor,
    chi_plastic: torch.Tensor,
    ddev: torch.Tensor,
    lt: torch.Tensor | float,
    dfacx: torch.Tensor,
    dfacy: torch.Tensor,
    dt: float,
    lfac0: float,
    ghost_ddev: bool,
) -> torch.Tensor:
    """State after the advection/plasticity half of a step.

    Parameters
    ----------
    W, padded, vel, grad, adv, old_p
        As for / from :func:`advect_prepare`.
    factor : Tensor, shape (B, ny, nx)
        Relative drop of the deviatoric magnitude from the plastic update.
    chi_plastic : Tensor, shape (B, ny, nx)
        chi after the plastic update (before advection and diffusion).
    ddev : Tensor, shape (B, ny, nx)
        Plastic decrement of the deviatoric magnitude this step (weights chi diffusion).
    lt : float or 0-d Tensor
        Applied shear at the step start.
    dfacx, dfacy : Tensor, shape (B, 1, 1)
        ``chi_len^2 / (4 mu dx^2)`` and the same with dy.
    dt : float
        Time step.
    lfac0 : float
        ``dy / (4 dx)``: weight of the shear cross term in the y diffusion fluxes.
    ghost_ddev : bool
        False: zero decrement outside the seams (the reference's ghost cells); True: periodic.

    Returns
    -------
    Tensor, shape (B, 7, ny, nx)
    """
    p, q, s, tau, chi = W[:, 0], W[:, 1], W[:, 2], W[:, 3], W[:, 4]
    ux, uy, vx, vy = grad[:, 0], grad[:, 1], grad[:, 2], grad[:, 3]
    t2 = lt * lt
    f = factor

    # chi diffusion weighted by the plastic decrement, with the start-of-step chi
    cp = padded[:, 4, 1:-1, 1:-1]  # chi with a halo of 1
    c_l, c_r = cp[:, 1:-1, :-2], cp[:, 1:-1, 2:]
    c_d, c_u = cp[:, :-2, 1:-1], cp[:, 2:, 1:-1]
    xdiff = cp[:, :, 2:] - cp[:, :, :-2]  # rows j-1 .. j+1
    xd_mid = xdiff[:, 1:-1]
    mode = "circular" if ghost_ddev else "constant"
    wp = F.pad(ddev[:, None], (1, 1, 1, 1), mode=mode)[:, 0]
    lfac = lfac0 * lt
    t_d = (ddev + wp[:, :-2, 1:-1]) * (chi - c_d - lfac * (xd_mid + xdiff[:, :-2]))
    t_u = (ddev + wp[:, 2:, 1:-1]) * (c_u - chi - lfac * (xdiff[:, 2:] + xd_mid))
    t_l = (ddev + wp[:, 1:-1, :-2]) * (chi - c_l)
    t_r = (ddev + wp[:, 1:-1, 2:]) * (c_r - chi)
    diffusion = ((1.0 - lt) * dfacx) * (t_r - t_l) + dfacy * (t_u - t_d)

    shear_rate = uy + vx
    dil = ux + vy
    spin = vx - uy
    stretch = vy - ux
    tr = p + q + s
    pq = p + q
    p2q = p - 2.0 * q
    dp = (
        (THIRD * f) * (t2 * tr + t2 * old_p - 2.0 * lt * tau)
        - (2.0 * THIRD) * tau * shear_rate
        - THIRD * p2q * dil
        + (2.0 * THIRD) * s * stretch
    )
    dq = (
        f * ((t2 / 6.0) * old_p - q)
        - THIRD * tau * shear_rate
        + THIRD * p2q * dil
        + THIRD * s * stretch
    )
    ds = pq * stretch - tau * spin - f * (s + (0.5 * t2) * old_p)
    dtau = s * spin - pq * shear_rate - f * (tau - lt * old_p)
    stress = W[:, :4] - adv[:, :4] + torch.stack((dp, dq, ds, dtau), dim=1)
    new_chi = chi_plastic - adv[:, 4] + diffusion
    # reference map: identity part of grad X gives (u dt, v dt)
    disp = W[:, 5:] - adv[:, 5:] - dt * vel
    return torch.cat((stress, new_chi[:, None], disp), dim=1)


def projection_rhs(
    W: torch.Tensor, lt: torch.Tensor | float, xfac: float, yfac: float
) -> torch.Tensor:
    """Right-hand side ``T f`` of the quasi-static system at the step-end shear.

    Parameters
    ----------
    W : Tensor, shape (B, 7, ny, nx)
    lt : float or 0-d Tensor
        Applied shear after the step.
    xfac, yfac : float
        ``1 / (2 dt dx)``, ``1 / (2 dt dy)``.

    Returns
    -------
    Tensor, shape (B, 2, ny, nx)
    """
    fx, fy = net_force(W[:, :4], xfac, yfac)
    return torch.stack((fx + lt * fy, fy), dim=1)


def apply_correction(
    W: torch.Tensor,
    vel: torch.Tensor,
    coef: torch.Tensor,
    affine: torch.Tensor,
    mu: torch.Tensor,
    hx: float,
    hy: float,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Add the stress change of the projected velocity and the applied shear.

    Parameters
    ----------
    W : Tensor, shape (B, 7, ny, nx)
    vel : Tensor, shape (B, 2, ny, nx)
        Projected corner velocities.
    coef, affine : Tensor, shape (4, 4) and (4,)
        This step's :func:`models.stz.projection.correction_coefficients`.
    mu : Tensor, shape (B, 1, 1, 1)
        Shear modulus in units of s_y.
    hx, hy : float

    Returns
    -------
    W : Tensor, shape (B, 7, ny, nx)
    grad, centre : Tensor, shape (B, 4, ny, nx) and (B, 2, ny, nx)
        Velocity gradient (times dt) and cell-centre velocity, reused by the next step.
    """
    grad, centre = velocity_gradient(vel, hx, hy)
    col = coef.T.reshape(4, 1, 4, 1, 1)
    change = affine.reshape(1, 4, 1, 1) + col[0] * grad[:, 0:1]
    for b in range(1, 4):
        change = change + col[b] * grad[:, b : b + 1]
    stress = W[:, :4] + mu * change
    return torch.cat((stress, W[:, 4:]), dim=1), grad, centre


def project_and_correct(
    W: torch.Tensor,
    lt: torch.Tensor | float,
    inv: torch.Tensor,
    coef: torch.Tensor,
    affine: torch.Tensor,
    mu: torch.Tensor,
    xfac: float,
    yfac: float,
    hx: float,
    hy: float,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Steps 4-6 of a step: right-hand side, FFT solve, stress correction.

    Parameters
    ----------
    W : Tensor, shape (B, 7, ny, nx)
    lt : float or 0-d Tensor
        Applied shear after the step.
    inv : Tensor, shape (4, ny, nx // 2 + 1)
        :meth:`models.stz.projection.FFTProjection.inverse` at ``lt``.
    coef, affine, mu, hx, hy
        As for :func:`apply_correction`.
    xfac, yfac : float
        As for :func:`projection_rhs`.

    Returns
    -------
    W, vel, grad, centre
        Corrected state, projected corner velocities and their gradient / cell-centre values.
    """
    vel = solve_fourier(projection_rhs(W, lt, xfac, yfac), inv) / mu
    W, grad, centre = apply_correction(W, vel, coef, affine, mu, hx, hy)
    return W, vel, grad, centre
