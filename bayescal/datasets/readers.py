"""Readers of the raw text files of the CuZr MD reference (katiana22/GrassmannianEGO, CuZr_Ref).

Two formats (see ``shared/data/README.md``):

- field files ``pe.MD.<k>``, ``Exy.MD.<k>``: a header line ``nx ny lo hi`` then ``ny`` lines of
  ``nx`` whitespace-separated values; file line ``k`` after the header is y index ``k`` and value
  column ``i`` is x index ``i``;
- the stress file ``stress_rand2_matlab.txt``: tab-separated rows, one per output step, evenly
  spaced in applied strain; the shear stress in bar is in column 6 with the opposite sign.

Every malformed input raises :class:`bayescal.errors.InputDataError` naming the file and the place.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import NamedTuple

import numpy as np

from bayescal.errors import InputDataError

__all__ = [
    "BAR_PER_GPA",
    "StressCurve",
    "load_field_file",
    "load_stress_file",
]

#: 1 GPa = 10,000 bar.
BAR_PER_GPA = 10_000.0


class StressCurve(NamedTuple):
    """A stress–strain curve read by :func:`load_stress_file`.

    Attributes
    ----------
    strain : ndarray, shape (n,)
        Applied engineering shear strain, evenly spaced from 0 to ``max_strain``.
    stress : ndarray, shape (n,)
        Shear stress in GPa.
    """

    strain: np.ndarray
    stress: np.ndarray


class MissingDataFileError(InputDataError, FileNotFoundError):
    """A data file does not exist (an :class:`InputDataError` and a ``FileNotFoundError``)."""


def _read_lines(path: str | os.PathLike[str]) -> tuple[Path, list[tuple[int, str]]]:
    """Non-blank lines of ``path`` with their 1-based line numbers, trailing whitespace removed."""
    p = Path(path)
    if not p.is_file():
        raise MissingDataFileError(f"data file not found: {str(p)!r}.")
    try:
        text = p.read_text(encoding="ascii")
    except UnicodeDecodeError as exc:
        raise InputDataError(f"{str(p)!r} is not an ASCII text file: {exc}.") from exc
    lines = [(i + 1, line.rstrip()) for i, line in enumerate(text.splitlines())]
    return p, [(n, line) for n, line in lines if line.strip()]


def _parse_row(p: Path, lineno: int, line: str) -> np.ndarray:
    """Floats of one line; a non-number raises naming the line and the token."""
    tokens = line.split()
    try:
        return np.array([float(t) for t in tokens], dtype=np.float64)
    except ValueError:
        bad = next(t for t in tokens if not _is_float(t))
        raise InputDataError(
            f"{str(p)!r} line {lineno}: {bad!r} is not a number.",
        ) from None


def _is_float(token: str) -> bool:
    try:
        float(token)
    except ValueError:
        return False
    return True


def _check_finite(p: Path, values: np.ndarray, linenos: list[int], *, what: str) -> None:
    """Raise naming the first non-finite value as (row, col) and its file line."""
    bad = ~np.isfinite(values)
    if bad.any():
        rows, cols = np.nonzero(bad)
        r, c = int(rows[0]), int(cols[0])
        raise InputDataError(
            f"{str(p)!r}: {int(bad.sum())} non-finite value(s); first at {what} row {r}, "
            f"col {c} (file line {linenos[r]}): {values[r, c]!r}."
        )


def load_field_file(path: str | os.PathLike[str]) -> np.ndarray:
    r"""Read one coarse-grained MD field file (``pe.MD.<k>``, ``Exy.MD.<k>``).

    Parameters
    ----------
    path : str or path-like
        The file. Its first line is ``nx ny lo hi`` (grid size, then two numbers the source wrote
        as the value range; they are read but not trusted: the ``pe`` files give ``0 1``), followed
        by ``ny`` lines of ``nx`` values. Blank lines and trailing whitespace are ignored.

    Returns
    -------
    ndarray, shape (ny, nx), float64
        ``field[j, i]`` is the value at y index ``j`` (file line ``j`` after the header) and x
        index ``i`` (column ``i``), in the file's units.

    Raises
    ------
    InputDataError
        The file is missing (also a ``FileNotFoundError``), the header is not four fields with
        positive integer sizes, the number of rows or values differs from the header, a value is
        not a number, or a value is NaN or infinite (the message gives row and column).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> f = pathlib.Path(tempfile.mkdtemp()) / "Exy.MD.1"
    >>> _ = f.write_text("3 2 0 5\n0 1 2\n3 4 5\n")
    >>> load_field_file(f)
    array([[0., 1., 2.],
           [3., 4., 5.]])
    """
    p, lines = _read_lines(path)
    if not lines:
        raise InputDataError(f"{str(p)!r} is empty; expected a header 'nx ny lo hi'.")
    lineno, header = lines[0]
    fields = header.split()
    if len(fields) != 4:
        raise InputDataError(
            f"{str(p)!r} line {lineno}: malformed header {header!r}; expected 4 fields "
            f"'nx ny lo hi', got {len(fields)}."
        )
    try:
        nx, ny = int(fields[0]), int(fields[1])
    except ValueError:
        raise InputDataError(
            f"{str(p)!r} line {lineno}: malformed header {header!r}; nx and ny must be integers, "
            f"got {fields[0]!r} and {fields[1]!r}."
        ) from None
    if nx <= 0 or ny <= 0:
        raise InputDataError(
            f"{str(p)!r} line {lineno}: malformed header {header!r}; nx and ny must be positive, "
            f"got nx={nx}, ny={ny}."
        )
    if not (_is_float(fields[2]) and _is_float(fields[3])):
        raise InputDataError(
            f"{str(p)!r} line {lineno}: malformed header {header!r}; lo and hi must be numbers, "
            f"got {fields[2]!r} and {fields[3]!r}."
        )
    body = lines[1:]
    n_values = sum(len(line.split()) for _, line in body)
    if len(body) != ny or n_values != nx * ny:
        raise InputDataError(
            f"{str(p)!r}: wrong number of values; the header says nx={nx}, ny={ny}, so expected "
            f"{ny} rows of {nx} ({nx * ny} values), got {len(body)} rows ({n_values} values)."
        )
    for j, (n, line) in enumerate(body):
        count = len(line.split())
        if count != nx:
            raise InputDataError(
                f"{str(p)!r} line {n} (y index {j}): wrong number of values; expected {nx}, "
                f"got {count}."
            )
    values = np.stack([_parse_row(p, n, line) for n, line in body])
    _check_finite(p, values, [n for n, _ in body], what="y")
    return values


def load_stress_file(
    path: str | os.PathLike[str],
    *,
    n_rows: int | None = 501,
    max_strain: float = 0.5,
    column: int = 6,
) -> StressCurve:
    r"""Read the MD stress–strain file (``stress_rand2_matlab.txt``).

    Parameters
    ----------
    path : str or path-like
        Tab- (or whitespace-) separated text, one row per output step, evenly spaced in applied
        strain. Blank lines and trailing whitespace are ignored.
    n_rows : int or None
        Expected number of rows (501 for the CuZr file); ``None`` accepts any number >= 2.
    max_strain : float
        Applied engineering shear strain of the last row (the first is 0).
    column : int
        0-based column holding the shear stress in bar, with the opposite sign (6 in the CuZr
        file; LAMMPS' ``pxy`` of the deformed box).

    Returns
    -------
    StressCurve
        ``strain`` (n,) evenly spaced in ``[0, max_strain]``; ``stress`` (n,) in GPa,
        ``-row[column] / 10000``.

    Raises
    ------
    InputDataError
        The file is missing (also a ``FileNotFoundError``), has the wrong number of rows, a row
        too short for ``column``, a non-number, or a NaN/infinite stress.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> f = pathlib.Path(tempfile.mkdtemp()) / "stress.txt"
    >>> _ = f.write_text("0\t0\n1\t-1.5e4\n")
    >>> load_stress_file(f, n_rows=2, column=1).stress
    array([-0. ,  1.5])
    """
    if n_rows is not None and (not isinstance(n_rows, int) or n_rows < 2):
        raise InputDataError(f"n_rows must be an int >= 2 or None; got {n_rows!r}.")
    if not (np.isfinite(max_strain) and max_strain > 0):
        raise InputDataError(f"max_strain must be a positive number; got {max_strain!r}.")
    p, lines = _read_lines(path)
    if n_rows is not None and len(lines) != n_rows:
        raise InputDataError(
            f"{str(p)!r}: wrong number of rows; expected {n_rows}, got {len(lines)}."
        )
    if len(lines) < 2:
        raise InputDataError(f"{str(p)!r}: need at least 2 rows; got {len(lines)}.")
    stress = np.empty(len(lines))
    for r, (n, line) in enumerate(lines):
        row = _parse_row(p, n, line)
        if row.size <= column:
            raise InputDataError(
                f"{str(p)!r} line {n} (row {r}): wrong number of values; expected at least "
                f"{column + 1} (stress in column {column}), got {row.size}."
            )
        stress[r] = -row[column] / BAR_PER_GPA
    _check_finite(p, stress[:, None], [n for n, _ in lines], what="stress")
    strain = np.linspace(0.0, float(max_strain), len(lines))
    return StressCurve(strain=strain, stress=stress)
