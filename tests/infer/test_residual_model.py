"""The residual-block likelihood (bayescal.infer.residual_model): formula and a linear twin."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.stats

from bayescal.errors import InputDataError
from bayescal.infer.residual_likelihood import build_residual_model
from bayescal.infer.residual_model import (
    outside_part,
    participation_ratio,
    residual_block,
    systematic_direction,
    training_subset,
)

NAMES = ("a", "b")
LOWER, UPPER = np.array([0.0, 10.0]), np.array([1.0, 30.0])
TRUTH_UNIT = np.array([0.3, 0.6])


def linear_residuals(u: np.ndarray) -> np.ndarray:
    """60-entry residuals, linear in the unit-cube point, zero at the truth."""
    t = np.linspace(0, 1, 60)
    modes = np.stack([np.sin(np.pi * t), t - 0.5])  # (2, 60)
    return (u - TRUTH_UNIT) @ modes


@pytest.fixture(scope="module")
def block():
    x = np.random.default_rng(0).random((25, 2))
    return x, residual_block(x, linear_residuals(x), name="f", rng=0)


def test_block_data(block):
    _, b = block
    assert b.emulator.n_components == 2 and b.tail_dof == 58
    # the truth's residual (zero) projects to the scores the truth's point emulates
    mean, _ = b.emulator.predict(TRUTH_UNIT)
    np.testing.assert_allclose(mean, b.target, rtol=2e-3)  # GP error on linear scores
    assert b.tail_sq < 1e-20  # linear residuals: nothing outside the 2 directions
    np.testing.assert_array_equal(b.noise_var, 0.0)


@pytest.mark.usefixtures("pytensor_fast_compile")
def test_logp_equals_formula(block):
    x, b = block
    cov = np.full(60, 0.01**2)
    noisy = residual_block(x, linear_residuals(x), name="g", noise_cov=cov, rng=0)
    model = build_residual_model([[b, noisy]], names=NAMES, lower=LOWER, upper=UPPER)
    logp = model.compile_logp(jacobian=False)
    theta = np.array([0.5, 22.0])
    unit = (theta - LOWER) / (UPPER - LOWER)
    sig = {"f": 0.02, "g": 0.05}
    point = {
        "a_interval__": np.log(unit[0] / (1 - unit[0])),
        "b_interval__": np.log(unit[1] / (1 - unit[1])),
        "sigma_f_log__": np.log(sig["f"]),
        "sigma_g_log__": np.log(sig["g"]),
        "sigma_tail_f_log__": np.log(2 * sig["f"]),
        "sigma_tail_g_log__": np.log(2 * sig["g"]),
    }
    expected = -np.log(UPPER - LOWER).sum()
    for blk in (b, noisy):
        s = sig[blk.name]
        expected += scipy.stats.halfnorm.logpdf(s, scale=blk.sigma_scale)
        expected += scipy.stats.halfnorm.logpdf(2 * s, scale=blk.tail_scale)
        mean, var = blk.emulator.predict(unit)
        sd = np.sqrt(var + blk.nugget + s**2 + blk.noise_var)
        expected += scipy.stats.norm.logpdf(blk.target, mean, sd).sum()
        tail = (2 * s) ** 2 + blk.tail_var
        expected += -0.5 * blk.tail_sq / tail - 0.5 * blk.tail_dof * np.log(2 * np.pi * tail)
    assert float(logp(point)) == pytest.approx(float(expected), rel=1e-9)
    # measured noise enters each component: var n_j = phi_j^T diag(cov) phi_j = 1e-4 here
    np.testing.assert_allclose(noisy.noise_var, 1e-4, rtol=1e-10)


def test_errors(block):
    x, b = block
    with pytest.raises(InputDataError, match="noise_cov of block 'h'"):
        residual_block(x, linear_residuals(x), name="h", noise_cov=np.ones(3))
    with pytest.raises(InputDataError, match="lower < upper"):
        build_residual_model([[b]], names=NAMES, lower=UPPER, upper=LOWER)
    with pytest.raises(InputDataError, match="at least one"):
        build_residual_model([], names=NAMES, lower=LOWER, upper=UPPER)
    with pytest.raises(InputDataError, match="same blocks"):
        other = residual_block(x, linear_residuals(x), name="other", rng=0)
        build_residual_model([[b], [other]], names=NAMES, lower=LOWER, upper=UPPER)


def test_prior_scales_of_the_model_errors(block):
    x, _ = block
    noisy = linear_residuals(x) + 0.01 * np.random.default_rng(1).standard_normal((25, 60))
    with_tail = residual_block(x, noisy, name="f", rng=0)
    no_tail = residual_block(x, noisy, name="f", tail=False, rng=0)
    assert with_tail.tail_dof == 58 and no_tail.tail_dof == 0
    # per emulated component, and per direction outside the basis
    best = noisy[np.argmin((noisy**2).sum(axis=1))]
    basis = with_tail.emulator.basis
    proj = basis.T @ best
    assert with_tail.sigma_scale == pytest.approx(np.sqrt(np.mean(proj**2)))
    rest = best - basis @ proj
    assert with_tail.tail_scale == pytest.approx(np.sqrt(rest @ rest / 58))
    assert no_tail.sigma_scale == with_tail.sigma_scale


@pytest.mark.usefixtures("pytensor_fast_compile")
def test_realizations_are_partially_pooled_with_one_sigma_per_block(block):
    _, b = block
    model = build_residual_model([[b], [b], [b]], names=NAMES, lower=LOWER, upper=UPPER)
    names = set(model.named_vars)
    assert {"a", "b", "a_realization", "tau", "eps", "sigma_f"} <= names
    assert {"z_f_r0", "z_f_r1", "z_f_r2", "tail_f_r2", "sigma_tail_f"} <= names
    assert model.named_vars_to_dims["a_realization"] == ("realization",)
    from bayescal.infer import PosteriorOptions

    none = build_residual_model(
        [[b], [b]],
        names=NAMES,
        lower=LOWER,
        upper=UPPER,
        options=PosteriorOptions(pooling="none"),
    )
    assert "a_realization" in none.free_RVs[0].name and "tau" not in none.named_vars


@pytest.mark.usefixtures("pytensor_fast_compile")
@pytest.mark.parametrize("pooling", ["partial", "none"])
def test_grouped_chains_start_with_every_realization_at_the_pooled_best_fit(block, pooling):
    from bayescal.infer import PosteriorOptions
    from bayescal.infer.residual_posterior import grouped_start, starting_point

    _, b = block
    opts = PosteriorOptions(pooling=pooling)
    blocks = [[b], [b], [b]]
    model = build_residual_model(blocks, names=NAMES, lower=LOWER, upper=UPPER, options=opts)
    start = starting_point(blocks, NAMES, LOWER, UPPER, opts, rng=0)
    init = grouped_start(start, NAMES, LOWER, UPPER, len(blocks), opts)
    assert sorted(init) == sorted(rv.name for rv in model.free_RVs)
    for rv in model.free_RVs:  # every free variable given, in its own shape
        assert np.shape(init[rv.name]) == tuple(rv.shape.eval())
    for k, v in init.items():
        model.set_initval(model[k], v)
    point = model.initial_point()
    assert np.isfinite(model.compile_logp()(point))
    outs = model.replace_rvs_by_values([model["a_realization"], model["b_realization"]])
    members = model.compile_fn(outs, inputs=model.value_vars, on_unused_input="ignore")(point)
    unit = [(m - lo) / (hi - lo) for m, lo, hi in zip(members, LOWER, UPPER, strict=True)]
    assert np.allclose(unit[0], (start["a"] - LOWER[0]) / (UPPER[0] - LOWER[0]))
    assert np.allclose(unit[1], (start["b"] - LOWER[1]) / (UPPER[1] - LOWER[1]))
    # the pooled start is near the truth the residuals vanish at
    assert np.allclose([u[0] for u in unit], TRUTH_UNIT, atol=0.1)


@pytest.mark.slow
def test_exact_twin_posterior_is_centred_on_the_truth(block):
    """Residuals exactly zero at the truth: the posterior concentrates there and the learned
    model error is small against the residuals' spread. The residuals have quadratic terms
    too (four components for two parameters): with no more components than parameters the
    scores say nothing about ``sigma`` and its prior would set the width."""
    import pymc as pm

    x, _ = block
    t = np.linspace(0, 1, 60)
    curved = ((x - TRUTH_UNIT) ** 2) @ np.stack([np.cos(np.pi * t), t**2 - 0.3])
    b = residual_block(x, linear_residuals(x) + 3 * curved, name="f", variance=0.99999, rng=0)
    assert b.emulator.n_components > len(NAMES)
    model = build_residual_model([[b]], names=NAMES, lower=LOWER, upper=UPPER)
    with model:
        idata = pm.sample(
            draws=500, tune=500, chains=2, random_seed=1, progressbar=False,
            nuts_sampler="nutpie",
        )  # fmt: skip
    truth = LOWER + (UPPER - LOWER) * TRUTH_UNIT
    for j, name in enumerate(NAMES):
        draws = idata.posterior[name].values.ravel()
        lo, hi = np.quantile(draws, [0.03, 0.97])
        assert lo <= truth[j] <= hi
        assert hi - lo < 0.1 * (UPPER[j] - LOWER[j])


@pytest.fixture(scope="module")
def toy_run(tmp_path_factory):
    from pathlib import Path

    from bayescal.study import calibrate, load_study

    study = load_study(Path(__file__).parents[2] / "studies" / "toy_shear_band.py", n=16)
    out = tmp_path_factory.mktemp("toy")
    return study, calibrate(study, out, budget=15, seeds=2)


@pytest.mark.slow  # 30 toy evaluations and a GP per component: about 17 s
@pytest.mark.usefixtures("pytensor_fast_compile")
def test_blocks_of_a_run_and_their_model(toy_run):
    from bayescal.infer.residual_model import residual_blocks
    from bayescal.noise import StressNoise

    study, ev = toy_run
    ref = study.reference_for(0)
    noise = StressNoise(sd=0.01, acf=np.array([1.0, 0.5]))
    blocks = residual_blocks(ev, study.discrepancy, ref, stress_noise=noise, rng=0)
    assert [b.name for b in blocks] == ["gamma_xy:exy", "stress"]
    assert np.all(blocks[0].noise_var == 0) and np.all(blocks[1].noise_var > 0)
    lower = [p.lower for p in study.parameters]
    upper = [p.upper for p in study.parameters]
    model = build_residual_model([blocks], names=study.names, lower=lower, upper=upper)
    assert {"sigma_gamma_xy_exy", "sigma_stress", "z_stress"} <= set(model.named_vars)
    assert np.isfinite(model.compile_logp()(model.initial_point()))
    few = residual_blocks(ev, study.discrepancy, ref, max_points=12, rng=0)
    assert [b.emulator.gps[0].n_train for b in few] == [12, 12]


def test_far_residuals_are_shortened_not_turned():
    from bayescal.infer.residual_model import shrink_far_residuals

    r = np.array([[1.0, 0.0], [0.0, 3.0], [-40.0, 30.0], [np.nan, np.nan]])
    out = shrink_far_residuals(r, np.array([0, 1, 2]), factor=5.0)
    np.testing.assert_array_equal(out[:2], r[:2])  # within 5x the shortest: unchanged
    assert np.linalg.norm(out[2]) == pytest.approx(5.0)  # 50 -> 5 x 1
    np.testing.assert_allclose(out[2] / np.linalg.norm(out[2]), r[2] / 50.0)
    assert shrink_far_residuals(r, np.array([0, 1, 2]), factor=None) is r
    # a nearly exact best fit: the median length (here 3) is the limit, not 5 x 0.001
    exact = np.array([[1e-3, 0.0], [0.0, 3.0], [-40.0, 30.0], [2.0, 0.0], [0.0, 4.0]])
    out = shrink_far_residuals(exact, np.arange(5), factor=5.0)
    np.testing.assert_array_equal(out[[0, 1, 3]], exact[[0, 1, 3]])
    np.testing.assert_allclose(np.linalg.norm(out[[2, 4]], axis=1), 3.0)


def chaotic_residuals(u: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A smooth mode plus white chaos whose size grows with the first parameter (400 entries).

    The chaos has no principal component a GP can predict, but its norm is a smooth function of
    the point: the part of the misfit the emulated components cannot see.
    """
    t = np.linspace(0, 1, 400)
    smooth = (u[:, 1:2] - TRUTH_UNIT[1]) * np.sin(np.pi * t) / np.sqrt(t.size / 2)
    size = 0.05 + 0.4 * u[:, :1]
    return smooth + size * rng.standard_normal((u.shape[0], t.size)) / np.sqrt(t.size)


