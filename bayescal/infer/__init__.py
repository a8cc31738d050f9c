"""Posterior over calibrated parameters: PyMC model on GP emulators of the discrepancy.

``posterior(evaluations, options=PosteriorOptions(...))`` runs the whole step; the pieces are
``prepare`` (emulators), ``build_model`` (PyMC), ``sample`` (NUTS), ``diagnose`` (R-hat, ESS) and
``write_posterior``. PyMC and PyTensor are imported only when a model is built.
"""

from bayescal.infer.diagnostics import Diagnostics, diagnose, parameter_var_names
from bayescal.infer.model import CalibrationData, build_model, prepare
from bayescal.infer.options import (
    Convergence,
    FloorLikelihood,
    Likelihood,
    Pooling,
    PosteriorOptions,
    PriorSpec,
    Refinement,
    Reparametrization,
    SampledCoordinates,
    Sampling,
)
from bayescal.infer.output import (
    constant_data,
    emulators_from_idata,
    provenance,
    read_posterior,
    write_posterior,
)
from bayescal.infer.sample import SeedPlan, posterior, sample, seed_plan

__all__ = [
    # model
    "CalibrationData",
    # options
    "Convergence",
    # diagnostics
    "Diagnostics",
    "FloorLikelihood",
    "Likelihood",
    "Pooling",
    "PosteriorOptions",
    "PriorSpec",
    "Refinement",
    "Reparametrization",
    "SampledCoordinates",
    "Sampling",
    # sampling
    "SeedPlan",
    "build_model",
    # output
    "constant_data",
    "diagnose",
    "emulators_from_idata",
    "parameter_var_names",
    "posterior",
    "prepare",
    "provenance",
    "read_posterior",
    "sample",
    "seed_plan",
    "write_posterior",
]
