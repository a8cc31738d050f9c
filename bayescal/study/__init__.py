"""Define a calibration study and run it.

A study file defines ``build(**options) -> Study``; :func:`load_study` imports it and
:func:`calibrate` runs the EGO search, storing every evaluation in ``DIR/evaluations.nc``;
:func:`run_posterior` turns the evaluations into ``DIR/posterior.nc`` and its report.
"""

from bayescal.study.calibrate import calibrate, seed_sequences
from bayescal.study.evaluate import evaluate
from bayescal.study.load import StudySpec, load_study, parse_option
from bayescal.study.outputs import fill_compared_outputs, missing_outputs
from bayescal.study.parameter import Parameter
from bayescal.study.posterior_step import (
    PosteriorResult,
    posterior_options,
    run_posterior,
    write_posterior_report,
)
from bayescal.study.settings import RunSettings
from bayescal.study.study import ForwardModel, Study

__all__ = [  # noqa: RUF022 - grouped by topic
    # definition
    "ForwardModel",
    "Parameter",
    "RunSettings",
    "Study",
    # loading
    "StudySpec",
    "load_study",
    "parse_option",
    # running
    "calibrate",
    "evaluate",
    "seed_sequences",
    # stores without kept outputs
    "fill_compared_outputs",
    "missing_outputs",
    # posterior step
    "PosteriorResult",
    "posterior_options",
    "run_posterior",
    "write_posterior_report",
]
