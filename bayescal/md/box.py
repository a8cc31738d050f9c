"""One LAMMPS box of copper with one potential, exchanging positions and forces with numpy.

:class:`LammpsBox` holds one periodic fcc-derived box with one of the potentials of
:mod:`bayescal.md.potentials` and exchanges *unwrapped* positions, velocities and forces with
numpy, so the full MD (:mod:`bayescal.md.candidates`) and the reduced-order MD
(:mod:`bayescal.md.reduced`) share one force evaluation. The metal-unit constants are LAMMPS's
own (:mod:`bayescal.md.units`), so the reduced dynamics in a full basis reproduce LAMMPS's
``fix nve`` to round-off.

Units: metal (Å, ps, eV, g/mol, K, bar).
"""

from __future__ import annotations

import time
from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike

from bayescal.errors import InputDataError
from bayescal.md.potentials import Potential, as_potential
from bayescal.md.session import open_session

__all__ = ["LammpsBox"]


class LammpsBox:
    """One LAMMPS instance holding the periodic fcc-derived copper box with one potential.

    Atoms are addressed by id (row ``i`` is atom id ``i + 1``) whatever order LAMMPS keeps them
    in. Positions go in and come out *unwrapped*: LAMMPS stores ``x - image * L``, with its image
    flags updated whenever it re-wraps an atom at a re-neighbouring.

    Parameters
    ----------
    potential : str or Potential
        Key of :data:`~bayescal.md.potentials.CU_POTENTIALS` or a :class:`Potential`.
    cells : int
        fcc unit cells per box side (``4 * cells**3`` atoms).
    lattice : float
        fcc lattice constant, Å (sets the box).
    mass : float
        Atomic mass, g/mol.
    geometry : sequence of str, optional
        LAMMPS lines that define the box and create the atoms, in place of the default periodic
        cube (``lattice``, ``region``, ``create_box 1 ...``, ``create_atoms ...``); ``cells`` and
        ``lattice`` are then not used. The box stays periodic (``boundary p p p``): give it
        vacuum for a free-standing structure (:mod:`bayescal.md.beam`).
    """

    def __init__(
        self,
        potential: str | Potential,
        *,
        cells: int = 0,
        lattice: float = 0.0,
        mass: float,
        geometry: Sequence[str] | None = None,
    ) -> None:
        self.potential = as_potential(potential)
        self.lmp = open_session()
        self._ready = False
        self.n_force_calls = 0
        self.force_seconds = 0.0
        if geometry is None:
            if cells < 1 or not lattice > 0:
                raise InputDataError(
                    f"cells must be >= 1 and lattice > 0 (or pass geometry); got cells={cells!r}, "
                    f"lattice={lattice!r}."
                )
            geometry = [
                f"lattice fcc {lattice:.10g}",
                f"region box block 0 {cells} 0 {cells} 0 {cells}",
                "create_box 1 box",
                "create_atoms 1 box",
            ]
        try:
            self.lmp.commands_list(
                [
                    "units metal",
                    "atom_style atomic",
                    "atom_modify map array",
                    "boundary p p p",
                    *geometry,
                    *self.potential.commands(),
                    f"mass 1 {mass:.10g}",  # after pair_coeff: funcfl files set their own mass
                    "neighbor 1.0 bin",
                    "neigh_modify every 1 delay 0 check yes",
                    "thermo_style custom step temp pe press",
                    "thermo_modify norm no",
                ]
            )
        except Exception:
            self.lmp.close()
            raise
        self.n_atoms = int(self.lmp.get_natoms())
        boxlo, boxhi, *_ = self.lmp.extract_box()
        self.lo = np.asarray(boxlo, dtype=float)
        self.length = np.asarray(boxhi, dtype=float) - self.lo
        self.masses = np.full(self.n_atoms, float(self.lmp.numpy.extract_atom("mass")[1]))
        big = self.lmp.extract_setting("imageint") == 8
        self._imgbits, self._imgmax = (21, 1 << 20) if big else (10, 1 << 9)

    # context manager -------------------------------------------------------------------------
    def __enter__(self) -> LammpsBox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Free the LAMMPS instance."""
        if self.lmp is not None:
            self.lmp.close()
            self.lmp = None

    def command(self, line: str) -> None:
        """Run one LAMMPS input line."""
        self.lmp.command(line)

    # per-atom access -------------------------------------------------------------------------
    def _local(self) -> tuple[np.ndarray, int]:
        n = int(self.lmp.extract_global("nlocal"))
        tags = np.asarray(self.lmp.numpy.extract_atom("id")[:n], dtype=np.int64) - 1
        return tags, n

    def _images(self, n: int) -> np.ndarray:
        img = np.asarray(self.lmp.numpy.extract_atom("image")[:n], dtype=np.int64)
        mask = (1 << self._imgbits) - 1
        b = self._imgbits
        return np.stack([(img & mask), (img >> b) & mask, img >> (2 * b)], axis=-1) - self._imgmax

    def _encode(self, shift: np.ndarray) -> np.ndarray:
        s = shift.astype(np.int64) + self._imgmax
        b = self._imgbits
        return s[:, 0] | (s[:, 1] << b) | (s[:, 2] << (2 * b))

    def positions(self) -> np.ndarray:
        """Unwrapped positions, shape (N, 3), Å."""
        tags, n = self._local()
        x = np.asarray(self.lmp.numpy.extract_atom("x")[:n], dtype=float)
        out = np.empty((self.n_atoms, 3))
        out[tags] = x + self._images(n) * self.length
        return out

    def velocities(self) -> np.ndarray:
        """Velocities, shape (N, 3), Å/ps."""
        tags, n = self._local()
        out = np.empty((self.n_atoms, 3))
        out[tags] = self.lmp.numpy.extract_atom("v")[:n]
        return out

    def forces(self) -> np.ndarray:
        """Forces of the last force evaluation, shape (N, 3), eV/Å."""
        tags, n = self._local()
        out = np.empty((self.n_atoms, 3))
        out[tags] = self.lmp.numpy.extract_atom("f")[:n]
        return out

    def set_positions(self, x: ArrayLike, *, rewrap: bool = False) -> None:
        """Place atoms at unwrapped positions ``x`` (N, 3), Å.

        ``rewrap=False`` keeps LAMMPS's image flags and stores ``x - image * L`` (an atom may
        then sit a little outside the box until the next re-neighbouring wraps it: cheap, no
        spurious re-neighbouring); ``rewrap=True`` wraps into the box and resets the flags (for
        a placement far from the current one).
        """
        xu = np.asarray(x, dtype=float)
        tags, n = self._local()
        xv = self.lmp.numpy.extract_atom("x")
        if rewrap:
            shift = np.floor((xu - self.lo) / self.length)
            self.lmp.numpy.extract_atom("image")[:n] = self._encode(shift[tags])
            xv[:n] = (xu - shift * self.length)[tags]
            self._ready = False  # a full setup re-bins and re-neighbours
        else:
            xv[:n] = xu[tags] - self._images(n) * self.length

    def set_velocities(self, v: ArrayLike) -> None:
        """Set velocities (N, 3), Å/ps."""
        tags, n = self._local()
        self.lmp.numpy.extract_atom("v")[:n] = np.asarray(v, dtype=float)[tags]

    # evaluation ------------------------------------------------------------------------------
    def evaluate(self, x: ArrayLike | None = None) -> tuple[np.ndarray, float]:
        """Forces (N, 3) eV/Å and potential energy (eV) at unwrapped positions ``x``.

        The first call (and any after a re-wrap) runs LAMMPS's full setup (``run 0``); later
        ones a zero-motion step without setup (``run 1 pre no post no``: no time-integration
        fix is defined here, so atoms stay put while LAMMPS re-neighbours when needed, updates
        ghost atoms and computes forces), about 3x cheaper than ``run 0``.
        """
        start = time.perf_counter()
        if x is not None:
            self.set_positions(x)
        if self._ready:
            self.lmp.command("run 1 pre no post no")
        else:
            self.lmp.command("run 0 post no")
            self._ready = True
        f = self.forces()
        pe = float(self.lmp.get_thermo("pe"))
        self.force_seconds += time.perf_counter() - start
        self.n_force_calls += 1
        return f, pe

    def minimize(self, force_tol: float = 1e-8, *, max_steps: int = 20000) -> float:
        """Relax every atom (conjugate gradient to a force norm of ``force_tol`` eV/Å).

        Returns the relaxed potential energy, eV; the next :meth:`evaluate` runs a full setup.
        """
        self.lmp.command(f"minimize 0 {force_tol:.6g} {int(max_steps)} {5 * int(max_steps)}")
        self._ready = False
        _, pe = self.evaluate()
        return pe

    def thermo(self, name: str) -> float:
        """A thermo keyword of the last run (``temp``, ``pe`` eV, ``press`` bar)."""
        return float(self.lmp.get_thermo(name))
