"""The bundled CuZr study: the README runs it with its defaults; its posterior coordinates."""

from __future__ import annotations

import shlex
from pathlib import Path

import numpy as np
import pytensor.tensor as pt
import pytest

from bayescal.errors import StudyDefinitionError
from bayescal.study import load_study

ROOT = Path(__file__).resolve().parents[2]


def _readme_run_line() -> str:
    """The README's main command (after ``bayescal run``)."""
    line = next(
        ln for ln in (ROOT / "README.md").read_text().splitlines() if "bayescal run studies" in ln
    )
    return line.split("bayescal run", 1)[1]


def test_readme_runs_the_cuzr_study_with_its_defaults() -> None:
    words = shlex.split(_readme_run_line())
    assert words[:3] == ["studies/cuzr_stz.py", "--out", "runs/cuzr"] and len(words) == 3
    study = load_study(ROOT / "studies" / "cuzr_stz.py")
    assert (study.run.seeds, study.run.budget) == (2, 60)
    assert study.run.posterior.likelihood == "residual"
    assert study.run.posterior.sampling.draws == 2000
    assert study.reparam is not None and study.reparam.sampled is not None
    assert study.run.posterior.reparam is None  # the prior's coordinates are the problem's


def test_cuzr_sampled_coordinates_map_onto_the_paper_box() -> None:
    study = load_study(ROOT / "studies" / "cuzr_stz.py")
    r = study.reparam
    coords = r.sampled
    gen = np.random.default_rng(0)
    lo, hi = np.array(r.lower), np.array(r.upper)
    prior = dict(zip(r.names, (lo + (hi - lo) * gen.random((200, 4))).T, strict=True))
    sampled = coords.from_prior(prior) | {"c0": prior["c0"], "s_y": prior["s_y"]}
    for n, a, b in zip(coords.names, coords.lower, coords.upper, strict=True):
        assert np.all((sampled[n] >= a) & (sampled[n] <= b)), n
    back = coords.to_prior({n: pt.as_tensor_variable(v) for n, v in sampled.items()})
    for n in r.names:
        np.testing.assert_allclose(back[n].eval(), prior[n], rtol=1e-10, err_msg=n)
    chi0 = r.to_search(prior)["chi0"]
    c_lo, c_hi = study.bounds[list(study.names).index("chi0")]
    assert np.all((chi0 >= c_lo) & (chi0 <= c_hi))
    np.testing.assert_allclose(chi0, sampled["chi0"], rtol=1e-12)


def test_unknown_study_option_is_refused() -> None:
    with pytest.raises(StudyDefinitionError, match=r"unknown option\(s\) \['draw'\].*draws"):
        load_study(ROOT / "studies" / "cuzr_stz.py", draw=8000)
