"""The SROM of copper MD across EAM potentials (bayescal.apps.srom_md)."""

from __future__ import annotations

import json

import numpy as np
import pytest
import xarray as xr

from bayescal.apps import srom_md


# a run of two LAMMPS candidates (tests/md test_tiny_end_to_end_srom_reduced_md is the smoke)
@pytest.mark.slow
def test_solid_study_end_to_end(require_lammps, tmp_path) -> None:
    out = tmp_path / "solid"
    argv = ["--out", str(out), "--atoms", "32", "--steps", "300", "--every", "5", "--samples"]
    argv += ["3", "--gamma", "0", "1e-3", "--n-fixed", "0", "4", "--rank", "30", "--quiet"]
    assert srom_md.main([*argv, "--candidates", "Cu_u3", "Cu_mishin1"]) == 0
    ds = xr.open_dataset(out / "srom_md.nc", engine="h5netcdf")
    assert json.loads(ds.attrs["settings"])["state"] == "solid"
    assert ds["rom_u2"].dims == ("gamma", "n_fixed", "realization")
    assert ds["rom_u2"].shape == (2, 2, 3)
    assert np.all(np.isfinite(ds["rom_u2"])) and np.all(ds["rom_u2"] > 0)
    assert ds["candidate_rom_u2"].shape == (2, 2)
    # restricted to 30 of 96 dofs the reduced MD vibrates less than the full MD
    assert float(ds["rom_u2"].max()) < float(ds["u2"].max())
    assert (out / "report" / "srom_md.png").is_file()
    ds.close()
    assert srom_md.main(["--out", str(out), "--atoms", "30"]) == 2
