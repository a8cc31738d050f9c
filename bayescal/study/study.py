"""The study definition: the problem and its run settings.

The problem: parameters, the coordinates of their prior, forward model, reference data,
discrepancy, constraint. The run settings (:class:`~bayescal.study.RunSettings`) say how hard it
is worked on.
"""

from __future__ import annotations

import difflib
import functools
import hashlib
import inspect
import json
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import numpy as np
import xarray as xr
from numpy.typing import ArrayLike

from bayescal.discrepancy import Discrepancy
from bayescal.errors import InputDataWarning, StudyDefinitionError
from bayescal.study.parameter import Parameter
from bayescal.study.settings import RunSettings

if TYPE_CHECKING:
    from bayescal.infer.options import Reparametrization

__all__ = ["REALIZATION", "ForwardModel", "Study"]

#: Name of the reference dim holding independent data realizations.
REALIZATION = "realization"

#: A batched forward model: ``{name: (n,) array}`` -> Dataset with a ``sample`` dim of length n
#: (and optionally ``status(sample)``, 0 = ok). It may raise for a bad parameter set.
ForwardModel = Callable[[Mapping[str, np.ndarray]], xr.Dataset]
Derived = Callable[[Mapping[str, np.ndarray]], np.ndarray]


@dataclass(frozen=True, kw_only=True)
class Study:
    """A calibration problem.

    Parameters
    ----------
    name : str
        Short identifier used in outputs.
    parameters : sequence of Parameter
        The calibrated parameters (the search box and default priors).
    reparam : Reparametrization, optional
        The coordinates the prior is stated in, when they are not the searched ones: the prior
        lives on ``reparam.names`` within its bounds (uniform, unless a name has a prior, e.g.
        the ``Parameter.prior`` of a parameter of that name), NUTS samples these coordinates
        (or ``reparam.sampled``), and ``reparam.to_search`` maps them to the searched
        parameters (see :class:`~bayescal.infer.Reparametrization`). None states the prior on
        ``parameters``. Part of the problem, but not of the :meth:`fingerprint`: the
        evaluations do not depend on it.
    forward : callable
        Batched forward model, ``forward({name: (n,) array}) -> Dataset`` with a ``sample`` dim.
        It receives the calibrated, fixed and derived values.
    reference : xarray.Dataset
        The data, e.g. :func:`bayescal.datasets.load_cuzr`. A leading ``realization`` dim of
        size R (independent MD runs, e.g. :func:`bayescal.md.md_reference` of several
        runs) makes EGO seed ``k`` calibrate against realization ``k % R``; variables without
        the dim are shared by all realizations.
    discrepancy : Discrepancy
        Model/data distance (default: the paper's).
    fixed : mapping of str to float
        Values passed unchanged to every forward call.
    derived : mapping of str to callable
        Values computed from the others, ``f({name: (n,) array}) -> (n,) array``; evaluated in
        order after ``fixed``, so a derived value may use an earlier one.
    constraint : callable, optional
        Known feasibility, ``g({name: (n,) array}) -> (n,) bool``; infeasible sets are never run
        and are recorded with status ``INFEASIBLE`` if asked for.
    truth : mapping of str to float, optional
        Known true values (twin studies), drawn in plots and reported.
    description : str
        One paragraph for reports.
    options : mapping
        The options the study file's ``build`` was called with (provenance).
    run : RunSettings
        How the study is run by default: root seed, number of EGO seeds, budget per seed, the
        search's and the posterior's settings (:class:`~bayescal.study.settings.RunSettings`).
        Not part of the problem: a stored run is resumable under other settings.
    """

    name: str
    parameters: tuple[Parameter, ...]
    reparam: Reparametrization | None = None
    forward: ForwardModel
    reference: xr.Dataset
    discrepancy: Discrepancy = field(default_factory=Discrepancy)
    fixed: Mapping[str, float] = field(default_factory=dict)
    derived: Mapping[str, Derived] = field(default_factory=dict)
    constraint: Callable[[Mapping[str, np.ndarray]], np.ndarray] | None = None
    truth: Mapping[str, float] | None = None
    description: str = ""
    options: Mapping[str, Any] = field(default_factory=dict)
    run: RunSettings = field(default_factory=RunSettings)

    def __post_init__(self) -> None:
        params = tuple(self.parameters)
        object.__setattr__(self, "parameters", params)
        if not params:
            raise StudyDefinitionError("Study needs at least one Parameter.")
        if not all(isinstance(p, Parameter) for p in params):
            raise StudyDefinitionError("Study.parameters must be Parameter instances.")
        names = [p.name for p in params]
        dupes = sorted({n for n in names if names.count(n) > 1})
        clash = sorted(set(names) & (set(self.fixed) | set(self.derived)))
        if dupes or clash:
            raise StudyDefinitionError(
                f"parameter names must be unique across parameters, fixed and derived; "
                f"repeated: {dupes + clash}."
            )
        if not callable(self.forward):
            raise StudyDefinitionError(f"Study.forward must be callable; got {self.forward!r}.")
        if not isinstance(self.reference, xr.Dataset):
            raise StudyDefinitionError(
                f"Study.reference must be an xarray.Dataset; got {type(self.reference).__name__}."
            )
        self.discrepancy.check_reference(self.reference)
        n_real = _check_realizations(self.reference, self.discrepancy)
        if not isinstance(self.run, RunSettings):
            raise StudyDefinitionError(
                f"Study.run must be a bayescal.study.RunSettings; got {self.run!r}."
            )
        if self.run.seeds is None:
            object.__setattr__(self, "run", replace(self.run, seeds=n_real))
        elif self.run.seeds < n_real:
            warnings.warn(
                f"RunSettings.seeds={self.run.seeds} is less than the {n_real} realizations of "
                f"the reference; realizations {list(range(self.run.seeds, n_real))} are not "
                f"calibrated. Set seeds={n_real} (or leave it None).",
                InputDataWarning,
                stacklevel=3,
            )
        if self.truth is not None:
            self.check_names(self.truth, what="truth")
        if self.reparam is not None:
            from bayescal.infer.options import Reparametrization

            if not isinstance(self.reparam, Reparametrization):
                raise StudyDefinitionError(
                    f"Study.reparam must be a bayescal.infer.Reparametrization or None; "
                    f"got {self.reparam!r}."
                )

    @property
    def names(self) -> tuple[str, ...]:
        """Names of the calibrated parameters, in order."""
        return tuple(p.name for p in self.parameters)

    @property
    def bounds(self) -> np.ndarray:
        """Bounds, shape ``(d, 2)``."""
        return np.array([p.bounds for p in self.parameters])

    @property
    def ranges(self) -> dict[str, float]:
        """``upper - lower`` of each parameter, by name."""
        return {p.name: float(p.upper - p.lower) for p in self.parameters}

    @property
    def forward_per_realization(self) -> bool:
        """Whether the forward model takes ``realization`` (an int keyword).

        Such a model runs from each data realization's own inputs (e.g. its initial fields):
        :func:`bayescal.study.evaluate.forward_batch` calls it once per realization present in
        a batch, and an evaluation's outputs are comparable with its own realization only.
        """
        try:
            params = inspect.signature(self.forward).parameters
        except (TypeError, ValueError):  # builtins and some C callables have no signature
            return False
        return "realization" in params

    @property
    def realizations(self) -> int:
        """Number of data realizations R (1 without a ``realization`` dim)."""
        return int(self.reference.sizes.get(REALIZATION, 1))

    def realization_of(self, seed: ArrayLike) -> np.ndarray:
        """Realization each EGO seed compares with: ``seed % R`` (an int array like ``seed``)."""
        return np.asarray(seed, dtype=np.int64) % self.realizations

    def reference_for(self, realization: int) -> xr.Dataset:
        """The reference of one realization (the whole reference when it has none)."""
        r = int(realization)
        if not 0 <= r < self.realizations:
            raise StudyDefinitionError(
                f"realization must be in [0, {self.realizations - 1}]; got {r}."
            )
        if REALIZATION not in self.reference.dims:
            return self.reference
        return self.reference.isel({REALIZATION: r})

    @property
    def dim(self) -> int:
        """Number of calibrated parameters."""
        return len(self.parameters)

    def check_names(self, values: Mapping[str, Any], *, what: str = "parameters") -> None:
        """Raise with a suggestion if ``values`` has a name that is not a calibrated parameter."""
        for key in values:
            if key not in self.names:
                close = difflib.get_close_matches(key, self.names, n=1)
                hint = f" Did you mean {close[0]!r}?" if close else ""
                raise StudyDefinitionError(
                    f"{what}: unknown parameter {key!r}.{hint} Known: {', '.join(self.names)}."
                )

    def to_unit(self, theta: np.ndarray) -> np.ndarray:
        """Physical ``(n, d)`` -> unit cube ``(n, d)``."""
        b = self.bounds
        return (np.asarray(theta, dtype=float) - b[:, 0]) / (b[:, 1] - b[:, 0])

    def from_unit(self, u: np.ndarray) -> np.ndarray:
        """Unit cube ``(n, d)`` -> physical ``(n, d)``."""
        b = self.bounds
        return b[:, 0] + np.asarray(u, dtype=float) * (b[:, 1] - b[:, 0])

    def model_inputs(self, theta: np.ndarray) -> dict[str, np.ndarray]:
        """Forward-model inputs for physical ``theta`` of shape ``(n, d)``.

        Returns calibrated, fixed and derived values, each an ``(n,)`` array.
        """
        theta = np.atleast_2d(np.asarray(theta, dtype=float))
        if theta.shape[1] != self.dim:
            raise StudyDefinitionError(
                f"theta must have {self.dim} columns ({', '.join(self.names)}); got {theta.shape}."
            )
        n = theta.shape[0]
        values = {name: theta[:, i] for i, name in enumerate(self.names)}
        values |= {k: np.full(n, float(v)) for k, v in self.fixed.items()}
        for key, fn in self.derived.items():
            values[key] = np.broadcast_to(np.asarray(fn(values), dtype=float), (n,)).copy()
        return values

    def feasible(self, theta: np.ndarray) -> np.ndarray:
        """Known constraint at physical ``theta`` ``(n, d)`` -> ``(n,)`` bool."""
        theta = np.atleast_2d(theta)
        if self.constraint is None:
            return np.ones(theta.shape[0], dtype=bool)
        return np.asarray(self.constraint(self.model_inputs(theta)), dtype=bool).reshape(-1)

    def feasible_unit(self, u: np.ndarray) -> np.ndarray:
        """Known constraint in the unit cube (what the optimizer sees)."""
        return self.feasible(self.from_unit(u))

    def fingerprint_parts(self) -> dict[str, str]:
        """One short hash per part of the problem the evaluations depend on.

        The parts: ``name``, ``parameters`` (names and bounds), ``fixed``, ``derived`` (names and
        functions), ``constraint``, ``reference`` (the data's content,
        :func:`bayescal.io.content_digest`), ``forward`` (the forward model's qualified name and
        its ``version`` attribute where it declares one) and ``discrepancy`` (its settings).
        Run settings (budget, seeds, batch size, workers, EGO and posterior options, the study
        file's build options as such) are left out: changing them keeps a store resumable. So
        are ``reparam`` (the prior's coordinates) and each ``Parameter.prior``: they change the
        posterior, not the evaluations.
        """
        from bayescal.io import content_digest

        parts = {
            "name": self.name,
            "parameters": [(p.name, float(p.lower), float(p.upper)) for p in self.parameters],
            "fixed": {k: float(v) for k, v in sorted(self.fixed.items())},
            "derived": [(k, _callable_identity(f)) for k, f in self.derived.items()],
            "constraint": None if self.constraint is None else _callable_identity(self.constraint),
            "reference": content_digest(self.reference),
            "forward": _callable_identity(self.forward),
            "discrepancy": repr(self.discrepancy),
        }
        return {
            key: hashlib.sha256(json.dumps(value, sort_keys=True).encode()).hexdigest()[:12]
            for key, value in parts.items()
        }

    def fingerprint(self) -> str:
        """Short hash of all :meth:`fingerprint_parts`."""
        text = json.dumps(self.fingerprint_parts(), sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:16]


