"""Extended XYZ files through ASE (optional dependency)."""

from __future__ import annotations

import os
from collections.abc import Iterator

import numpy as np

from bayescal.coarse.box import Box
from bayescal.coarse.frame import Frame
from bayescal.errors import InputDataError

__all__ = ["iter_extxyz"]


def iter_extxyz(path: str | os.PathLike[str], *, sort: bool = True) -> Iterator[Frame]:
    """Stream the frames of an extended XYZ file as :class:`Frame` objects (needs ``ase``).

    Parameters
    ----------
    path : str or path-like
        The file.
    sort : bool
        Order atoms by id (the ``id`` array if present, else file order).

    Yields
    ------
    Frame
        Positions, box (ASE cell rows are the cell vectors, as in :class:`Box`), ids, and every
        per-atom array (``numbers``, ``energies`` ... as columns; vector arrays are split into
        ``name[0]``, ``name[1]`` ...).

    Raises
    ------
    InputDataError
        ``ase`` is not installed, the file is missing or ASE cannot parse it.
    """
    try:
        from ase.io import iread
    except ImportError:
        raise InputDataError(
            "reading extended XYZ needs the optional package 'ase' (pip install ase)."
        ) from None
    if not os.path.isfile(path):
        raise InputDataError(f"extended XYZ file not found: {str(path)!r}.")
    try:
        for k, atoms in enumerate(iread(str(path), format="extxyz")):
            n = len(atoms)
            cols: dict[str, np.ndarray] = {}
            for name, arr in atoms.arrays.items():
                if name in ("positions", "id"):
                    continue
                a = np.asarray(arr)
                if a.ndim == 1:
                    cols[name] = a
                else:
                    cols.update({f"{name}[{j}]": a[:, j] for j in range(a.shape[1])})
            cell = np.asarray(atoms.cell[:], dtype=float)
            if not np.linalg.det(cell) > 0:
                raise InputDataError(f"{path}: frame {k} has no (right-handed) cell.")
            ids = np.asarray(atoms.arrays.get("id", np.arange(1, n + 1)))
            fr = Frame(
                positions=atoms.positions,
                box=Box(matrix=cell, periodic=tuple(atoms.pbc)),
                ids=ids,
                columns=cols,
                timestep=k,
            )
            yield fr.sorted_by_id() if sort else fr
    except (ValueError, KeyError, IndexError) as err:
        raise InputDataError(f"{path}: cannot read extended XYZ: {err}") from err
