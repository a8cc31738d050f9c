"""The notebook entry point: ``bayescal.calibrate`` in memory and in a run directory."""

from pathlib import Path

import arviz as az
import numpy as np
import pytest

import bayescal
from bayescal.infer import PosteriorOptions, Sampling
from bayescal.study import load_study

TOY = Path(__file__).parents[1] / "studies" / "toy_shear_band.py"


@pytest.fixture(scope="module")
def study():
    return load_study(TOY, n=16)


def test_calibrate_in_memory_touches_no_disk(study, tmp_path, monkeypatch, fake_nuts):
    monkeypatch.chdir(tmp_path)
    options = PosteriorOptions(sampling=Sampling(draws=40, tune=40), seed=1)
    result = bayescal.calibrate(study, budget=6, seeds=2, options=options)
    assert isinstance(result.posterior, az.InferenceData)
    assert result.posterior["posterior"].sizes["draw"] == 40
    assert result.evaluations.sizes["eval"] == 12
    assert list(result.summary().index[:4]) == list(study.names)
    assert result.best().sizes["seed"] == 2
    assert result.converged is False  # 40 prior draws per chain cannot pass ESS 400
    assert list(tmp_path.iterdir()) == []


def test_calibrate_to_a_directory_matches_the_search_alone(study, tmp_path, fake_nuts):
    """The same seed gives the same evaluations in memory and on disk; the posterior is
    written there."""
    on_disk = bayescal.calibrate(study, tmp_path, budget=4, seeds=1, posterior=False)
    in_memory = bayescal.calibrate(study, budget=4, seeds=1, posterior=False)
    np.testing.assert_array_equal(on_disk.evaluations["theta"], in_memory.evaluations["theta"])
    assert in_memory.posterior is None and not in_memory.converged
    with pytest.raises(ValueError, match="no posterior"):
        in_memory.summary()
    options = PosteriorOptions(sampling=Sampling(draws=20, tune=20), seed=1)
    sampled = bayescal.posterior(study, on_disk.evaluations, out=tmp_path, options=options)
    assert (tmp_path / "posterior.nc").exists() and sampled.diagnostics is not None
