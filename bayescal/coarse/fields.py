"""Per-atom MD frames -> continuum fields in the layout of :func:`bayescal.datasets.load_cuzr`."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal, cast

import numpy as np
import xarray as xr

from bayescal.coarse.atomic_strain import StrainMeasure, atomic_strain
from bayescal.coarse.frame import Frame
from bayescal.coarse.gp import GPOptions, gp_field
from bayescal.coarse.grid import Grid, bin_average, box_frame_xy, kernel_average
from bayescal.coarse.mean import MeanFunction
from bayescal.errors import InputDataError

__all__ = ["CoarseGrainOptions", "Method", "coarse_grain", "coarse_grain_atoms"]

logger = logging.getLogger(__name__)

Method = Literal["bin", "gaussian", "tophat", "gp"]


@dataclass(frozen=True, kw_only=True)
class CoarseGrainOptions:
    """Options of :func:`coarse_grain`.

    Parameters
    ----------
    method : {"bin", "gaussian", "tophat", "gp"}
        Cell average, Gaussian kernel (Nadaraya–Watson), moving (top-hat) window, or GP.
    shape : tuple of int
        Output grid ``(ny, nx)``.
    quantities : mapping of str to str
        Output variable -> per-atom column, default ``{"pe": "c_pe"}``.
    strain : bool
        Also compute ``gamma_xy`` (2 x the atomic strain's xy component, reference = the run's
        first frame).
    cutoff : float
        Atomic-strain neighbour cutoff (length units of the dump, e.g. Å).
    dims : {2, 3}
        Atomic strain in 2D (x, y) or 3D.
    measure : {"green_lagrange", "infinitesimal"}
        Strain measure.
    width : float, optional
        Kernel width (Gaussian sd or top-hat side, length units); default two cell sizes.
    gp : GPOptions
        GP options.
    means : mapping of str to MeanFunction
        GP mean per output variable (default a learned constant).
    length_scale : float
        Factor from dump length units to the output coords (0.1: Å -> nm).
    length_units : str
        Units of the output coords.
    units : mapping of str to str
        Units attribute of each output quantity (default ``pe``: ``eV/atom``).
    """

    method: Method = "bin"
    shape: tuple[int, int] = (32, 32)
    quantities: Mapping[str, str] = field(default_factory=lambda: {"pe": "c_pe"})
    strain: bool = True
    cutoff: float = 3.8
    dims: Literal[2, 3] = 3
    measure: StrainMeasure = "green_lagrange"
    width: float | None = None
    gp: GPOptions = field(default_factory=GPOptions)
    means: Mapping[str, MeanFunction] = field(default_factory=dict)
    length_scale: float = 0.1
    length_units: str = "nm"
    units: Mapping[str, str] = field(default_factory=lambda: {"pe": "eV/atom"})

    def __post_init__(self) -> None:
        if self.method not in ("bin", "gaussian", "tophat", "gp"):
            raise InputDataError(
                f"method must be one of 'bin', 'gaussian', 'tophat', 'gp'; got {self.method!r}."
            )
        if len(self.shape) != 2 or min(self.shape) < 1:
            raise InputDataError(f"shape must be (ny, nx) positive ints; got {self.shape!r}.")
        if not self.length_scale > 0:
            raise InputDataError(f"length_scale must be positive; got {self.length_scale!r}.")
        unknown = set(self.means) - set(self.quantities) - {"gamma_xy"}
        if unknown:
            raise InputDataError(f"means given for unknown outputs {sorted(unknown)}.")


def coarse_grain_atoms(
    xy: np.ndarray, values: np.ndarray, grid: Grid, options: CoarseGrainOptions, *, name: str = ""
) -> dict[str, np.ndarray]:
    """One per-atom quantity -> ``{"mean", "std"[, "count"]}`` fields (ny, nx) by the method."""
    opt = options
    if opt.method == "bin":
        m, c, s = bin_average(xy, values, grid)
        return {"mean": m, "std": s, "count": c}
    if opt.method in ("gaussian", "tophat"):
        width = opt.width or 2.0 * min(grid.lx / grid.nx, grid.ly / grid.ny)
        m, s, _ = kernel_average(xy, values, grid, width=width, kernel=opt.method)
        return {"mean": m, "std": s}
    res = gp_field(xy, values, grid, mean=opt.means.get(name), options=opt.gp)
    return {"mean": res.mean, "std": res.std}


def _run(frames: Iterable[Frame], opt: CoarseGrainOptions) -> xr.Dataset:
    ref: Frame | None = None
    out: dict[str, list[np.ndarray]] = {}
    strains, steps = [], []
    grid: Grid | None = None
    for fr in frames:
        if not isinstance(fr, Frame):
            raise InputDataError(f"expected Frame objects; got {type(fr).__name__}.")
        ref = fr if ref is None else ref
        if not np.array_equal(fr.ids, ref.ids):
            raise InputDataError(
                f"timestep {fr.timestep}: atom ids differ from the first frame's; read dumps "
                "with sort=True and keep the atom count fixed."
            )
        grid = grid or Grid.from_box(ref.box, nx=opt.shape[1], ny=opt.shape[0])
        g = Grid.from_box(fr.box, nx=opt.shape[1], ny=opt.shape[0])
        xy = box_frame_xy(fr.positions, fr.box)
        per_atom = {name: fr.column(col).astype(float) for name, col in opt.quantities.items()}
        if opt.strain:
            st = atomic_strain(
                ref.positions,
                fr.positions,
                box0=ref.box,
                box=fr.box,
                cutoff=opt.cutoff,
                dims=opt.dims,
                measure=opt.measure,
            )
            per_atom = {"gamma_xy": 2.0 * st.exy} | per_atom
        for name, vals in per_atom.items():
            ok = np.isfinite(vals)
            res = coarse_grain_atoms(xy[ok], vals[ok], g, opt, name=name)
            for key, arr in res.items():
                suffix = {"mean": "", "std": "_std", "count": "_count"}[key]
                out.setdefault(name + suffix, []).append(arr)
        xy_tilt = fr.box.tilts[0] - ref.box.tilts[0]
        strains.append(xy_tilt / ref.box.lengths[1])
        steps.append(fr.timestep)
    if ref is None or grid is None:
        raise InputDataError("no frames to coarse-grain.")
    ls = opt.length_scale
    units = {"gamma_xy": "1"} | dict(opt.units)
    data_vars = {}
    for key, arrs in out.items():
        base = key.removesuffix("_std").removesuffix("_count")
        attrs = {"units": units.get(base, "")}
        if key.endswith("_std"):
            attrs["long_name"] = f"standard deviation of {base} ({opt.method})"
        elif key.endswith("_count"):
            attrs = {"units": "1", "long_name": f"atoms per cell for {base}"}
        else:
            attrs["long_name"] = f"{base} coarse-grained by {opt.method}"
        data_vars[key] = (("frame", "y", "x"), np.stack(arrs), attrs)
    return xr.Dataset(
        data_vars,
        coords={
            "strain": (
                "frame",
                np.asarray(strains),
                {"units": "1", "long_name": "applied engineering shear strain (box tilt xy / ly)"},
            ),
            "timestep": ("frame", np.asarray(steps)),
            "y": (
                "y",
                (grid.y - grid.y0) * ls,
                {
                    "units": opt.length_units,
                    "axis": "Y",
                    "long_name": "cell-centre y position (box frame)",
                },
            ),
            "x": (
                "x",
                (grid.x - grid.x0) * ls,
                {
                    "units": opt.length_units,
                    "axis": "X",
                    "long_name": "cell-centre x position (box frame)",
                },
            ),
        },
        attrs={"box_size": float(grid.lx * ls), "box_size_units": opt.length_units},
    )


def coarse_grain(
    runs: Iterable[Frame] | Sequence[Iterable[Frame]],
    options: CoarseGrainOptions | None = None,
    **kwargs: Any,
) -> xr.Dataset:
    """Coarse-grain per-atom MD frames to fields laid out like ``load_cuzr()``.

    Parameters
    ----------
    runs : iterable of Frame, or sequence of such iterables
        One MD run (e.g. ``iter_dump(path)``), or several independent runs (realizations).
    options : CoarseGrainOptions, optional
        Method and settings; keyword arguments override single fields
        (``coarse_grain(frames, method="gp")``).

    Returns
    -------
    xarray.Dataset
        ``gamma_xy(frame, y, x)`` (engineering shear strain, reference = first frame),
        ``gamma_xy_std``, one ``<name>(frame, y, x)`` and ``<name>_std`` per quantity (``pe`` in
        eV/atom), ``<name>_count`` for binning; coords ``strain(frame)`` (box tilt over height),
        ``timestep(frame)``, ``y``, ``x`` (cell centres, ``length_units``); with several runs a
        leading ``realization`` dim. Attrs record the method and options.

    Raises
    ------
    InputDataError
        No frames, atom ids changing between frames, missing columns, runs of different lengths.
    """
    opt = options or CoarseGrainOptions()
    if kwargs:
        from dataclasses import replace

        opt = replace(opt, **kwargs)
    if isinstance(runs, Frame):
        runs = [runs]
    many = isinstance(runs, Sequence) and len(runs) > 0 and not isinstance(runs[0], Frame)
    if many:
        # a non-empty sequence whose items are not frames: one iterable of frames per run
        parts = [_run(r, opt) for r in cast("Sequence[Iterable[Frame]]", runs)]
        sizes = {p.sizes["frame"] for p in parts}
        if len(sizes) != 1:
            raise InputDataError(f"realizations have different frame counts {sorted(sizes)}.")
        ds = xr.concat(
            parts, dim="realization", coords="different", compat="equals", join="override"
        )
    else:
        ds = _run(cast("Iterable[Frame]", runs), opt)
    from bayescal import __version__

    opts = {
        k: (v if isinstance(v, (int, float, str, bool)) else str(v))
        for k, v in asdict(opt).items()
        if k != "means"
    }
    ds.attrs |= {
        "title": "coarse-grained MD fields",
        "method": opt.method,
        "options": str(opts),
        "bayescal_version": __version__,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    return ds
