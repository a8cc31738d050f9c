"""Options of the posterior step (a frozen, keyword-only dataclass)."""

from __future__ import annotations

import dataclasses
import importlib.util
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from bayescal.emulate import Transform
from bayescal.errors import InputDataError, OnFail

__all__ = [
    "Convergence",
    "FloorLikelihood",
    "Likelihood",
    "OnFail",
    "Pooling",
    "PosteriorOptions",
    "PriorSpec",
    "Refinement",
    "Reparametrization",
    "SampledCoordinates",
    "Sampler",
    "Sampling",
]

Likelihood = Literal["residual", "floor", "gibbs"]
Pooling = Literal["partial", "complete", "none"]
Sampler = Literal["auto", "nutpie", "pymc"]
#: ``("uniform",)``, ``("normal", mu, sd)`` (truncated to the bounds, physical units), or a
#: callable ``f(name, lower, upper, dims=dims) -> pymc variable`` (``dims`` is None or "seed").
PriorSpec = tuple[str] | tuple[str, float, float] | Callable[..., Any]


def _check_prior(name: str, spec: PriorSpec) -> None:
    if callable(spec):
        return
    if isinstance(spec, tuple) and spec and spec[0] == "uniform" and len(spec) == 1:
        return
    if isinstance(spec, tuple) and len(spec) == 3 and spec[0] == "normal":
        if not float(spec[2]) > 0:
            raise InputDataError(f"prior of {name!r}: sd must be > 0; got {spec[2]!r}.")
        return
    raise InputDataError(
        f"prior of {name!r} must be ('uniform',), ('normal', mu, sd) or a callable "
        f"f(name, lower, upper, dims=None); got {spec!r}."
    )


def _named_box(obj: Any) -> None:
    """Normalise and check ``obj.names``, ``obj.lower`` and ``obj.upper`` (a frozen dataclass)."""
    kind = type(obj).__name__
    object.__setattr__(obj, "names", tuple(str(n) for n in obj.names))
    object.__setattr__(obj, "lower", tuple(float(v) for v in obj.lower))
    object.__setattr__(obj, "upper", tuple(float(v) for v in obj.upper))
    if not obj.names or len(set(obj.names)) != len(obj.names):
        raise InputDataError(f"{kind}.names must be unique; got {obj.names}.")
    if not len(obj.lower) == len(obj.upper) == len(obj.names):
        raise InputDataError(f"{kind} needs one lower and one upper bound per name.")
    for n, lo, hi in zip(obj.names, obj.lower, obj.upper, strict=True):
        if not lo < hi:
            raise InputDataError(f"{kind} bounds of {n!r}: need {lo} < {hi}.")


@dataclass(frozen=True, slots=True, kw_only=True)
class SampledCoordinates:
    """The coordinates NUTS moves in, when neither the prior's nor the search's suit it.

    A posterior is easiest to sample where its ridges lie along coordinate axes and its
    support is a box (the sampler's transforms send box edges to infinity; a constraint inside
    the box is a wall that ends trajectories as divergences). The prior keeps being the one
    stated on :class:`Reparametrization` ``names``: its density at ``to_prior(values)`` times
    ``|det d(names)/d(sampled)|``, which PyTensor computes. The CuZr study samples
    ``(chi0, w, c0, s_y)`` with ``beta`` at fraction ``w`` of the range that keeps ``u0`` in
    its bounds at that ``chi0``: the data fix chi0 and leave beta free along it, while in
    ``(beta, u0)`` that valley is a narrow curve and in ``(beta, chi0)`` the ``u0`` bounds
    are a wall across it.

    Attributes
    ----------
    names : tuple of str
        Sampled coordinates (may share names with the prior's, e.g. ``c0``).
    lower, upper : tuple of float
        Their box.
    to_prior : callable
        ``f(values) -> dict``: PyTensor scalars of ``names`` to every name of the
        reparametrisation (arithmetic, ``pt.maximum``/``pt.minimum``: NUTS needs gradients).
        Every point of the box must map inside the prior's box, one to one.
    from_prior : callable
        The inverse on NumPy arrays, ``f(values) -> dict`` from the prior's names to ``names``
        (the chains' starting point).
    """

    names: tuple[str, ...]
    lower: tuple[float, ...]
    upper: tuple[float, ...]
    to_prior: Callable[[Mapping[str, Any]], Mapping[str, Any]]
    from_prior: Callable[[Mapping[str, Any]], Mapping[str, Any]]

    def __post_init__(self) -> None:
        _named_box(self)
        for f in ("to_prior", "from_prior"):
            if not callable(getattr(self, f)):
                raise InputDataError(f"SampledCoordinates.{f} must be callable.")


