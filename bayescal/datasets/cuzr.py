"""The bundled CuZr metallic-glass MD reference: conversion from the raw files and loading.

The data are the coarse-grained molecular-dynamics fields and the stress–strain curve of a CuZr
metallic glass sheared at 1e8 1/s to engineering strain 0.5, used to calibrate STZ plasticity by
Kontolati, Alix-Williams, Boffi, Falk, Rycroft and Shields (Acta Materialia 2021,
arXiv:2103.00779). Source: public repository katiana22/GrassmannianEGO, folder ``CuZr_Ref``,
MIT licence (``data/LICENSE-cuzr_md.txt``).

The package ships them as one netCDF file, ``data/cuzr_md.nc``, written by
``scripts/make_cuzr_dataset.py`` with :func:`build_cuzr_dataset` and :func:`write_cuzr_netcdf`;
:func:`load_cuzr` checks its SHA-256 against :data:`bayescal.datasets._checksums.CUZR_MD_SHA256`.
"""

from __future__ import annotations

import hashlib
import importlib.resources
import os
from pathlib import Path

import numpy as np
import xarray as xr

from bayescal.datasets._checksums import CUZR_MD_SHA256
from bayescal.datasets.readers import load_field_file, load_stress_file
from bayescal.errors import InputDataError

__all__ = [
    "BOX_SIZE_NM",
    "CUZR_ATTRS",
    "N_CELLS",
    "N_FRAMES",
    "STRAIN_RATE",
    "build_cuzr_dataset",
    "cuzr_path",
    "file_sha256",
    "load_cuzr",
    "write_cuzr_netcdf",
]

#: Side of the periodic square box (nm).
BOX_SIZE_NM = 40.0
#: Cells per side of the coarse-graining grid.
N_CELLS = 32
#: Field snapshots: applied strain 0, 0.005, ..., 0.5.
N_FRAMES = 101
#: Engineering shear strain rate of the MD (1/s).
STRAIN_RATE = 1e8
#: Largest applied engineering shear strain.
MAX_STRAIN = 0.5
#: Rows of the stress file (strain 0, 0.001, ..., 0.5).
N_STRESS = 501

_FILENAME = "cuzr_md.nc"
_LICENSE_FILENAME = "LICENSE-cuzr_md.txt"

#: Global attributes of the dataset (provenance, licence, citation, physical settings).
CUZR_ATTRS: dict[str, str | float | int] = {
    "title": "Coarse-grained MD of a CuZr metallic glass under simple shear",
    "source": (
        "katiana22/GrassmannianEGO (https://github.com/katiana22/GrassmannianEGO), folder "
        "CuZr_Ref: files pe.MD.<k>, Exy.MD.<k> (k = 0..100) and stress_rand2_matlab.txt"
    ),
    "licence": (
        "MIT License, Copyright (c) 2021 Katiana Kontolati; full text in "
        "bayescal/datasets/data/LICENSE-cuzr_md.txt"
    ),
    "citation": (
        "K. Kontolati, D. Alix-Williams, N. M. Boffi, M. L. Falk, C. H. Rycroft, "
        "M. D. Shields, Manifold learning for coarse-graining atomistic simulations: "
        "application to amorphous solids, Acta Materialia (2021), arXiv:2103.00779"
    ),
    "references": "https://arxiv.org/abs/2103.00779",
    "material": "CuZr metallic glass",
    "loading": "simple shear of a periodic box, x displaced in proportion to y",
    "box_size": BOX_SIZE_NM,
    "box_size_units": "nm",
    "grid": f"{N_CELLS} x {N_CELLS} cell-centred, periodic in x and y",
    "strain_rate": STRAIN_RATE,
    "strain_rate_units": "1/s",
    "max_strain": MAX_STRAIN,
    "history": (
        "converted from the CuZr_Ref text files by bayescal scripts/make_cuzr_dataset.py; "
        "Dpl.MD.100 omitted (byte-identical to Exy.MD.100); stress = -column[6] / 10000 "
        "(bar to GPa)"
    ),
}


def cuzr_path() -> Path:
    """Path of the bundled netCDF file ``bayescal/datasets/data/cuzr_md.nc``.

    Returns
    -------
    pathlib.Path
        Location inside the installed package (it may not exist before the conversion script
        has been run in a source checkout).
    """
    return Path(str(importlib.resources.files("bayescal.datasets") / "data" / _FILENAME))


def file_sha256(path: str | os.PathLike[str]) -> str:
    """SHA-256 of a file's bytes, as 64 lower-case hex digits.

    Parameters
    ----------
    path : str or path-like
        The file.

    Returns
    -------
    str
        Hex digest.
    """
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _cell_centres() -> np.ndarray:
    """Cell-centre coordinates (nm), shape (N_CELLS,)."""
    return (np.arange(N_CELLS) + 0.5) * (BOX_SIZE_NM / N_CELLS)