@pytest.mark.usefixtures("pytensor_fast_compile")
def test_field_block_emulates_the_misfit_outside_its_components():
    gen = np.random.default_rng(3)
    x = gen.random((30, 2))
    b = residual_block(x, chaotic_residuals(x, gen), name="f", tail=False, rng=0)
    assert b.emulator.explained < 0.99 and b.outside is not None and b.tail_dof == 0
    # the chaos spreads over many directions: far more than the one emulated component
    assert 10 < b.outside_dof <= 30
    low, high = np.array([[0.05, 0.6]]), np.array([[0.95, 0.6]])
    # chaos of sd 0.07 at the low end, 0.43 at the high end: only the outside part sees it
    assert b.log_likelihood(low)[0] > b.log_likelihood(high)[0] + 50
    model = build_residual_model([[b]], names=NAMES, lower=LOWER, upper=UPPER)
    assert {"sigma_f", "sigma_tail_f"} <= set(model.named_vars) and "outside_f" in model.named_vars
    logp = model.compile_logp(jacobian=False)
    theta = LOWER + (UPPER - LOWER) * low[0]
    point = {
        "a_interval__": np.log(low[0, 0] / (1 - low[0, 0])),
        "b_interval__": np.log(low[0, 1] / (1 - low[0, 1])),
        "sigma_f_log__": np.log(0.03),
        "sigma_tail_f_log__": np.log(0.01),
    }
    expected = (
        -np.log(UPPER - LOWER).sum()
        + scipy.stats.halfnorm.logpdf(0.03, scale=b.sigma_scale)
        + scipy.stats.halfnorm.logpdf(0.01, scale=b.tail_scale)
        + b.log_likelihood(low, sigma=0.03, tail_sigma=0.01)[0]
    )
    assert np.all(theta > LOWER)
    assert float(logp(point)) == pytest.approx(float(expected), rel=1e-9)


