"""The SROM of a copper plate's tip deflection (bayescal.apps.srom_beam)."""

import pytest
import xarray as xr

from bayescal.apps import srom_beam as module


def test_study_quick_run_writes_results(require_lammps, tmp_path, capsys):
    """srom-beam --quick: netCDF, figure and summary; the QoI identification covers."""
    out = tmp_path / "beam"
    argv = ["--out", str(out), "--quick", "--quiet", "--gamma", "0", "--n-fixed", "0"]
    argv += ["--candidates", "Cu_mishin1", "CuZr_mm"]
    assert module.main(argv) == 0
    printed = capsys.readouterr().out
    assert "nominal (reduced-model) potential: Cu_u3" in printed
    assert (out / "report" / "srom_beam.png").is_file()
    with xr.open_dataset(out / "srom_beam.nc", engine="h5netcdf") as ds:
        ds = ds.load()
    assert list(ds["role"].values) == ["candidate", "candidate", "nominal"]
    assert bool(ds["covered"].item())
    cov = module.coverage(ds, "qoi").sel(gamma=0.0, n_fixed=0)
    assert cov.sel(potential=["Cu_mishin1", "CuZr_mm"]).all()
    assert float(ds["dispersion_qoi"].item()) >= float(ds["dispersion_spread"].item())


@pytest.mark.slow
def test_full_plate_study_covers_candidates_and_similar_held_out_potentials(
    require_lammps, tmp_path
):
    """The default plate, no momenta or split (~5 min): reference values of the stop-15 run.

    The QoI-identified band covers the three candidates (by construction) and the held-out
    Cu_u6 and Cu_smf7 (peaks 0.970 and 0.966 A, inside the candidates' range); CuTa (0.648 A,
    far stiffer than any candidate) stays outside. The basis-spread band alone covers one.
    """
    ds = module.run_study(
        candidates=module.CANDIDATES,
        validation=("Cu_u6", "Cu_smf7", "CuTa"),
        gammas=(0.0,),
        n_fixeds=(0,),
    )
    peaks = ds["full_peak"].to_series()
    # full-MD reference values (this run: 0.9905, 0.9649, 0.9013, 0.9536, 0.6476 A)
    assert peaks["Cu_u3"] == pytest.approx(0.9905, abs=2e-3)
    assert peaks["CuZr_mm"] == pytest.approx(0.9013, abs=2e-3)
    assert peaks["CuTa"] == pytest.approx(0.6476, abs=2e-3)
    sel = {"gamma": 0.0, "n_fixed": 0}
    # the centre-basis reduced model is within 1 % of the nominal's full MD
    assert float(ds["centre_peak"].sel(sel)) == pytest.approx(peaks["Cu_u3"], rel=0.01)
    qoi = module.coverage(ds, "qoi").sel(sel).to_series()
    assert qoi[list(module.CANDIDATES)].all()
    assert qoi["Cu_u6"] and qoi["Cu_smf7"] and not qoi["CuTa"]
    spread = module.coverage(ds, "spread").sel(sel).to_series()
    assert spread[list(module.CANDIDATES)].sum() < 3
    assert float(ds["dispersion_qoi"].sel(sel)) > float(ds["dispersion_spread"].sel(sel))
