"""Efficient global optimisation (EGO) with an ask/tell interface, in the unit cube."""

from __future__ import annotations

import logging
import math
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import cast

import numpy as np
from botorch.exceptions.errors import (
    CandidateGenerationError,
    ModelFittingError,
    OptimizationTimeoutError,
)
from botorch.utils.sampling import manual_seed

from bayescal.errors import InputDataError, NumericsWarning, StudyDefinitionError
from bayescal.optimize.acquisition import propose_batch, raw_candidates
from bayescal.optimize.composite import fit_residual_surrogate
from bayescal.optimize.lhs import as_feasible_mask, latin_hypercube, sobol
from bayescal.optimize.options import BudgetShare, EGOOptions, LocalSearch, default_n_init
from bayescal.optimize.quadratic import fit_quadratic, n_quadratic_terms, quadratic_step
from bayescal.optimize.status import EvalStatus
from bayescal.optimize.surrogate import fit_gp, single_thread

__all__ = ["EGO", "TrustRegion"]

logger = logging.getLogger(__name__)

#: Failures of a surrogate step that fall back to random feasible points: GP fits, Cholesky
#: factorisations (torch, gpytorch and numpy raise RuntimeError or ValueError subclasses) and
#: the acquisition optimiser. Programming errors are not among them.
SURROGATE_FAILURES = (
    RuntimeError,
    ValueError,
    ArithmeticError,
    ModelFittingError,
    CandidateGenerationError,
    OptimizationTimeoutError,
)

_KEY_DESIGN, _KEY_ASK = 0, 1
_N_AROUND_BEST = 5  # best OK points around which extra raw candidates are drawn


@dataclass(frozen=True)
class TrustRegion:
    """State of EGO's local search, replayed from the history.

    Attributes
    ----------
    radius : float
        Half-width of the box (unit-cube units).
    first : int
        Index of the first evaluation of the current region; its centre is the best OK
        evaluation from there on (0: the incumbent of the whole run).
    exploring : bool
        Whether the next batch is one of a restart's global batches.
    collapsed : tuple of ndarray
        Centres (unit cube, shape (dim,)) of the regions that collapsed and were left.
    """

    radius: float
    first: int = 0
    exploring: bool = False
    collapsed: tuple[np.ndarray, ...] = ()