def test_field_block_components_have_tau_everywhere_and_sigma_along_one_direction():
    """Components: N(target; mean, diag(var + nugget + noise + tau^2) + sigma^2 u u^T)."""
    gen = np.random.default_rng(3)
    x = gen.random((30, 2))
    b = residual_block(x, chaotic_residuals(x, gen), name="f", tail=False, rng=0)
    assert b.systematic is not None and np.linalg.norm(b.systematic) == pytest.approx(1.0)
    assert b.component_sigma_name == "sigma_tail_f"
    points = np.array([[0.2, 0.5], [0.7, 0.1]])
    mean, var = b.emulator.predict(points)
    sigma, tau = 0.05, 0.02
    for i in range(2):
        cov = np.diag(var[i] + b.nugget + b.noise_var + tau**2)
        cov += sigma**2 * np.outer(b.systematic, b.systematic)
        log_s, v = b.outside.predict(points[i : i + 1])
        expected = scipy.stats.multivariate_normal(mean[i], cov).logpdf(b.target) - (
            0.5 * np.exp(log_s[0] + 0.5 * v[0]) / tau**2
            + 0.5 * b.outside_dof * np.log(2 * np.pi * tau**2)
        )
        got = b.log_likelihood(points[i : i + 1], sigma=sigma, tail_sigma=tau)[0]
        assert got == pytest.approx(expected, rel=1e-10)


