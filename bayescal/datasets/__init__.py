"""Bundled reference data and readers of the raw MD formats.

``load_cuzr()`` returns the CuZr metallic-glass MD reference of Kontolati et al. (Acta Materialia
2021, arXiv:2103.00779; data MIT-licensed, katiana22/GrassmannianEGO) as an ``xarray.Dataset``;
``load_lj2d()`` the independent 2D Lennard-Jones glass realizations made by this project
(:mod:`bayescal.datasets.lj2d`).
"""

from bayescal.datasets.cuzr import (
    BOX_SIZE_NM,
    CUZR_ATTRS,
    N_CELLS,
    N_FRAMES,
    STRAIN_RATE,
    build_cuzr_dataset,
    cuzr_path,
    file_sha256,
    load_cuzr,
    write_cuzr_netcdf,
)
from bayescal.datasets.lj2d import generate_lj2d, load_lj2d, shear_modulus
from bayescal.datasets.readers import StressCurve, load_field_file, load_stress_file

__all__ = [
    "BOX_SIZE_NM",
    "CUZR_ATTRS",
    "N_CELLS",
    "N_FRAMES",
    "STRAIN_RATE",
    "StressCurve",
    "build_cuzr_dataset",
    "cuzr_path",
    "file_sha256",
    "generate_lj2d",
    "load_cuzr",
    "load_field_file",
    "load_lj2d",
    "load_stress_file",
    "shear_modulus",
    "write_cuzr_netcdf",
]
