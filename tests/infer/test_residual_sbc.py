"""Simulation-based calibration of the residual-block posterior (bayescal.infer.residual_model).

Problem: two parameters ``theta = (a, b)`` in the box ``[0, 1] x [10, 30]``; the simulator's
output at the unit point ``u`` is ``f(u) = A phi(u)`` with 40 entries, ``phi`` the five
monomials of ``u`` up to degree 2 and smooth (sine) columns of ``A``. The residual of a run is
``f(u) - y``. One principal-component emulator (:func:`residual_block`, all five components) is
fitted on 30 Latin-hypercube points and one model compiled; each replication only swaps the data
containers ``target_f`` and ``tail_sq_f`` (nutpie's ``with_data``): the centred residuals, hence
the basis and the GPs of the scores, do not depend on ``y`` (checked here against
:func:`residual_block`).

Prior and data: ``theta`` uniform on the box; ``sigma_f ~ HalfNormal(0.1)`` in the emulated
directions and ``sigma_tail_f ~ HalfNormal(0.1)`` outside them (scales fixed through
``residual_block``'s ``sigma_scale`` and ``tail_scale``, so the prior does not depend on the
data). The data are drawn from the likelihood the
model states: ``y = f(u) + Phi (sqrt(g) e_g + sigma e_1) + tau (I - Phi Phi^T) e_2`` with ``g``
the GPs' fitted nuggets, which the likelihood counts as the simulator's own irregularity.

Why this problem and not a linear one: with ``f`` linear in two parameters the block has two
components, as many as parameters, so the scores carry no information on ``sigma_f`` and the
posterior is a funnel over its prior (4 % divergent transitions and a rejected rank test for
``sigma_f`` in a trial run). The quadratic terms give five components, three more than
parameters.

Checks (slow test, 500 replications of 2 chains x 500 draws, ranks among 99 draws thinned
evenly from the 1000): for each of ``a``, ``b``, ``sigma_f`` and ``sigma_tail_f`` a chi-square
test of the ranks' uniformity over 10 bins must not reject at 1 %; the central 90 % intervals
of ``a`` and ``b`` must cover the truth in 85-95 % of the replications; the bulk ESS of every
variable in the first 50 replications must be at least the 99 ranked draws; under 0.5 % of the
draws may be divergent. The fast tests check the data-side formulas against
:func:`residual_block`, the rank machinery on fixed draws, and that ``pm.set_data`` on the fitted
model gives the log density of a model built with the new data side, peaked at the truth of a
low-noise replication (within 1 % of each range, by more than 100 over +-10 %); they do not
sample (NUTS needs a numba or C compilation of 10-25 s).

Without the nugget term (data from the deterministic ``f``), a trial run of 1000 replications
gave chi-square p = 0.011, 0.0007 and 0.002 for ``a``, ``b`` and ``sigma_f``: ranks pile up in
the middle, because the likelihood adds the nugget's variance (here BoTorch's noise floor,
1e-4 of each score's variance) to data that lack it, which matters when ``sigma`` is below it.
"""

from __future__ import annotations

import dataclasses
import time

import numpy as np
import pytest
import scipy.stats
import xarray as xr

from bayescal.infer.residual_likelihood import build_residual_model
from bayescal.infer.residual_model import ResidualBlock, residual_block

NAMES = ("a", "b")
LOWER, UPPER = np.array([0.0, 10.0]), np.array([1.0, 30.0])
N_ENTRIES, N_DESIGN = 40, 30
SIGMA_SCALE = 0.1  # prior scale of sigma_f (per emulated direction)
TAIL_SCALE = 0.1  # prior scale of sigma_tail_f (per direction outside the basis)
VARIABLES = ("a", "b", "sigma_f", "sigma_tail_f")
N_RANKED = 99  # thinned draws per replication: ranks 0..99 fall evenly into 10 bins
N_BINS = 10


def features(u: np.ndarray) -> np.ndarray:
    """Monomials of the unit point up to degree 2, shape ``(n, 5)``."""
    u = np.atleast_2d(u)
    a, b = u[:, 0], u[:, 1]
    return np.stack([a, b, a * a, a * b, b * b], axis=1)


_T = np.linspace(0.0, 1.0, N_ENTRIES)
A = np.stack([np.sin((j + 1) * np.pi * _T + 0.3 * j) for j in range(5)], axis=1)  # (40, 5)


def forward(u: np.ndarray) -> np.ndarray:
    """Simulator output at unit points, shape ``(n, 40)``."""
    return features(u) @ A.T


def latin_hypercube(n: int, d: int, rng: np.random.Generator) -> np.ndarray:
    strata = (np.arange(n)[:, None] + rng.random((n, d))) / n
    return np.stack([strata[rng.permutation(n), j] for j in range(d)], axis=1)


