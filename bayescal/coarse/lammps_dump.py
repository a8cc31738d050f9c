"""LAMMPS text dump files (``dump atom/custom``): a streaming reader and a writer.

A dump is a sequence of frames, each ``ITEM: TIMESTEP``, ``ITEM: NUMBER OF ATOMS``,
``ITEM: BOX BOUNDS [xy xz yz] pp pp pp`` (three lines, with a third number, the tilt, for a
triclinic box) and ``ITEM: ATOMS <names...>`` followed by one row per atom in any column order.
Positions are taken from ``x y z`` (wrapped), ``xu yu zu`` (unwrapped), ``xs ys zs`` or
``xsu ysu zsu`` (scaled), in that order of preference. Frames are read one at a time, so memory
is bounded by one frame.
"""

from __future__ import annotations

import io
import itertools
import logging
import os
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any, TextIO

import numpy as np

from bayescal.coarse.box import Box, box_from_lammps_bounds
from bayescal.coarse.frame import Frame
from bayescal.errors import InputDataError

__all__ = ["POSITION_COLUMNS", "iter_dump", "read_dump", "write_dump"]

logger = logging.getLogger(__name__)

#: Position column triples in order of preference, with (scaled, wrapped) flags.
POSITION_COLUMNS: tuple[tuple[tuple[str, str, str], bool, bool], ...] = (
    (("x", "y", "z"), False, True),
    (("xu", "yu", "zu"), False, False),
    (("xs", "ys", "zs"), True, True),
    (("xsu", "ysu", "zsu"), True, False),
)


class _Lines:
    """A text stream with line numbers for error messages."""

    def __init__(self, fh: TextIO, name: str) -> None:
        self.fh, self.name, self.lineno = fh, name, 0

    def next(self, what: str, *, allow_eof: bool = False) -> str | None:
        line = self.fh.readline()
        if not line:
            if allow_eof:
                return None
            raise InputDataError(
                f"{self.name}: file truncated after line {self.lineno} while reading {what}."
            )
        self.lineno += 1
        return line.strip()

    def fail(self, msg: str) -> InputDataError:
        return InputDataError(f"{self.name}, line {self.lineno}: {msg}")


def _expect_item(lines: _Lines, line: str, item: str) -> None:
    if not line.startswith(f"ITEM: {item}"):
        raise lines.fail(f"malformed header: expected 'ITEM: {item}', got {line[:60]!r}.")


def _parse_box(lines: _Lines, header: str) -> Box:
    words = header.split()[3:]  # after "ITEM: BOX BOUNDS"
    triclinic = words[:3] == ["xy", "xz", "yz"]
    if "abc" in words or "origin" in words:
        raise lines.fail("general triclinic boxes ('BOX BOUNDS abc origin') are not supported.")
    flags = words[3:] if triclinic else words
    periodic = tuple(f.startswith("p") for f in flags) if len(flags) == 3 else (True,) * 3
    rows = []
    for axis in "xyz":
        text = lines.next(f"the {axis} box bounds")
        try:
            values = [float(v) for v in (text or "").split()]
        except ValueError:
            values = []
        if len(values) != (3 if triclinic else 2):
            raise lines.fail(f"malformed {axis} box bounds {text!r}.")
        rows.append(values)
    b = np.array(rows)
    return box_from_lammps_bounds(b[:, :2], tilts=b[:, 2] if triclinic else None, periodic=periodic)


def _parse_atoms(lines: _Lines, names: list[str], n: int) -> dict[str, np.ndarray]:
    rows = list(itertools.islice(lines.fh, n))
    start = lines.lineno
    lines.lineno += len(rows)
    if len(rows) < n:
        raise InputDataError(
            f"{lines.name}: file truncated: frame at line {start} declares {n} atoms but "
            f"only {len(rows)} rows follow."
        )
    try:
        table = np.loadtxt(rows, dtype=float, ndmin=2, comments=None)
        numeric = True
    except ValueError:
        numeric = False
    if not numeric:
        split = [r.split() for r in rows]
        bad = next((k for k, r in enumerate(split) if len(r) != len(names)), None)
        if bad is not None and bad == n - 1 and not rows[-1].endswith("\n"):
            raise InputDataError(
                f"{lines.name}, line {start + n}: file truncated in the middle of an atom row."
            )
        if bad is not None:
            raise InputDataError(
                f"{lines.name}, line {start + bad + 1}: expected {len(names)} columns "
                f"({' '.join(names)}); got {len(split[bad])}."
            )
        raw = np.array(split, dtype=object).reshape(n, len(names))
        out: dict[str, np.ndarray] = {}
        for k, name in enumerate(names):
            try:
                out[name] = raw[:, k].astype(float)
            except ValueError:
                out[name] = raw[:, k].astype(str)
        return out
    if table.shape != (n, len(names)) and n > 0:
        raise InputDataError(
            f"{lines.name}, line {start + 1}: expected {len(names)} columns "
            f"({' '.join(names)}); got {table.shape[1]}."
        )
    return {name: table[:, k] for k, name in enumerate(names)}


