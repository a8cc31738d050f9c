"""Posterior coordinates of the linear PE -> chi map: a bijection of the boxes, with the prior's
box as its image."""

import numpy as np
import pytest

from bayescal.infer.chi_coordinates import beta_interval, mean_chi_reparametrization

PE0_MEAN, T_Z = -3.3501, 21000.0
BOX = {"beta_bounds": (2.0, 15.0), "u0_bounds": (-3.395, -3.360)}


@pytest.fixture(scope="module")
def reparam():
    others = {"c0": (0.05, 1.0), "s_y": (0.8, 1.1)}
    return mean_chi_reparametrization(pe0_mean=PE0_MEAN, t_z=T_Z, others=others, **BOX)


def _to_prior(reparam, values):
    out = reparam.sampled.to_prior(values)
    return {k: np.asarray(v.eval() if hasattr(v, "eval") else v) for k, v in out.items()}


def test_sampled_box_maps_into_the_prior_box_and_back(reparam):
    rng = np.random.default_rng(0)
    lo, hi = np.array(reparam.sampled.lower), np.array(reparam.sampled.upper)
    points = lo + rng.random((200, 4)) * (hi - lo)
    values = dict(zip(reparam.sampled.names, points.T, strict=True))
    prior = _to_prior(reparam, values)
    for name, low, high in zip(reparam.names, reparam.lower, reparam.upper, strict=True):
        assert np.all(prior[name] >= low - 1e-9) and np.all(prior[name] <= high + 1e-9), name
    back = reparam.sampled.from_prior(prior)
    np.testing.assert_allclose(back["chi0"], values["chi0"], rtol=1e-10)
    np.testing.assert_allclose(back["w"], values["w"], atol=1e-9)


def test_search_coordinates_agree_with_the_map(reparam):
    beta, u0 = np.array([3.0, 8.0, 14.0]), np.array([-3.39, -3.37, -3.362])
    chi0 = reparam.to_search({"beta": beta, "u0": u0})["chi0"]
    np.testing.assert_allclose(chi0, beta * (PE0_MEAN - u0) * T_Z)
    np.testing.assert_allclose(reparam.from_search({"beta": beta, "chi0": chi0})["u0"], u0)
    low, high = beta_interval(chi0, pe0_mean=PE0_MEAN, t_z=T_Z, **BOX)
    assert np.all(low <= beta) and np.all(beta <= high)
