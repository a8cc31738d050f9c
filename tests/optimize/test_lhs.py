import numpy as np
import pytest
from scipy.spatial.distance import pdist

from bayescal.errors import InputDataError, StudyDefinitionError
from bayescal.optimize import from_unit, latin_hypercube, to_unit


def disk(u: np.ndarray) -> np.ndarray:
    return np.linalg.norm(u - 0.5, axis=-1) <= 0.4


def test_lhs_is_latin_and_seeded():
    x = latin_hypercube(10, 3, seed=1)
    assert x.shape == (10, 3)
    # one point per stratum [k/10, (k+1)/10) in every dimension
    for col in x.T:
        assert sorted(np.floor(col * 10).astype(int).tolist()) == list(range(10))
    np.testing.assert_array_equal(x, latin_hypercube(10, 3, seed=1))
    np.testing.assert_array_equal(x, latin_hypercube(10, 3, seed=np.random.SeedSequence(1)))
    assert not np.array_equal(x, latin_hypercube(10, 3, seed=2))


def test_lhs_with_constraint_is_feasible_and_space_filling():
    n = 20
    x = latin_hypercube(n, 2, seed=0, feasible=disk)
    assert x.shape == (n, 2)
    assert disk(x).all()
    # Space filling: the thinned design beats plain rejection sampling (first n feasible
    # uniform points) in minimum distance, for the same seed.
    rng = np.random.default_rng(0)
    u = rng.random((400, 2))
    naive = u[disk(u)][:n]
    assert pdist(x).min() > pdist(naive).min()


def test_lhs_empty_constraint_raises():
    with pytest.raises(StudyDefinitionError, match="accepted only 0"):
        latin_hypercube(3, 2, seed=0, feasible=lambda u: np.zeros(len(u), dtype=bool))


def test_lhs_bad_feasible_output():
    with pytest.raises(InputDataError, match=r"\(n,\) bool array"):
        latin_hypercube(3, 2, seed=0, feasible=lambda u: np.ones((len(u), 2), dtype=bool))


def test_unit_maps_round_trip():
    bounds = np.array([[-5.0, 10.0], [0.0, 15.0], [1e-3, 2e-3]])
    u = np.random.default_rng(0).random((4, 5, 3))
    np.testing.assert_allclose(to_unit(from_unit(u, bounds), bounds), u, atol=1e-12)
    with pytest.raises(InputDataError, match="lower < upper"):
        to_unit(u, bounds[:, ::-1])