def _build_frame(
    name: str, timestep: int, box: Box, table: dict[str, np.ndarray], *, tol: float
) -> Frame:
    found = [(t, sc, wr) for t, sc, wr in POSITION_COLUMNS if all(c in table for c in t)]
    if not found:
        raise InputDataError(
            f"{name}: missing column: no position columns (x y z, xu yu zu, xs ys zs or "
            f"xsu ysu zsu) at timestep {timestep}; got {' '.join(table)}."
        )
    triple, scaled, wrapped = found[0]
    if "id" not in table:
        raise InputDataError(f"{name}: missing column 'id' at timestep {timestep}.")
    xyz = np.column_stack([table[c] for c in triple]).astype(float)
    frac = xyz if scaled else box.to_fractional(xyz)
    if wrapped:
        slack = tol / box.widths
        per = np.asarray(box.periodic)
        out = ((frac < -slack) | (frac > 1.0 + slack))[:, per].any(axis=1)
        if out.any():
            k = int(np.flatnonzero(out)[0])
            raise InputDataError(
                f"{name}: atom outside the box beyond the tolerance {tol} at timestep {timestep}: "
                f"{int(out.sum())} atoms, e.g. id {int(table['id'][k])} at {xyz[k].tolist()}."
            )
    pos = box.to_cartesian(frac) if scaled else xyz
    skip = {*triple, "id"}
    cols = {k: v for k, v in table.items() if k not in skip}
    if "type" in cols and cols["type"].dtype.kind == "f":
        cols["type"] = cols["type"].astype(np.int64)
    return Frame(
        positions=pos, box=box, ids=table["id"].astype(np.int64), columns=cols, timestep=timestep
    )


def iter_dump(
    path: str | os.PathLike[str] | TextIO,
    *,
    columns: Sequence[str] | None = None,
    sort: bool = True,
    tolerance: float = 2.0,
) -> Iterator[Frame]:
    """Stream the frames of a LAMMPS text dump.

    Parameters
    ----------
    path : str, path-like or text stream
        The dump file.
    columns : sequence of str, optional
        Per-atom columns to keep besides ids and positions (default: all). A name missing from
        the ``ITEM: ATOMS`` header raises.
    sort : bool
        Order atoms by id in every frame (default True; needed to match atoms across frames).
    tolerance : float
        How far (length units) a wrapped atom may sit outside a periodic box before it is an
        error; LAMMPS rewraps atoms only at reneighbouring, so up to half the skin is normal.

    Yields
    ------
    Frame
        One per snapshot, in file order.

    Raises
    ------
    InputDataError
        Malformed header, truncated file, missing column, atom outside the box.
    """
    if isinstance(path, (str, os.PathLike)):
        p = Path(path)
        if not p.is_file():
            raise InputDataError(f"dump file not found: {str(p)!r}.")
        with p.open("r", encoding="ascii", errors="replace") as fh:
            yield from iter_dump(fh, columns=columns, sort=sort, tolerance=tolerance)
        return
    lines = _Lines(path, getattr(path, "name", "<stream>"))
    n_frames = 0
    while True:
        head = lines.next("a frame header", allow_eof=True)
        while head is not None and not head:
            head = lines.next("a frame header", allow_eof=True)
        if head is None:
            break
        _expect_item(lines, head, "TIMESTEP")
        try:
            timestep = int((lines.next("the timestep") or "").split()[0])
        except (ValueError, IndexError):
            raise lines.fail("malformed header: the timestep is not an integer.") from None
        item = lines.next("ITEM: NUMBER OF ATOMS") or ""
        while item.startswith(("ITEM: TIME", "ITEM: UNITS")):  # dump_modify time/units
            lines.next("a value")
            item = lines.next("ITEM: NUMBER OF ATOMS") or ""
        _expect_item(lines, item, "NUMBER OF ATOMS")
        try:
            n = int(lines.next("the number of atoms") or "")
        except ValueError:
            raise lines.fail("malformed header: the number of atoms is not an integer.") from None
        head = lines.next("ITEM: BOX BOUNDS") or ""
        _expect_item(lines, head, "BOX BOUNDS")
        box = _parse_box(lines, head)
        head = lines.next("ITEM: ATOMS") or ""
        _expect_item(lines, head, "ATOMS")
        names = head.split()[2:]
        if len(set(names)) != len(names) or not names:
            raise lines.fail(f"malformed header: bad ATOMS column names {names}.")
        missing = [c for c in (columns or ()) if c not in names]
        if missing:
            raise lines.fail(f"missing column(s) {missing}; the dump has {' '.join(names)}.")
        table = _parse_atoms(lines, names, n)
        frame = _build_frame(lines.name, timestep, box, table, tol=tolerance)
        if columns is not None:
            keep = set(columns)
            frame = Frame(
                positions=frame.positions,
                box=frame.box,
                ids=frame.ids,
                columns={k: v for k, v in frame.columns.items() if k in keep},
                timestep=frame.timestep,
            )
        if sort:
            frame = frame.sorted_by_id()
        n_frames += 1
        yield frame
    if n_frames == 0:
        raise InputDataError(f"{lines.name}: no frames in the dump (empty file?).")
    logger.debug("read %d frames from %s", n_frames, lines.name)


