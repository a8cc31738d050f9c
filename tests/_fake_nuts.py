"""A stand-in for NUTS in tests of the plumbing around the posterior (refinement, reports, CLI).

Compiling a posterior for nutpie or PyMC's NUTS takes 10-20 s per model; tests that check what
happens around the sampler (files, reports, refinement rounds, exit codes) do not need real
chains. ``fake_sample`` returns independent draws from the model's prior in the layout
``bayescal.infer.sample.sample`` returns, compiled in PyTensor's FAST_COMPILE mode (no C
compilation). Tests of the sampling itself use the real sampler (tests/infer).
"""

from __future__ import annotations

import importlib

import arviz as az
import numpy as np
import pytest

from bayescal.infer.options import PosteriorOptions
from bayescal.infer.sample import SeedPlan, seed_plan


def fake_sample(model, options: PosteriorOptions, *, seeds: SeedPlan | None = None, initvals=None):
    """Prior draws shaped as ``sampling.chains`` x ``sampling.draws`` posterior draws.

    ``initvals`` (where real chains would start) is accepted and unused.
    """
    import pymc as pm

    plan = seeds if seeds is not None else seed_plan(options.seed)
    chains, per_chain = options.sampling.chains, options.sampling.draws
    names = [v.name for v in model.free_RVs + model.deterministics]
    n = chains * per_chain
    with model:
        prior = pm.sample_prior_predictive(
            draws=n,
            var_names=names,
            random_seed=plan.sampler,
            compile_kwargs={"mode": "FAST_COMPILE"},
        ).prior
    draws = prior.isel(chain=0, drop=True).rename(draw="flat")
    post = (
        draws.assign_coords(flat=np.arange(n))
        .coarsen(flat=per_chain)
        .construct(flat=("chain", "draw"))
    )
    post = post.assign_coords(chain=np.arange(chains), draw=np.arange(per_chain))
    post.attrs["nuts_sampler"] = "fake"
    stats = {"diverging": np.zeros((chains, per_chain), dtype=bool)}
    return az.InferenceData(posterior=post, sample_stats=az.dict_to_dataset(stats))


@pytest.fixture
def fake_nuts(monkeypatch: pytest.MonkeyPatch) -> None:
    """Replace NUTS by :func:`fake_sample` for one test."""
    # the module, not the function of the same name that bayescal.infer exports
    module = importlib.import_module("bayescal.infer.sample")
    monkeypatch.setattr(module, "sample", fake_sample)
