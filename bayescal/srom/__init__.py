"""Stochastic reduced-order models (SROM) of reduced bases on the Stiefel manifold.

Model-form uncertainty after Zhang & Guilleminot (CMAME 403, 115702, 2023), Soize & Farhat
(IJNME 2017) and Quek et al. (Mech. Mater. 202, 105237, 2025): candidate reduced-order bases
(POD of MD trajectories or of strain fields) are mixed on the Stiefel manifold with Dirichlet
weights around a centre basis. The geometry is :mod:`bayescal.manifold.stiefel`; here are
``constraints`` (:math:`B^T Y = 0`), ``snapshots`` (POD), ``model`` (the SROM),
``hyperparameters`` (dispersion identification from the bases' spread) and
``qoi_identification`` (from target values of a quantity of interest); ``propagate`` runs a
quantity of interest on sampled bases; the labelled continuum application in ``continuum``
(the forward model is a callable its caller supplies). The SROM runs no MD and imports neither
LAMMPS nor ``models``: the MD applications live in :mod:`bayescal.md`.
"""

from __future__ import annotations

from bayescal.srom.constraints import (
    constrain,
    constraint_basis,
    fixed_dofs_constraint,
    translation_constraint,
)
from bayescal.srom.continuum import (
    best_parameters,
    corners_to_centres,
    field_snapshots,
    strain_field_srom,
    stz_strain_fields,
)
from bayescal.srom.hyperparameters import (
    Hyperparameters,
    IdentificationMethod,
    identify_hyperparameters,
)
from bayescal.srom.model import SROM, balancing_weights
from bayescal.srom.propagate import propagate
from bayescal.srom.qoi_identification import (
    QoIIdentification,
    band_covers,
    identify_dispersion_by_qoi,
)
from bayescal.srom.snapshots import Alignment, align_signs, pod_basis, snapshot_matrix

__all__ = [  # noqa: RUF022 - grouped by topic (STYLE.md 3), not sorted
    # linear constraints B^T Y = 0
    "constrain",
    "constraint_basis",
    "translation_constraint",
    "fixed_dofs_constraint",
    # snapshots and POD
    "snapshot_matrix",
    "pod_basis",
    "align_signs",
    "Alignment",
    # the stochastic model
    "SROM",
    "balancing_weights",
    "identify_hyperparameters",
    "Hyperparameters",
    "IdentificationMethod",
    "identify_dispersion_by_qoi",
    "QoIIdentification",
    "band_covers",
    # propagation
    "propagate",
    # continuum application (STZ vs CuZr MD)
    "strain_field_srom",
    "stz_strain_fields",
    "best_parameters",
    "corners_to_centres",
    "field_snapshots",
]
