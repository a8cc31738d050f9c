"""Study and Parameter validation, unit mapping, derived values, constraints, prior
coordinates, loading."""

import textwrap

import numpy as np
import pytest
import xarray as xr

from bayescal.errors import StudyDefinitionError
from bayescal.infer import PosteriorOptions, Reparametrization, Sampling
from bayescal.study import (
    Parameter,
    RunSettings,
    Study,
    load_study,
    parse_option,
    posterior_options,
)


def tiny_reference():
    strain = np.linspace(0, 0.5, 101)
    return xr.Dataset(
        {
            "gamma_xy": (("frame", "y", "x"), np.zeros((101, 4, 4))),
            "stress": (("stress_frame",), strain),
        },
        coords={"strain": ("frame", strain), "stress_strain": ("stress_frame", strain)},
    )


def make_study(**kwargs):
    base = dict(
        name="t",
        parameters=(Parameter(name="a", lower=0, upper=2), Parameter(name="b", lower=-1, upper=1)),
        forward=lambda p: None,
        reference=tiny_reference(),
    )
    return Study(**(base | kwargs))


def test_parameter_bounds_inverted():
    with pytest.raises(StudyDefinitionError, match=r"need finite lower < upper; got \[2, 1\]"):
        Parameter(name="a", lower=2, upper=1)


def test_parameter_bad_name():
    with pytest.raises(StudyDefinitionError, match="identifier"):
        Parameter(name="s y", lower=0, upper=1)


def test_unit_round_trip():
    study = make_study()
    theta = np.array([[0.5, 0.0], [2.0, -1.0]])
    np.testing.assert_allclose(study.to_unit(theta), [[0.25, 0.5], [1.0, 0.0]])
    np.testing.assert_allclose(study.from_unit(study.to_unit(theta)), theta)


def test_derived_and_fixed():
    study = make_study(fixed={"c": 3.0}, derived={"d": lambda p: p["a"] * p["c"] + p["b"]})
    values = study.model_inputs(np.array([[1.0, 0.5], [2.0, 0.0]]))
    np.testing.assert_allclose(values["c"], [3.0, 3.0])
    np.testing.assert_allclose(values["d"], [3.5, 6.0])


def test_constraint_in_unit_cube():
    study = make_study(constraint=lambda p: p["a"] > 1)
    np.testing.assert_array_equal(
        study.feasible_unit(np.array([[0.25, 0], [0.75, 0]])), [False, True]
    )


def test_unknown_truth_name_suggests():
    with pytest.raises(StudyDefinitionError, match="Did you mean 'a'"):
        make_study(truth={"aa": 1.0, "b": 0.0})


def test_duplicate_names():
    with pytest.raises(StudyDefinitionError, match="unique"):
        make_study(fixed={"a": 1.0})


def test_missing_reference_field():
    with pytest.raises(StudyDefinitionError, match="lacks"):
        make_study(reference=tiny_reference().drop_vars("gamma_xy"))


def test_fingerprint_changes_with_bounds():
    a = make_study()
    b = make_study(
        parameters=(Parameter(name="a", lower=0, upper=3), Parameter(name="b", lower=-1, upper=1))
    )
    assert a.fingerprint() != b.fingerprint()
    assert a.fingerprint() == make_study().fingerprint()


def reparam():
    """Prior on (a, c) with the searched b = 2 c - 1."""
    return Reparametrization(
        names=("a", "c"),
        lower=(0.0, 0.0),
        upper=(2.0, 1.0),
        to_search=lambda v: {"b": 2 * v["c"] - 1},
    )


def test_reparam_is_not_in_the_fingerprint():
    r = reparam()
    study = make_study(reparam=r)
    assert study.reparam is r
    assert study.fingerprint_parts() == make_study().fingerprint_parts()
    assert study.fingerprint() == make_study().fingerprint()


def test_reparam_must_be_a_reparametrization():
    with pytest.raises(StudyDefinitionError, match=r"Study.reparam must be .*got \('a', 'c'\)"):
        make_study(reparam=("a", "c"))


def test_posterior_options_carry_the_study_reparam():
    r = reparam()
    run = RunSettings(seed=3, posterior=PosteriorOptions(seed=5, sampling=Sampling(draws=7)))
    prior = ("normal", 1.0, 0.5)
    a = Parameter(name="a", lower=0, upper=2, prior=prior)
    study = make_study(parameters=(a, Parameter(name="b", lower=-1, upper=1)), reparam=r, run=run)
    options = posterior_options(study)
    assert options.reparam is r
    assert (options.seed, options.sampling.draws, dict(options.priors)) == (5, 7, {"a": prior})
    assert posterior_options(make_study(run=run)).reparam is None


