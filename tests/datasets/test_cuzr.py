"""Tests of the bundled CuZr MD dataset and the raw-format readers."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import h5py
import numpy as np
import pytest
import xarray as xr
from _shared_data import shared_file

from bayescal.datasets import (
    build_cuzr_dataset,
    cuzr_path,
    file_sha256,
    load_cuzr,
    load_field_file,
    load_stress_file,
    write_cuzr_netcdf,
)
from bayescal.datasets._checksums import CUZR_MD_SHA256
from bayescal.errors import InputDataError

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def cuzr() -> xr.Dataset:
    return load_cuzr()


@pytest.fixture(scope="module")
def raw_dir() -> Path:
    """Raw CuZr_Ref files; skip where absent (fail under BAYESCAL_REQUIRE_ALL_DEPS)."""
    return shared_file("cuzr_md", "stress_rand2_matlab.txt").parent


# --- load_cuzr ------------------------------------------------------------------------------


def test_shapes_dims_and_coords(cuzr: xr.Dataset) -> None:
    assert cuzr["gamma_xy"].dims == ("frame", "y", "x")
    assert cuzr["pe"].dims == ("frame", "y", "x")
    assert cuzr["gamma_xy"].shape == (101, 32, 32)
    assert cuzr["pe"].shape == (101, 32, 32)
    assert cuzr["stress"].dims == ("stress_frame",)
    assert cuzr["stress"].shape == (501,)
    for name in ("gamma_xy", "pe", "stress", "strain", "stress_strain", "x", "y"):
        assert cuzr[name].dtype == np.float64
    np.testing.assert_allclose(cuzr["strain"], 0.005 * np.arange(101), rtol=0, atol=1e-15)
    np.testing.assert_allclose(cuzr["stress_strain"], 0.001 * np.arange(501), rtol=0, atol=1e-15)
    centres = 1.25 * (np.arange(32) + 0.5)  # 40 nm / 32 cells
    np.testing.assert_array_equal(cuzr["x"], centres)
    np.testing.assert_array_equal(cuzr["y"], centres)


def test_mean_shear_strain_equals_applied_strain(cuzr: xr.Dataset) -> None:
    # README: domain mean of gamma_xy = 0.005 k; observed |deviation| <= 1.9e-5.
    mean = cuzr["gamma_xy"].mean(("y", "x"))
    np.testing.assert_allclose(mean, cuzr["strain"], rtol=0, atol=1e-3)
    assert float(abs(cuzr["gamma_xy"].isel(frame=0)).max()) == 0.0


def test_stress_peak_and_flow(cuzr: xr.Dataset) -> None:
    # README: peak about 1.54 GPa near strain 0.088, flow about 0.94 GPa.
    stress = cuzr["stress"].values
    i = int(np.argmax(stress))
    assert stress[i] == pytest.approx(1.54, abs=0.01)
    assert float(cuzr["stress_strain"][i]) == pytest.approx(0.088, abs=0.002)
    assert stress[-100:].mean() == pytest.approx(0.94, abs=0.02)


def test_value_ranges(cuzr: xr.Dataset) -> None:
    pe = cuzr["pe"].values
    assert -3.37 < pe.min() < pe.max() < -3.34  # eV/atom
    assert cuzr["gamma_xy"].values.min() >= 0.0
    assert cuzr["gamma_xy"].values.max() < 1.6
    # the shear band is horizontal: at strain 0.5 the strain varies with y, hardly with x
    last = cuzr["gamma_xy"].isel(frame=-1)
    assert float(last.mean("x").std()) > 50 * float(last.mean("y").std())


def test_units_and_provenance(cuzr: xr.Dataset) -> None:
    expected = {
        "gamma_xy": "1",
        "pe": "eV/atom",
        "stress": "GPa",
        "strain": "1",
        "stress_strain": "1",
        "x": "nm",
        "y": "nm",
    }
    for name, units in expected.items():
        assert cuzr[name].attrs["units"] == units
        assert cuzr[name].attrs["long_name"]
    attrs = cuzr.attrs
    assert "GrassmannianEGO" in attrs["source"]
    assert "MIT" in attrs["licence"]
    assert "arXiv:2103.00779" in attrs["citation"]
    assert attrs["box_size"] == 40.0
    assert attrs["box_size_units"] == "nm"
    assert attrs["strain_rate"] == 1e8
    assert attrs["sha256"] == CUZR_MD_SHA256


def test_shipped_file_and_licence() -> None:
    path = cuzr_path()
    assert path.is_file()
    assert path.stat().st_size < 3_000_000
    assert file_sha256(path) == CUZR_MD_SHA256
    licence = (path.parent / "LICENSE-cuzr_md.txt").read_text()
    assert "MIT License" in licence
    assert "Katiana Kontolati" in licence


def test_tampered_copy_raises(tmp_path: Path) -> None:
    good = tmp_path / "good.nc"
    shutil.copyfile(cuzr_path(), good)
    assert load_cuzr(good).attrs["sha256"] == CUZR_MD_SHA256
    bad = tmp_path / "bad.nc"
    data = bytearray(good.read_bytes())
    data[len(data) // 2] ^= 0x01
    bad.write_bytes(bytes(data))
    with pytest.raises(InputDataError, match="SHA-256 mismatch"):
        load_cuzr(bad)


def test_wrong_expected_checksum_and_skip(tmp_path: Path) -> None:
    with pytest.raises(InputDataError, match="expected 0000"):
        load_cuzr(sha256="0" * 64)
    assert load_cuzr(sha256=None)["gamma_xy"].shape == (101, 32, 32)
    with pytest.raises(InputDataError, match="not found"):
        load_cuzr(tmp_path / "missing.nc")


# --- conversion -----------------------------------------------------------------------------


def _nc_properties(path: Path) -> str:
    with h5py.File(path, "r") as f:
        value = f.attrs["_NCProperties"]
    return value.decode() if isinstance(value, bytes) else str(value)


def test_conversion_reproduces_shipped_file(
    raw_dir: Path, tmp_path: Path, cuzr: xr.Dataset
) -> None:
    """Arrays and attrs always identical; bytes identical for the same h5netcdf/h5py/HDF5."""
    built = build_cuzr_dataset(raw_dir)
    shipped = cuzr.copy()
    del shipped.attrs["sha256"]
    xr.testing.assert_identical(built, shipped)
    out = tmp_path / "cuzr_md.nc"
    digest = write_cuzr_netcdf(built, out)
    back = load_cuzr(out, sha256=None)
    del back.attrs["sha256"]
    xr.testing.assert_identical(back, shipped)
    # byte identity holds only for the h5netcdf/h5py/HDF5 versions that wrote the shipped file
    if _nc_properties(out) == _nc_properties(cuzr_path()):
        assert digest == CUZR_MD_SHA256
        assert out.read_bytes() == cuzr_path().read_bytes()


def test_conversion_script(raw_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "script.nc"
    result = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "make_cuzr_dataset.py"), str(raw_dir),
         "--out", str(out), "--no-checksum"],
        capture_output=True, text=True, check=True, cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )  # fmt: skip
    assert file_sha256(out) in result.stdout
    if _nc_properties(out) == _nc_properties(cuzr_path()):
        assert file_sha256(out) == CUZR_MD_SHA256
    xr.testing.assert_identical(load_cuzr(out, sha256=None).drop_attrs(), load_cuzr().drop_attrs())


def test_readers_on_raw_files(raw_dir: Path, cuzr: xr.Dataset) -> None:
    np.testing.assert_array_equal(load_field_file(raw_dir / "Exy.MD.57"), cuzr["gamma_xy"][57])
    np.testing.assert_array_equal(load_field_file(raw_dir / "pe.MD.0"), cuzr["pe"][0])
    # Dpl.MD.100 is byte-identical to Exy.MD.100, hence not shipped
    np.testing.assert_array_equal(load_field_file(raw_dir / "Dpl.MD.100"), cuzr["gamma_xy"][100])
    curve = load_stress_file(raw_dir / "stress_rand2_matlab.txt")
    np.testing.assert_array_equal(curve.stress, cuzr["stress"])
    assert curve.stress[0] == pytest.approx(64.373 / 1e4)


def test_build_rejects_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(InputDataError, match="source folder not found"):
        build_cuzr_dataset(tmp_path / "nope")


# --- load_field_file ------------------------------------------------------------------------


def _write(tmp_path: Path, text: str, name: str = "Exy.MD.1") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_field_round_trip(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    values = np.round(rng.normal(size=(5, 7)), 8)  # ny = 5 rows of nx = 7, 8 decimals
    lines = ["7 5 -3 3  "] + [" ".join(f"{v:.8f}" for v in row) + " \t" for row in values]
    path = _write(tmp_path, "\n".join(lines) + "\n\n  \n")
    out = load_field_file(path)
    assert out.shape == (5, 7)
    assert out.dtype == np.float64
    np.testing.assert_array_equal(out, values)


def test_field_blank_line_inside_is_ignored(tmp_path: Path) -> None:
    path = _write(tmp_path, "2 2 0 1\n1 2\n\n3 4")
    np.testing.assert_array_equal(load_field_file(path), [[1, 2], [3, 4]])


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("", "is empty"),
        ("\n  \n", "is empty"),
        ("2 2 0\n1 2\n3 4\n", r"malformed header .*expected 4 fields 'nx ny lo hi', got 3"),
        ("2 2 0 1 5\n1 2\n3 4\n", r"expected 4 fields .*got 5"),
        ("2.5 2 0 1\n1 2\n3 4\n", r"nx and ny must be integers, got '2.5' and '2'"),
        ("2 two 0 1\n1 2\n3 4\n", "nx and ny must be integers"),
        ("0 2 0 1\n\n", r"nx and ny must be positive, got nx=0, ny=2"),
        ("2 -1 0 1\n1 2\n", "must be positive"),
        ("2 2 lo 1\n1 2\n3 4\n", "lo and hi must be numbers"),
        ("2 2 0 1\n1 2\n", r"expected 2 rows of 2 \(4 values\), got 1 rows \(2 values\)"),
        ("2 2 0 1\n1 2\n3 4\n5 6\n", r"expected 2 rows of 2 \(4 values\), got 3 rows"),
        ("2 2 0 1\n1 2\n3\n", r"got 2 rows \(3 values\)"),
        ("2 2 0 1\n1 2 3\n4\n", r"line 2 \(y index 0\): wrong number of values; expected 2, got 3"),
        ("2 2 0 1\n1 2\n3 abc\n", r"line 3: 'abc' is not a number"),
        ("2 2 0 1\n1 2\n3 nan\n", r"1 non-finite value\(s\); first at y row 1, col 1"),
        ("3 2 0 1\n1 inf 2\n-inf 4 5\n", r"2 non-finite value\(s\); first at y row 0, col 1"),
    ],
    ids=[
        "empty",
        "blank",
        "header-3-fields",
        "header-5-fields",
        "header-float-size",
        "header-word-size",
        "header-zero-size",
        "header-negative-size",
        "header-bad-lo",
        "too-few-rows",
        "too-many-rows",
        "too-few-values",
        "ragged-row",
        "not-a-number",
        "nan",
        "inf",
    ],
)
def test_field_errors(tmp_path: Path, text: str, match: str) -> None:
    path = _write(tmp_path, text)
    with pytest.raises(InputDataError, match=match) as info:
        load_field_file(path)
    assert "Exy.MD.1" in str(info.value)


def test_field_missing_file(tmp_path: Path) -> None:
    missing = tmp_path / "pe.MD.7"
    with pytest.raises(InputDataError, match=r"data file not found: .*pe\.MD\.7"):
        load_field_file(missing)
    with pytest.raises(FileNotFoundError):
        load_field_file(missing)


def test_field_not_text(tmp_path: Path) -> None:
    path = tmp_path / "Exy.MD.2"
    path.write_bytes(b"2 2 0 1\n\xff\xfe 1\n")
    with pytest.raises(InputDataError, match="not an ASCII text file"):
        load_field_file(path)


# --- load_stress_file -----------------------------------------------------------------------


def test_stress_round_trip(tmp_path: Path) -> None:
    bar = np.array([-64.373, -349.15, -15411.0, -9424.2])
    rows = [f"{4e6 + 2e3 * i:g}\t100\t-1\t{b}\t5\t-1\t{b}" for i, b in enumerate(bar)]
    path = _write(tmp_path, "\n".join(rows) + "\n\n", "stress.txt")
    curve = load_stress_file(path, n_rows=4, max_strain=0.003)
    np.testing.assert_allclose(curve.strain, [0.0, 0.001, 0.002, 0.003], rtol=0, atol=1e-15)
    np.testing.assert_array_equal(curve.stress, -bar / 1e4)
    assert curve.stress[2] == 1.5411


@pytest.mark.parametrize(
    ("text", "kwargs", "match"),
    [
        ("0\t1\n0\t2\n", {"n_rows": 3, "column": 1}, "wrong number of rows; expected 3, got 2"),
        ("0\t1\n", {"n_rows": None, "column": 1}, "need at least 2 rows; got 1"),
        ("0\t1\n0\n", {"n_rows": 2, "column": 1}, r"line 2 \(row 1\).*expected at least 2"),
        ("0\t1\n0\tx\n", {"n_rows": 2, "column": 1}, "'x' is not a number"),
        ("0\tnan\n0\t1\n", {"n_rows": 2, "column": 1}, "first at stress row 0"),
        ("0\t1\n0\t1\n", {"n_rows": 1}, "n_rows must be an int >= 2"),
        ("0\t1\n0\t1\n", {"max_strain": -0.5, "column": 1, "n_rows": 2}, "max_strain must be"),
    ],
    ids=[
        "rows",
        "too-few-rows",
        "short-row",
        "not-a-number",
        "nan",
        "bad-n_rows",
        "bad-max_strain",
    ],
)
def test_stress_errors(tmp_path: Path, text: str, kwargs: dict, match: str) -> None:
    path = _write(tmp_path, text, "stress.txt")
    with pytest.raises(InputDataError, match=match):
        load_stress_file(path, **kwargs)


def test_stress_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputDataError, match="data file not found"):
        load_stress_file(tmp_path / "stress_rand2_matlab.txt")