@dataclass(frozen=True, slots=True, kw_only=True)
class Reparametrization:
    """Sample the posterior in other coordinates than the ones EGO searched.

    A study may search coordinates in which its discrepancy is easy to model (e.g. the CuZr
    study's mean initial effective temperature ``chi0`` instead of ``u0``) while its prior is
    stated in the physical parameters (uniform on the paper's box in ``u0``). The posterior's
    free variables are then ``names`` with the bounds ``lower``/``upper`` (priors from
    ``PosteriorOptions.priors``, uniform by default), and ``to_search`` computes the searched
    parameters that are not among them, which feed the emulators and are stored as
    deterministics. The prior is thereby the one on ``names``, whatever the search coordinates,
    and the searched box's corners that no sampled point maps to get no posterior mass.

    Attributes
    ----------
    names : tuple of str
        Sampled parameters, in physical units.
    lower, upper : tuple of float
        Their bounds.
    to_search : callable
        ``f(values) -> dict``: ``values`` maps each of ``names`` to a PyTensor variable (shape
        ``()`` or ``(K,)``); the result maps every searched name that is not in ``names`` to a
        PyTensor expression of them (arithmetic only, so NUTS gets gradients). The searched
        values must fall inside the searched bounds (the emulators are not trusted outside).
        Also called with NumPy arrays (the chains' starting point).
    sampled : SampledCoordinates or None
        Coordinates for NUTS other than ``names`` (the residual likelihood only): the prior
        stays the one on ``names``, mapped onto them with its Jacobian. None samples ``names``.
    from_search : callable or None
        The inverse of ``to_search`` on NumPy arrays: searched values to every one of ``names``
        that is not searched. Lets the chains start at the best evaluated point (a narrow
        posterior, as of a noise-free twin, may hold none of the random prior points tried).
    """

    names: tuple[str, ...]
    lower: tuple[float, ...]
    upper: tuple[float, ...]
    to_search: Callable[[Mapping[str, Any]], Mapping[str, Any]]
    sampled: SampledCoordinates | None = None
    from_search: Callable[[Mapping[str, Any]], Mapping[str, Any]] | None = None

    def __post_init__(self) -> None:
        _named_box(self)
        if not callable(self.to_search):
            raise InputDataError(f"to_search must be callable; got {self.to_search!r}.")
        if self.from_search is not None and not callable(self.from_search):
            raise InputDataError(f"from_search must be callable; got {self.from_search!r}.")
        if self.sampled is not None and not isinstance(self.sampled, SampledCoordinates):
            raise InputDataError(
                f"Reparametrization.sampled must be SampledCoordinates; got {self.sampled!r}."
            )


