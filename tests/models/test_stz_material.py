"""STZ in any unit system (models.stz.Material): the same physics in other units gives the same
fields, and the CuZr defaults are the reference's constants."""

import numpy as np
import pytest

from models import stz
from models.stz.params import chi_scale_kelvin, time_unit

RNG = np.random.default_rng(4)
PE0 = -3.36 + 0.004 * RNG.standard_normal((8, 8))
PARAMS = {"beta": 8.0, "u0": -3.375, "c0": 0.4, "s_y": 0.95, "chi_inf": 2600.0}
RUN = {"nx": 8, "ny": 8, "frames": 4, "steps_per_frame": 10, "compile": False}


def test_cuzr_defaults_are_the_reference_constants():
    m = stz.CUZR
    assert (m.shear_modulus, m.poisson_ratio, m.density, m.t_z, m.tau0, m.length_unit) == (
        stz.SHEAR_MODULUS_GPA,
        stz.POISSON_RATIO,
        stz.DENSITY,
        stz.T_Z,
        stz.TAU0,
        1e-10,
    )
    assert time_unit() == pytest.approx(1.75e-9, rel=0.01)
    assert m.bulk_modulus == pytest.approx(2 * 20.0 * 1.35 / (3 * 0.3))


def test_other_units_give_the_same_run():
    """MPa instead of GPa, nm instead of angstrom, kK instead of K: the same fields."""
    base = stz.simulate(PE0, PARAMS, **RUN)
    scaled = stz.Material(
        shear_modulus=20.0e3, density=61250.0, t_z=21.0, length_unit=1e-9
    )  # time unit: 1e-9 / sqrt(2e4 / 61250) = the CuZr 1e-10 / sqrt(20 / 6125)
    assert time_unit(scaled) == pytest.approx(time_unit(), rel=1e-12)
    p = PARAMS | {"s_y": 950.0, "chi_inf": 2.6, "chi_len": 2.559275383}
    other = stz.simulate(PE0, p, box=40.0, material=scaled, **RUN)
    np.testing.assert_allclose(other["exy"].values, base["exy"].values, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(other["stress"].values, 1e3 * base["stress"].values, rtol=1e-9)
    np.testing.assert_allclose(other["chi"].values, base["chi"].values / 1e3, rtol=1e-9)
    assert chi_scale_kelvin(scaled) == pytest.approx(chi_scale_kelvin() / 1e3)
    assert other.attrs["option_material_t_z"] == 21.0


def test_a_softer_material_carries_less_stress_at_the_same_strain():
    soft = stz.simulate(PE0, PARAMS, material=stz.Material(shear_modulus=10.0), **RUN)
    base = stz.simulate(PE0, PARAMS, **RUN)
    assert soft["stress"].values[1] < base["stress"].values[1]  # frame 1: strain 0.125


@pytest.mark.parametrize(
    ("field", "value"),
    [("shear_modulus", 0.0), ("density", -1.0), ("t_z", float("nan")), ("poisson_ratio", 0.5)],
)
def test_bad_material_is_refused(field, value):
    with pytest.raises(ValueError, match=f"Material.{field}"):
        stz.Material(**{field: value})
