"""One snapshot of per-atom data: positions, box, ids and named per-atom columns."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from bayescal.coarse.box import Box
from bayescal.errors import InputDataError

__all__ = ["Frame"]


@dataclass(frozen=True, kw_only=True)
class Frame:
    """Per-atom data of one MD snapshot.

    Parameters
    ----------
    positions : ndarray, shape (n, 3)
        Cartesian positions (length units of the source, Å for LAMMPS metal/real units).
    box : Box
        The simulation box.
    ids : ndarray of int, shape (n,)
        Atom ids (unique).
    columns : mapping of str to ndarray, shape (n,)
        Other per-atom columns by name (``type``, ``c_pe``, ...).
    timestep : int
        MD step of the snapshot.
    """

    positions: np.ndarray
    box: Box
    ids: np.ndarray
    columns: Mapping[str, np.ndarray] = field(default_factory=dict)
    timestep: int = 0

    def __post_init__(self) -> None:
        pos = np.asarray(self.positions, dtype=float)
        if pos.ndim != 2 or pos.shape[1] != 3:
            raise InputDataError(f"Frame.positions must have shape (n, 3); got {pos.shape}.")
        n = pos.shape[0]
        ids = np.asarray(self.ids)
        if ids.shape != (n,):
            raise InputDataError(f"Frame.ids must have shape ({n},); got {ids.shape}.")
        for name, col in self.columns.items():
            if np.shape(col) != (n,):
                raise InputDataError(
                    f"Frame column {name!r} must have shape ({n},); got {np.shape(col)}."
                )
        object.__setattr__(self, "positions", pos)
        object.__setattr__(self, "ids", ids.astype(np.int64))
        object.__setattr__(self, "columns", {k: np.asarray(v) for k, v in self.columns.items()})

    @property
    def n_atoms(self) -> int:
        """Number of atoms."""
        return int(self.positions.shape[0])

    def column(self, name: str) -> np.ndarray:
        """Per-atom column ``name`` (n,); raises with the known names if absent."""
        if name not in self.columns:
            raise InputDataError(
                f"column {name!r} not in frame (timestep {self.timestep}); "
                f"known: {', '.join(self.columns) or 'none'}."
            )
        return self.columns[name]

    def sorted_by_id(self) -> Frame:
        """The same frame with atoms ordered by id (LAMMPS dumps are unordered)."""
        order = np.argsort(self.ids, kind="stable")
        if np.array_equal(order, np.arange(self.n_atoms)):
            return self
        return Frame(
            positions=self.positions[order],
            box=self.box,
            ids=self.ids[order],
            columns={k: v[order] for k, v in self.columns.items()},
            timestep=self.timestep,
        )
