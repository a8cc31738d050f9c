"""Quasi-static projection: the velocity that restores force balance, solved exactly by FFT.

Grid layout (as in the reference): velocities (u, v) live at cell corners ``(i dx, j dy)``,
stresses ``(p, q, s, tau)`` at cell centres ``((i + 1/2) dx, (j + 1/2) dy)``; all fields are
periodic and expressed in the frame that shears with the box (``lt`` = lambda * time is the
applied shear). The reference builds, at every corner, the net force of the four surrounding
cells, and solves for the corner velocity ``z`` the 2x2-block linear system

    A(lt) z = T(lt) f,   T = [[1, lt], [0, 1]],

where A is a 9-point stencil with 2x2 matrix coefficients (``regh`` on the x neighbours,
``regv`` on the y neighbours, ``regd`` on the diagonals, ``-2 (regh + regv)`` in the centre)
and ``f = net_force(stress) / dt``; its multigrid solver is replaced here by the exact
periodic solve: the stencil is diagonal in Fourier space, a 2x2 matrix per wave vector

    A(k) = (2 cos kx - 2) regh + (2 cos ky - 2) regv - 4 sin kx sin ky regd.

The mean velocity (k = 0, the null space of A) is set to zero. The stress is then corrected with
the velocity gradient at the cell centres (:func:`stress_correction`). A equals the composition
"net force of the stress change of z" on the axis-aligned modes but uses the wide diagonal
stencil for the mixed derivatives, as the reference does; so the projected stress satisfies the
reference's linear system to round-off, not the compact corner force balance.
"""

from __future__ import annotations

import math

import torch

from models.stz.advection import periodic_pad, shift

__all__ = [
    "FFTProjection",
    "correction_coefficients",
    "net_force",
    "solve_fourier",
    "stress_correction",
    "velocity_gradient",
]


def net_force(sig: torch.Tensor, xf: float, yf: float) -> tuple[torch.Tensor, torch.Tensor]:
    """Scaled net-force imbalance at each corner from the four surrounding cells.

    Parameters
    ----------
    sig : Tensor, shape (B, 4, ny, nx)
        Transformed stresses p, q, s, tau at cell centres (units of s_y).
    xf, yf : float
        Prefactors of the x and y differences (``1 / (2 dt dx)``, ``1 / (2 dt dy)``).

    Returns
    -------
    fx, fy : Tensor, shape (B, ny, nx)
        At corner ``(j, i)``, from cells ``(j-1 .. j, i-1 .. i)``; minus the discrete
        divergence of the stress, times ``1 / dt``.
    """
    g = periodic_pad(sig, 1, 0, 1, 0)
    g00, g01 = g[..., :-1, :-1], g[..., :-1, 1:]  # cells (j-1, i-1), (j-1, i)
    g10, g11 = g[..., 1:, :-1], g[..., 1:, 1:]  # cells (j, i-1), (j, i)
    ddx = (g01 + g11) - (g00 + g10)
    ddy = (g10 + g11) - (g00 + g01)
    p, q, s, tau = ddx.unbind(1)
    py, qy, sy, tauy = ddy.unbind(1)
    fx = xf * (p + q - s) - yf * tauy
    fy = yf * (py + qy + sy) - xf * tau
    return fx, fy


def velocity_gradient(vel: torch.Tensor, hx: float, hy: float) -> tuple[torch.Tensor, torch.Tensor]:
    """Velocity gradient (times ``dt``) and velocity at cell centres from the four corners.

    Parameters
    ----------
    vel : Tensor, shape (B, 2, ny, nx)
        Corner velocities (u, v).
    hx, hy : float
        ``dt / (2 dx)`` and ``dt / (2 dy)``.

    Returns
    -------
    grad : Tensor, shape (B, 4, ny, nx)
        ``dt * (du/dx, du/dy, dv/dx, dv/dy)`` at cell centres.
    centre : Tensor, shape (B, 2, ny, nx)
        Mean of the four corner velocities.
    """
    g = periodic_pad(vel, 0, 1, 0, 1)
    right, up, upright = g[..., :-1, 1:], g[..., 1:, :-1], g[..., 1:, 1:]
    east = right + upright
    west = vel + up
    north = up + upright
    south = vel + right
    ddx = hx * (east - west)
    ddy = hy * (north - south)
    centre = 0.25 * (east + west)
    grad = torch.stack((ddx[:, 0], ddy[:, 0], ddx[:, 1], ddy[:, 1]), dim=1)
    return grad, centre


