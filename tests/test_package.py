"""The package's import surface: lazy subpackages, no side effects on matplotlib."""

import subprocess
import sys

import pytest


def run_python(code: str) -> str:
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    return out.stdout.strip()


def test_subpackages_load_on_first_access():
    code = (
        "import sys, bayescal\n"
        "before = 'bayescal.study' in sys.modules\n"
        "print(before, bayescal.study.calibrate.__name__)"
    )
    assert run_python(code) == "False calibrate"


def test_unknown_attribute_is_an_attribute_error():
    import bayescal

    with pytest.raises(AttributeError, match="no attribute 'stdy'"):
        bayescal.stdy  # noqa: B018


def test_importing_the_plots_keeps_the_users_backend():
    code = (
        "import matplotlib\n"
        "matplotlib.use('pdf')\n"
        "import bayescal.plots.posterior, bayescal.plots.calibration\n"
        "import bayescal.plots.srom_md, bayescal.plots.srom_beam\n"
        "print(matplotlib.get_backend())"
    )
    assert run_python(code) == "pdf"
