"""Trust-region restarts (``LocalSearch.restarts``): a collapsed region is left for a global
step blind to it, and the next region is centred on the restart's own best point."""

import dataclasses

import numpy as np
import pytest

from bayescal.errors import InputDataError
from bayescal.optimize import EGO, EGOOptions, LocalSearch

OPTS = EGOOptions(
    n_init=6,
    batch_size=2,
    num_restarts=4,
    raw_samples=128,
    local=LocalSearch(start=6, radius=0.2, min_radius=0.05, fail_tol=1, restarts=1),
)
TRAP = np.array([0.2, 0.2])


def _collapse(ego: EGO) -> None:
    """An initial design whose best point is TRAP, then local batches that never improve."""
    rng = np.random.default_rng(0)
    design = np.vstack([TRAP, rng.uniform(0.5, 1.0, (5, 2))])
    ego.tell(design, np.array([1.0, 5.0, 5.0, 5.0, 5.0, 5.0]))
    radii = []
    while not ego.trust_region().exploring:
        radii.append(ego.local_radius())
        x = ego.ask()
        ego.tell(x, np.full(len(x), 2.0))
    assert radii == [0.2, 0.1, 0.05]  # halved after each failed batch, then left


def test_a_collapsed_region_restarts_elsewhere():
    ego = EGO(2, options=OPTS, seed=3)
    _collapse(ego)
    region = ego.trust_region()
    assert region.first == ego.n_told and region.radius == 0.2
    np.testing.assert_array_equal(region.collapsed[0], TRAP)
    x = ego.ask()  # the restart's global step never proposes inside the collapsed box
    assert (np.abs(x - TRAP).max(axis=1) > OPTS.local.radius).all()
    ego.tell(x, np.array([3.0, 4.0]))  # worse than TRAP, but the new region's own best
    assert not ego.trust_region().exploring
    nxt = ego.ask()
    assert (np.abs(nxt - x[0]).max(axis=1) <= 0.2 + 1e-12).all()
    assert ego.best[1] == 1.0  # the run's incumbent stays TRAP (the polish starts there)


def test_without_restarts_the_region_regrows_at_the_incumbent():
    ego = EGO(
        2,
        options=dataclasses.replace(OPTS, local=dataclasses.replace(OPTS.local, restarts=0)),
        seed=3,
    )
    rng = np.random.default_rng(0)
    design = np.vstack([TRAP, rng.uniform(0.5, 1.0, (5, 2))])
    ego.tell(design, np.array([1.0, 5.0, 5.0, 5.0, 5.0, 5.0]))
    radii = []
    for _ in range(4):
        radii.append(ego.local_radius())
        x = ego.ask()
        assert (np.abs(x - TRAP).max(axis=1) <= ego.local_radius() + 1e-12).all()
        ego.tell(x, np.full(len(x), 2.0))
    assert radii == [0.2, 0.1, 0.05, 0.2]  # collapsed, then regrown at the same place
    assert ego.trust_region().first == 0 and not ego.trust_region().collapsed


def test_restarts_need_an_adaptive_region():
    with pytest.raises(InputDataError, match=r"local\.min_radius"):
        LocalSearch(restarts=1)


@pytest.mark.parametrize("stall", [None, 2])
def test_a_region_that_stalls_restarts_before_it_collapses(stall):
    """Batches that improve by 0.5 % each keep the region at full size (no failures); with
    ``stall=2`` the second such batch restarts it elsewhere, centred away from its best point."""
    local = dataclasses.replace(OPTS.local, stall=stall)
    ego = EGO(2, options=dataclasses.replace(OPTS, local=local), seed=3)
    rng = np.random.default_rng(0)
    design = np.vstack([TRAP, rng.uniform(0.5, 1.0, (5, 2))])
    ego.tell(design, np.array([1.0, 5.0, 5.0, 5.0, 5.0, 5.0]))
    for value in (0.995, 0.99):
        x = ego.ask()
        ego.tell(x, np.array([value, 3.0]))
    region = ego.trust_region()
    assert region.exploring == (stall is not None)
    if stall is None:
        assert region.radius == OPTS.local.radius and not region.collapsed
    else:
        np.testing.assert_array_equal(region.collapsed[0], x[0])  # the region's best
        assert region.first == ego.n_told


def test_stall_needs_restarts():
    with pytest.raises(InputDataError, match=r"local\.stall needs local\.restarts"):
        LocalSearch(min_radius=0.05, stall=2)