@dataclasses.dataclass(frozen=True)
class Problem:
    x: np.ndarray  # design, unit cube (n, 2)
    outputs: np.ndarray  # f at the design (n, m)
    block: ResidualBlock  # fitted once, with the tail prior's scale fixed
    model: object  # pm.Model

    @property
    def basis(self) -> np.ndarray:
        return self.block.emulator.basis


def data_side(outputs: np.ndarray, basis: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, float]:
    """``target`` and ``tail_sq`` of data ``y``, by the formulas of :func:`residual_block`."""
    center = outputs.mean(axis=0) - y  # mean residual over the design
    target = -(basis.T @ center)
    outside = -center - basis @ target
    return target, float(outside @ outside)


def simulate(problem: Problem, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """One prior draw ``(a, b, sigma_f, sigma_tail_f)`` and data from the model's likelihood."""
    basis, nugget = problem.basis, problem.block.nugget
    u = rng.random(2)
    sigma = SIGMA_SCALE * abs(rng.standard_normal())
    tau = TAIL_SCALE * abs(rng.standard_normal())
    inside = np.sqrt(nugget + sigma**2) * rng.standard_normal(basis.shape[1])
    e = rng.standard_normal(N_ENTRIES)
    y = forward(u)[0] + basis @ inside + tau * (e - basis @ (basis.T @ e))
    return np.r_[LOWER + (UPPER - LOWER) * u, sigma, tau], y


def rank_and_cover(draws: np.ndarray, truth: float) -> tuple[int, bool]:
    """Rank of the truth among ``N_RANKED`` evenly thinned draws; whether the central 90 %
    interval of all draws holds it."""
    flat = np.asarray(draws).reshape(-1)
    thinned = flat[np.linspace(0, flat.size - 1, N_RANKED).astype(int)]
    lo, hi = np.quantile(flat, [0.05, 0.95])
    return int(np.sum(thinned < truth)), bool(lo <= truth <= hi)


def replication(posterior, truth: np.ndarray) -> tuple[list[int], list[bool]]:
    ranks, covered = [], []
    for name, value in zip(VARIABLES, truth, strict=True):
        r, c = rank_and_cover(posterior[name].values, value)
        ranks.append(r)
        covered.append(c)
    return ranks, covered


@pytest.fixture(scope="module")
def problem() -> Problem:
    x = latin_hypercube(N_DESIGN, 2, np.random.default_rng(0))
    outputs = forward(x)
    y0 = forward(np.array([0.3, 0.6]))[0]
    block = residual_block(
        x,
        outputs - y0,
        name="f",
        sigma_scale=SIGMA_SCALE,
        tail_scale=TAIL_SCALE,
        tail=True,
        variance=1.0,
        rng=0,
    )
    model = build_residual_model([[block]], names=NAMES, lower=LOWER, upper=UPPER)
    return Problem(x=x, outputs=outputs, block=block, model=model)


def test_data_side_formulas_match_residual_block(problem):
    """The emulator does not depend on ``y``; the data side does, by the documented formulas."""
    b = problem.block
    assert b.emulator.n_components == 5 and b.tail_dof == N_ENTRIES - 5
    assert b.sigma_scale == SIGMA_SCALE
    y0 = forward(np.array([0.3, 0.6]))[0]
    # the basis is that of the centred outputs, in which y cancels
    _, _, vt = np.linalg.svd(problem.outputs - problem.outputs.mean(axis=0), full_matrices=False)
    np.testing.assert_allclose(np.abs(vt[:5] @ b.emulator.basis), np.eye(5), atol=1e-9)
    np.testing.assert_allclose(b.emulator.center, problem.outputs.mean(axis=0) - y0, atol=1e-12)
    target, tail_sq = data_side(problem.outputs, b.emulator.basis, y0)
    np.testing.assert_allclose(target, b.target, rtol=1e-12, atol=1e-12)
    assert tail_sq == pytest.approx(b.tail_sq, rel=1e-9, abs=1e-20)
    # and for data with a part outside the basis
    y1 = y0 + 0.05 * np.random.default_rng(1).standard_normal(N_ENTRIES)
    direct = residual_block(problem.x, problem.outputs - y1, name="g", variance=1.0, rng=0)
    np.testing.assert_allclose(direct.emulator.basis, b.emulator.basis, atol=1e-9)
    target, tail_sq = data_side(problem.outputs, b.emulator.basis, y1)
    np.testing.assert_allclose(target, direct.target, rtol=1e-9, atol=1e-12)
    assert tail_sq == pytest.approx(direct.tail_sq, rel=1e-9)
    assert tail_sq > 0.01  # 35 directions of noise with sd 0.05


def test_rank_and_cover():
    draws = np.arange(1000.0).reshape(2, 500)  # chains x draws
    assert rank_and_cover(draws, -1.0) == (0, False)
    assert rank_and_cover(draws, 1e4) == (N_RANKED, False)
    rank, covered = rank_and_cover(draws, 500.0)
    assert covered and abs(rank - N_RANKED / 2) <= 1
    posterior = xr.Dataset(
        {name: (("chain", "draw"), draws + j) for j, name in enumerate(VARIABLES)}
    )
    ranks, covered = replication(posterior, np.array([-1.0, 500.0, 501.0, 2e3]))
    assert ranks[0] == 0 and ranks[-1] == N_RANKED and covered == [False, True, True, False]


def unconstrained(a: float, b: float, sigma: float, tau: float) -> dict[str, np.ndarray]:
    """A point of the model's value variables (interval and log transforms)."""
    u = (np.array([a, b]) - LOWER) / (UPPER - LOWER)
    logit = np.log(u / (1 - u))
    return {
        "a_interval__": logit[0],
        "b_interval__": logit[1],
        "sigma_f_log__": np.log(sigma),
        "sigma_tail_f_log__": np.log(tau),
    }


@pytest.mark.usefixtures("pytensor_fast_compile")
def test_swapped_data_give_the_model_of_those_data(problem):
    """``pm.set_data`` on the fitted model equals a model built with the new data side, and for
    low-noise data the log density peaks at the truth along ``a`` and along ``b``.

    (Sampling is left to the slow test: NUTS needs a numba or C compilation of 10-25 s.)
    """
    import pymc as pm

    u = np.array([0.3, 0.6])
    y = forward(u)[0] + 0.01 * np.random.default_rng(2).standard_normal(N_ENTRIES)
    target, tail_sq = data_side(problem.outputs, problem.basis, y)
    direct = build_residual_model(
        [[dataclasses.replace(problem.block, target=target, tail_sq=tail_sq)]],
        names=NAMES, lower=LOWER, upper=UPPER,
    )  # fmt: skip
    with problem.model:
        pm.set_data({"target_f": target, "tail_sq_f": tail_sq})
    logp, logp_direct = problem.model.compile_logp(), direct.compile_logp()
    truth = LOWER + (UPPER - LOWER) * u
    points = [unconstrained(*truth, 0.01, 0.01), unconstrained(0.7, 15.0, 0.2, 0.05)]
    for point in points:
        assert logp(point) == pytest.approx(logp_direct(point), rel=1e-12)
    grid = np.linspace(-0.1, 0.1, 21)  # +-10 % of each range, step 1 %
    for j in range(2):
        profile = []
        for step in grid:
            theta = truth.copy()
            theta[j] += step * (UPPER[j] - LOWER[j])
            profile.append(logp(unconstrained(*theta, 0.01, 0.01)))
        assert abs(grid[int(np.argmax(profile))]) <= 0.01, (NAMES[j], profile)
        assert profile[10] - min(profile[0], profile[-1]) > 100  # sharply peaked (about 400 here)


@pytest.mark.slow
def test_simulation_based_calibration(problem):
    import arviz as az
    import nutpie

    n_rep = 500
    compiled = nutpie.compile_pymc_model(problem.model)
    rng = np.random.default_rng(20240611)
    ranks, covered, ess, divergent, n_draws = [], [], [], 0, 0
    t0 = time.perf_counter()
    for i in range(n_rep):
        truth, y = simulate(problem, rng)
        target, tail_sq = data_side(problem.outputs, problem.basis, y)
        idata = nutpie.sample(
            compiled.with_data(target_f=target, tail_sq_f=tail_sq),
            draws=500, tune=500, chains=2, seed=i, progress_bar=False,
        )  # fmt: skip
        r, c = replication(idata.posterior, truth)
        ranks.append(r)
        covered.append(c)
        divergent += int(idata.sample_stats["diverging"].sum())
        n_draws += idata.sample_stats["diverging"].size
        if i < 50:
            e = az.ess(idata, var_names=list(VARIABLES), method="bulk")
            ess.append([float(e[v]) for v in VARIABLES])
    wall = time.perf_counter() - t0
    ranks_arr, covered_arr, ess_arr = np.array(ranks), np.array(covered), np.array(ess)
    print(f"\nSBC: {n_rep} replications in {wall:.0f} s; divergent {divergent} of {n_draws}")
    lowest = {v: int(e) for v, e in zip(VARIABLES, ess_arr.min(axis=0), strict=True)}
    print(f"min bulk ESS (first 50 replications): {lowest}")
    p_values = {}
    for j, name in enumerate(VARIABLES):
        counts = np.bincount(ranks_arr[:, j] * N_BINS // (N_RANKED + 1), minlength=N_BINS)
        p_values[name] = float(scipy.stats.chisquare(counts).pvalue)
        print(
            f"{name}: rank counts {counts.tolist()}, chi-square p = {p_values[name]:.3f}, "
            f"90 % coverage {covered_arr[:, j].mean():.3f}"
        )
    assert divergent < 0.005 * n_draws
    assert np.all(ess_arr >= N_RANKED), ess_arr.min(axis=0)
    for name, p in p_values.items():
        assert p > 0.01, (name, p)
    for j, name in enumerate(NAMES):
        assert 0.85 <= covered_arr[:, j].mean() <= 0.95, name
