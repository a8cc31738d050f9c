"""The LAMMPS generator: a tiny 2D LJ glass sheared, read back and coarse-grained."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from bayescal.coarse import CoarseGrainOptions, coarse_grain, iter_dump, read_dump
from bayescal.errors import InputDataError
from bayescal.md.glass import GlassOptions, shear_glass
from bayescal.md.reference import md_reference


def test_tiny_lj_glass_sheared(require_lammps, tmp_path: Path) -> None:
    opts = GlassOptions(
        n_atoms=400, melt_steps=300, quench_steps=600, shear_steps=1000, n_frames=5, max_strain=0.1
    )
    run = shear_glass(tmp_path, opts, rng=3)
    frames = read_dump(run.dump)
    assert [f.timestep for f in frames] == [0, 250, 500, 750, 1000]
    assert frames[0].n_atoms == 400
    assert set(np.unique(frames[0].column("type"))) == {1, 2}
    # the box tilt is the applied strain
    np.testing.assert_allclose(
        [f.box.tilts[0] / f.box.lengths[1] for f in frames], run.strain, atol=1e-6
    )
    # a 400-atom glass quenched this fast keeps residual stress of order 1: only check shape
    assert run.stress.shape == (5,) and np.all(np.isfinite(run.stress))
    ds = coarse_grain(
        iter_dump(run.dump),
        CoarseGrainOptions(
            shape=(4, 4), dims=2, cutoff=1.6, length_scale=1.0, length_units="sigma"
        ),
    )
    # the mean atomic shear strain follows the applied strain (non-affine: ~20 %)
    mean = ds["gamma_xy"].mean(("y", "x")).values
    assert np.all(np.abs(mean - run.strain) <= 0.02 + 0.2 * run.strain), (mean, run.strain)
    # the reference dataset: fields + stress curve, realizations stacked
    ref = md_reference([run, run])
    assert ref["pe"].dims == ("realization", "frame", "y", "x")
    assert ref["pe"].attrs["units"] == "epsilon/atom"
    assert ref["stress"].dims == ("realization", "stress_frame")
    np.testing.assert_allclose(ref["stress_strain"], run.strain)
    # same seed -> the same trajectory (serial LAMMPS is deterministic); new seed -> a new glass
    again = shear_glass(tmp_path / "b", opts, rng=3)
    assert again.dump.read_text() == run.dump.read_text()
    other = read_dump(shear_glass(tmp_path / "c", opts, rng=4).dump)
    assert not np.allclose(other[0].positions, frames[0].positions)


def test_options_validation() -> None:
    with pytest.raises(InputDataError, match="max_strain"):
        GlassOptions(max_strain=0.6)
    with pytest.raises(InputDataError, match="divide"):
        GlassOptions(shear_steps=1000, n_frames=4)


@pytest.mark.slow
def test_cuzr_glass_realizations(require_lammps, tmp_path: Path) -> None:
    """A ~500-atom Cu64Zr36 glass (Mendelev EAM/FS), two realizations, GP fields (~2 min)."""
    opts = GlassOptions.cuzr(
        n_atoms=500,
        melt_steps=2000,
        quench_steps=4000,
        shear_steps=4000,
        n_frames=5,
        max_strain=0.2,
    )
    runs = [shear_glass(tmp_path, opts, rng=k, name=f"r{k}") for k in range(2)]
    ds = coarse_grain(
        [iter_dump(r.dump) for r in runs], CoarseGrainOptions(method="gp", shape=(8, 8), cutoff=3.8)
    )
    assert ds.sizes["realization"] == 2
    pe = ds["pe"].isel(frame=0)
    assert float(pe.min()) > -5.0 and float(pe.max()) < -3.0  # eV/atom for CuZr
    mean = ds["gamma_xy"].mean(("y", "x"))
    np.testing.assert_allclose(mean.isel(realization=0), runs[0].strain, atol=0.05)