class EGO:
    """Minimise an expensive function on ``[0, 1]^dim`` by EGO (Jones, Schonlau & Welch 1998).

    A Latin-hypercube design (:func:`~bayescal.optimize.latin_hypercube`) of ``n_init`` points
    is returned first, in batches of ``q = options.batch_size``; afterwards every :meth:`ask`
    fits a Matérn-5/2 ARD ``SingleTaskGP`` to the OK evaluations (:func:`fit_gp`) and maximises
    ``LogExpectedImprovement`` (``q == 1``) or, greedily, ``qLogExpectedImprovement``
    (``q > 1``) over the feasible part of the cube (:func:`propose_batch`). Evaluations with a
    status other than OK (or a NaN value) stay out of the GP and are never proposed again
    (``avoid_radius``). With ``options.local`` (a :class:`LocalSearch`) the GP is fitted on the
    ``local.neighbours`` evaluations nearest the incumbent and the search is restricted to a box
    of half-width ``local.radius`` around it: a fixed-size trust region (the paper's "local
    surrogate update"), from the ``local.start``-th evaluation on (global steps before). With
    ``local.min_radius`` the box shrinks while batches fail to improve and grows while they
    succeed (:meth:`local_radius`), so the search can refine a sharp minimum. With
    ``local.quadratic`` each local batch leads with the minimiser of a least-squares quadratic
    model (:mod:`bayescal.optimize.quadratic`), when convex (``benchmarks/ego_cone.py``
    compares both on a saturated cone).

    **Determinism and resume.** A proposal depends only on ``seed`` and the history told so far:
    batch randomness comes from ``SeedSequence(seed).spawn_key + (1, n_told)`` and the GP is
    refitted from its default initial hyperparameters each time. Rebuilding an ``EGO`` and telling
    it a stored history (at once or in pieces) therefore continues bit for bit as the run that
    was interrupted. :meth:`ask` is idempotent: asking twice without a tell returns the same batch.

    **Budgets measured** (tests/optimize, default options, ``q = 1``; evaluations until the best
    value is within 1 % of the minimum): Branin (2-d, minimum 0.397887), seeds 0-14: 13-37,
    median 26, so the tests use a budget of 40; Hartmann-6 (minimum -3.32237), seeds 0-4: 40, 32,
    49, 41, and seed 3 stuck in the local minimum -3.2032 (still at 160), so the test asks 4 of
    5 seeds within 100. With ``q = 4``, Hartmann-6 seed 0 needed 37 evaluations.

    Parameters
    ----------
    dim : int
        Number of parameters.
    options : EGOOptions
        Settings.
    seed : int or numpy.random.SeedSequence
        Seed of the run (K independent runs: ``SeedSequence(s).spawn(K)``).
    feasible : callable, optional
        Known constraint: ``(n, dim)`` unit-cube points -> ``(n,)`` bool. It is cheap and
        checked before proposing; every proposal satisfies it.

    Examples
    --------
    >>> ego = EGO(2, options=EGOOptions(n_init=5), seed=0)
    >>> x = ego.ask()
    >>> ego.tell(x, (x**2).sum(axis=1))
    >>> ego.history[0].shape
    (1, 2)
    """

    def __init__(
        self,
        dim: int,
        *,
        options: EGOOptions = EGOOptions(),  # noqa: B008  (frozen, hence safe)
        seed: int | np.random.SeedSequence = 0,
        feasible: Callable[[np.ndarray], np.ndarray] | None = None,
        residual_parts: Sequence[int] | None = None,
    ) -> None:
        if isinstance(dim, bool) or not isinstance(dim, int | np.integer) or dim < 1:
            raise InputDataError(f"dim must be a positive int; got {dim!r}.")
        if not isinstance(options, EGOOptions):
            raise InputDataError(f"options must be an EGOOptions; got {type(options).__name__}.")
        if isinstance(seed, np.random.SeedSequence):
            self._seed = seed
        elif isinstance(seed, int | np.integer) and not isinstance(seed, bool) and seed >= 0:
            self._seed = np.random.SeedSequence(int(seed))
        else:
            raise InputDataError(
                f"seed must be a non-negative int or a numpy SeedSequence; got {seed!r}."
            )
        if feasible is not None and not callable(feasible):
            raise InputDataError(f"feasible must be callable or None; got {feasible!r}.")
        self.dim = int(dim)
        n_quad = None if options.local is None else options.local.quadratic_n
        if n_quad is not None and n_quad <= n_quadratic_terms(self.dim):
            raise InputDataError(
                f"EGOOptions.local.quadratic_n={n_quad} must exceed the "
                f"{n_quadratic_terms(self.dim)} coefficients of a quadratic in {self.dim} "
                "variables; None gives twice that."
            )
        if options.local is not None and isinstance(options.local.start, BudgetShare):
            raise InputDataError(
                f"EGOOptions.local.start={options.local.start!r} is a share of a budget, which "
                "EGO does not know; pass options.for_budget(budget)."
            )
        if options.surrogate == "composite" and not residual_parts:
            raise InputDataError(
                "EGOOptions.surrogate='composite' needs residual_parts, the lengths of the "
                "residual vector's snapshot parts (Discrepancy.residual_parts)."
            )
        self.options = options
        self.feasible = feasible
        self.residual_parts = tuple(int(p) for p in residual_parts or ())
        q = options.batch_size
        n_init = default_n_init(self.dim) if options.n_init is None else options.n_init
        self.n_init = q * math.ceil(n_init / q)
        self._x = np.empty((0, self.dim))
        self._y = np.empty(0)
        self._status = np.empty(0, dtype=np.int8)
        self._residuals: np.ndarray | None = None  # (n, m), NaN rows where not told
        self._design: np.ndarray | None = None
        self._cache: tuple[int, np.ndarray] | None = None

    # ----------------------------------------------------------------------------- state
    @property
    def n_told(self) -> int:
        """Number of evaluations told so far."""
        return len(self._y)

    @property
    def history(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Copies of ``X`` (n, dim), ``y`` (n,) and ``status`` (n,) ``int8`` (EvalStatus)."""
        return self._x.copy(), self._y.copy(), self._status.copy()

    def _ok(self) -> np.ndarray:
        return (self._status == EvalStatus.OK) & np.isfinite(self._y)

    @property
    def best(self) -> tuple[np.ndarray, float] | None:
        """Best OK evaluation ``(x (dim,), y)``, the first one on ties; ``None`` if none yet."""
        ok = np.flatnonzero(self._ok())
        if len(ok) == 0:
            return None
        i = ok[np.argmin(self._y[ok])]
        return self._x[i].copy(), float(self._y[i])

    @property
    def should_stop(self) -> bool:
        """Whether the best value improved by less than ``tol`` over the last ``patience`` batches.

        Batches are consecutive blocks of ``batch_size`` evaluations in history order, counted
        after the initial design, so the rule does not depend on how the history was told.
        Always ``False`` when ``options.tol`` is ``None``.
        """
        tol = self.options.tol
        window = self.options.patience * self.options.batch_size
        if tol is None or self.n_told < self.n_init + window:
            return False
        n_full = self.n_told - (self.n_told - self.n_init) % self.options.batch_size
        y = np.where(self._ok(), self._y, np.inf)
        before, now = y[: n_full - window].min(), y[:n_full].min()
        if not np.isfinite(now):
            return False
        return bool(before - now < tol)

    @property
    def _local(self) -> LocalSearch:
        """The local phase's settings (its defaults when the options have none)."""
        return self.options.local if self.options.local is not None else LocalSearch()

    def local_radius(self) -> float:
        """Half-width of the local search box for the next :meth:`ask` (unit-cube units).

        ``local.radius`` unless ``local.min_radius`` is set; then it is replayed from the
        history: batches of ``batch_size`` evaluations from ``local.start`` on, each improving
        (best value lowered by more than 0.1 % of its magnitude) or not; the radius halves after
        ``local.fail_tol`` failures in a row and doubles after 3 successes in a row, within
        ``[local.min_radius, local.radius]``. ``local.fail_tol`` more failures at the smallest
        radius reset it to ``local.radius`` (a box that collapsed away from the minimum would
        otherwise creep towards it by ``local.min_radius`` per batch), or, with
        ``local.restarts``, start a new region elsewhere (:meth:`trust_region`), as does a
        region that gained less than 1 % over ``local.stall`` batches. Without
        ``options.local``, :class:`LocalSearch`'s defaults.
        """
        return self.trust_region().radius

    def trust_region(self) -> TrustRegion:
        """The current trust region, replayed from the history (see :meth:`local_radius`)."""
        opts = self._local
        region = TrustRegion(radius=opts.radius)
        if opts.min_radius is None:
            return region
        q = self.options.batch_size
        fail_tol = opts.fail_tol or math.ceil(max(4, self.dim) / q)
        y = np.where(self._ok(), self._y, np.inf)
        # __init__ rejects a BudgetShare local.start, so it is a count here
        start = max(cast(int, opts.start), self.n_init)
        fails = successes = stalled = 0
        radius, first, explore_until = opts.radius, 0, 0
        collapsed_at: list[np.ndarray] = []
        for lo in range(start, self.n_told - q + 1, q):
            if lo < explore_until:  # a restart's global batches do not count
                continue
            before, batch = y[first:lo].min(), y[lo : lo + q].min()
            improved = np.isfinite(batch) and batch < before - 1e-3 * abs(before)
            fails, successes = (0, successes + 1) if improved else (fails + 1, 0)
            gained = np.isfinite(batch) and batch < before - 1e-2 * abs(before)
            stalled = 0 if gained else stalled + 1
            collapsed = fails == fail_tol and radius <= opts.min_radius
            if opts.restarts and (collapsed or (opts.stall and stalled >= opts.stall)):
                collapsed_at.append(self._x[first + int(np.argmin(y[first : lo + q]))])
                first = lo + q
                explore_until = first + opts.restarts * q
                radius, fails, successes, stalled = opts.radius, 0, 0, 0
            elif fails == fail_tol:  # shrink; once collapsed, start over
                radius = max(radius / 2, opts.min_radius) if not collapsed else opts.radius
                fails = 0
            elif successes == 3:
                radius, successes = min(radius * 2, opts.radius), 0
        return TrustRegion(
            radius=float(radius),
            first=first,
            exploring=self.n_told < explore_until,
            collapsed=tuple(collapsed_at),
        )

    # ------------------------------------------------------------------------------ tell
    def tell(
        self,
        x: np.ndarray,
        y: np.ndarray,
        status: np.ndarray | None = None,
        residuals: np.ndarray | None = None,
    ) -> None:
        """Record evaluations.

        Parameters
        ----------
        x : array_like, shape (m, dim)
            Evaluated unit-cube points (any points, not only those asked).
        y : array_like, shape (m,)
            Values; NaN/inf allowed (the point is then recorded FAILED).
        status : array_like of int, shape (m,), optional
            :class:`EvalStatus` codes; default OK where ``y`` is finite, else FAILED.
        residuals : array_like, shape (m, n_residual), optional
            Residual vectors of the evaluations (NaN rows where unknown), for
            ``options.surrogate == "composite"``.

        Raises
        ------
        InputDataError
            On wrong shapes, points outside the unit cube, unknown status codes, or
            ``y <= 0`` with ``options.log_y``.
        """
        x = np.asarray(x, dtype=float)
        y = np.asarray(y, dtype=float)
        if x.ndim != 2 or x.shape[1] != self.dim or y.shape != (len(x),):
            raise InputDataError(
                f"tell expects x of shape (m, {self.dim}) and y of shape (m,); "
                f"got {x.shape} and {y.shape}."
            )
        if not np.all(np.isfinite(x)) or np.any((x < -1e-12) | (x > 1 + 1e-12)):
            raise InputDataError("tell: x must be finite unit-cube points (map with to_unit).")
        finite = np.isfinite(y)
        if status is None:
            st = np.where(finite, EvalStatus.OK, EvalStatus.FAILED).astype(np.int8)
        else:
            st = np.asarray(status)
            valid = {int(s) for s in EvalStatus}
            if st.shape != y.shape or st.dtype.kind not in "iu" or not set(st.tolist()) <= valid:
                raise InputDataError(
                    f"status must be an (m,) int array of EvalStatus codes {sorted(valid)}; "
                    f"got {st!r}."
                )
            st = st.astype(np.int8)
            bad = (st == EvalStatus.OK) & ~finite
            if bad.any():
                logger.warning("%d evaluations told OK with a non-finite value: FAILED", bad.sum())
                st[bad] = EvalStatus.FAILED
        if self.options.log_y and np.any(y[st == EvalStatus.OK] <= 0):
            raise InputDataError("options.log_y needs every OK value > 0; got a value <= 0.")
        self._tell_residuals(len(y), residuals)
        self._x = np.concatenate([self._x, np.clip(x, 0.0, 1.0)])
        self._y = np.concatenate([self._y, y])
        self._status = np.concatenate([self._status, st])
        best = self.best
        logger.info(
            "told %d evaluations (%d not OK); n = %d, best = %s",
            len(y),
            int(np.sum(st != EvalStatus.OK)),
            self.n_told,
            "none" if best is None else f"{best[1]:.6g}",
        )

    def _tell_residuals(self, m: int, residuals: np.ndarray | None) -> None:
        """Append ``m`` residual rows (NaN rows when ``residuals`` is None)."""
        if residuals is None:
            if self._residuals is not None:
                pad = np.full((m, self._residuals.shape[1]), np.nan)
                self._residuals = np.concatenate([self._residuals, pad])
            return
        r = np.asarray(residuals, dtype=float)
        if r.ndim != 2 or r.shape[0] != m:
            raise InputDataError(f"tell: residuals must have shape ({m}, n); got {r.shape}.")
        if self._residuals is None:
            self._residuals = np.full((self.n_told, r.shape[1]), np.nan)
        if r.shape[1] != self._residuals.shape[1]:
            raise InputDataError(
                f"tell: residual vectors of length {r.shape[1]} after ones of length "
                f"{self._residuals.shape[1]}."
            )
        self._residuals = np.concatenate([self._residuals, r])

    # ------------------------------------------------------------------------------- ask
    def _child(self, *key: int) -> np.random.SeedSequence:
        return np.random.SeedSequence(
            entropy=self._seed.entropy, spawn_key=(*self._seed.spawn_key, *key)
        )

    def ask(self) -> np.ndarray:
        """Propose the next batch.

        Returns
        -------
        ndarray, shape (batch_size, dim)
            Unit-cube points to evaluate next (a deterministic function of the seed and the
            history told so far).
        """
        n = self.n_told
        if self._cache is None or self._cache[0] != n:
            self._cache = (n, self._propose())
        return self._cache[1].copy()

    def _propose(self) -> np.ndarray:
        q, n = self.options.batch_size, self.n_told
        rng = np.random.default_rng(self._child(_KEY_ASK, n))
        if n < self.n_init:
            if self._design is None:
                self._design = latin_hypercube(
                    self.n_init, self.dim, seed=self._child(_KEY_DESIGN), feasible=self.feasible
                )
            batch = self._design[n : n + q]
            logger.debug("ask: initial design points %d..%d", n, n + len(batch) - 1)
            if len(batch) < q:
                batch = np.concatenate([batch, self._random(q - len(batch), rng, batch)])
            return batch
        if int(self._ok().sum()) < 2:
            logger.info("ask: fewer than 2 OK evaluations; sampling at random")
            return self._random(q, rng)
        seed = int(rng.integers(2**31 - 1))
        try:
            with single_thread():
                proposal = self._model_step(rng, seed)
        except SURROGATE_FAILURES as exc:  # numerical failures; a bug (TypeError, ...) raises
            warnings.warn(
                f"EGO surrogate step failed ({type(exc).__name__}: {exc}); proposing random "
                "feasible points instead.",
                NumericsWarning,
                stacklevel=3,
            )
            return self._random(q, rng)
        if proposal is None:
            logger.info("ask: no admissible acquisition maximiser; sampling at random")
            return self._random(q, rng)
        return proposal

    def _random(
        self, k: int, rng: np.random.Generator, extra: np.ndarray | None = None
    ) -> np.ndarray:
        """``k`` feasible Sobol points away from evaluated points (and ``extra``)."""
        cand = sobol(max(64, 8 * k), self.dim, seed=rng, feasible=self.feasible)
        blocked = [self._x] if extra is None else [self._x, extra]
        chosen: list[np.ndarray] = []
        for c in cand:
            ref = np.concatenate([*blocked, np.array(chosen).reshape(-1, self.dim)])
            if len(ref) == 0 or np.min(np.linalg.norm(ref - c, axis=1)) > self.options.avoid_radius:
                chosen.append(c)
            if len(chosen) == k:
                return np.array(chosen)
        raise StudyDefinitionError(
            "no feasible point left away from the evaluated ones; check `feasible` "
            "and options.avoid_radius."
        )

    def _model_step(self, rng: np.random.Generator, seed: int) -> np.ndarray | None:
        opts = self.options
        ok = self._ok()
        x_ok, y_ok = self._x[ok], self._y[ok]
        t = np.log(y_ok) if opts.log_y else y_ok
        unit = np.array([np.zeros(self.dim), np.ones(self.dim)])
        pending, near = None, None
        ls = self._local
        local = opts.local is not None and self.n_told >= cast(int, ls.start)
        region = self.trust_region() if local else TrustRegion(radius=ls.radius)
        mine = np.flatnonzero(ok) >= region.first  # OK points of the current region
        incumbent = x_ok[mine][np.argmin(t[mine])] if mine.any() else x_ok[np.argmin(t)]
        feasible = self.feasible
        if region.exploring:  # a restart: global, blind to the collapsed regions
            keep = self._outside(x_ok, region.collapsed, ls.radius)
            x_ok, t = x_ok[keep], t[keep]
            feasible = self._outside_feasible(region.collapsed)
            box = input_bounds = unit
            ok = ok.copy()
            ok[np.flatnonzero(ok)[~keep]] = False
        elif local:
            near = np.argsort(np.linalg.norm(x_ok - incumbent, axis=1), kind="stable")
            box = np.clip(incumbent + np.outer([-1, 1], region.radius), 0.0, 1.0)
            if self._quadratic_turn():
                pending = self._quadratic_point(x_ok, y_ok, incumbent, box)
                if pending is not None and opts.batch_size == 1:
                    return pending
            x_ok, t = x_ok[near[: ls.neighbours]], t[near[: ls.neighbours]]
            input_bounds = np.array(
                [np.minimum(box[0], x_ok.min(0)), np.maximum(box[1], x_ok.max(0))]
            )
            input_bounds[1] = np.maximum(input_bounds[1], input_bounds[0] + 1e-6)
        else:
            box = input_bounds = unit
        if len(t) < 2:
            return None
        objective = None
        r_ok = self._composite_rows(ok, near)
        if r_ok is not None:
            surrogate = fit_residual_surrogate(
                x_ok, r_ok, self.residual_parts, input_bounds=input_bounds, seed=seed
            )
            model, objective, best_z = surrogate.model, surrogate.objective(), -surrogate.best_log_d
        else:
            model, best_z = fit_gp(x_ok, -t, input_bounds=input_bounds, seed=seed), float(-t.min())
        candidates = raw_candidates(
            opts.raw_samples,
            box=box,
            centres=x_ok[np.argsort(t, kind="stable")[:_N_AROUND_BEST]],
            rng=rng,
            feasible=feasible,
        )
        with manual_seed(seed):
            return propose_batch(
                model,
                best_z=best_z,
                objective=objective,
                q=opts.batch_size - (0 if pending is None else 1),
                bounds=box,
                candidates=candidates,
                avoid=self._x,
                avoid_radius=opts.avoid_radius,
                feasible=feasible,
                num_restarts=opts.num_restarts,
                mc_samples=opts.mc_samples,
                seed=seed,
                pending=pending,
            )

    @staticmethod
    def _outside(x: np.ndarray, centres: Sequence[np.ndarray], radius: float) -> np.ndarray:
        """Rows of ``x`` (n, dim) outside every box of half-width ``radius`` at ``centres``."""
        keep = np.ones(len(x), dtype=bool)
        for c in centres:
            keep &= np.abs(x - c).max(axis=1) > radius
        return keep

    def _outside_feasible(self, centres: Sequence[np.ndarray]) -> Callable | None:
        """The known constraint, and outside the collapsed regions' boxes."""
        if not centres:
            return self.feasible
        inner, radius = self.feasible, self._local.radius

        def feasible(u: np.ndarray) -> np.ndarray:
            u = np.atleast_2d(u)
            out = self._outside(u, centres, radius)
            return out & as_feasible_mask(inner, u)

        return feasible

    def _composite_rows(self, ok: np.ndarray, near: np.ndarray | None) -> np.ndarray | None:
        """Residual rows of the GP's training points for the composite surrogate, or None.

        None (the scalar GP is used) unless ``options.surrogate == "composite"`` and every
        training point has a finite residual vector.
        """
        if self.options.surrogate != "composite" or self._residuals is None:
            return None
        rows = self._residuals[ok]
        if near is not None:
            rows = rows[near[: self._local.neighbours]]
        if not np.isfinite(rows).all():
            logger.info("ask: residual vectors missing; scalar GP instead of the composite one")
            return None
        return rows

    def _quadratic_turn(self) -> bool:
        """Whether this local batch starts with the quadratic model's point."""
        if not self._local.quadratic:
            return False
        start = cast(int, self._local.start)  # a count: __init__ rejects a share
        return self.options.batch_size > 1 or (self.n_told - start) % 2 == 0

    def _quadratic_point(
        self, x_ok: np.ndarray, y_ok: np.ndarray, incumbent: np.ndarray, box: np.ndarray
    ) -> np.ndarray | None:
        """Minimiser in ``box`` of a quadratic fitted to the best OK points, or ``None``.

        The fit uses the ``local.quadratic_n`` OK evaluations of lowest value (those nearest
        the minimum, where a cone-shaped ``y`` has ``y**2`` closest to a quadratic; the nearest
        points to the incumbent may straddle a saturated part of the landscape) and ``y**2``
        with ``log_y`` (see :mod:`bayescal.optimize.quadratic`). ``None`` (the batch is then
        all qLogEI) when the fit is undetermined or not convex (its box minimiser would be an
        arbitrary corner), or its minimiser is infeasible or within ``avoid_radius`` of an
        evaluated point.
        """
        opts = self.options
        n = self._local.quadratic_n or 2 * n_quadratic_terms(self.dim)
        best = np.argsort(y_ok, kind="stable")[:n]
        values = y_ok[best] ** 2 if opts.log_y else y_ok[best]
        model = fit_quadratic(x_ok[best], values, incumbent)
        if model is None or not model.convex:
            return None
        point = quadratic_step(model, box)[None]
        too_close = np.min(np.linalg.norm(self._x - point, axis=1)) <= opts.avoid_radius
        infeasible = not as_feasible_mask(self.feasible, point)[0]
        if too_close or infeasible:
            logger.debug(
                "quadratic step rejected (close: %s, infeasible: %s)", too_close, infeasible
            )
            return None
        logger.debug("quadratic step to %s", point[0])
        return point