def correction_coefficients(
    lt: torch.Tensor, lamb_dt: float, lame_ratio: float
) -> tuple[torch.Tensor, torch.Tensor]:
    """Coefficients of the stress change caused by the projected velocity (sheared frame).

    Parameters
    ----------
    lt : Tensor, shape (S,)
        Applied shear lambda * time after each step.
    lamb_dt : float
        Applied shear increment lambda * dt of one step.
    lame_ratio : float
        First Lamé parameter over the shear modulus, L / mu.

    Returns
    -------
    coef : Tensor, shape (S, 4, 4)
        Rows p, q, s, tau; columns ``dt * (ux, uy, vx, vy)``; in units of mu.
    affine : Tensor, shape (S, 4)
        Change from the applied shear alone, in units of mu.
    """
    l = lame_ratio  # noqa: E741
    t2 = lt * lt
    third = 1.0 / 3.0
    one = torch.ones_like(lt)
    iso = -(l + l * t2 * third + 2 * third)
    iso_q = -(l * t2 / 6 + third)
    rows = [
        [iso - 2 * third * t2, 2 * third * lt, 2 * third * lt, iso],
        [iso_q - third * t2, third * lt, third * lt, iso_q],
        [l * t2 / 2 + 1 + t2, -lt, lt, l * t2 / 2 - 1],
        [-lt * (l + 1), one, 1 + t2, -lt * (l + 1)],
    ]
    coef = torch.stack([torch.stack(r, dim=-1) for r in rows], dim=-2)
    affine = torch.stack(
        (2 * third * lt * lamb_dt, third * lt * lamb_dt, -lt * lamb_dt, lamb_dt * one), dim=-1
    )
    return coef, affine


def stress_correction(grad: torch.Tensor, coef: torch.Tensor, affine: torch.Tensor) -> torch.Tensor:
    """Stress change (in units of mu) from the projected velocity gradient.

    Parameters
    ----------
    grad : Tensor, shape (B, 4, ny, nx)
        ``dt * (ux, uy, vx, vy)`` from :func:`velocity_gradient`.
    coef : Tensor, shape (4, 4)
    affine : Tensor, shape (4,)
        One step's entries of :func:`correction_coefficients`.

    Returns
    -------
    Tensor, shape (B, 4, ny, nx)
        Changes of p, q, s, tau divided by mu.
    """
    col = coef.T.reshape(4, 1, 4, 1, 1)  # column b as a (1, 4, 1, 1) broadcast
    out = torch.addcmul(affine.reshape(1, 4, 1, 1), col[0], grad[:, 0:1])
    for b in range(1, 4):
        out.addcmul_(col[b], grad[:, b : b + 1])
    return out


def solve_fourier(rhs: torch.Tensor, inv: torch.Tensor) -> torch.Tensor:
    """Apply the Fourier symbol ``inv`` (:meth:`FFTProjection.inverse`) to ``rhs``.

    Parameters
    ----------
    rhs : Tensor, shape (B, 2, ny, nx)
    inv : Tensor, shape (4, ny, nx // 2 + 1)

    Returns
    -------
    Tensor, shape (B, 2, ny, nx)
    """
    # the symbol is real (cosines and products of sines): scale real and imaginary parts
    # alike, in real arithmetic that torch.compile can fuse (it does not fuse complex ops)
    rhat = torch.view_as_real(torch.fft.rfft2(rhs))  # (B, 2, ny, nx // 2 + 1, 2)
    w = inv[..., None]
    rx, ry = rhat[:, 0], rhat[:, 1]
    z = torch.stack((w[0] * rx + w[1] * ry, w[2] * rx + w[3] * ry), dim=1)
    return torch.fft.irfft2(torch.view_as_complex(z), s=rhs.shape[-2:])


