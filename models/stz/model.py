"""Public entry point: :func:`simulate` runs the quasi-static STZ model for parameter sets."""

from __future__ import annotations

import dataclasses
import itertools
import warnings
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import torch
import xarray as xr
from numpy.typing import ArrayLike

from models.stz.interp import bicubic_periodic
from models.stz.kernels import EAGER, StepKernels, select_kernels
from models.stz.output import to_dataset
from models.stz.params import (
    ADAPT_FAC,
    CUZR,
    Material,
    chi_scale_kelvin,
    normalize_params,
    time_unit,
)
from models.stz.solver import RunResult, integrate

__all__ = ["simulate"]


def simulate(
    pe0: ArrayLike,
    params: Mapping[str, ArrayLike],
    *,
    nx: int = 32,
    ny: int = 32,
    frames: int = 100,
    steps_per_frame: int = 60,
    strain_rate: float = 1e8,
    final_strain: float = 0.5,
    box: float = 400.0,
    material: Material = CUZR,
    dtype: torch.dtype = torch.float64,
    device: str | torch.device = "cpu",
    adapt_fac: float = ADAPT_FAC,
    max_substeps: int = 20000,
    ghost_ddev: bool = False,
    workers: int = 1,
    batch_chunk: int | None = None,
    compile: bool | None = None,
    native_plastic: bool | None = None,
) -> xr.Dataset:
    """Simulate simple shear of a periodic 2-D glass with quasi-static STZ plasticity.

    A re-implementation of the quasi-static solver of SURGroup/STZ (commit aea52b3,
    ``shear_energy_Adam3`` with ``stz_dynamics_adam``): hypoelastic stress in a frame that
    shears with the box, mu = 20 GPa / s_y, nu = 0.35, a 40 nm periodic square, 2nd-order ENO
    advection, the adaptive STZ update of stress and chi, Dpl-weighted chi diffusion, and a
    projection that restores force balance after every step (solved exactly by FFT instead of
    multigrid). Vectorised over samples and cells with torch.

    Parameters
    ----------
    pe0 : array_like, shape (my, mx)
        MD potential energy per atom [eV] of frame 0 on a periodic cell-centred grid.
        Index convention: axis 0 is y, axis 1 is x -- line k of an ``pe.MD.*`` file is row k
        (the reference reads the file the same way: line = y index, value in line = x index).
        Bicubically interpolated onto the ``ny x nx`` grid (identity when the sizes agree).
    params : mapping of str to float or array_like, shape (n,)
        ``beta`` [1/eV], ``u0`` [eV], ``c0`` [-], ``s_y`` [GPa], ``chi_inf`` [K], optional
        ``chi_len`` [angstrom] (default 25.59275383) and ``ep`` [-] (default 44.52901253).
        Any 1-D array makes the call batched (a ``sample`` dim); floats broadcast.
    nx, ny : int, optional
        Grid size (default 32 x 32).
    frames : int, optional
        Output frames after the initial one (default 100).
    steps_per_frame : int, optional
        Quasi-static steps per frame (default 60).
    strain_rate : float, optional
        Applied engineering shear rate [1/s] (default 1e8).
    final_strain : float, optional
        Applied engineering shear strain at the last frame (default 0.5).
    box : float, optional
        Side of the square box in the material's length unit (default 400 angstrom).
    material : Material, optional
        Shear modulus, Poisson's ratio, density, T_Z, tau0 and length unit (default
        :data:`models.stz.CUZR`, the reference's glass; another unit system works when the
        parameters use it: ``s_y`` in the modulus's unit, ``chi_inf`` in ``t_z``'s).
    dtype : torch.dtype, optional
        float64 (default) or float32.
    device : str or torch.device, optional
        ``"cpu"`` (default) or ``"cuda"``.
    adapt_fac : float, optional
        Largest deviatoric-stress drop per plastic sub-step, units of s_y (default 2e-3).
    max_substeps : int, optional
        Plastic sub-steps allowed in one step before a sample is declared failed.
    ghost_ddev : bool, optional
        False (default) reproduces the reference, whose ghost cells never receive the plastic
        decrement that weights chi diffusion (zero weight from across the periodic seams);
        True uses the periodic neighbour instead.
    workers : int, optional
        Cores to use. Eager kernels: split a batch into this many groups of samples run
        concurrently in Python threads (torch releases the GIL inside its kernels); with
        ``torch.set_num_threads(1)`` this is cheaper than torch's own threads for these small
        tensors. Compiled kernels: the batch runs as one with ``workers`` torch intra-op
        threads (Python threads would serialise on the compiled wrappers). Results do not
        depend on it. Default 1.
    batch_chunk : int, optional
        Largest number of samples integrated together; bigger batches are split into chunks
        of this size (run one after another, or by the ``workers``). Results do not depend on
        it. Default 16 with eager kernels (keeps the working set in cache), 128 compiled (per-
        call overhead is then what a bigger batch amortises).
    compile : bool or None, optional
        Fuse the per-step kernels with ``torch.compile`` (:mod:`models.stz.kernels`): several
        times faster per step, after a one-off compilation of tens of seconds per process
        (cached on disk across processes). None (default) compiles for calls of at least
        ``AUTO_COMPILE_SAMPLE_STEPS`` sample-steps (about a batch of 4 full runs) when a C++
        compiler is available; results agree with the eager kernels to round-off.
    native_plastic : bool or None, optional
        Run the adaptive plastic update in the small C kernel of :mod:`models.stz.native`
        (built on first use with the system C compiler, cached on disk): it loops over each
        cell's sub-steps instead of evaluating guessed chunks of them, several times faster.
        None (default) uses it on CPU when a C compiler is found, else the torch version;
        results agree with the torch version to round-off.

    Returns
    -------
    xarray.Dataset
        ``exy([sample,] frame, y, x)`` Green-Lagrange tensor shear strain at cell corners;
        ``chi([sample,] frame, y, x)`` effective temperature [K] at cell centres;
        ``stress([sample,] frame)`` grid-mean physical shear stress tau [GPa];
        ``status(sample)`` (batched calls only) 0 ok, 1 non-finite/absurd fields, 2 too many
        plastic sub-steps -- failed samples are NaN; coord ``strain(frame)`` applied shear.
        Units in each variable's attrs; parameters and options in the Dataset attrs.

    Raises
    ------
    ValueError
        Bad ``pe0`` or parameters, or an initial chi that is not positive everywhere.
    RuntimeError
        An unbatched run that diverged (message names the parameters).

    Examples
    --------
    >>> pe = np.full((8, 8), -3.36)
    >>> p = dict(beta=8.0, u0=-3.3626, c0=0.3, s_y=0.95, chi_inf=1769.35)
    >>> ds = simulate(pe, p, nx=8, ny=8, frames=2, steps_per_frame=5)
    >>> [round(float(s), 6) for s in ds.stress]
    [0.0, 5.0, 10.0]
    """
    pset = normalize_params(params)
    pe = np.asarray(pe0, dtype=np.float64)
    if pe.ndim != 2 or min(pe.shape) < 3:
        raise ValueError(
            f"pe0 must be a 2-D (ny, nx) array with both sizes >= 3; got shape {pe.shape}."
        )
    if not np.isfinite(pe).all():
        raise ValueError(
            f"pe0 must be finite; it holds {int((~np.isfinite(pe)).sum())} NaN/inf values."
        )
    for name, val in (
        ("nx", nx),
        ("ny", ny),
        ("frames", frames),
        ("steps_per_frame", steps_per_frame),
    ):
        if not isinstance(val, int | np.integer) or val < 1 or (name in ("nx", "ny") and val < 4):
            raise ValueError(f"{name} must be a positive int (nx, ny >= 4); got {val!r}.")
    for name, num in (
        ("strain_rate", strain_rate),
        ("final_strain", final_strain),
        ("box", box),
        ("adapt_fac", adapt_fac),
    ):
        if not (np.isfinite(num) and num > 0):
            raise ValueError(f"{name} must be a finite number > 0; got {num!r}.")
    if dtype not in (torch.float64, torch.float32):
        raise ValueError(f"dtype must be torch.float64 or torch.float32; got {dtype!r}.")

    pe_grid = bicubic_periodic(pe, ny, nx)
    v = pset.values
    if not isinstance(material, Material):
        raise ValueError(f"material must be a models.stz.Material; got {material!r}.")
    kscale = chi_scale_kelvin(material)
    chi_k = v["beta"][:, None, None] * (pe_grid[None] - v["u0"][:, None, None]) * kscale
    chi_min = chi_k.reshape(pset.n, -1).min(axis=1)
    bad = ~(chi_min > 0)
    if bad.any():
        k = int(np.flatnonzero(bad)[0])
        raise ValueError(
            f"initial chi = beta * (pe0 - u0) * T_Z must be > 0 in every cell; sample {k} "
            f"(beta={v['beta'][k]}, u0={v['u0'][k]}) gives min chi = {chi_min[k]:.6g} "
            f"{'K' if material == CUZR else '(units of t_z)'} (min pe0 on the grid "
            f"{pe_grid.min():.6g}{' eV' if material == CUZR else ''}): need beta > 0 and "
            "u0 < min(pe0)."
        )

    dev = torch.device(device)

    def t(a: np.ndarray) -> torch.Tensor:
        return torch.as_tensor(a, dtype=dtype, device=dev)

    if not isinstance(workers, int | np.integer) or workers < 1:
        raise ValueError(f"workers must be a positive int; got {workers!r}.")

    if compile is not None and not isinstance(compile, bool):
        raise ValueError(f"compile must be True, False or None; got {compile!r}.")
    if native_plastic is not None and not isinstance(native_plastic, bool):
        raise ValueError(f"native_plastic must be True, False or None; got {native_plastic!r}.")
    kernels = select_kernels(
        compile,
        device=dev,
        dtype=dtype,
        sample_steps=pset.n * int(frames) * int(steps_per_frame),
        native_plastic=native_plastic,
    )

    def run(rows: slice) -> RunResult:
        nonlocal kernels
        if kernels.compiled and compile is None:
            try:
                return integrate_rows(rows, kernels)
            except Exception as exc:  # any compiler failure: fall back to eager
                warnings.warn(
                    f"torch.compile of the STZ kernels failed ({type(exc).__name__}: "
                    f"{str(exc)[:200]}); running eager kernels instead (compile=False "
                    "silences this).",
                    RuntimeWarning,
                    stacklevel=3,
                )
                kernels = dataclasses.replace(EAGER, plastic=kernels.plastic)
        return integrate_rows(rows, kernels)

    def integrate_rows(rows: slice, kernels: StepKernels) -> RunResult:
        return integrate(
            t(chi_k[rows] / material.t_z),
            s_y=t(v["s_y"][rows]),
            c0=t(v["c0"][rows]),
            chi_inf=t(v["chi_inf"][rows] / material.t_z),
            ep=t(v["ep"][rows]),
            chi_len=t(v["chi_len"][rows]),
            box=float(box),
            frames=int(frames),
            steps_per_frame=int(steps_per_frame),
            strain_rate=float(strain_rate),
            final_strain=float(final_strain),
            t_scale=time_unit(material),
            material=material,
            adapt_fac=float(adapt_fac),
            max_substeps=int(max_substeps),
            ghost_ddev=bool(ghost_ddev),
            kernels=kernels,
        )

    if batch_chunk is None:
        batch_chunk = 128 if kernels.compiled else 16
    if not isinstance(batch_chunk, int | np.integer) or batch_chunk < 1:
        raise ValueError(f"batch_chunk must be a positive int; got {batch_chunk!r}.")
    # eager: `workers` Python threads over sample groups; compiled: one group per batch_chunk
    # on `workers` torch threads (Python threads serialise on the compiled wrappers)
    groups = 1 if kernels.compiled else int(workers)
    n_chunks = min(max(groups, -(-pset.n // int(batch_chunk))), pset.n)
    edges = np.linspace(0, pset.n, n_chunks + 1).round().astype(int)
    chunks = [slice(a, b) for a, b in itertools.pairwise(edges)]
    if groups > 1 and len(chunks) > 1:
        with ThreadPoolExecutor(max_workers=groups) as pool:
            parts = list(pool.map(run, chunks))
    else:
        before = torch.get_num_threads()
        threads = int(workers) if kernels.compiled and workers > 1 else before
        if threads != before:
            torch.set_num_threads(threads)
        try:
            parts = [run(rows) for rows in chunks]
        finally:
            if threads != before:
                torch.set_num_threads(before)
    if len(parts) == 1:
        result = parts[0]
    else:
        result = RunResult(
            exy=torch.cat([r.exy for r in parts]),
            chi=torch.cat([r.chi for r in parts]),
            tau=torch.cat([r.tau for r in parts]),
            status=torch.cat([r.status for r in parts]),
            max_substeps=max(r.max_substeps for r in parts),
        )
    if not pset.batched and int(result.status[0]) != 0:
        raise RuntimeError(
            f"STZ run diverged (status {int(result.status[0])}) for parameters {pset.row(0)}."
        )
    strain = final_strain * np.arange(frames + 1) / frames
    options = {
        "nx": nx,
        "ny": ny,
        "frames": frames,
        "steps_per_frame": steps_per_frame,
        "strain_rate": strain_rate,
        "final_strain": final_strain,
        "box": box,
        "dtype": str(dtype),
        "device": str(dev),
        "adapt_fac": adapt_fac,
        "max_substeps": max_substeps,
        "ghost_ddev": int(ghost_ddev),
        "projection": "fft",
        "workers": workers,
        "batch_chunk": batch_chunk,
        "compiled": int(kernels.compiled),
        "native_plastic": int(kernels.plastic is not None),
    }
    if material != CUZR:
        options |= {f"material_{k}": getattr(material, k) for k in material.__slots__}
    return to_dataset(
        result,
        pset,
        s_y=v["s_y"],
        strain=strain,
        box=float(box),
        options=options,
        material=material,
    )
