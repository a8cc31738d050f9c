"""Tests of the C plastic kernel (models.stz.native) against the torch plastic update."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from _shared_data import require_all_deps, shared_file

from models.stz import native, simulate
from models.stz.plasticity import SMALL_DEV, adaptive_plastic_update

# the kernel is built with the system C compiler; CI has one, so there it must load
needs_kernel = pytest.mark.skipif(
    native.load() is None and not require_all_deps(), reason="no C compiler for the kernel"
)


def _cells(dtype: torch.dtype, B: int = 3, seed: int = 0):
    """A batch with cells below yield, barely above it, far above it and at sbar ~ 0."""
    gen = torch.Generator().manual_seed(seed)
    shape = (B, 12, 12)
    sbar = (0.8 + 0.6 * torch.rand(shape, generator=gen, dtype=torch.float64)).to(dtype)
    sbar[:, 0, :4] = torch.tensor([0.0, 1e-14, 1.0, 1.0 + 1e-9], dtype=dtype)
    # chi as the solver passes it: channel 4 of a (B, 7, ny, nx) state, a strided view
    state = torch.zeros(B, 7, *shape[1:], dtype=dtype)
    state[:, 4] = (0.08 + 0.05 * torch.rand(shape, generator=gen, dtype=torch.float64)).to(dtype)
    ddev = (1e-3 * torch.rand(shape, generator=gen, dtype=torch.float64)).to(dtype)
    col = (B, 1, 1)
    law = {
        "rate_to_stress": torch.tensor([2.0e3, 5.0e3, 1.0e3], dtype=dtype)[:B].reshape(col),
        "ep_over_tau0": torch.full(col, 4.0e13, dtype=dtype),
        "chi_inf": torch.tensor([0.12, 0.2, 0.15], dtype=dtype)[:B].reshape(col),
        "c0": torch.tensor([0.4, 0.1, 0.9], dtype=dtype)[:B].reshape(col),
        "t_scale": 1e-12,
        "adapt_fac": 2e-3,
        "max_substeps": 20000,
    }
    return sbar, state[:, 4], ddev, law


@needs_kernel
@pytest.mark.parametrize("dt", [0.05, 1.0, 20.0])
def test_kernel_matches_torch_update(dt):
    """Same sub-steps, same arithmetic order: equal up to the rounding of exp (a few ulp),
    for one sub-step (small dt) up to hundreds (large dt)."""
    sbar, chi, ddev, law = _cells(torch.float64)
    ref = adaptive_plastic_update(sbar, chi, ddev, dt, **law)
    got = native.load()(sbar, chi, ddev, dt, **law)
    assert got.substeps == ref.substeps
    assert ref.substeps >= (1 if dt < 0.1 else 20)
    for name in ("factor", "chi", "ddev"):
        a, b = getattr(got, name), getattr(ref, name)
        assert a.shape == b.shape and a.dtype == b.dtype
        torch.testing.assert_close(a, b, rtol=1e-12, atol=1e-300, msg=name)
    # untouched cells are passed through exactly
    below = sbar < 1.0
    assert torch.equal(got.chi[below], chi[below])
    assert (got.factor[below] == 0).all()
    tiny = sbar < SMALL_DEV
    assert torch.equal(got.ddev[tiny], ddev[tiny])
    assert not got.overrun.any() and not got.any_overrun


@needs_kernel
def test_kernel_float32_matches_torch_update():
    sbar, chi, ddev, law = _cells(torch.float32)
    ref = adaptive_plastic_update(sbar, chi, ddev, 1.0, **law)
    got = native.load()(sbar, chi, ddev, 1.0, **law)
    assert got.factor.dtype == torch.float32
    # float32 sub-step decisions may flip at the margin: compare where they did not
    torch.testing.assert_close(got.chi, ref.chi, rtol=1e-4, atol=1e-6)
    torch.testing.assert_close(got.factor, ref.factor, rtol=5e-3, atol=1e-4)


@needs_kernel
def test_kernel_flags_the_samples_that_overrun():
    sbar, chi, ddev, law = _cells(torch.float64)
    sbar[1] = 0.5  # sample 1 never yields
    law = {**law, "max_substeps": 5}
    ref = adaptive_plastic_update(sbar, chi, ddev, 20.0, **law)
    got = native.load()(sbar, chi, ddev, 20.0, **law)
    assert got.overrun.tolist() == ref.overrun.tolist() == [True, False, True]
    assert got.any_overrun


@needs_kernel
def test_kernel_threads_do_not_change_results():
    """Samples split over Python threads (as many as torch threads) give the same bits."""
    sbar, chi, ddev, law = _cells(torch.float64)
    before = torch.get_num_threads()
    try:
        torch.set_num_threads(1)
        one = native.load()(sbar, chi, ddev, 1.0, **law)
        torch.set_num_threads(2)
        two = native.load()(sbar, chi, ddev, 1.0, **law)
    finally:
        torch.set_num_threads(before)
    assert torch.equal(one.factor, two.factor) and torch.equal(one.chi, two.chi)
    # a contiguous chi gives the same as the strided channel view
    flat = native.load()(sbar, chi.contiguous(), ddev, 1.0, **law)
    assert torch.equal(flat.chi, one.chi)


@pytest.fixture(scope="module")
def pe0() -> np.ndarray:
    return np.loadtxt(shared_file("cuzr_md", "pe.MD.0"), skiprows=1)


@needs_kernel
def test_simulate_with_kernel_matches_torch_update(pe0):
    """Whole runs: within the spread a one-ulp change of u0 causes (the model is chaotic
    once cells yield; see test_compiled_kernels_match_eager), equal where nothing yields."""
    batch = {
        "beta": np.array([6.0, 8.0]),
        "u0": np.array([-3.38, -3.3626]),
        "c0": np.array([0.4, 0.3]),
        "s_y": np.array([0.85, 0.95]),
        "chi_inf": np.array([6000.0, 1769.35]),
    }
    opts = {"frames": 4, "steps_per_frame": 30, "final_strain": 0.2, "compile": False}
    fast = simulate(pe0, batch, native_plastic=True, **opts)
    slow = simulate(pe0, batch, native_plastic=False, **opts)
    nudged = simulate(pe0, {**batch, "u0": batch["u0"] * (1 + 1e-15)}, native_plastic=False, **opts)
    assert (fast.attrs["option_native_plastic"], slow.attrs["option_native_plastic"]) == (1, 0)
    gap = np.abs(fast.exy.values - slow.exy.values).max(axis=(1, 2, 3))
    spread = np.abs(nudged.exy.values - slow.exy.values).max(axis=(1, 2, 3))
    assert spread[0] > 1e-7 and gap[0] < 5 * spread[0]
    assert gap[1] < 1e-12
    np.testing.assert_allclose(fast.stress.values, slow.stress.values, rtol=1e-3, atol=1e-9)


def test_native_plastic_option_is_checked(pe0):
    with pytest.raises(ValueError, match="native_plastic must be"):
        simulate(
            pe0,
            {"beta": 8.0, "u0": -3.3626, "c0": 0.3, "s_y": 0.95, "chi_inf": 1769.35},
            frames=1,
            steps_per_frame=2,
            native_plastic="yes",
        )


def test_without_a_compiler_the_torch_update_is_used(pe0, monkeypatch):
    params = {"beta": 8.0, "u0": -3.3626, "c0": 0.3, "s_y": 0.95, "chi_inf": 1769.35}
    native.load.cache_clear()
    monkeypatch.setattr(native, "_compiler", lambda: None)
    try:
        ds = simulate(pe0, params, frames=1, steps_per_frame=2)
        assert ds.attrs["option_native_plastic"] == 0
        with pytest.raises(RuntimeError, match="native_plastic=True needs"):
            simulate(pe0, params, frames=1, steps_per_frame=2, native_plastic=True)
    finally:
        native.load.cache_clear()


def test_a_failing_build_warns_and_falls_back(tmp_path, monkeypatch):
    native.load.cache_clear()
    monkeypatch.setenv("BAYESCAL_CACHE", str(tmp_path))
    monkeypatch.setattr(native, "_compiler", lambda: "/bin/false")
    try:
        with pytest.warns(RuntimeWarning, match="building the C plastic kernel failed"):
            assert native.load() is None
        assert not list((tmp_path / "native").glob("*.so"))  # nothing half-built left behind
    finally:
        native.load.cache_clear()