def build_cuzr_dataset(source: str | os.PathLike[str]) -> xr.Dataset:
    """Assemble the CuZr dataset from the raw ``CuZr_Ref`` text files.

    Parameters
    ----------
    source : str or path-like
        Folder holding ``pe.MD.<k>``, ``Exy.MD.<k>`` for k = 0..100 and
        ``stress_rand2_matlab.txt``.

    Returns
    -------
    xarray.Dataset
        As :func:`load_cuzr`, without the ``sha256`` attribute.

    Raises
    ------
    InputDataError
        A file is missing or malformed, or a field is not ``32 x 32``.
    """
    src = Path(source)
    if not src.is_dir():
        raise InputDataError(f"source folder not found: {str(src)!r}.")
    fields = {}
    for prefix, name in (("Exy", "gamma_xy"), ("pe", "pe")):
        frames = [load_field_file(src / f"{prefix}.MD.{k}") for k in range(N_FRAMES)]
        for k, f in enumerate(frames):
            if f.shape != (N_CELLS, N_CELLS):
                raise InputDataError(
                    f"{prefix}.MD.{k}: expected a {N_CELLS} x {N_CELLS} field; got shape {f.shape}."
                )
        fields[name] = np.stack(frames)
    curve = load_stress_file(
        src / "stress_rand2_matlab.txt", n_rows=N_STRESS, max_strain=MAX_STRAIN
    )
    centres = _cell_centres()
    dims = ("frame", "y", "x")
    ds = xr.Dataset(
        {
            "gamma_xy": (
                dims,
                fields["gamma_xy"],
                {
                    "units": "1",
                    "long_name": "engineering shear strain gamma_xy (coarse-grained MD)",
                    "source_files": "Exy.MD.<frame>",
                },
            ),
            "pe": (
                dims,
                fields["pe"],
                {
                    "units": "eV/atom",
                    "long_name": "potential energy per atom (coarse-grained MD)",
                    "source_files": "pe.MD.<frame>",
                },
            ),
            "stress": (
                ("stress_frame",),
                curve.stress,
                {
                    "units": "GPa",
                    "long_name": "shear stress tau_xy (MD)",
                    "source_files": "stress_rand2_matlab.txt, -column[6] / 10000",
                },
            ),
        },
        coords={
            "strain": (
                ("frame",),
                np.linspace(0.0, MAX_STRAIN, N_FRAMES),
                {"units": "1", "long_name": "applied engineering shear strain"},
            ),
            "stress_strain": (
                ("stress_frame",),
                curve.strain,
                {"units": "1", "long_name": "applied engineering shear strain of stress"},
            ),
            "y": (
                ("y",),
                centres.copy(),
                {"units": "nm", "long_name": "cell-centre y position", "axis": "Y"},
            ),
            "x": (
                ("x",),
                centres.copy(),
                {"units": "nm", "long_name": "cell-centre x position", "axis": "X"},
            ),
        },
        attrs=dict(CUZR_ATTRS),
    )
    return ds


def write_cuzr_netcdf(ds: xr.Dataset, path: str | os.PathLike[str]) -> str:
    """Write the dataset as compressed netCDF-4 (h5netcdf) and return the file's SHA-256.

    The output is deterministic: float64 (the text has 8 decimals, which float32 cannot hold),
    zlib level 9 with shuffle, one chunk per variable, no fill values, no timestamps.

    Parameters
    ----------
    ds : xarray.Dataset
        From :func:`build_cuzr_dataset`.
    path : str or path-like
        Output file (overwritten).

    Returns
    -------
    str
        SHA-256 hex digest of the written file.
    """
    encoding: dict[str, dict[str, object]] = {}
    for name, var in ds.variables.items():
        enc: dict[str, object] = {"dtype": "float64", "_FillValue": None}
        if name in ds.data_vars:
            enc |= {"zlib": True, "complevel": 9, "shuffle": True, "chunksizes": var.shape}
        encoding[str(name)] = enc
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    ds.to_netcdf(out, engine="h5netcdf", encoding=encoding)
    return file_sha256(out)


def load_cuzr(
    path: str | os.PathLike[str] | None = None, *, sha256: str | None = CUZR_MD_SHA256
) -> xr.Dataset:
    """Load the bundled CuZr metallic-glass MD reference.

    Parameters
    ----------
    path : str or path-like, optional
        A netCDF file to read instead of the bundled one (its checksum is still checked).
    sha256 : str or None
        Expected SHA-256 of the file (default: that of the shipped file); ``None`` skips the check.

    Returns
    -------
    xarray.Dataset
        In memory, with

        - ``gamma_xy(frame, y, x)``: engineering shear strain (units ``1``), 101 x 32 x 32;
          its domain mean at each frame is the applied strain;
        - ``pe(frame, y, x)``: potential energy per atom (``eV/atom``);
        - ``stress(stress_frame)``: shear stress (``GPa``), 501 values;
        - coords ``strain(frame)`` = 0, 0.005, ..., 0.5; ``stress_strain(stress_frame)`` =
          0, 0.001, ..., 0.5; ``y``, ``x``: cell-centre positions (``nm``) in the 40 nm box,
          index ``j`` at ``(j + 0.5) * 1.25`` nm (``y`` index ``j`` is line ``j`` of the raw file);
        - attrs ``source``, ``licence``, ``citation``, ``box_size`` (40, nm), ``strain_rate``
          (1e8, 1/s), ``sha256`` (of the file read) and more.

    Raises
    ------
    InputDataError
        The file is missing, or its SHA-256 differs from ``sha256`` (a corrupted or modified
        file; reinstall bayescal or rerun ``scripts/make_cuzr_dataset.py``).

    Examples
    --------
    >>> ds = load_cuzr()
    >>> ds["gamma_xy"].shape
    (101, 32, 32)
    >>> float(ds["stress"].max())
    1.5411
    """
    file = cuzr_path() if path is None else Path(path)
    if not file.is_file():
        raise InputDataError(
            f"CuZr data file not found: {str(file)!r}; run scripts/make_cuzr_dataset.py."
        )
    digest = file_sha256(file)
    if sha256 is not None and digest != sha256.lower():
        raise InputDataError(
            f"SHA-256 mismatch for {str(file)!r}: expected {sha256}, got {digest}. The file is "
            "corrupted or modified; reinstall bayescal or rerun scripts/make_cuzr_dataset.py."
        )
    with xr.open_dataset(file, engine="h5netcdf") as handle:
        ds = handle.load()
    ds.attrs["sha256"] = digest
    return ds