def read_dump(path: str | os.PathLike[str], **options: Any) -> list[Frame]:
    """All frames of a dump as a list; options as :func:`iter_dump`."""
    return list(iter_dump(path, **options))


def write_dump(
    path: str | os.PathLike[str],
    frames: Frame | Iterable[Frame],
    *,
    columns: Sequence[str] | None = None,
    precision: int = 17,
) -> None:
    """Write frames as a LAMMPS ``dump custom`` text file (``id [type] x y z <columns>``).

    Parameters
    ----------
    path : str or path-like
        Output file (overwritten).
    frames : Frame or iterable of Frame
        Snapshots to write.
    columns : sequence of str, optional
        Extra columns, default all of the first frame's (``type`` first if present).
    precision : int
        Significant digits (17 round-trips float64 exactly).
    """
    items = [frames] if isinstance(frames, Frame) else list(frames)
    with Path(path).open("w", encoding="ascii") as fh:
        for fr in items:
            names = list(fr.columns) if columns is None else list(columns)
            names = sorted(names, key=lambda c: c != "type")
            h, o = fr.box.matrix, fr.box.origin
            xy, xz, yz = fr.box.tilts
            flags = " ".join("pp" if p else "ff" for p in fr.box.periodic)
            lo = o + np.array([min(0.0, xy, xz, xy + xz), min(0.0, yz), 0.0])
            hi = o + np.diag(h) + np.array([max(0.0, xy, xz, xy + xz), max(0.0, yz), 0.0])
            buf = io.StringIO()
            buf.write(f"ITEM: TIMESTEP\n{fr.timestep}\nITEM: NUMBER OF ATOMS\n{fr.n_atoms}\n")
            if fr.box.is_orthogonal:
                buf.write(f"ITEM: BOX BOUNDS {flags}\n")
                for k in range(3):
                    buf.write(f"{float(lo[k])!r} {float(hi[k])!r}\n")
            else:
                buf.write(f"ITEM: BOX BOUNDS xy xz yz {flags}\n")
                for k, t in enumerate((xy, xz, yz)):
                    buf.write(f"{float(lo[k])!r} {float(hi[k])!r} {float(t)!r}\n")
            buf.write("ITEM: ATOMS " + " ".join(["id", "x", "y", "z", *names]) + "\n")
            fh.write(buf.getvalue())
            fmt = f"%.{precision}g"
            data = np.column_stack([fr.positions, *(fr.column(c) for c in names)])
            np.savetxt(fh, np.column_stack([fr.ids, data]), fmt=["%d"] + [fmt] * data.shape[1])
