"""Gauss–Newton refinement of an incumbent from residual vectors (ask/tell, unit cube).

EGO sees only the scalar discrepancy. Near a good fit the discrepancy is a cone (a sum of
subspace distances and absolute stress differences), and when the cone is a long, tilted
valley the GP creeps along it at a few per cent of a range per batch (issue 4 notes). The same
terms written as smooth residual vectors (:meth:`bayescal.discrepancy.Discrepancy.residuals`)
vanish where the model matches, so a least-squares step on a forward-difference Jacobian goes
down such a valley in a few iterations:

1. evaluate the incumbent (its residual) and ``x + h_j e_j`` for every parameter ``j``
   (``-h_j`` at the upper bound): ``J = (r_j - r_0) / h_j``; if a difference point is already
   20 % below the incumbent, it becomes the incumbent and 1 is repeated there (in a steep
   direction one small step can matter more than the rest, and a Jacobian taken at the old
   point then points the wrong way: twin truth 3);
2. solve ``min ||r_0 + J dx||^2 + lambda ||D dx||^2`` (Levenberg–Marquardt, ``D^2`` the
   diagonal of ``J^T J``; ``lambda = 0`` at first) and evaluate ``x + f dx`` for each step
   factor ``f`` in one batch, clipped to the cube;
3. accept the trial of lowest *discrepancy* if it beats the incumbent (the residual norm is
   only the search direction; the answer is judged by the study's own discrepancy) and go to 1;
   otherwise, in this order:

   - if a difference point of step 1 beat the incumbent by 5-20 %, move there and go to 1
     (twin truth 3: the steps from a point 0.076 % of the range off in chi0 all failed while
     its chi0 difference point was 13 % better, and damping used up the rest of the budget);
   - if the failed step was undamped and rises in ``d`` by the difference slopes of ``d``
     itself, go to 1 at the same incumbent with backward differences (once per
     incumbent): the residuals have a kink there (twin truth 1: forward and
     backward chi0 slopes differ by 20 % down to steps of 2e-5; the forward step rose in d,
     the backward one fell 37 %);
   - else raise ``lambda`` (x10, from 0.01) and go to 2 with the same Jacobian; stop when
     ``lambda`` exceeds 1e6 or the step vanishes.

One iteration costs ``d + len(step_factors)`` evaluations. Deterministic: no randomness.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from bayescal.errors import InputDataError

__all__ = ["GaussNewtonOptions", "GaussNewtonPolish"]

_JUMP = 0.8
"""A difference point below this fraction of the incumbent's discrepancy replaces it (step 1)."""
_FALLBACK = 0.95
"""A difference point below this fraction replaces the incumbent when every step fails (step 3);
a lower one (0.99) crawled along Rosenbrock's valley in difference-sized moves."""


@dataclass(frozen=True, slots=True, kw_only=True)
class GaussNewtonOptions:
    """Settings of :class:`GaussNewtonPolish`.

    Parameters
    ----------
    fd_step : float or tuple of float, default 1e-3
        Forward-difference step in the unit cube, one for all parameters or one each. Keep it
        below the scale on which the residual stops being linear (for the STZ twin, chi0
        saturates beyond ~3e-3 of its range).
    step_factors : tuple of float, default (0.5, 1.0, 2.0)
        Multiples of the Gauss–Newton step evaluated together (a one-batch line search).
    min_step : float, default 1e-6
        Stop when the step's largest unit-cube component falls below this.
    """

    fd_step: float | tuple[float, ...] = 1e-3
    step_factors: tuple[float, ...] = (0.5, 1.0, 2.0)
    min_step: float = 1e-6

    def __post_init__(self) -> None:
        steps = np.atleast_1d(np.asarray(self.fd_step, dtype=float))
        if not (np.isfinite(steps).all() and (steps > 0).all() and (steps < 0.5).all()):
            raise InputDataError(f"fd_step must lie in (0, 0.5); got {self.fd_step!r}.")
        f = np.asarray(self.step_factors, dtype=float)
        if f.ndim != 1 or f.size == 0 or not (np.isfinite(f).all() and (f > 0).all()):
            raise InputDataError(
                f"step_factors must be positive numbers; got {self.step_factors!r}."
            )
        if not (math.isfinite(self.min_step) and self.min_step > 0):
            raise InputDataError(f"min_step must be a positive number; got {self.min_step!r}.")


