"""The per-step kernels of the STZ solver, eager or fused by ``torch.compile``.

One quasi-static step is some 150 small element-wise tensor operations on (B, 7, ny, nx)
arrays plus the plastic sub-step kernel; run eagerly, each is a separate pass over memory with
its own dispatch overhead. ``torch.compile`` (inductor, C++/OpenMP on CPU) fuses them into a few
loops, which on CPU is several times faster per step once compiled. Compilation costs tens of
seconds the first time in a process (inductor caches the generated code on disk, so later
processes pay much less), so :func:`select_kernels` compiles only for runs long enough to
gain from it, and never where no C++ compiler is found.
"""

from __future__ import annotations

import functools
import shutil
from collections.abc import Callable
from dataclasses import dataclass

import torch

from models.stz.plasticity import substep_chunk
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
    """

    prepare: Callable[..., tuple[torch.Tensor, ...]]
    finish: Callable[..., torch.Tensor]
    project: Callable[..., tuple[torch.Tensor, ...]]
    substeps: Callable[..., tuple[torch.Tensor, ...]]
    compiled: bool


EAGER = StepKernels(advect_prepare, advect_finish, project_and_correct, substep_chunk, False)


@functools.cache
def compiled_kernels() -> StepKernels:
    """The kernels compiled with ``torch.compile`` (built once per process, lazily)."""
    return StepKernels(
        *(torch.compile(f) for f in (advect_prepare, advect_finish, project_and_correct)),
        torch.compile(substep_chunk, dynamic=True),  # its sizes change every step
        compiled=True,
    )


def can_compile(device: torch.device) -> bool:
    """Whether ``torch.compile`` can generate code here (a C++ compiler on CPU, or CUDA)."""
    if device.type == "cuda":
        return True
    compiler = shutil.which("g++") or shutil.which("c++")
    return device.type == "cpu" and compiler is not None


def select_kernels(compile: bool | None, *, device: torch.device, sample_steps: int) -> StepKernels:
    """Eager or compiled kernels for a run.

    Parameters
    ----------
    compile : bool or None
        True: compile (raises if impossible); False: eager; None: compile when the run has at
        least :data:`AUTO_COMPILE_SAMPLE_STEPS` sample-steps and a compiler is available.
    device : torch.device
    sample_steps : int
        Batch size times quasi-static steps of the whole call.

    Returns
    -------
    StepKernels

    Raises
    ------
    RuntimeError
        ``compile=True`` where no C++ compiler is found for a CPU run.
    """
    if compile is None:
        compile = sample_steps >= AUTO_COMPILE_SAMPLE_STEPS and can_compile(device)
    elif compile and not can_compile(device):
        raise RuntimeError(
            "compile=True needs a C++ compiler (g++ or c++ on PATH) for torch.compile on CPU; "
            "install one or pass compile=False."
        )
    return compiled_kernels() if compile else EAGER
