"""The per-step kernels of the STZ solver, eager or fused by ``torch.compile``.

One quasi-static step is some 150 small element-wise tensor operations on (B, 7, ny, nx)
arrays plus the plastic sub-step kernel; run eagerly, each is a separate pass over memory with
its own dispatch overhead. ``torch.compile`` (inductor, C++/OpenMP on CPU) fuses them into a few
loops, which on CPU is several times faster per step once compiled. Compilation costs tens of
seconds the first time in a process (inductor caches the generated code on disk, so later
processes pay much less), so :func:`select_kernels` compiles only for runs long enough to
gain from it, and never where no C++ compiler is found.

Independently of that, the plastic update itself runs in a small C kernel
(:mod:`models.stz.native`) on CPU wherever a C compiler is found: its sub-step count is data
dependent, which a loop per cell handles far better than fused tensor code.
"""

from __future__ import annotations

import dataclasses
import functools
import shutil
import warnings
from collections.abc import Callable
from dataclasses import dataclass

import torch

from models.stz import native
from models.stz.plasticity import PlasticStep, substep_chunk
from models.stz.step import advect_finish, advect_prepare, project_and_correct

__all__ = ["EAGER", "StepKernels", "can_compile", "compiled_kernels", "select_kernels"]

#: Sample-steps (batch size x quasi-static steps) from which ``compile=None`` compiles: about
#: one full run of a batch of 4, where compilation (cold cache) costs less than it saves.
AUTO_COMPILE_SAMPLE_STEPS = 24_000


@dataclass(frozen=True, slots=True)
class StepKernels:
    """The functions :func:`models.stz.solver.integrate` calls each step.

    Attributes
    ----------
    prepare, finish, project, substeps : callable
        :func:`~models.stz.step.advect_prepare`, :func:`~models.stz.step.advect_finish`,
        :func:`~models.stz.step.project_and_correct` and
        :func:`~models.stz.plasticity.substep_chunk`, or compiled versions of them.
    compiled : bool
        Whether they are compiled (then step-dependent scalars are passed as 0-d tensors, so
        that a new applied shear does not trigger a recompile).
    plastic : callable or None
        A replacement for :func:`~models.stz.plasticity.adaptive_plastic_update` as a whole
        (the C kernel of :mod:`models.stz.native`), or None to use that function with
        ``substeps``.
    """

    prepare: Callable[..., tuple[torch.Tensor, ...]]
    finish: Callable[..., torch.Tensor]
    project: Callable[..., tuple[torch.Tensor, ...]]
    substeps: Callable[..., tuple[torch.Tensor, ...]]
    compiled: bool
    plastic: Callable[..., PlasticStep] | None = None


EAGER = StepKernels(advect_prepare, advect_finish, project_and_correct, substep_chunk, False)


@functools.cache
def compiled_kernels() -> StepKernels:
    """The kernels compiled with ``torch.compile`` (built once per process, lazily)."""
    # the FFTs stay library calls (complex tensors), everything around them is real and fused;
    # inductor's generic note about complex operators says nothing a user can act on
    warnings.filterwarnings(
        "ignore", message="Torchinductor does not support code generation for complex"
    )
    return StepKernels(
        torch.compile(advect_prepare),
        torch.compile(advect_finish),
        torch.compile(project_and_correct),
        torch.compile(substep_chunk, dynamic=True),  # its sizes change every step
        compiled=True,
    )


def can_compile(device: torch.device) -> bool:
    """Whether ``torch.compile`` can generate code here (a C++ compiler on CPU, or CUDA)."""
    if device.type == "cuda":
        return True
    compiler = shutil.which("g++") or shutil.which("c++")
    return device.type == "cpu" and compiler is not None


def select_kernels(
    compile: bool | None,
    *,
    device: torch.device,
    dtype: torch.dtype = torch.float64,
    sample_steps: int,
    native_plastic: bool | None = None,
) -> StepKernels:
    """Eager or compiled kernels for a run, with the C plastic kernel where it applies.

    Parameters
    ----------
    compile : bool or None
        True: compile (raises if impossible); False: eager; None: compile when the run has at
        least :data:`AUTO_COMPILE_SAMPLE_STEPS` sample-steps and a compiler is available.
    device : torch.device
    dtype : torch.dtype, optional
    sample_steps : int
        Batch size times quasi-static steps of the whole call.
    native_plastic : bool or None, optional
        True: the C plastic kernel (raises if it cannot be built or does not apply); False:
        the torch plastic update; None (default): the C kernel on CPU when it can be built.

    Returns
    -------
    StepKernels

    Raises
    ------
    RuntimeError
        ``compile=True`` where no C++ compiler is found for a CPU run, or
        ``native_plastic=True`` where the C kernel cannot be built or used.
    """
    if compile is None:
        compile = sample_steps >= AUTO_COMPILE_SAMPLE_STEPS and can_compile(device)
    elif compile and not can_compile(device):
        raise RuntimeError(
            "compile=True needs a C++ compiler (g++ or c++ on PATH) for torch.compile on CPU; "
            "install one or pass compile=False."
        )
    kernels = compiled_kernels() if compile else EAGER
    if native_plastic is False:
        return kernels
    usable = device.type == "cpu" and dtype in (torch.float64, torch.float32)
    plastic = native.load() if usable else None
    if plastic is None:
        if native_plastic:
            raise RuntimeError(
                "native_plastic=True needs a CPU run in float64/float32 and a C compiler (cc, "
                f"gcc or clang on PATH, or $CC); got device {device}, dtype {dtype}."
            )
        return kernels
    return dataclasses.replace(kernels, plastic=plastic)
