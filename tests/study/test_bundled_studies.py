"""The bundled STZ studies build with the options the README passes them."""

from __future__ import annotations

import shlex
from pathlib import Path

import pytest

from bayescal.errors import StudyDefinitionError
from bayescal.study import load_study, parse_option

ROOT = Path(__file__).resolve().parents[2]


def _readme_run_options() -> dict:
    """The ``--set`` options of the README's main command."""
    line = next(
        ln for ln in (ROOT / "README.md").read_text().splitlines() if "bayescal run studies" in ln
    )
    words = shlex.split(line.split("bayescal run", 1)[1])
    return dict(parse_option(words[i + 1]) for i, w in enumerate(words) if w == "--set")


def test_readme_options_reach_the_cuzr_posterior() -> None:
    options = _readme_run_options()
    assert set(options) == {"refine_rounds", "draws"}
    study = load_study(ROOT / "studies" / "cuzr_stz.py", **options)
    assert study.posterior.refine_rounds == options["refine_rounds"] > 0
    assert study.posterior.draws == options["draws"]
    assert load_study(ROOT / "studies" / "cuzr_stz.py").posterior.draws == 2000


def test_unknown_study_option_is_refused() -> None:
    with pytest.raises(StudyDefinitionError, match=r"unknown option\(s\) \['draw'\].*draws"):
        load_study(ROOT / "studies" / "cuzr_stz.py", draw=8000)
