"""LAMMPS dump reader/writer round trips and error messages; extended XYZ via ASE."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from _coarse_helpers import random_frame
from _shared_data import require_module

from bayescal.coarse import Box, iter_dump, read_dump, write_dump
from bayescal.errors import InputDataError

ORTHO = Box.orthogonal([10.0, 11.0, 12.0], origin=[-5.0, 0.0, 1.0])


@pytest.mark.parametrize("box", [None, ORTHO], ids=["triclinic", "orthogonal"])
def test_round_trip(tmp_path: Path, rng: np.random.Generator, box: Box | None) -> None:
    frames = [random_frame(rng, 150, box=box, timestep=100 * k) for k in range(3)]
    path = tmp_path / "a.dump"
    write_dump(path, frames)
    back = read_dump(path)
    assert len(back) == 3
    for fr, bk in zip(frames, back, strict=True):
        order = np.argsort(fr.ids)
        assert bk.timestep == fr.timestep
        np.testing.assert_array_equal(bk.ids, fr.ids[order])
        np.testing.assert_array_equal(bk.positions, fr.positions[order])  # 17 digits: exact
        np.testing.assert_array_equal(bk.column("c_pe"), fr.column("c_pe")[order])
        np.testing.assert_array_equal(bk.column("type"), fr.column("type")[order])
        np.testing.assert_allclose(bk.box.matrix, fr.box.matrix, rtol=0, atol=1e-12)
        np.testing.assert_allclose(bk.box.origin, fr.box.origin, rtol=0, atol=1e-12)


def test_streams_lazily(tmp_path: Path, rng: np.random.Generator) -> None:
    path = tmp_path / "b.dump"
    write_dump(path, [random_frame(rng, 20), random_frame(rng, 20, timestep=5)])
    text = path.read_text().splitlines(keepends=True)
    path.write_text("".join(text[:-3]))  # second frame truncated
    it = iter_dump(path)
    assert next(it).n_atoms == 20  # the first frame is complete and comes out
    with pytest.raises(InputDataError, match="truncated"):
        next(it)


def test_scaled_columns_any_order_and_column_selection(tmp_path: Path) -> None:
    path = tmp_path / "c.dump"
    path.write_text(
        "ITEM: TIMESTEP\n7\nITEM: NUMBER OF ATOMS\n2\nITEM: BOX BOUNDS xy xz yz pp pp ff\n"
        "0.0 12.0 2.0\n0.0 5.0 0.0\n0.0 4.0 0.0\n"
        "ITEM: ATOMS c_pe zs ys xs type id\n"
        "-3.1 0.5 0.5 0.5 2 9\n-3.2 0.0 0.0 0.25 1 4\n"
    )
    (fr,) = read_dump(path, columns=["c_pe"])
    assert fr.timestep == 7
    assert fr.box.periodic == (True, True, False)
    np.testing.assert_array_equal(fr.ids, [4, 9])
    np.testing.assert_allclose(fr.positions, [[2.5, 0.0, 0.0], [6.0, 2.5, 2.0]])
    assert list(fr.columns) == ["c_pe"]
    np.testing.assert_array_equal(fr.column("c_pe"), [-3.2, -3.1])


GOOD = (
    "ITEM: TIMESTEP\n0\nITEM: NUMBER OF ATOMS\n2\nITEM: BOX BOUNDS pp pp pp\n"
    "0 10\n0 10\n0 10\nITEM: ATOMS id type x y z c_pe\n1 1 1.0 1.0 1.0 -3.0\n2 1 2 2 2 -3.1\n"
)


@pytest.mark.parametrize(
    ("text", "kwargs", "match"),
    [
        (GOOD[:-12], {}, "truncated"),  # cut inside the last row
        (GOOD.rsplit("\n", 2)[0] + "\n", {}, "truncated"),  # a whole row missing
        (GOOD, {"columns": ["c_pe", "c_s[4]"]}, r"missing column.*c_s\[4\]"),
        (GOOD.replace("id type x y z", "id type q y z"), {}, "missing column: no position"),
        (GOOD.replace("2 1 2 2 2", "2 1 15 2 2"), {}, "outside the box"),
        (GOOD.replace("ITEM: NUMBER OF ATOMS", "ITEM: NATOMS"), {}, "malformed header"),
        (GOOD.replace("0 10\n0 10", "0 10\n0 ten"), {}, "malformed y box bounds"),
        (GOOD.replace("1 1 1.0 1.0 1.0 -3.0", "1 1 1.0 1.0 -3.0"), {}, "expected 6 columns"),
        ("", {}, "no frames"),
    ],
    ids=[
        "cut-row",
        "missing-row",
        "column",
        "positions",
        "outside",
        "header",
        "bounds",
        "ncols",
        "empty",
    ],
)
def test_corrupt_dumps_raise(tmp_path: Path, text: str, kwargs: dict, match: str) -> None:
    path = tmp_path / "bad.dump"
    path.write_text(text)
    with pytest.raises(InputDataError, match=match):
        read_dump(path, **kwargs)


def test_tolerance_allows_small_excursions(tmp_path: Path) -> None:
    path = tmp_path / "t.dump"
    path.write_text(GOOD.replace("2 1 2 2 2", "2 1 10.5 2 2"))
    assert read_dump(path)[0].positions[1, 0] == 10.5  # within the default 2.0
    with pytest.raises(InputDataError, match="outside the box"):
        read_dump(path, tolerance=0.1)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputDataError, match="not found"):
        read_dump(tmp_path / "nope.dump")


def test_extxyz_through_ase(tmp_path: Path, rng: np.random.Generator) -> None:
    ase = require_module("ase")
    from ase.io import write

    from bayescal.coarse import iter_extxyz

    cell = np.array([[10.0, 0, 0], [1.0, 9.0, 0], [0, 0, 8.0]])
    pos = rng.uniform(0, 1, (5, 3)) @ cell
    atoms = ase.Atoms("Cu5", positions=pos, cell=cell, pbc=True)
    atoms.set_array("c_pe", np.arange(5.0))
    write(tmp_path / "a.xyz", [atoms, atoms], format="extxyz")
    frames = list(iter_extxyz(tmp_path / "a.xyz"))
    assert len(frames) == 2
    np.testing.assert_allclose(frames[0].positions, pos, atol=1e-6)
    np.testing.assert_allclose(frames[0].box.matrix, cell)
    np.testing.assert_allclose(frames[0].column("c_pe"), np.arange(5.0))
