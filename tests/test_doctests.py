"""The docstring examples (``>>>``) of every module in bayescal/ and models/ run and pass.

One test per module that has examples, so a failure names the module; the report shows the
example, what it printed and what the docstring expected.
"""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import bayescal
import models

FLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE


def _modules_with_examples() -> list[str]:
    names = []
    for package in (bayescal, models):
        prefix = package.__name__ + "."
        for info in pkgutil.walk_packages(package.__path__, prefix):
            tests = doctest.DocTestFinder().find(importlib.import_module(info.name))
            if any(t.examples for t in tests):
                names.append(info.name)
    return names


MODULES = _modules_with_examples()


def test_examples_are_found():
    # 60 docstrings with examples in 33 modules when this test was written
    assert len(MODULES) >= 30, MODULES


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=FLAGS, report=True, verbose=False)
    assert result.attempted > 0
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples failed in {name}"
