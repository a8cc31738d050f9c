"""GP emulators of the discrepancy, usable inside PyMC models (PyTensor expressions).

``fit_emulator`` fits a BoTorch GP by marginal likelihood and freezes it into a ``GPEmulator`` of
numpy arrays, whose predictions exist in numpy (``predict``) and PyTensor
(``pytensor_mean_var``); ``loo_error`` gives closed-form leave-one-out errors. ``fit_components``
emulates residual vectors through their principal components, one GP per component.
"""

from bayescal.emulate.components import ComponentEmulator, fit_components
from bayescal.emulate.fit import fit_emulator
from bayescal.emulate.gp import GPEmulator, Transform, matern52
from bayescal.emulate.loo import LOOResult, loo_error
from bayescal.emulate.pytensor_gp import gp_mean_var, gp_mean_var_arrays

__all__ = [
    # emulator
    "ComponentEmulator",
    "GPEmulator",
    "LOOResult",
    "Transform",
    "fit_components",
    "fit_emulator",
    "gp_mean_var",
    "gp_mean_var_arrays",
    # kernels and checks
    "loo_error",
    "matern52",
]
