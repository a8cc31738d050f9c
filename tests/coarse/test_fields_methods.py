"""Binning, kernel windows and the physics-guided GP on synthetic atoms with a known field."""

from __future__ import annotations

import numpy as np
import pytest

from bayescal.coarse import (
    GPOptions,
    Grid,
    MeanFunction,
    bin_average,
    effective_temperature,
    gp_field,
    kernel_average,
    nrmsd,
)
from bayescal.errors import InputDataError, InputDataWarning

L = 40.0
GRID = Grid(lx=L, ly=L, nx=32, ny=32)


def smooth_field(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """A periodic field with two scales (peak-to-peak ~3)."""
    k = 2 * np.pi / L
    return np.sin(k * x) * np.cos(k * y) + 0.5 * np.sin(2 * k * (x + y))


def synthetic(rng: np.random.Generator, n: int, noise: float = 1.0):
    xy = rng.uniform(0, L, (n, 2))
    v = smooth_field(xy[:, 0], xy[:, 1]) + rng.normal(0.0, noise, n)
    gx, gy = np.meshgrid(GRID.x, GRID.y)
    return xy, v, smooth_field(gx, gy)


def test_bin_average_exact_and_counts(rng: np.random.Generator) -> None:
    xy = rng.uniform(-L, 2 * L, (5000, 2))  # wrapped periodically
    mean, count, sem = bin_average(xy, np.full(5000, 2.5), Grid(lx=L, ly=L, nx=4, ny=5))
    assert mean.shape == (5, 4)
    assert count.sum() == 5000
    np.testing.assert_allclose(mean, 2.5)
    np.testing.assert_allclose(sem, 0.0, atol=1e-12)
    with pytest.warns(InputDataWarning, match="empty cells"):
        bin_average(xy[:3], np.ones(3), GRID)


@pytest.mark.parametrize("kernel", ["gaussian", "tophat"])
def test_kernel_average_periodic(rng: np.random.Generator, kernel: str) -> None:
    xy = rng.uniform(0, L, (4000, 2))
    v = 1.0 + 0.0 * xy[:, 0]
    m, _, _ = kernel_average(xy, v, GRID, width=4.0, kernel=kernel)  # type: ignore[arg-type]
    np.testing.assert_allclose(m, 1.0)
    # a linear-in-x field averaged by a symmetric periodic window: the edge cells see images
    field = np.cos(2 * np.pi * xy[:, 0] / L)
    m2 = kernel_average(xy, field, GRID, width=3.0, kernel=kernel)[0]  # type: ignore[arg-type]
    assert np.corrcoef(m2[0], np.cos(2 * np.pi * GRID.x / L))[0, 1] > 0.95
    with pytest.raises(InputDataError, match="width"):
        kernel_average(xy, v, GRID, width=-1.0)


def test_gp_beats_binning_and_best_moving_window(rng: np.random.Generator) -> None:
    xy, v, truth = synthetic(rng, 20000)
    e_bin = nrmsd(bin_average(xy, v, GRID)[0], truth)
    widths = np.arange(1.5, 12.0, 0.75)
    e_win = min(
        nrmsd(kernel_average(xy, v, GRID, width=w, kernel="tophat")[0], truth) for w in widths
    )
    fit = gp_field(xy, v, GRID, options=GPOptions(fine_shape=(20, 20)))
    e_gp = nrmsd(fit.mean, truth)
    assert fit.converged
    assert e_gp < 0.8 * e_win < e_bin  # measured 0.019 vs 0.030 vs 0.086 at 32 x 32
    # the learned noise is the per-atom noise (1.0); 20000 atoms give ~1 % precision, the
    # within-cell field variation biases it up a little
    assert fit.params["noise_variance"] == pytest.approx(1.0, rel=0.08)
    # 95 % band: the 1024 cells are correlated over the learned length scale (~6 of 40), so the
    # effective sample size is ~(40 / 6)^2 ~ 45: binomial sd sqrt(0.95 * 0.05 / 45) = 0.03;
    # accept three sd either side
    coverage = np.mean(np.abs(fit.mean - truth) <= 1.96 * fit.std)
    assert 0.86 <= coverage <= 1.0


def test_gp_physics_mean_joint_and_sequential(rng: np.random.Generator) -> None:
    """A shear-band law as the mean: its parameters are recovered, jointly or first."""

    def band(x: np.ndarray, y: np.ndarray, p: np.ndarray) -> np.ndarray:
        return p[0] + p[1] * np.exp(-0.5 * ((y - p[2]) / p[3]) ** 2)

    xy = rng.uniform(0, L, (15000, 2))
    true = np.array([0.1, 0.4, 22.0, 3.0])
    v = band(xy[:, 0], xy[:, 1], true) + 0.05 * np.sin(2 * np.pi * xy[:, 0] / L)
    v = v + rng.normal(0, 0.2, v.size)
    law = MeanFunction(law=band, init=(0.0, 0.3, 20.0, 4.0), names=("base", "h", "y0", "w"))
    gx, gy = np.meshgrid(GRID.x, GRID.y)
    truth = band(gx, gy, true) + 0.05 * np.sin(2 * np.pi * gx / L)
    for mode in ("joint", "sequential"):
        fit = gp_field(
            xy,
            v,
            GRID,
            mean=law,
            options=GPOptions(fine_shape=(16, 16), mean_fit=mode, lengthscale="ard"),
        )
        assert fit.params["y0"] == pytest.approx(22.0, abs=0.3)
        assert fit.params["w"] == pytest.approx(3.0, rel=0.15)
        assert nrmsd(fit.mean, truth) < 0.04


def test_gp_validation(rng: np.random.Generator) -> None:
    xy, v, _ = synthetic(rng, 500)
    with pytest.raises(InputDataError, match="max_cells"):
        gp_field(xy, v, GRID, options=GPOptions(fine_shape=(100, 100)))
    with pytest.raises(InputDataError, match="mean_fit"):
        GPOptions(mean_fit="first")  # type: ignore[arg-type]
    with pytest.raises(InputDataError, match="finite"):
        gp_field(xy, np.where(np.arange(500) == 3, np.nan, v), GRID)


def test_effective_temperature() -> None:
    pe = np.array([[-3.37, -3.36], [-3.35, -3.365]])
    chi = effective_temperature(pe, beta=10.0, u0=-3.38)
    np.testing.assert_allclose(chi, 10.0 * (pe + 3.38) * 21000.0)
    import xarray as xr

    da = xr.DataArray(pe, dims=("y", "x"))
    out = effective_temperature(da, beta=10.0, u0=-3.38, T_Z=20000.0)
    assert out.name == "chi" and out.attrs["units"] == "K"
    with pytest.raises(InputDataError, match="chi <= 0"):
        effective_temperature(pe, beta=10.0, u0=-3.36)
    with pytest.warns(InputDataWarning, match="chi <= 0"):
        effective_temperature(pe, beta=10.0, u0=-3.36, on_invalid="warn")
    with pytest.raises(InputDataError, match="beta"):
        effective_temperature(pe, beta=-1.0, u0=-3.4)
    with pytest.raises(InputDataError, match="finite"):
        effective_temperature(pe * np.nan, beta=1.0, u0=-3.4)


def test_kernel_average_matches_brute_force(rng: np.random.Generator) -> None:
    """Separable matrix form == direct sum over atoms and periodic images (to 1e-12)."""
    grid = Grid(lx=10.0, ly=8.0, nx=5, ny=4, x0=-2.0, y0=1.0)
    xy = np.column_stack([rng.uniform(-2, 8, 300), rng.uniform(1, 9, 300)])
    v = rng.normal(size=300)
    m, _, w = kernel_average(xy, v, grid, width=3.0, chunk=64)
    gx, gy = np.meshgrid(grid.x, grid.y)
    dx = xy[:, 0][None, None, :, None] - gx[..., None, None] + 10.0 * np.arange(-3, 4)
    dy = xy[:, 1][None, None, :, None] - gy[..., None, None] + 8.0 * np.arange(-3, 4)
    kx = np.exp(-0.5 * (dx / 3.0) ** 2).sum(-1)
    ky = np.exp(-0.5 * (dy / 3.0) ** 2).sum(-1)
    wb = (kx * ky).sum(-1)
    np.testing.assert_allclose(w, wb, rtol=1e-12)
    np.testing.assert_allclose(m, (kx * ky * v).sum(-1) / wb, rtol=1e-12, atol=1e-14)


def test_bin_average_matches_histogram(rng: np.random.Generator) -> None:
    grid = Grid(lx=10.0, ly=8.0, nx=5, ny=4)
    xy = np.column_stack([rng.uniform(0, 10, 500), rng.uniform(0, 8, 500)])
    v = rng.normal(size=500)
    mean, count, _ = bin_average(xy, v, grid)
    h, _, _ = np.histogram2d(xy[:, 1], xy[:, 0], bins=(4, 5), range=((0, 8), (0, 10)))
    hv, _, _ = np.histogram2d(xy[:, 1], xy[:, 0], bins=(4, 5), range=((0, 8), (0, 10)), weights=v)
    np.testing.assert_array_equal(count, h)
    np.testing.assert_allclose(mean, hv / h, rtol=1e-12)