class GaussNewtonPolish:
    """Least-squares refinement from ``start`` with an ask/tell interface (see module docs).

    Parameters
    ----------
    start : array_like, shape (d,)
        Start point in the unit cube (normally EGO's incumbent).
    options : GaussNewtonOptions, optional

    Attributes
    ----------
    best : tuple (ndarray (d,), float) or None
        Incumbent and its discrepancy (None until the start is told).
    should_stop : bool
        The step vanished or the start failed.
    iterations : int
        Accepted steps.
    """

    def __init__(self, start: ArrayLike, options: GaussNewtonOptions | None = None) -> None:
        x = np.asarray(start, dtype=float).ravel()
        if x.size == 0 or not (np.isfinite(x).all() and (x >= 0).all() and (x <= 1).all()):
            raise InputDataError(f"start must be a point of the unit cube; got {start!r}.")
        self.options = options or GaussNewtonOptions()
        steps = np.asarray(self.options.fd_step, dtype=float)
        if steps.size not in (1, x.size):
            raise InputDataError(f"fd_step has {steps.size} entries for {x.size} parameters.")
        steps = np.broadcast_to(steps.ravel(), x.shape)
        self.dim = x.size
        self._h = np.where(x + steps <= 1.0, steps, -steps)
        self._x = x
        self._y: float | None = None
        self._r: np.ndarray | None = None
        self._jac: np.ndarray | None = None
        self._fd_best: tuple[np.ndarray, float, np.ndarray] | None = None
        self._flipped = False
        self._slope = np.zeros(self.dim)
        self._step = np.zeros(self.dim)
        self._lambda = 0.0
        self._phase = "start"
        self._asked: np.ndarray | None = None
        self.iterations = 0
        self.should_stop = False

    def _move(self, x: np.ndarray, y: float, r: np.ndarray) -> None:
        """Make ``x`` the incumbent and take the next Jacobian there."""
        self._x, self._y, self._r = np.array(x), float(y), np.array(r)
        self._h = np.where(self._x + np.abs(self._h) <= 1.0, np.abs(self._h), -np.abs(self._h))
        self._fd_best = None
        self._flipped = False
        self._phase = "jacobian"
        self.iterations += 1

    def _ascends(self) -> bool:
        """Whether the last undamped step rises in d by d's own difference slopes.

        A Gauss–Newton step always descends ``|r|`` on its own Jacobian; when the one-sided
        slopes of ``d`` disagree, the residuals have a kink (or d is not ``|r|``) here.
        """
        return self._lambda == 0.0 and float(self._slope @ self._step) > 0.0

    def _flip_differences(self) -> bool:
        """Retake the Jacobian at the incumbent from the other side; False if already done."""
        if self._flipped:
            return False
        flipped = -self._h
        inside = (self._x + flipped >= 0.0) & (self._x + flipped <= 1.0)
        self._h = np.where(inside, flipped, self._h)
        self._flipped = True
        self._phase = "jacobian"
        return True

    @property
    def best(self) -> tuple[np.ndarray, float] | None:
        """Incumbent point and discrepancy."""
        return None if self._y is None else (self._x.copy(), float(self._y))

    def ask(self) -> np.ndarray:
        """Points to evaluate next, shape (k, d); empty when :attr:`should_stop`."""
        if self.should_stop:
            return np.empty((0, self.dim))
        if self._phase == "start":
            pts = self._x[None]
        elif self._phase == "jacobian":
            pts = self._x[None] + np.diag(self._h)
        else:
            trials = self._trials()
            if trials is None:
                self.should_stop = True
                return np.empty((0, self.dim))
            pts = trials
        self._asked = pts
        return pts.copy()

    def _trials(self) -> np.ndarray | None:
        J, r = self._jac, self._r
        if J is None or r is None:  # the step phase follows the start and Jacobian phases
            raise RuntimeError("no Jacobian to step on")
        A = J.T @ J
        damp = self._lambda * np.diag(np.diag(A))
        dx = -np.linalg.lstsq(A + damp, J.T @ r, rcond=None)[0]
        self._step = dx
        factors = np.asarray(self.options.step_factors, dtype=float)
        pts = np.clip(self._x[None] + factors[:, None] * dx[None], 0.0, 1.0)
        if np.abs(pts - self._x).max() < self.options.min_step:
            return None
        return pts

    def tell(self, x: ArrayLike, y: ArrayLike, residuals: ArrayLike) -> None:
        """Results of the last :meth:`ask`: discrepancies (NaN if failed) and residual rows."""
        x = np.atleast_2d(np.asarray(x, dtype=float))
        y = np.asarray(y, dtype=float).ravel()
        R = np.atleast_2d(np.asarray(residuals, dtype=float))
        if self._asked is None or x.shape != self._asked.shape or not np.allclose(x, self._asked):
            raise InputDataError("tell() must get exactly the points of the last ask().")
        if y.shape[0] != x.shape[0] or R.shape[0] != x.shape[0]:
            raise InputDataError(
                f"tell() needs one discrepancy and one residual row per point; got {y.shape[0]}"
                f" and {R.shape[0]} for {x.shape[0]}."
            )
        self._asked = None
        ok = np.isfinite(y) & np.isfinite(R).all(axis=1)
        if self._phase == "start":
            if not ok[0]:
                self.should_stop = True
                return
            self._y, self._r = float(y[0]), R[0]
            self._phase = "jacobian"
        elif self._phase == "jacobian":
            if self._y is None:  # set by the start phase
                raise RuntimeError("no incumbent to difference from")
            # a failed difference leaves that parameter out of the step (zero column)
            cols = np.where(ok[None, :], (R - self._r).T / self._h, 0.0)
            self._jac = np.nan_to_num(cols)
            self._slope = np.where(ok, (y - self._y) / self._h, 0.0)
            self._lambda = 0.0
            self._phase = "step"
            scores = np.where(ok, y, np.inf)
            k = int(np.argmin(scores))
            point = (x[k], float(scores[k]), R[k])
            self._fd_best = point if scores[k] < _FALLBACK * self._y else None
            if scores[k] < _JUMP * self._y:  # a difference point is far better: move there
                self._move(*point)
        else:
            scores = np.where(ok, y, np.inf)
            k = int(np.argmin(scores))
            if scores[k] < self._y:
                self._move(x[k], float(y[k]), R[k])
            elif self._fd_best is not None:  # the steps failed, a difference point did not
                self._move(*self._fd_best)
            elif self._ascends() and self._flip_differences():
                pass  # d's own slopes say the step went uphill: retake them from the other side
            else:  # no trial improved: shorter, more gradient-like steps on the same Jacobian
                self._lambda = max(10.0 * self._lambda, 1e-2)
                if self._lambda > 1e6:
                    self.should_stop = True
