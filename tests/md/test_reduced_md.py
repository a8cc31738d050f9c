"""Reduced-order MD with LAMMPS forces, and the estimators (MSD, D, <u^2>) it shares with MD."""

from __future__ import annotations

import dataclasses
import warnings

import numpy as np
import pytest

from bayescal.errors import ConvergenceWarning, InputDataError
from bayescal.md.box import LammpsBox
from bayescal.md.candidates import run_candidate, run_candidates
from bayescal.md.estimators import (
    diffusivity,
    fit_diffusivity,
    mean_squared_displacement,
    vibrational_msd,
)
from bayescal.md.reduced import reduced_md, reduced_md_batch
from bayescal.md.reduced_system import ReducedMDOptions, reduced_mass
from bayescal.md.start import LiquidMDOptions, MDOptions, prepare_liquid, prepare_solid


def _direct_msd(x: np.ndarray) -> np.ndarray:
    """O(T^2) reference: mean over atoms and origins of |x(t + m) - x(t)|^2."""
    n_t = x.shape[0]
    return np.array([np.mean(np.sum((x[m:] - x[: n_t - m]) ** 2, axis=-1)) for m in range(n_t)])


# ------------------------------------------------------------------ estimator (no LAMMPS)


def test_msd_matches_direct_estimator_and_ballistic_law() -> None:
    rng = np.random.default_rng(0)
    walk = np.cumsum(rng.normal(size=(60, 7, 3)), axis=0)
    np.testing.assert_allclose(
        mean_squared_displacement(walk, remove_drift=False), _direct_msd(walk), rtol=1e-10
    )
    # ballistic: x = x0 + v t  ->  MSD(tau) = <|v|^2> tau^2 exactly
    t = np.arange(50) * 0.1
    v = rng.normal(size=(9, 3))
    x = rng.normal(size=(9, 3)) + t[:, None, None] * v
    expected = np.mean(np.sum(v**2, axis=-1)) * t**2
    np.testing.assert_allclose(
        mean_squared_displacement(x, remove_drift=False), expected, rtol=1e-10, atol=1e-12
    )
    # batched over leading dims equals looped
    both = np.stack([walk[:50, :, :], x[:, :7]])
    looped = [mean_squared_displacement(b, remove_drift=False) for b in both]
    np.testing.assert_allclose(mean_squared_displacement(both, remove_drift=False), looped)


def test_drift_removal_ignores_a_common_translation() -> None:
    rng = np.random.default_rng(1)
    x = np.cumsum(rng.normal(size=(40, 20, 3)), axis=0)
    x -= x.mean(axis=1, keepdims=True)  # zero centre of mass
    shifted = x + np.linspace(0, 30, 40)[:, None, None] * np.array([1.0, -2.0, 0.5])
    np.testing.assert_allclose(
        mean_squared_displacement(shifted), mean_squared_displacement(x, remove_drift=False)
    )


def test_brownian_diffusivity_within_sampling_error() -> None:
    # 3D Brownian motion with D = 0.5 A^2/ps, 2000 atoms, 201 frames 0.02 ps apart. The fitted D
    # of one atom scatters by ~40 % over this window; averaged over 2000 atoms ~1 %: allow 4 %.
    rng = np.random.default_rng(2)
    d_true, dt = 0.5, 0.02
    steps = rng.normal(scale=np.sqrt(2 * d_true * dt), size=(200, 2000, 3))
    x = np.concatenate([np.zeros((1, 2000, 3)), np.cumsum(steps, axis=0)])
    times = np.arange(201) * dt
    fit = diffusivity(x, times, fit_window=(0.1, 0.6))
    assert fit.d_a2ps == pytest.approx(d_true, rel=0.04)
    assert fit.d_cm2s == pytest.approx(fit.d_a2ps * 1e-4)
    assert fit.window == pytest.approx((0.4, 2.4))


