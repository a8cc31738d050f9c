"""Cheap analytic forward models for tests, examples and checks of the inference layer.

- :mod:`models.toy.shear_band`: stress–strain curve with a peak and softening, and a strain field
  that localises into a Gaussian shear band; same outputs as ``models.stz.simulate``.
- :mod:`models.toy.linear_gaussian`: ``y = A @ theta`` with a closed-form Gaussian posterior.

Like every model here it depends on numpy/scipy/xarray only, never on bayescal.
"""

from models.toy import linear_gaussian, shear_band
from models.toy.linear_gaussian import GaussianPosterior, design_matrix, posterior
from models.toy.linear_gaussian import simulate as simulate_linear_gaussian
from models.toy.shear_band import BOUNDS, DEFAULT_PARAMS, PARAM_NAMES, band_profile
from models.toy.shear_band import simulate as simulate_shear_band

__all__ = [
    "BOUNDS",
    "DEFAULT_PARAMS",
    "PARAM_NAMES",
    "GaussianPosterior",
    "band_profile",
    "design_matrix",
    "linear_gaussian",
    "posterior",
    "shear_band",
    "simulate_linear_gaussian",
    "simulate_shear_band",
]