def test_participation_ratio_counts_the_directions_of_the_spread():
    """Spread along one direction: 1; isotropic in 10 of 400 entries: about 10 (both Gram
    matrices); invariant under rotations, scales and shifts of the samples."""
    gen = np.random.default_rng(0)
    rotation = np.linalg.qr(gen.standard_normal((400, 400)))[0]
    line = np.outer(gen.standard_normal(50), rotation[0])
    assert participation_ratio(line) == pytest.approx(1.0)
    flat = gen.standard_normal((2000, 10)) @ rotation[:10]  # n > m: the m x m Gram
    assert participation_ratio(flat) == pytest.approx(10.0, rel=0.02)
    assert participation_ratio(flat[:300]) == pytest.approx(10.0, rel=0.1)  # n < m
    # exponential spectrum exp(-i / 15): population ratio 30; 400 samples see about 28
    x = gen.standard_normal((400, 400)) * np.exp(-np.arange(400) / 30.0)
    moved = 3.0 * x @ rotation + gen.standard_normal(400)
    assert participation_ratio(moved) == pytest.approx(participation_ratio(x), rel=1e-8)
    assert 26 < participation_ratio(x) < 30
    with pytest.raises(InputDataError, match="n >= 2"):
        participation_ratio(np.ones((1, 4)))
    with pytest.raises(InputDataError, match="do not vary"):
        participation_ratio(np.ones((5, 4)))