def test_fit_diffusivity_is_exact_on_a_line_and_validates_the_window() -> None:
    lag = np.linspace(0.0, 6.0, 61)
    fit = fit_diffusivity(lag, 6 * 0.37 * lag + 0.8, window=(0.6, 3.6))
    assert fit.d_a2ps == pytest.approx(0.37, rel=1e-12)
    assert fit.intercept == pytest.approx(0.8, rel=1e-10)
    with pytest.raises(InputDataError, match="holds 1 lag"):
        fit_diffusivity(lag, lag, window=(1.0, 1.05))
    with pytest.raises(InputDataError, match="fit_window"):
        diffusivity(np.zeros((5, 2, 3)), np.arange(5.0), fit_window=(0.5, 0.2))
    with pytest.raises(InputDataError, match="equal steps"):
        diffusivity(np.zeros((3, 2, 3)), np.array([0.0, 1.0, 3.0]))


def test_vibrational_msd_of_harmonic_motion_and_drift() -> None:
    # x_i(t) = c_i + a_i cos(w t) over whole periods: <u^2> = mean_i |a_i|^2 / 2 exactly
    rng = np.random.default_rng(6)
    t = np.arange(200) * (2 * np.pi / 50)  # 4 periods, 50 frames each
    c, a = rng.normal(size=(5, 3)), rng.normal(scale=0.1, size=(5, 3))
    x = c + a * np.cos(t)[:, None, None]
    expected = np.mean(np.sum(a**2, axis=-1)) / 2
    assert float(vibrational_msd(x, remove_drift=False)) == pytest.approx(expected, rel=1e-12)
    # a common translation is removed with the drift; discard drops leading frames
    moved = x - x.mean(axis=1, keepdims=True) + 0.3 * t[:, None, None]
    np.testing.assert_allclose(
        vibrational_msd(moved), vibrational_msd(x - x.mean(axis=1, keepdims=True)), rtol=1e-10
    )
    assert float(vibrational_msd(x, discard=0.5, remove_drift=False)) == pytest.approx(
        expected, rel=1e-12
    )
    assert vibrational_msd(np.stack([x, 2 * x]), remove_drift=False).shape == (2,)
    with pytest.raises(InputDataError, match="discard"):
        vibrational_msd(x, discard=1.0)


def test_reduced_mass_formula() -> None:
    rng = np.random.default_rng(3)
    phi = np.linalg.qr(rng.normal(size=(12, 5)))[0]
    m = np.array([63.546, 91.224, 63.546, 91.224])
    expected = phi.T @ np.diag(np.repeat(m, 3)) @ phi
    np.testing.assert_allclose(reduced_mass(phi, m), expected, rtol=1e-12)
    np.testing.assert_allclose(reduced_mass(phi, np.repeat(m, 3)), expected, rtol=1e-12)
    # one species, orthonormal basis: m I
    np.testing.assert_allclose(reduced_mass(phi, np.full(4, 2.0)), 2.0 * np.eye(5), atol=1e-12)
    # batched
    assert reduced_mass(np.stack([phi, phi]), m).shape == (2, 5, 5)
    with pytest.raises(InputDataError, match="masses"):
        reduced_mass(phi, [1.0, 2.0])


def test_options_validate_with_helpful_messages() -> None:
    with pytest.raises(InputDataError, match="Did you mean 'Cu_u3'"):
        LiquidMDOptions(candidates=("Cu_u33",))
    with pytest.raises(InputDataError, match="every must divide"):
        LiquidMDOptions(steps=105, every=10)
    with pytest.raises(InputDataError, match="thermostat"):
        ReducedMDOptions(thermostat="berendsen")  # type: ignore[arg-type]
    with pytest.raises(InputDataError, match="state"):
        MDOptions(state="gas")  # type: ignore[arg-type]
    md = LiquidMDOptions(steps=500, every=5, temperature=1800.0)
    ro = ReducedMDOptions.like(md)
    assert (ro.steps, ro.every, ro.temperature) == (500, 5, 1800.0)
    solid = MDOptions.solid(discard=0.3)
    assert (solid.state, solid.lattice, solid.temperature) == ("solid", 3.615, 500.0)
    assert ReducedMDOptions.like(solid).discard == 0.3


