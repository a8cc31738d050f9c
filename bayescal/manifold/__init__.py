"""Grassmann and Stiefel geometry of orthonormal bases in numpy, batched over leading dims.

Points are orthonormal bases ``(..., n, p)``; every function takes leading batch dims and
trailing core dims, and never imports xarray (the labelled layer lives in
``bayescal.discrepancy``). The names at this level are the Grassmann manifold's (subspaces);
:mod:`bayescal.manifold.stiefel` has the Stiefel manifold's (bases, where column order and
signs matter) under the same verbs: ``stiefel.exp_map``, ``stiefel.log_map``,
``stiefel.distance``, ``stiefel.karcher_mean``. :mod:`bayescal.manifold.validate` holds the
input checks shared by both.
"""

from __future__ import annotations

from bayescal.manifold import stiefel
from bayescal.manifold.angles import principal_angles
from bayescal.manifold.distance import (
    METRICS,
    Metric,
    MetricFunction,
    MetricSpec,
    distance,
    distance_from_angles,
    pairwise_distances,
    register_metric,
)
from bayescal.manifold.grassmann import (
    Grassmann,
    exp_map,
    log_map,
    parallel_transport,
    projection_to_tangent,
)
from bayescal.manifold.karcher import KarcherInfo, karcher_mean
from bayescal.manifold.subspace import canonical_signs, principal_subspace, subspace
from bayescal.manifold.validate import ORTHONORMAL_ATOL

__all__ = [  # noqa: RUF022 - grouped by topic (STYLE.md 3), not sorted
    # subspaces from data
    "subspace",
    "principal_subspace",
    "canonical_signs",
    # angles and distances
    "principal_angles",
    "distance",
    "distance_from_angles",
    "pairwise_distances",
    "METRICS",
    "Metric",
    "MetricFunction",
    "MetricSpec",
    "register_metric",
    # Riemannian geometry
    "Grassmann",
    "log_map",
    "exp_map",
    "parallel_transport",
    "projection_to_tangent",
    # means
    "karcher_mean",
    "KarcherInfo",
    # the Stiefel manifold (bases), as a module: stiefel.exp_map, stiefel.log_map, ...
    "stiefel",
    # validation
    "ORTHONORMAL_ATOL",
]