def _callable_identity(fn: Callable[..., Any]) -> str:
    """Qualified name of a callable (through ``functools.partial``) and its declared version.

    A study file's module name carries a hash of its path; only the last name part is kept, so
    a study moved to another folder keeps its identity.
    """
    inner = fn
    while isinstance(inner, functools.partial):
        inner = inner.func
    module = str(getattr(inner, "__module__", "") or "")
    prefix = "bayescal_study_"
    if module.startswith(prefix):  # bayescal_study_<stem>_<hash of the path>
        module = module.removeprefix(prefix).rsplit("_", 1)[0]
    name = f"{module}.{getattr(inner, '__qualname__', type(inner).__qualname__)}"
    version = getattr(fn, "version", None) or getattr(inner, "version", None)
    return name if version is None else f"{name} {version}"


def _check_realizations(reference: xr.Dataset, discrepancy: Discrepancy) -> int:
    """Number of realizations R of ``reference``; raise if the compared variables lack them.

    A compared variable may carry ``realization`` or not (then all realizations share it; an
    xarray Dataset has one size per dim, so carrying variables agree on R), but when the reference
    has the dim at all, at least one compared variable must carry it, or every seed would
    calibrate against the same data while the study claims R realizations.
    """
    if REALIZATION not in reference.dims:
        return 1
    n = int(reference.sizes[REALIZATION])
    compared = list(dict.fromkeys(discrepancy.reference_variables))
    carrying = [v for v in compared if REALIZATION in reference[v].dims]
    if n < 1 or not carrying:
        others = [str(v) for v in reference.data_vars if REALIZATION in reference[v].dims]
        raise StudyDefinitionError(
            f"reference has a 'realization' dim of size {n} (on {others}), but none of the "
            f"variables the discrepancy compares ({', '.join(compared)}) has it; give the "
            f"compared fields or stress curve that dim, or select one realization with "
            f"reference.isel(realization=r)."
        )
    return n