@dataclass(frozen=True, slots=True, kw_only=True)
class FloorLikelihood:
    """Settings of the likelihoods that emulate the discrepancy ``d`` itself.

    For forward models whose evaluations hold only ``d`` (``PosteriorOptions.likelihood``
    ``"floor"`` or ``"gibbs"``; see :func:`bayescal.infer.build_model`).

    Attributes
    ----------
    transform : {"log", "none"}
        Scale on which the emulators of ``d`` are fitted (see
        :func:`bayescal.emulate.fit_emulator`).
    emulator_cap : float or None
        ``"floor"`` only: emulated values more than this above the seed's floor are clipped
        before the emulator is fitted (:func:`bayescal.emulate.fit_emulator` ``cap``). With
        ``transform="log"`` and 1.0, discrepancies above e (2.7) times the best are one flat
        "excluded" level, 1.0 / sigma model-error sds away. Relative to the floor, so not for
        a floor near 0 (a twin study), where it clips all but a few evaluations. None
        (default) fits the raw values; so does the Gibbs likelihood always.
    temperature : float
        Temperature of the Gibbs likelihood, in units of ``d``.
    model_error_scale : float or "noise"
        Prior median of the model-error sd ``sigma`` (``"floor"`` only; log-normal), on the
        emulated scale: with ``transform="log"``, 0.1 means "about 10 % above the floor".
        ``"noise"``: the emulators' own fitted noise sd (the irregularity of ``d`` that the
        GP attributes to noise; :meth:`error_scale`), so the posterior is the set of
        parameters whose discrepancy is indistinguishable from the floor at the resolution the
        evaluations themselves show. ``sigma`` is learned from one floor per emulator only,
        and a free ``sigma`` buys posterior volume.
    model_error_spread : float
        Log-scale sd of ``sigma``'s log-normal prior (default 0.5: 95 % within a factor 2.7 of
        the median); 0 fixes ``sigma`` at the scale (a stated tolerance, not learned).
    tolerance : float or None
        Seeds whose best discrepancy lies more than this above the best seed's (emulated
        scale; 0.2 with ``transform="log"`` is 22 %) are left out of the posterior with a
        :class:`~bayescal.errors.ConvergenceWarning`: their search stopped in another basin,
        and their floor is no observation of the attainable discrepancy. None (default) keeps
        every seed. Only for the floor likelihood with several seeds; relative on the log
        scale, so not for floors near 0.
    """

    transform: Transform = "log"
    emulator_cap: float | None = None
    temperature: float = 1.0
    model_error_scale: float | Literal["noise"] = 0.1
    model_error_spread: float = 0.5
    tolerance: float | None = None

    def __post_init__(self) -> None:
        if self.transform not in ("log", "none"):
            raise InputDataError(
                f"floor.transform must be one of ('log', 'none'); got {self.transform!r}."
            )
        positive: tuple[str, ...] = ("temperature",)
        if self.model_error_scale != "noise":
            positive += ("model_error_scale",)
        for key in positive:
            if not float(getattr(self, key)) > 0:
                raise InputDataError(f"floor.{key} must be > 0; got {getattr(self, key)!r}.")
        if self.emulator_cap is not None and not float(self.emulator_cap) > 0:
            raise InputDataError(
                f"floor.emulator_cap must be > 0 or None; got {self.emulator_cap!r}."
            )
        if self.tolerance is not None and not float(self.tolerance) >= 0:
            raise InputDataError(f"floor.tolerance must be >= 0 or None; got {self.tolerance!r}.")
        if not float(self.model_error_spread) >= 0:
            raise InputDataError(
                f"floor.model_error_spread must be >= 0; got {self.model_error_spread!r}."
            )

    def error_scale(self, noise_sd: Sequence[float]) -> float:
        """Prior median of ``sigma`` given the emulators' noise sd (emulated scale).

        ``model_error_scale`` itself, or for ``"noise"`` the median of ``noise_sd`` (at least
        1e-3, so a noise-free emulator does not pin ``sigma`` to 0).
        """
        if self.model_error_scale == "noise":
            return max(float(np.median(np.asarray(noise_sd, dtype=float))), 1e-3)
        return float(self.model_error_scale)


@dataclass(frozen=True, slots=True, kw_only=True)
class Sampling:
    """How NUTS samples the posterior, and how many prior draws are stored with it.

    Attributes
    ----------
    sampler : {"auto", "nutpie", "pymc"}
        NUTS implementation. ``"nutpie"``: nutpie (Rust, numba-compiled log density) with its
        low-rank modified mass matrix, which adapts to correlated valleys of the emulated
        discrepancy. ``"pymc"``: PyMC's own NUTS (diagonal mass matrix). ``"auto"``
        (default): nutpie when it is installed, else PyMC (``benchmarks/posterior_sampler.py``
        compares them).
    draws, tune, chains : int
        NUTS draws and tuning steps per chain, and the number of chains.
    cores : int or None
        Processes for the chains; None means ``min(chains, 2)``.
    target_accept : float or None
        NUTS target acceptance rate in (0, 1); None means 0.99 for ``pooling="partial"`` (the
        hierarchical geometry gave 2 divergences in 4000 draws at 0.95 on the test problem)
        and 0.9 otherwise (:attr:`PosteriorOptions.accept`).
    prior_draws : int
        Prior (predictive) draws stored in the ``prior`` group; 0 skips them.
    progressbar : bool
        Show PyMC's progress bar.
    """

    sampler: Sampler = "auto"
    draws: int = 1000
    tune: int = 1000
    chains: int = 4
    cores: int | None = None
    target_accept: float | None = None
    prior_draws: int = 500
    progressbar: bool = False

    def __post_init__(self) -> None:
        valid = ("auto", "nutpie", "pymc")
        if self.sampler not in valid:
            raise InputDataError(f"sampling.sampler must be one of {valid}; got {self.sampler!r}.")
        for key in ("draws", "tune", "chains"):
            if int(getattr(self, key)) < 1:
                raise InputDataError(
                    f"sampling.{key} must be a positive int; got {getattr(self, key)!r}."
                )
        if self.cores is not None and self.cores < 1:
            raise InputDataError(f"sampling.cores must be None or >= 1; got {self.cores!r}.")
        if self.target_accept is not None and not 0 < self.target_accept < 1:
            raise InputDataError(
                f"sampling.target_accept must be in (0, 1); got {self.target_accept!r}."
            )
        if self.prior_draws < 0:
            raise InputDataError(f"sampling.prior_draws must be >= 0; got {self.prior_draws!r}.")

    @property
    def nuts_sampler(self) -> Literal["nutpie", "pymc"]:
        """The NUTS implementation used: ``sampler``, with ``"auto"`` resolved.

        Raises
        ------
        InputDataError
            ``sampler="nutpie"`` when nutpie is not installed.
        """
        if self.sampler == "pymc":
            return "pymc"
        available = importlib.util.find_spec("nutpie") is not None
        if self.sampler == "nutpie" and not available:
            raise InputDataError(
                "sampler='nutpie' but nutpie is not installed (pip install nutpie); "
                "use sampler='pymc' or 'auto'."
            )
        return "nutpie" if available else "pymc"

    @property
    def n_cores(self) -> int:
        """Processes used for sampling."""
        return self.cores if self.cores is not None else min(self.chains, 2)


