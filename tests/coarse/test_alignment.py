"""Shear-band alignment of coarse-grained realizations (bayescal/coarse/alignment.py)."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from bayescal.coarse.alignment import align_band, stack_realizations

N = 8
COORDS = (np.arange(N) + 0.5) * 2.0  # dy = 2


def _realization(field: np.ndarray, x: np.ndarray = COORDS) -> xr.Dataset:
    """Three frames (strain 0, 0.2, 0.4) of ``gamma_xy`` and a stress curve."""
    return xr.Dataset(
        {
            "gamma_xy": (("frame", "y", "x"), field),
            "gamma_xy_std": (("frame", "y", "x"), np.ones_like(field)),
            "stress": ("stress_frame", np.array([0.0, 1.0, 0.8])),
        },
        coords={
            "strain": ("frame", [0.0, 0.2, 0.4]),
            "y": ("y", COORDS, {"units": "sigma"}),
            "x": x,
        },
    )


def _band_along_x(row: int) -> np.ndarray:
    field = np.zeros((3, N, N))
    field[:, row, :] = np.array([0.0, 1.0, 2.0])[:, None]
    return field


def _band_along_y(column: int) -> np.ndarray:
    return _band_along_x(column).transpose(0, 2, 1).copy()


def test_band_along_x_is_only_centred() -> None:
    ds = _realization(_band_along_x(5))
    aligned, reflected, shift = align_band(ds)
    assert not reflected and shift == 6  # row 5 -> row 3 (the centre of 0..7 is 3.5)
    last = aligned["gamma_xy"].isel(frame=-1)
    assert int(np.argmax(last.mean("x").values)) == 3
    np.testing.assert_array_equal(aligned["stress"].values, ds["stress"].values)
    np.testing.assert_array_equal(aligned["y"].values, COORDS)
    # every field with a y dim moves with the band
    xr.testing.assert_identical(aligned["gamma_xy_std"], ds["gamma_xy_std"])
    np.testing.assert_array_equal(
        aligned["gamma_xy"].values, np.roll(ds["gamma_xy"].values, shift, axis=1)
    )


def test_band_along_y_is_reflected_and_centred() -> None:
    aligned, reflected, shift = align_band(_realization(_band_along_y(1)))
    assert reflected and shift == 2
    last = aligned["gamma_xy"].isel(frame=-1)
    np.testing.assert_allclose(last.isel(y=3).values, 2.0)
    assert float(np.abs(last.drop_isel(y=3)).max()) == 0.0


def test_early_frames_do_not_decide() -> None:
    field = _band_along_y(1)
    field[0] = _band_along_x(5)[2] * 10  # a strong "band" along x before from_strain
    _, reflected, _ = align_band(_realization(field))
    assert reflected


def test_reflection_needs_a_square_grid() -> None:
    ds = _realization(_band_along_y(1), x=COORDS * 1.5)
    with pytest.raises(ValueError, match="square grid"):
        align_band(ds)


def test_stack_records_reflection_and_shift() -> None:
    parts = [_realization(_band_along_y(1)), _realization(_band_along_x(5))]
    ref = stack_realizations(parts)
    assert ref["gamma_xy"].dims == ("realization", "frame", "y", "x")
    np.testing.assert_array_equal(ref["realization"].values, [0, 1])
    np.testing.assert_array_equal(ref["reflected"].values, [1, 0])
    assert ref["reflected"].dtype == np.int8
    np.testing.assert_allclose(ref["band_shift"].values, [2 * 2.0, 6 * 2.0])
    assert ref["band_shift"].attrs["units"] == "sigma"
    for r in range(2):
        xr.testing.assert_identical(
            ref["gamma_xy"].isel(realization=r, drop=True), align_band(parts[r])[0]["gamma_xy"]
        )


def test_stack_without_alignment_keeps_the_fields() -> None:
    parts = [_realization(_band_along_y(1)), _realization(_band_along_x(5))]
    ref = stack_realizations(parts, align_bands=False)
    assert "reflected" not in ref and "band_shift" not in ref
    np.testing.assert_array_equal(ref["gamma_xy"].values, np.stack([p["gamma_xy"] for p in parts]))
