"""Bundled reference data and readers of the raw MD formats.

``load_cuzr()`` returns the CuZr metallic-glass MD reference of Kontolati et al. (Acta Materialia
2021, arXiv:2103.00779; data MIT-licensed, katiana22/GrassmannianEGO) as an ``xarray.Dataset``.
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
    "load_cuzr",
    "load_field_file",
    "load_stress_file",
    "write_cuzr_netcdf",
]