@dataclass(frozen=True, slots=True, kw_only=True)
class Refinement:
    """Emulator refinement before the final posterior (:mod:`bayescal.study.refine`).

    Only the study's posterior step runs it, as it needs the forward model: each round samples
    a short posterior, runs the forward model at ``points`` draws per emulator and adds them
    to its training set.

    Attributes
    ----------
    rounds : int
        Refinement rounds; 0 (default) samples on the EGO evaluations alone.
    points : int
        Forward runs per emulator and round.
    """

    rounds: int = 0
    points: int = 8

    def __post_init__(self) -> None:
        if int(self.rounds) < 0:
            raise InputDataError(f"refine.rounds must be >= 0; got {self.rounds!r}.")
        if int(self.points) < 1:
            raise InputDataError(f"refine.points must be >= 1; got {self.points!r}.")


@dataclass(frozen=True, slots=True, kw_only=True)
class Convergence:
    """Thresholds of the convergence diagnostics (:func:`bayescal.infer.diagnose`).

    Attributes
    ----------
    rhat_max : float
        Every parameter's rank-normalised R-hat must be below this.
    ess_min : float
        Every parameter's bulk effective sample size must be above this (draws).
    on_fail : {"warn", "raise", "ignore"}
        What :func:`bayescal.infer.posterior` does when the diagnostics fail.
    """

    rhat_max: float = 1.01
    ess_min: float = 400.0
    on_fail: OnFail = "warn"

    def __post_init__(self) -> None:
        valid = ("warn", "raise", "ignore")
        if self.on_fail not in valid:
            raise InputDataError(
                f"convergence.on_fail must be one of {valid}; got {self.on_fail!r}."
            )
        if not float(self.rhat_max) > 0:
            raise InputDataError(f"convergence.rhat_max must be > 0; got {self.rhat_max!r}.")
        if not float(self.ess_min) >= 0:
            raise InputDataError(f"convergence.ess_min must be >= 0; got {self.ess_min!r}.")


#: The nested option groups of :class:`PosteriorOptions` and their classes.
_GROUPS: dict[str, type] = {
    "floor": FloorLikelihood,
    "sampling": Sampling,
    "refine": Refinement,
    "convergence": Convergence,
}


