"""Cheap analytic forward models for tests, examples and checks of the inference layer.

- :mod:`models.toy.shear_band`: stress–strain curve with a peak and softening, and a strain field
  that localises into a Gaussian shear band; same outputs as ``models.stz.simulate``.
- :mod:`models.toy.stress_fit`: least-squares fit of the shear-band stress curve to a measured
  one (fixes ``mu``, ``soft`` and the stress levels from a stress–strain curve alone).
- :mod:`models.toy.linear_gaussian`: ``y = A @ theta`` with a closed-form Gaussian posterior.

Like every model here it depends on numpy/scipy/xarray only, never on bayescal.
"""

from models.toy import linear_gaussian, shear_band, stress_fit
from models.toy.linear_gaussian import GaussianPosterior, design_matrix, posterior
from models.toy.linear_gaussian import simulate as simulate_linear_gaussian
from models.toy.shear_band import BOUNDS, DEFAULT_PARAMS, PARAM_NAMES, band_profile
from models.toy.shear_band import simulate as simulate_shear_band
from models.toy.stress_fit import fit_stress_shape, stress_curve

__all__ = [
    "BOUNDS",
    "DEFAULT_PARAMS",
    "PARAM_NAMES",
    "GaussianPosterior",
    "band_profile",
    "design_matrix",
    "fit_stress_shape",
    "linear_gaussian",
    "posterior",
    "shear_band",
    "simulate_linear_gaussian",
    "simulate_shear_band",
    "stress_curve",
    "stress_fit",
]