def test_outside_dof_counts_every_evaluation_not_only_the_training_subset():
    gen = np.random.default_rng(3)
    x = gen.random((60, 2))
    r = chaotic_residuals(x, gen)
    sub = residual_block(x[:30], r[:30], name="f", tail=False, rng=0)
    every = residual_block(x[:30], r[:30], name="f", tail=False, spread=r, rng=0)
    # the same emulators, the ratio of all 60 evaluations' outside parts
    assert every.outside.noise_sd == sub.outside.noise_sd
    expected = participation_ratio(outside_part(r, sub.emulator.basis))
    assert every.outside_dof == pytest.approx(expected)
    assert every.outside_dof > sub.outside_dof + 10  # 60 samples of white chaos span more


def test_systematic_direction_is_the_best_fits_common_misfit_whatever_the_basis():
    """Two clusters of evaluations share a misfit along m0 but vary locally in different
    directions: bases fitted to either cluster (other components, rotated) give m0."""
    gen = np.random.default_rng(5)
    m0, local_a, local_b, *others = np.linalg.qr(gen.standard_normal((80, 7)))[0].T
    found = []
    for local in (local_a, local_b):
        amp = gen.uniform(0.3, 1.0, 40)
        r = np.outer(amp, m0) + np.outer(gen.uniform(-0.2, 0.2, 40), local)
        r += 0.01 * gen.standard_normal(r.shape)
        r = np.vstack([r, 5.0 * gen.standard_normal((10, 80))])  # far, long residuals
        rotation = np.linalg.qr(gen.standard_normal((6, 6)))[0]
        basis = np.column_stack([m0, local, *others[:4]]) @ rotation
        u = basis @ systematic_direction(r, basis, n_best=8)
        found.append(u)
        assert abs(u @ m0) > 0.97
    # the sign is arbitrary; the direction is what the likelihood uses (u u^T)
    assert abs(found[0] @ found[1]) > 0.95
    with pytest.raises(InputDataError, match="orthogonal"):
        systematic_direction(np.outer(np.ones(5), m0), local_a[:, None], n_best=3)


def test_blocks_with_a_data_tail_or_full_variance_have_no_outside_part(block):
    x, b = block
    assert b.outside is None  # a data tail (the stress block's kind)
    full = residual_block(x, linear_residuals(x), name="g", tail=False, rng=0)
    assert full.outside is None and not full.has_tail_sigma  # nothing left outside


def test_training_subset_keeps_the_best_fits_and_covers_the_box():
    rng = np.random.default_rng(3)
    unit = rng.random((500, 2))
    misfit = np.sum((unit - TRUTH_UNIT) ** 2, axis=1)
    rows = np.arange(500)
    np.testing.assert_array_equal(training_subset(unit, misfit, rows[:40], 50), rows[:40])
    chosen = training_subset(unit, misfit, rows, 100)
    assert chosen.size == 100 and np.unique(chosen).size == 100
    best = np.argsort(misfit)[:75]
    assert set(best) <= set(chosen)
    # every corner of the box has a chosen point nearby, although the best half is central
    for corner in ([0, 0], [0, 1], [1, 0], [1, 1]):
        assert np.min(np.linalg.norm(unit[chosen] - corner, axis=1)) < 0.15
    np.testing.assert_array_equal(chosen, training_subset(unit, misfit, rows, 100))
    with pytest.raises(ValueError, match="max_points"):
        training_subset(unit, misfit, rows, 2)


@pytest.mark.usefixtures("pytensor_fast_compile")
def test_one_tail_sd_when_only_some_realizations_have_a_tail(block):
    """Realization 0's block holds all its variance, realization 1's has an outside part: the
    model gets one ``sigma_tail`` for the block, scaled by the block that has it."""
    x, _ = block
    gen = np.random.default_rng(3)
    full = residual_block(x, linear_residuals(x), name="f", tail=False, rng=0)
    chaotic = residual_block(x, chaotic_residuals(x, gen), name="f", tail=False, rng=0)
    assert not full.has_tail_sigma and chaotic.has_tail_sigma
    model = build_residual_model([[full], [chaotic]], names=NAMES, lower=LOWER, upper=UPPER)
    assert "sigma_tail_f" in model.named_vars and "outside_f_r1" in model.named_vars
    prior = model["sigma_tail_f"].owner.inputs[-1]
    assert float(prior.eval()) == pytest.approx(chaotic.tail_scale)