def test_explicit_options_keep_the_study_prior():
    r = reparam()
    prior = ("normal", 1.0, 0.5)
    a = Parameter(name="a", lower=0, upper=2, prior=prior)
    study = make_study(parameters=(a, Parameter(name="b", lower=-1, upper=1)), reparam=r)
    given = PosteriorOptions(sampling=Sampling(draws=9, progressbar=True))
    options = posterior_options(study, given, progressbar=False)
    assert options.reparam is r and dict(options.priors) == {"a": prior}
    assert (options.sampling.draws, options.sampling.progressbar) == (9, True)
    with pytest.raises(StudyDefinitionError, match="in the given options"):
        posterior_options(study, PosteriorOptions(reparam=reparam()))


def test_reparam_stated_twice_is_refused():
    run = RunSettings(posterior=PosteriorOptions(reparam=reparam()))
    assert posterior_options(make_study(run=run)).reparam is run.posterior.reparam
    study = make_study(reparam=reparam(), run=run)
    with pytest.raises(StudyDefinitionError, match=r"'t' states its prior's coordinates twice"):
        posterior_options(study)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("beta=8", ("beta", 8)),
        ("u0=-3.37", ("u0", -3.37)),
        ("flag=true", ("flag", True)),
        ("name=abc", ("name", "abc")),
    ],
)
def test_parse_option(text, expected):
    assert parse_option(text) == expected


def test_parse_option_errors():
    with pytest.raises(StudyDefinitionError, match="name=value"):
        parse_option("beta")


def test_load_study_unknown_option(tmp_path):
    path = tmp_path / "s.py"
    path.write_text(
        textwrap.dedent("""
        def build(budget: int = 3):
            raise AssertionError("not reached")
    """)
    )
    with pytest.raises(StudyDefinitionError, match=r"unknown option.*accepts budget"):
        load_study(path, budgte=4)


def test_load_study_missing_build(tmp_path):
    path = tmp_path / "s.py"
    path.write_text("x = 1\n")
    with pytest.raises(StudyDefinitionError, match="must define build"):
        load_study(path)


@pytest.mark.parametrize("search", ["u0", "chi0"])
def test_twin_stz_discrepancy_vanishes_at_the_truth(search):
    """The twin study's reference is the model at the truth: d(truth) = 0, d elsewhere > 0,
    in the paper's coordinates and in (beta, chi0, c0, s_y) with u0 derived."""
    from pathlib import Path

    import numpy as np

    from bayescal.study import evaluate, load_study

    twin = Path(__file__).parents[2] / "studies" / "twin_stz.py"
    # a coarse, cheap run: the same model both sides
    study = load_study(twin, steps_per_frame=2, search=search)
    assert study.names[1] == search
    truth = np.array([[study.truth[n] for n in study.names]])
    if search == "chi0":  # u0 derived back from chi0 is the truth's u0
        np.testing.assert_allclose(study.model_inputs(truth)["u0"], [-3.3682], rtol=1e-12)
    other = truth * np.array([[1.1, 1.0, 0.8, 0.95]])
    res = evaluate(study, np.vstack([truth, other]))
    assert list(res["status"].values) == [0, 0]
    d = res["discrepancy"].values
    assert d[0] < 1e-6 < 1e-2 < d[1]


@pytest.mark.slow
def test_twin_stz_minimum_is_a_cone():
    """Near the truth d grows linearly (a cone, not a quadratic bowl, and not noise): doubling
    a c0 offset doubles d. The EGO trust-region settings of the STZ studies rely on this."""
    from pathlib import Path

    import numpy as np

    from bayescal.study import evaluate, load_study

    # the study's own time step: a 2-step-per-frame model is too coarse to be smooth here
    study = load_study(Path(__file__).parents[2] / "studies" / "twin_stz.py")
    truth = np.array([study.truth[n] for n in study.names])
    offsets = np.array([0.0025, 0.005, 0.01]) * study.ranges["c0"]
    theta = np.repeat(truth[None], len(offsets), axis=0)
    theta[:, study.names.index("c0")] += offsets
    d = evaluate(study, theta)["discrepancy"].values
    np.testing.assert_allclose(d[1:] / d[:-1], 2.0, rtol=0.2)