# ------------------------------------------------------------------ with LAMMPS


@pytest.fixture(scope="module")
def tiny(require_lammps) -> tuple[LiquidMDOptions, object]:
    opt = LiquidMDOptions(
        candidates=("Cu_u3", "Cu_mishin1"),
        cells=2,
        melt_steps=200,
        equil_steps=200,
        steps=400,
        every=4,
    )
    return opt, prepare_liquid(opt, rng=7)


def test_full_basis_reproduces_lammps_nve(tiny) -> None:
    opt, start = tiny
    n = start.positions.shape[0]
    with LammpsBox("Cu_u3", cells=opt.cells, lattice=opt.lattice, mass=opt.mass) as box:
        box.set_positions(start.positions, rewrap=True)
        box.set_velocities(start.velocities)
        box.command(f"timestep {opt.dt}")
        box.command("fix nve all nve")
        box.command("run 0")
        f0 = box.forces()
        frames = [box.positions()]
        for _ in range(25):
            box.command("run 1 pre no post no")
            frames.append(box.positions())
    ro = ReducedMDOptions(
        steps=25,
        every=1,
        dt=opt.dt,
        thermostat="none",
        initial_velocity="project",
        fit_window=(0.1, 0.9),
    )
    red = reduced_md(np.eye(3 * n), start, "Cu_u3", ro)
    # same scheme as fix nve, same constants: agreement to round-off over 25 steps
    np.testing.assert_allclose(red.positions, np.stack(frames), atol=1e-9, rtol=0)
    assert red.n_force_calls == 26 and red.seconds_per_force > 0
    with LammpsBox("Cu_u3", cells=opt.cells, lattice=opt.lattice, mass=opt.mass) as box:
        f, _ = box.evaluate(start.positions)
    np.testing.assert_allclose(f, f0, atol=1e-12)


def test_evaluate_keeps_images_consistent_across_boundaries(tiny) -> None:
    opt, start = tiny
    rng = np.random.default_rng(4)
    x = start.positions.copy()
    with LammpsBox("Cu_u3", cells=opt.cells, lattice=opt.lattice, mass=opt.mass) as box:
        box.evaluate(x)
        for _ in range(150):  # a drift of 0.01 A per call carries every atom across the box
            x = x + 0.05 + rng.normal(scale=0.01, size=x.shape)
            f_moved, pe_moved = box.evaluate(x)
        assert np.max(np.abs(x - start.positions)) > box.length.max()  # truly unwrapped
        np.testing.assert_allclose(box.positions(), x, atol=1e-9)
    with LammpsBox("Cu_u3", cells=opt.cells, lattice=opt.lattice, mass=opt.mass) as fresh:
        fresh.set_positions(x, rewrap=True)
        f_fresh, pe_fresh = fresh.evaluate()
    np.testing.assert_allclose(f_moved, f_fresh, atol=1e-10)
    assert pe_moved == pytest.approx(pe_fresh, abs=1e-9)


def test_candidate_md_gives_unwrapped_liquid_trajectories(tiny) -> None:
    opt, start = tiny
    traj = run_candidate("Cu_mishin1", start, opt)
    assert traj.positions.shape == (opt.n_frames, 32, 3)
    np.testing.assert_array_equal(traj.positions[0], start.positions)
    # unwrapped: no jumps of a box length between frames 8 fs apart
    assert np.abs(np.diff(traj.positions, axis=0)).max() < 1.0
    assert 0.05 < traj.fit.d_a2ps < 3.0  # a liquid (copper near 1600 K: ~0.4 A^2/ps)
    assert np.mean(traj.temperature[10:]) == pytest.approx(1600, rel=0.2)


