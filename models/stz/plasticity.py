"""The STZ plastic law (``stz_dynamics_adam`` of the reference) and its adaptive update.

Stresses are in units of the yield stress s_y; effective temperatures chi in units of T_Z.
Below yield (``sbar < 1``) there is no plastic flow. Above it

    Dpl = (ep / tau0) C(sbar) (1 - 1/sbar) exp(-1/chi),   C(s) = -2 + s + exp(-s) (2 + s),

and chi relaxes to chi_inf at the rate ``2 Dpl sbar / c0``. Over one time step the reference
integrates the deviatoric magnitude and chi together in sub-steps, each allowed to lower sbar
by at most ``adapt_fac``; :func:`adaptive_plastic_update` does the same for every cell of a
batch at once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch

__all__ = [
    "PlasticStep",
    "adaptive_plastic_update",
    "law_constants",
    "stz_plastic_rate",
    "substep_chunk",
]

FIRST_PASS = 4
"""Sub-steps evaluated for every yielding cell in the first pass of a step."""

SPLIT_VALUES = 1 << 15
"""Cells x guessed sub-steps above which a step starts with the short first pass."""

SMALL_DEV = 1e-12
"""Below this deviatoric magnitude the reference leaves a cell untouched (ddev kept)."""


def stz_plastic_rate(
    sbar: torch.Tensor, chi: torch.Tensor, ep_over_tau0: torch.Tensor
) -> torch.Tensor:
    """Plastic rate of deformation Dpl [1/s].

    Parameters
    ----------
    sbar : Tensor, shape (...)
        Deviatoric stress magnitude in units of s_y.
    chi : Tensor, shape (...)
        Effective temperature in units of T_Z (> 0).
    ep_over_tau0 : Tensor, broadcastable
        ``ep / tau0`` [1/s].

    Returns
    -------
    Tensor, shape (...)
        Zero where ``sbar < 1``.
    """
    s = sbar.clamp(min=1.0)  # exactly 1 below yield, where (1 - 1/s) = 0
    shape = (s - 2.0) + torch.exp(-s) * (2.0 + s)
    return ep_over_tau0 * shape * (1.0 - 1.0 / s) * torch.exp(-1.0 / chi)


@dataclass(frozen=True, slots=True)
class PlasticStep:
    """Result of one adaptive plastic update.

    Attributes
    ----------
    factor : Tensor, shape (B, ny, nx)
        ``(sbar_old - sbar_new) / sbar_old``: the fraction by which the deviatoric stress shrinks.
    chi : Tensor, shape (B, ny, nx)
        Effective temperature after the plastic part of the step (units of T_Z).
    ddev : Tensor, shape (B, ny, nx)
        ``sbar_old - sbar_new`` (units of s_y); weights the chi diffusion.
    substeps : int
        Largest number of sub-steps any cell needed.
    overrun : Tensor of bool, shape (B,)
        Samples in which some cell still needed sub-steps after ``max_substeps``.
    any_overrun : bool
        Whether ``overrun`` has a true entry (known on the host without a device sync).
    """

    factor: torch.Tensor
    chi: torch.Tensor
    ddev: torch.Tensor
    substeps: int
    overrun: torch.Tensor
    any_overrun: bool = False


def substep_chunk(
    s0: torch.Tensor,
    c0: torch.Tensor,
    keep0: torch.Tensor,
    used0: torch.Tensor,
    dt: float,
    kf: torch.Tensor,
    ept: torch.Tensor,
    cinf: torch.Tensor,
    chi_rate: torch.Tensor,
    gain: torch.Tensor,
    k: torch.Tensor,
    adapt_fac: float,
) -> tuple[torch.Tensor, ...]:
    """Sub-steps ``k`` (a run of consecutive indices) of every running cell at once.

    A full sub-step lowers sbar by exactly ``adapt_fac`` and moves chi a known fraction towards
    chi_inf, independent of the rate; only the time it takes, ``adapt_fac / dplas_k``, depends
    on Dpl. The first ``k`` whose remaining time is too short for a full sub-step finishes the
    cell. Everything is computed from the step-start state and running products / sums that
    are carried from chunk to chunk as sequential scans, so the result does not depend on how
    the sub-steps are cut into chunks (nor, therefore, on the batch a cell is in).

    Parameters
    ----------
    s0, c0 : Tensor, shape (m,)
        sbar and chi of the m running cells at the start of the step.
    keep0, used0 : Tensor, shape (m,)
        Product of the chi keep factors and sum of the sub-step times of the sub-steps before
        ``k[0]`` (1 and 0 for the first chunk).
    dt : float
        Step length.
    kf, ept, cinf, chi_rate, gain : Tensor, shape (m,)
        Per-cell law constants (see :func:`adaptive_plastic_update`).
    k : Tensor, shape (K,)
        Sub-step indices ``k0 .. k0 + K - 1`` in the dtype of ``s0``.
    adapt_fac : float

    Returns
    -------
    n_full : Tensor of int, shape (m,)
        Full sub-steps taken in the chunk (``K``: the cell is still running).
    s_end, c_end : Tensor, shape (m,)
        sbar and chi at the end of the step, for cells with ``n_full < K``.
    keep_next, used_next : Tensor, shape (m,)
        ``keep0`` and ``used0`` for the next chunk, for cells still running.
    """
    K = k.shape[0]
    s_k = s0[:, None] - adapt_fac * k
    factor = 1.0 - gain[:, None] * s_k
    keep = torch.cumprod(torch.cat((keep0[:, None], factor[:, :-1]), dim=1), dim=1)
    c_k = cinf[:, None] - (cinf - c0)[:, None] * keep
    dpl = stz_plastic_rate(s_k, c_k, ept[:, None])
    dplas = kf[:, None] * dpl
    t_sub = adapt_fac / dplas
    used = torch.cumsum(torch.cat((used0[:, None], t_sub[:, :-1]), dim=1), dim=1)
    left = dt - used
    full = left * dplas > adapt_fac
    n_full = torch.cumprod(full.to(torch.int32), dim=1).sum(dim=1)
    # state at the first non-full sub-step (or at the chunk end for running cells)
    j = n_full.clamp(max=K - 1)[:, None]
    s_j = s_k.gather(1, j).squeeze(1)
    c_j = c_k.gather(1, j).squeeze(1)
    left_j = left.gather(1, j).squeeze(1)
    dplas_j = dplas.gather(1, j).squeeze(1)
    dpl_j = dpl.gather(1, j).squeeze(1)
    s_end = s_j - left_j * dplas_j
    c_end = c_j + chi_rate * dpl_j * s_j * (cinf - c_j) * left_j
    keep_next = keep[:, -1] * factor[:, -1]
    used_next = used[:, -1] + t_sub[:, -1]
    return n_full, s_end, c_end, keep_next, used_next


def law_constants(
    rate_to_stress: torch.Tensor,
    ep_over_tau0: torch.Tensor,
    chi_inf: torch.Tensor,
    c0: torch.Tensor,
    t_scale: float,
    adapt_fac: float,
) -> tuple[torch.Tensor, ...]:
    """Per-sample constants of the sub-step law, each a contiguous tensor of shape (B,).

    Parameters
    ----------
    rate_to_stress, ep_over_tau0, chi_inf, c0 : Tensor, shape (B, 1, 1)
        As for :func:`adaptive_plastic_update`.
    t_scale, adapt_fac : float

    Returns
    -------
    kf, ept, cinf, chi_rate, gain : Tensor, shape (B,)
        ``rate_to_stress``, ``ep_over_tau0``, ``chi_inf``, ``2 t_scale / c0`` and the relative
        chi gain per unit sbar of a full sub-step, ``chi_rate adapt_fac / kf`` (the rate Dpl
        cancels out of it).
    """
    B = rate_to_stress.shape[0]
    kf = rate_to_stress.reshape(B).contiguous()
    chi_rate = ((2.0 * t_scale) / c0.reshape(B)).contiguous()
    gain = chi_rate * adapt_fac / kf
    ept = ep_over_tau0.reshape(B).contiguous()
    return kf, ept, chi_inf.reshape(B).contiguous(), chi_rate, gain


def adaptive_plastic_update(
    sbar: torch.Tensor,
    chi: torch.Tensor,
    ddev: torch.Tensor,
    dt: float,
    *,
    rate_to_stress: torch.Tensor,
    ep_over_tau0: torch.Tensor,
    chi_inf: torch.Tensor,
    c0: torch.Tensor,
    t_scale: float,
    adapt_fac: float,
    max_substeps: int,
    first_chunk: int = 8,
    kernel: Callable[..., tuple[torch.Tensor, ...]] = substep_chunk,
) -> PlasticStep:
    """Integrate plastic relaxation of sbar and growth of chi over one step, adaptively.

    Each sub-step evaluates ``dplas = rate_to_stress * Dpl(sbar, chi)``; if ``dt_left * dplas``
    exceeds ``adapt_fac`` it advances by ``adapt_fac / dplas`` (so sbar falls by exactly
    ``adapt_fac``), otherwise by what is left of ``dt``. chi gains
    ``2 Dpl sbar / c0 (chi_inf - chi) t_scale dt_sub`` with Dpl and sbar from the sub-step start.
    Only cells at or above yield are iterated (gathered into a compact list).

    Parameters
    ----------
    sbar, chi, ddev : Tensor, shape (B, ny, nx)
        Deviatoric magnitude (units of s_y), chi (units of T_Z), previous ddev.
    dt : float
        Step in simulation time units.
    rate_to_stress : Tensor, shape (B, 1, 1)
        ``2 mu t_scale`` (turns Dpl [1/s] into a stress rate per time unit).
    ep_over_tau0, chi_inf, c0 : Tensor, shape (B, 1, 1)
        Law parameters (chi_inf in units of T_Z).
    t_scale : float
        Seconds per simulation time unit.
    adapt_fac : float
        Largest drop of sbar per sub-step.
    max_substeps : int
        Give up (flag the sample) after this many sub-steps.
    first_chunk : int, optional
        Guessed sub-step count (the previous step's is a good guess). The first pass evaluates
        this many sub-steps of every yielding cell, unless cells x guess exceeds
        :data:`SPLIT_VALUES`: then it evaluates :data:`FIRST_PASS` and the second pass, over
        the cells still running, the guess. Later passes double it. Capped so that one pass
        holds at most about 2^20 values.
    kernel : callable, optional
        :func:`substep_chunk` or a compiled version of it (:mod:`models.stz.kernels`).

    Returns
    -------
    PlasticStep
    """
    B = sbar.shape[0]
    flat_s = sbar.reshape(-1)
    new_chi = chi.clone()
    new_ddev = torch.where(sbar < SMALL_DEV, ddev, torch.zeros_like(ddev))
    factor = torch.zeros_like(sbar)
    overrun = torch.zeros(B, dtype=torch.bool, device=sbar.device)
    idx = torch.nonzero(flat_s >= 1.0).squeeze(1)
    if idx.numel() == 0:
        return PlasticStep(factor, new_chi, new_ddev, 0, overrun)

    cells = sbar[0].numel()
    sample = torch.div(idx, cells, rounding_mode="floor")
    s0 = flat_s[idx]
    per_sample = law_constants(rate_to_stress, ep_over_tau0, chi_inf, c0, t_scale, adapt_fac)
    kf, ept, cinf, chi_rate, gain = (x[sample] for x in per_sample)
    keep = torch.ones_like(s0)
    used = torch.zeros_like(s0)
    out_s = torch.empty_like(s0)
    out_c = torch.empty_like(s0)
    pos = torch.arange(idx.numel(), device=idx.device)
    s, c = s0, chi.reshape(-1)[idx]  # of the running cells

    done_steps = 0
    hit_cap = False
    # Most yielding cells finish within a few sub-steps, a few need hundreds: a short first
    # pass over all of them, then passes of the remaining cells from the guess on.
    # Small grids: one pass of the guessed length (per-pass overhead dominates there).
    m = idx.numel()
    first = FIRST_PASS if m * first_chunk > SPLIT_VALUES else first_chunk
    chunk = int(max(1, min(first, (1 << 20) // max(1, m), max_substeps + 1)))
    while True:
        k = torch.arange(done_steps, done_steps + chunk, dtype=s0.dtype, device=s0.device)
        n_full, s_end, c_end, keep_next, used_next = kernel(
            s, c, keep, used, dt, kf, ept, cinf, chi_rate, gain, k, adapt_fac
        )
        fin = n_full < chunk
        if done_steps + chunk + 1 > max_substeps:
            over = n_full + (done_steps + 1) > max_substeps
            if bool(over.any()):
                overrun[sample[pos[over]]] = True
                hit_cap = True
        n_fin = int(fin.sum())
        if n_fin == s.numel():
            out_s[pos] = s_end
            out_c[pos] = c_end
            done_steps += int(n_full.max()) + 1
            break
        done_steps += chunk
        if n_fin:
            out_s[pos[fin]] = s_end[fin]
            out_c[pos[fin]] = c_end[fin]
        run = ~fin
        # running cells carry on after the whole chunk of full sub-steps
        pos, s, c, keep, used = pos[run], s[run], c[run], keep_next[run], used_next[run]
        kf, ept, cinf, chi_rate, gain = kf[run], ept[run], cinf[run], chi_rate[run], gain[run]
        if done_steps >= max_substeps:
            out_s[pos] = s - adapt_fac * done_steps
            out_c[pos] = cinf - (cinf - c) * keep
            break
        chunk = max(8, min(max(2 * chunk, first_chunk), (1 << 20) // max(1, s.numel())))
    n_iter = done_steps

    dd = s0 - out_s
    new_chi.reshape(-1)[idx] = out_c
    new_ddev.reshape(-1)[idx] = dd
    factor.reshape(-1)[idx] = dd / s0
    return PlasticStep(factor, new_chi, new_ddev, n_iter, overrun, hit_cap)
