"""How a study is run: seeds, budget, the search's and the posterior's settings.

They are kept apart from the problem a :class:`~bayescal.study.Study` defines (parameters,
forward model, data, discrepancy, constraint): changing them changes how hard the problem is
worked on, not the problem, so a stored run stays resumable under other settings.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from bayescal.errors import StudyDefinitionError
from bayescal.optimize import EGOOptions

if TYPE_CHECKING:
    from bayescal.infer.options import PosteriorOptions

__all__ = ["RunSettings"]


@dataclass(frozen=True, slots=True, kw_only=True)
class RunSettings:
    """Default run settings of a study.

    The command line and :func:`~bayescal.calibrate` may override the budget and the number of
    seeds.

    Parameters
    ----------
    seed : int
        Root seed; EGO seed ``k`` of a run uses ``SeedSequence(seed).spawn(K)[k]``, and the
        posterior uses ``seed`` unless ``posterior`` says otherwise.
    seeds : int, optional
        Number of independent EGO runs; None means one per data realization (one when the
        reference has no ``realization`` dim), resolved by the :class:`~bayescal.study.Study`.
    budget : int
        Forward evaluations per seed.
    ego : EGOOptions
        Settings of the search.
    posterior : PosteriorOptions, optional
        Settings of the posterior step (:mod:`bayescal.infer`); None means its defaults with
        ``seed`` the root seed.
    """

    seed: int = 0
    seeds: int | None = None
    budget: int = 50
    ego: EGOOptions = field(default_factory=EGOOptions)
    posterior: PosteriorOptions | None = None

    def __post_init__(self) -> None:
        for key in ("seeds", "budget"):
            value = getattr(self, key)
            if value is None and key == "seeds":
                continue
            if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
                raise StudyDefinitionError(
                    f"RunSettings.{key} must be a positive int; got {value}."
                )
        if isinstance(self.seed, bool) or not isinstance(self.seed, int | np.integer):
            raise StudyDefinitionError(f"RunSettings.seed must be an int; got {self.seed!r}.")
        if not isinstance(self.ego, EGOOptions):
            raise StudyDefinitionError(
                f"RunSettings.ego must be a bayescal.optimize.EGOOptions; got {self.ego!r}."
            )
        if self.posterior is not None:
            from bayescal.infer import PosteriorOptions

            if not isinstance(self.posterior, PosteriorOptions):
                raise StudyDefinitionError(
                    f"RunSettings.posterior must be a bayescal.infer.PosteriorOptions or None; "
                    f"got {type(self.posterior).__name__}."
                )
