"""Where the shared reference data lives, and how a missing dependency or folder is reported.

Optional dependencies and the shared reference data skip their tests on a developer's machine
that lacks them, and fail them under ``BAYESCAL_REQUIRE_ALL_DEPS=1`` (CI), so nothing skips
silently there. The shared data folder is ``$BAYESCAL_SHARED_DATA``, by default
``../shared/data`` beside the repository. (A module of its own, with a unique name, so that test
files in every folder can import it; ``tests/conftest.py`` puts this folder on ``sys.path``.)
"""

from __future__ import annotations

import importlib
import os
from pathlib import Path
from types import ModuleType

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("BAYESCAL_SHARED_DATA", REPO.parent / "shared" / "data"))


def require_all_deps() -> bool:
    """True where a missing optional dependency or data folder must fail, not skip."""
    return bool(os.environ.get("BAYESCAL_REQUIRE_ALL_DEPS"))


def shared_file(*parts: str) -> Path:
    """A path inside the shared data folder; skip (fail under the CI flag) when it is missing."""
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        message = (
            f"shared data {path} not found: set BAYESCAL_SHARED_DATA to the folder holding "
            f"cuzr_md/ and stz_reference/ (now {SHARED_DATA})"
        )
        if require_all_deps():
            pytest.fail(message)
        pytest.skip(message)
    return path


def require_module(name: str) -> ModuleType:
    """Import an optional dependency; skip without it (fail under the CI flag)."""
    if require_all_deps():
        return importlib.import_module(name)
    return pytest.importorskip(name, reason=f"{name} not installed (optional dependency)")