def test_tiny_end_to_end_srom_reduced_md(tiny) -> None:
    opt, start = tiny
    runs = run_candidates(opt, start=start)
    ds = runs.to_xarray()
    assert ds["positions"].dims == ("candidate", "frame", "atom", "xyz")
    assert ds["diffusivity"].attrs["units"] == "A^2/ps"
    from bayescal.srom import SROM, pod_basis, snapshot_matrix, translation_constraint

    snaps = [
        snapshot_matrix(t.positions, velocities=t.velocities, masses=t.masses, gamma=1e-3)
        for t in runs.trajectories
    ]
    cands = np.stack([pod_basis(s, rank=24)[0] for s in snaps])
    with warnings.catch_warnings():
        # liquid trajectories decorrelate: candidates sit far apart, Stiefel log may stop early
        warnings.simplefilter("ignore", ConvergenceWarning)
        srom = SROM.fit(
            cands,
            pooled_snapshots=np.concatenate(snaps, axis=1),
            rank=24,
            constraint=translation_constraint(32),
            n_fixed=4,
        )
    bases = srom.sample(2, rng=0)
    np.testing.assert_allclose(bases[:, :, :4], np.broadcast_to(srom.center[:, :4], (2, 96, 4)))
    ro = ReducedMDOptions.like(opt, steps=300, every=4)
    out = reduced_md_batch(bases, start, "Cu_u3", ro, rng=0)
    assert out["diffusivity"].dims == ("realization",)
    assert out.attrs["rank"] == 24
    assert np.all(np.isfinite(out["diffusivity"]))
    assert np.all(out["seconds_per_force"] > 0)
    # Nose-Hoover on 24 reduced dofs: after the start's potential energy has been drained (the
    # first ~0.5 ps run hot) it holds the target on average (measured 1586 K and 1574 K)
    long = reduced_md_batch(bases, start, "Cu_u3", dataclasses.replace(ro, steps=2000), rng=0)
    late = long["temperature"].isel(frame=slice(125, None)).mean("frame")
    np.testing.assert_allclose(late, 1600, rtol=0.1)
    # same rng -> same result (serial LAMMPS is deterministic)
    again = reduced_md_batch(bases[:1], start, "Cu_u3", ro, rng=0)
    assert float(again["diffusivity"][0]) == float(out["diffusivity"][0])
    with pytest.raises(InputDataError, match="orthonormal"):
        reduced_md(2 * bases[0], start, "Cu_u3", ro)
    with pytest.raises(InputDataError, match="cells"):
        run_candidate("Cu_u3", start, dataclasses.replace(opt, cells=3))


def test_langevin_thermostat_runs_and_is_seeded(tiny) -> None:
    _, start = tiny
    phi = np.linalg.qr(np.random.default_rng(5).normal(size=(96, 30)))[0]
    ro = ReducedMDOptions(steps=200, every=4, thermostat="langevin", t_damp=0.05)
    a = reduced_md(phi, start, "Cu_u3", ro, rng=1)
    b = reduced_md(phi, start, "Cu_u3", ro, rng=1)
    np.testing.assert_array_equal(a.q, b.q)
    assert np.all(np.isfinite(a.temperature))


# ------------------------------------------------------------------ solid (the default application)


def test_solid_start_is_the_force_free_lattice_and_md_vibrates(require_lammps) -> None:
    opt = MDOptions.solid(candidates=("Cu_u3", "Cu_mishin1"), cells=2, steps=300, every=5)
    start = prepare_solid(opt, rng=3)
    assert start.state == "solid" and start.prepared_with == "lattice"
    for name in opt.candidates:  # perfect fcc: zero force for any potential by symmetry
        with LammpsBox(name, cells=2, lattice=opt.lattice, mass=opt.mass) as box:
            f, _ = box.evaluate(start.positions)
        assert np.abs(f).max() < 1e-10
    np.testing.assert_allclose(start.velocities.sum(axis=0), 0.0, atol=1e-10)
    runs = run_candidates(opt, start=start)
    ds = runs.to_xarray(trajectories=False)
    assert ds["u2"].attrs["units"] == "A^2" and ds.attrs["state"] == "solid"
    # a solid: atoms stay near their sites, <u^2> of Cu near 500 K is ~0.03 A^2
    for t in runs.trajectories:
        assert np.abs(t.positions - start.positions).max() < 1.0
        assert 0.01 < t.u2 < 0.06
        assert -3.6 < t.pe_atom < -3.1