@dataclass(frozen=True, slots=True, kw_only=True)
class PosteriorOptions:
    """How the posterior over the calibrated parameters is built and sampled.

    Attributes
    ----------
    pooling : {"partial", "complete", "none"}
        How parameter sets are tied together. Residual likelihood: over the data realizations
        (the reference's ``realization`` dim; one realization has one parameter set):
        ``"partial"`` (default) gives each realization its parameters around a population
        location with a learned spread ``tau``, ``"complete"`` one set for all, ``"none"``
        independent sets. EGO seeds are repeats of one search: all their evaluations train
        the residual emulators together. Floor and Gibbs likelihoods (which emulate ``d``
        itself) pool over EGO seeds instead: one emulator and parameter set per seed, tied by a
        population location (``"partial"``), one emulator on all evaluations
        (``"complete"``), or independent (``"none"``).
    likelihood : {"residual", "floor", "gibbs"}
        ``"residual"`` (default): Kennedy–O'Hagan likelihood of the emulated residual vectors
        per block (field terms, stress curve) with a learned model error ``sigma_<block>`` and
        the data's measured noise (:mod:`bayescal.infer.residual_model`); needs the kept
        outputs of the evaluations (:mod:`bayescal.compared_outputs`), the discrepancy and the
        reference. For forward models whose evaluations hold only ``d``:
        ``"floor"``: the emulated discrepancy at the true parameters equals the best
        observed value ``d*`` up to emulator and model error,
        ``d* ~ N(m(theta), s^2(theta) + sigma^2)``,
        ``sigma ~ LogNormal(log(floor.model_error_scale), floor.model_error_spread)``;
        ``"gibbs"``: generalised-Bayes weight ``exp(-d(theta) / floor.temperature)`` with ``d``
        the emulator mean on the discrepancy scale (exact Bayes when ``d`` is a negative
        log-likelihood and the temperature is 1). See :func:`bayescal.infer.build_model`.
    floor : FloorLikelihood
        Settings of the ``"floor"`` and ``"gibbs"`` likelihoods (emulator scale and cap,
        model-error prior, temperature, seeds left out).
    spread_scale : float
        Scale of the HalfNormal prior of the between-seed spread ``tau`` (``"partial"`` only), in
        logit-unit space (0.5 at the centre of the box is about 12 % of the range).
    priors : mapping of str to PriorSpec
        Per-parameter priors; missing names are uniform on the study bounds.
    reparam : Reparametrization or None
        Sample other parameters than the searched ones (see :class:`Reparametrization`). A
        :class:`~bayescal.study.Study` states them as part of its problem, ``Study.reparam``,
        which :func:`bayescal.study.posterior_options` puts here.
    refine : Refinement
        Emulator refinement at posterior draws before the final posterior (none by default).
    sampling : Sampling
        NUTS implementation, draws, tuning, chains, cores, target acceptance, prior draws,
        progress bar.
    seed : int or None
        Root seed of the whole step; emulator fits, chains, prior draws (and the refinement
        rounds) get children of ``np.random.SeedSequence(seed)``. None draws fresh entropy
        (recorded in the output).
    convergence : Convergence
        Thresholds of the convergence diagnostics and what a failure does.
    """

    pooling: Pooling = "partial"
    likelihood: Likelihood = "residual"
    floor: FloorLikelihood = field(default_factory=FloorLikelihood)
    spread_scale: float = 0.5
    priors: Mapping[str, PriorSpec] = field(default_factory=dict)
    reparam: Reparametrization | None = None
    refine: Refinement = field(default_factory=Refinement)
    sampling: Sampling = field(default_factory=Sampling)
    seed: int | None = 0
    convergence: Convergence = field(default_factory=Convergence)

    def __post_init__(self) -> None:
        choices = {
            "pooling": ("partial", "complete", "none"),
            "likelihood": ("residual", "floor", "gibbs"),
        }
        for key, valid in choices.items():
            if getattr(self, key) not in valid:
                raise InputDataError(f"{key} must be one of {valid}; got {getattr(self, key)!r}.")
        if not float(self.spread_scale) > 0:
            raise InputDataError(f"spread_scale must be > 0; got {self.spread_scale!r}.")
        for key, kind in _GROUPS.items():
            if not isinstance(getattr(self, key), kind):
                raise InputDataError(
                    f"{key} must be a {kind.__name__}; got {getattr(self, key)!r}."
                )
        for name, spec in self.priors.items():
            _check_prior(name, spec)
        if self.reparam is not None and not isinstance(self.reparam, Reparametrization):
            raise InputDataError(f"reparam must be a Reparametrization; got {self.reparam!r}.")

    def replace(self, **changes: Any) -> PosteriorOptions:
        """A copy with ``changes``; a mapping for a nested group changes only those of its fields.

        ``options.replace(seed=1, sampling={"draws": 200})`` keeps the other sampling settings,
        where :func:`dataclasses.replace` would need the whole :class:`Sampling`. A group given
        as its class (``sampling=Sampling(...)``) replaces it whole.
        """
        for key in _GROUPS.keys() & changes.keys():
            if isinstance(changes[key], Mapping):
                changes[key] = dataclasses.replace(getattr(self, key), **changes[key])
        return dataclasses.replace(self, **changes)

    @property
    def cap(self) -> float | None:
        """The emulator cap in use: ``floor.emulator_cap`` for the floor likelihood, else None."""
        return self.floor.emulator_cap if self.likelihood == "floor" else None

    @property
    def accept(self) -> float:
        """Target acceptance rate used for sampling (``sampling.target_accept`` resolved)."""
        if self.sampling.target_accept is not None:
            return self.sampling.target_accept
        return 0.99 if self.pooling == "partial" else 0.9

    def to_json(self) -> str:
        """JSON text of the options (callable priors by their ``repr``), for output attrs."""
        out = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        out |= {key: dataclasses.asdict(getattr(self, key)) for key in _GROUPS}
        if self.reparam is not None:
            r = self.reparam
            out["reparam"] = {"names": r.names, "lower": r.lower, "upper": r.upper}
        out["priors"] = {
            k: (repr(v) if callable(v) else list(v)) for k, v in dict(self.priors).items()
        }
        return json.dumps(out)