class FFTProjection:
    """Exact periodic solve of the reference's quasi-static velocity system.

    Parameters
    ----------
    ny, nx : int
        Grid size.
    dx, dy : float
        Grid spacing (angstrom).
    lame_ratio : float
        L / mu, with L the first Lamé parameter.
    dtype : torch.dtype
    device : torch.device or str
    """

    def __init__(
        self,
        ny: int,
        nx: int,
        dx: float,
        dy: float,
        lame_ratio: float,
        *,
        dtype: torch.dtype,
        device: torch.device | str,
    ) -> None:
        self.shape = (ny, nx)
        self.dx, self.dy = dx, dy
        self.l = lame_ratio
        kx = 2 * math.pi * torch.arange(nx // 2 + 1, dtype=dtype, device=device) / nx
        ky = 2 * math.pi * torch.fft.fftfreq(ny, dtype=dtype, device=device)
        ky = ky[:, None]
        kx = kx[None, :]
        xsp2, ysp2, xysp = 1 / dx**2, 1 / dy**2, 1 / (dx * dy)
        self.ch = (2 * torch.cos(kx) - 2) * xsp2 + 0 * ky
        self.cv = (2 * torch.cos(ky) - 2) * ysp2 + 0 * kx
        self.cd = -4 * torch.sin(kx) * torch.sin(ky) * xysp
        self.zero = torch.zeros_like(self.ch, dtype=torch.bool)
        self.zero[0, 0] = True

    def symbol(self, lt: torch.Tensor) -> tuple[torch.Tensor, ...]:
        """Entries ``(a11, a12, a21, a22)`` of A(k) / mu.

        Parameters
        ----------
        lt : Tensor, shape (S,)
            Applied shear values.

        Returns
        -------
        tuple of Tensor, each shape (S, ny, nx // 2 + 1)
        """
        l = self.l  # noqa: E741
        lt = lt[:, None, None]
        t2 = lt * lt
        ch, cv, cd = self.ch, self.cv, self.cd
        a11 = (l + 2 + t2) * ch + cv - 0.5 * lt * cd
        a12 = (lt + lt * t2) * ch + lt * cv + 0.25 * (l + 1 - 2 * t2) * cd
        a21 = -lt * (l + 1) * ch + 0.25 * (l + 1) * cd
        a22 = (1 + t2) * ch + (l + 2) * cv - 0.25 * lt * (l + 3) * cd
        return a11, a12, a21, a22

    def inverse(self, lt: torch.Tensor) -> torch.Tensor:
        """Entries of ``mu A(k)^-1`` with the k = 0 block set to zero.

        Parameters
        ----------
        lt : Tensor, shape (S,)

        Returns
        -------
        Tensor, shape (S, 4, ny, nx // 2 + 1)
            ``(b11, b12, b21, b22)`` per applied shear.
        """
        a11, a12, a21, a22 = self.symbol(lt)
        det = a11 * a22 - a12 * a21
        inv = torch.where(self.zero, 0.0, 1.0 / torch.where(self.zero, 1.0, det))
        return torch.stack((a22 * inv, -a12 * inv, -a21 * inv, a11 * inv), dim=1)

    def solve(
        self, fx: torch.Tensor, fy: torch.Tensor, lt: float, inv: torch.Tensor
    ) -> torch.Tensor:
        """Velocity ``mu z`` solving ``A z = T f`` (divide by mu per sample afterwards).

        Parameters
        ----------
        fx, fy : Tensor, shape (B, ny, nx)
            Net force at corners from :func:`net_force`.
        lt : float
            Applied shear lambda * time.
        inv : Tensor, shape (4, ny, nx // 2 + 1)
            :meth:`inverse` at this ``lt``.

        Returns
        -------
        Tensor, shape (B, 2, ny, nx)
        """
        return solve_fourier(torch.stack((fx + lt * fy, fy), dim=1), inv)

    def apply(self, vel: torch.Tensor, lt: float) -> torch.Tensor:
        """Apply A(lt) / mu to corner velocities by the real-space stencil (for checks).

        Parameters
        ----------
        vel : Tensor, shape (B, 2, ny, nx)
        lt : float

        Returns
        -------
        Tensor, shape (B, 2, ny, nx)
        """
        l, t2 = self.l, lt * lt  # noqa: E741
        xsp2, ysp2, xysp = 1 / self.dx**2, 1 / self.dy**2, 1 / (self.dx * self.dy)
        regh = [
            [(l + 2 + t2) * xsp2, (lt + lt * t2) * xsp2],
            [-lt * (l + 1) * xsp2, (1 + t2) * xsp2],
        ]
        regv = [[ysp2, lt * ysp2], [0.0, (l + 2) * ysp2]]
        regd = [
            [-0.5 * xysp * lt, 0.25 * xysp * (l + 1 - 2 * t2)],
            [0.25 * xysp * (l + 1), -0.25 * xysp * lt * (l + 3)],
        ]
        z = vel
        horiz = shift(z, 0, -1) + shift(z, 0, 1)
        vert = shift(z, -1, 0) + shift(z, 1, 0)
        diag = shift(z, -1, -1) - shift(z, -1, 1) - shift(z, 1, -1) + shift(z, 1, 1)
        out = []
        for r in range(2):
            acc = torch.zeros_like(z[:, 0])
            for c in range(2):
                acc = acc + regh[r][c] * (horiz[:, c] - 2 * z[:, c])
                acc = acc + regv[r][c] * (vert[:, c] - 2 * z[:, c])
                acc = acc + regd[r][c] * diag[:, c]
            out.append(acc)
        return torch.stack(out, dim=1)
