"""A C kernel for the adaptive plastic update, built on first use with the system compiler.

The plastic sub-step count of a cell is data dependent (one to several hundred per step), so
the chunked torch version (:func:`models.stz.plasticity.adaptive_plastic_update`) evaluates
sub-steps in passes of guessed length and wastes some; and its gathers and scatters are a
dozen small eager operations per step. ``plastic.c`` loops over the sub-steps of one cell at a
time with the same arithmetic in the same order, so it matches the torch version to the
rounding of ``exp`` (it is compiled without fused multiply-adds) and costs only the sub-steps
each cell needs.

The shared library is compiled once per source version into a cache folder
(``$BAYESCAL_CACHE`` or ``~/.cache/bayescal``) and loaded with :mod:`ctypes`; a call releases
the GIL, so Python threads run it on different samples at once: a call splits its samples
over as many threads as torch has intra-op threads. Where no C compiler is
found, or it fails, :func:`load` returns None and the solver uses the torch version.
"""

from __future__ import annotations

import ctypes
import functools
import hashlib
import itertools
import os
import shutil
import subprocess
import tempfile
import warnings
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import torch

from models.stz.plasticity import SMALL_DEV, PlasticStep, law_constants

__all__ = ["NativePlastic", "cache_dir", "load"]

SOURCES = ("plastic.c", "plastic_body.h")
FLAGS = ("-O2", "-fPIC", "-shared", "-ffp-contract=off", "-fno-fast-math")


def cache_dir() -> Path:
    """Folder for the compiled library: ``$BAYESCAL_CACHE`` or ``~/.cache/bayescal``."""
    root = os.environ.get("BAYESCAL_CACHE") or Path.home() / ".cache" / "bayescal"
    return Path(root) / "native"


def _compiler() -> str | None:
    for name in (os.environ.get("CC"), "cc", "gcc", "clang"):
        if name and shutil.which(name):
            return shutil.which(name)
    return None


def _build(compiler: str) -> Path:
    here = Path(__file__).parent
    digest = hashlib.sha256()
    for name in SOURCES:
        digest.update((here / name).read_bytes())
    digest.update(" ".join((compiler, *FLAGS)).encode())
    target = cache_dir() / f"stz_plastic_{digest.hexdigest()[:16]}.so"
    if target.exists():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    # build beside the target and rename: concurrent processes never load a half-written file
    with tempfile.TemporaryDirectory(dir=target.parent) as tmp:
        out = Path(tmp) / target.name
        cmd = [compiler, *FLAGS, "-o", str(out), str(here / "plastic.c"), "-lm"]
        subprocess.run(cmd, check=True, capture_output=True, text=True, timeout=120)
        os.replace(out, target)
    return target


class NativePlastic:
    """The loaded C kernel; call it like :func:`~models.stz.plasticity.adaptive_plastic_update`.

    Parameters
    ----------
    library : ctypes.CDLL
        The compiled ``plastic.c``.
    """

    def __init__(self, library: ctypes.CDLL) -> None:
        i64, ptr = ctypes.c_int64, ctypes.c_void_p
        self._fns = {}
        for dtype, suffix, real in (
            (torch.float64, "f64", ctypes.c_double),
            (torch.float32, "f32", ctypes.c_float),
        ):
            fn = getattr(library, f"stz_plastic_update_{suffix}")
            fn.restype = i64
            fn.argtypes = [i64, i64, i64, *(ptr,) * 2, i64, *(ptr,) * 6, real, real, i64, real]
            fn.argtypes += [ptr] * 4
            self._fns[dtype] = fn

    def __call__(
        self,
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
    ) -> PlasticStep:
        """One adaptive plastic update (see :func:`adaptive_plastic_update`).

        Parameters
        ----------
        sbar, chi, ddev : Tensor, shape (B, ny, nx)
            CPU, float64 or float32. ``chi`` may be a channel view of the state (cells of a
            sample contiguous); the others are made contiguous if they are not.
        dt, rate_to_stress, ep_over_tau0, chi_inf, c0, t_scale, adapt_fac, max_substeps
            As for :func:`adaptive_plastic_update`.

        Returns
        -------
        PlasticStep
        """
        fn = self._fns[sbar.dtype]
        B = sbar.shape[0]
        cells = sbar[0].numel()
        sbar = sbar.contiguous()
        ddev = ddev.contiguous()
        if chi.stride(-1) != 1 or chi.stride(-2) != chi.shape[-1]:
            chi = chi.contiguous()
        kf, ept, cinf, chi_rate, gain = law_constants(
            rate_to_stress, ep_over_tau0, chi_inf, c0, t_scale, adapt_fac
        )
        factor = torch.empty_like(sbar)
        new_chi = torch.empty_like(sbar)
        new_ddev = torch.empty_like(sbar)
        overrun = torch.zeros(B, dtype=torch.uint8)
        args = (
            cells,
            sbar.data_ptr(),
            chi.data_ptr(),
            chi.stride(0),
            ddev.data_ptr(),
            kf.data_ptr(),
            ept.data_ptr(),
            cinf.data_ptr(),
            chi_rate.data_ptr(),
            gain.data_ptr(),
            dt,
            adapt_fac,
            int(max_substeps),
            SMALL_DEV,
            factor.data_ptr(),
            new_chi.data_ptr(),
            new_ddev.data_ptr(),
            overrun.data_ptr(),
        )
        # as many Python threads as torch's intra-op threads (ctypes releases the GIL)
        parts = min(torch.get_num_threads(), B)
        if parts > 1:
            edges = [round(B * j / parts) for j in range(parts + 1)]
            ranges = [(a, b) for a, b in itertools.pairwise(edges)]
            most = max(_pool(parts).map(lambda r: fn(*r, *args), ranges))
        else:
            most = fn(0, B, *args)
        over = overrun.bool()
        return PlasticStep(factor, new_chi, new_ddev, int(most), over, bool(over.any()))


@functools.cache
def _pool(threads: int) -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=threads, thread_name_prefix="stz-plastic")


@functools.cache
def load() -> NativePlastic | None:
    """The C kernel, compiled on first use; None where no C compiler is found or it fails."""
    compiler = _compiler()
    if compiler is None:
        return None
    try:
        return NativePlastic(ctypes.CDLL(str(_build(compiler))))
    except (OSError, subprocess.SubprocessError) as exc:
        detail = getattr(exc, "stderr", "") or str(exc)
        warnings.warn(
            f"building the C plastic kernel failed ({type(exc).__name__}: {detail[:300]}); "
            "the STZ solver uses its torch version instead.",
            RuntimeWarning,
            stacklevel=2,
        )
        return None
