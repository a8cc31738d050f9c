"""Load a study from a Python file that defines ``build(**options) -> Study``."""

from __future__ import annotations

import ast
import dataclasses
import functools
import hashlib
import importlib.util
import inspect
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import xarray as xr

from bayescal.errors import BayescalError, InputDataError, StudyDefinitionError
from bayescal.study.evaluate import evaluate
from bayescal.study.study import Study

__all__ = ["StudySpec", "import_study_file", "load_run", "load_study", "parse_option"]


@dataclass(frozen=True, slots=True)
class StudySpec:
    """What rebuilds a study in another process: the file and the build options (picklable)."""

    path: str
    options: tuple[tuple[str, Any], ...] = field(default=())

    def build(self) -> Study:
        """Load the study (cached per process)."""
        return _cached_build(self)

    def evaluate(
        self, theta: np.ndarray, realization: np.ndarray | None = None, residuals: bool = False
    ):
        """Evaluate the study at physical ``theta`` against ``realization`` (runs in a worker)."""
        return evaluate(self.build(), theta, realization, residuals=residuals)


@functools.lru_cache(maxsize=4)
def _cached_build(spec: StudySpec) -> Study:
    return load_study(spec.path, **dict(spec.options))


def import_study_file(path: str | Path) -> ModuleType:
    """Import a study (or application) file as a fresh module and return it.

    The module is registered in ``sys.modules`` under a name made unique by a hash of the
    path (so dataclasses and pickling inside it work), and the file's folder is put on
    ``sys.path`` so that sibling study files can import each other (e.g. a twin study reusing
    the real one).

    Raises
    ------
    StudyDefinitionError
        The file does not exist or cannot be imported.
    """
    path = Path(path).resolve()
    if not path.is_file():
        raise StudyDefinitionError(f"study file not found: {path}")
    digest = hashlib.sha1(str(path).encode()).hexdigest()[:8]
    name = f"bayescal_study_{path.stem}_{digest}"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise StudyDefinitionError(f"cannot import study file {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    if str(path.parent) not in sys.path:
        sys.path.insert(0, str(path.parent))
    spec.loader.exec_module(module)
    return module


def load_study(path: str | Path, **options: Any) -> Study:
    """Import ``path`` and return ``build(**options)``.

    Parameters
    ----------
    path : path
        A Python file defining ``build(**options) -> Study``.
    **options
        Passed to ``build``; unknown names raise with the accepted ones listed.
    """
    path = Path(path).resolve()
    module = import_study_file(path)
    build = getattr(module, "build", None)
    if not callable(build):
        raise StudyDefinitionError(f"{path} must define build(**options) -> Study.")
    accepted = inspect.signature(build).parameters
    takes_any = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in accepted.values())
    unknown = [k for k in options if k not in accepted and not takes_any]
    if unknown:
        raise StudyDefinitionError(
            f"{path.name}: unknown option(s) {unknown}; build() accepts "
            f"{', '.join(accepted) or 'no options'}."
        )
    try:
        study = build(**options)
    except ValueError as exc:  # a bad option value: a message, not a traceback
        if isinstance(exc, BayescalError):
            raise
        given = ", ".join(f"{k}={v!r}" for k, v in options.items())
        raise StudyDefinitionError(
            f"{path.name}: build({given}) rejected its options: {exc}"
        ) from exc
    if not isinstance(study, Study):
        raise StudyDefinitionError(
            f"{path.name}: build() returned {type(study).__name__}, not Study."
        )
    return dataclasses.replace(study, options={**study.options, **options})


def load_run(directory: str | Path) -> tuple[Study, xr.Dataset]:
    """The study and the evaluations of a run directory written by ``bayescal run``.

    The study is rebuilt from the file and options the store records, and must define the same
    problem as the one that made the evaluations.

    Raises
    ------
    InputDataError
        No ``evaluations.nc``, no recorded study file, or a study that changed since the run
        (the message names the parts that differ).
    CorruptStoreError
        The store cannot be read or holds impossible values.
    """
    from bayescal.io import check_fingerprint, open_evaluations

    path = Path(directory) / "evaluations.nc"
    evaluations = open_evaluations(path)
    study_path = evaluations.attrs.get("study_path")
    if not study_path:
        raise InputDataError(f"{path} does not record its study file; rerun with bayescal run.")
    options = ast.literal_eval(evaluations.attrs.get("study_options", "{}"))
    study = load_study(study_path, **options)
    parts = json.dumps(study.fingerprint_parts(), sort_keys=True)
    check_fingerprint(evaluations.attrs, parts, path)  # the file may have been edited since
    return study, evaluations


def parse_option(text: str) -> tuple[str, Any]:
    """Parse ``name=value`` from the command line; values become int, float, bool or str."""
    if "=" not in text:
        raise StudyDefinitionError(f"--set expects name=value; got {text!r}.")
    key, raw = (s.strip() for s in text.split("=", 1))
    if not key.isidentifier():
        raise StudyDefinitionError(f"--set: {key!r} is not a valid option name.")
    lowered = raw.lower()
    if lowered in ("true", "false"):
        return key, lowered == "true"
    for cast in (int, float):
        try:
            return key, cast(raw)
        except ValueError:
            continue
    return key, raw
