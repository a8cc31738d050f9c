"""Link PyTensor's C backend to the OpenBLAS that SciPy's wheel already ships.

PyTensor looks for a system BLAS (MKL, OpenBLAS, reference BLAS) when it first needs one. A pip
install has none on the library path, so PyTensor warns ("could not link to a BLAS
installation") and falls back to slow NumPy-C-API loops for its matrix products. SciPy's
manylinux wheel bundles OpenBLAS (LP64, 32-bit integers as PyTensor expects) under
``scipy.libs/``, with every symbol prefixed ``scipy_``. :func:`configure_pytensor_blas` points
``pytensor.config.blas__ldflags`` at that library and maps the Fortran names PyTensor's C code
calls (``dgemm_`` ...) onto the prefixed ones with preprocessor definitions.

A BLAS the user configured (``PYTENSOR_FLAGS=blas__ldflags=...`` or ``.pytensorrc``) and one that
PyTensor finds by itself are kept; SciPy's is used only where PyTensor would find none.
"""

from __future__ import annotations

import ctypes
import functools
import logging
import warnings
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pytensor.configparser import PyTensorConfigParser

__all__ = ["configure_pytensor_blas", "scipy_openblas_flags"]

logger = logging.getLogger(__name__)

# Fortran BLAS routines, without the type letter (s, d, c, z) and the trailing underscore
_ROUTINES = (
    # level 1
    "rotg", "rotmg", "rot", "rotm", "swap", "scal", "copy", "axpy", "dot", "dotu", "dotc",
    "nrm2", "asum",
    # level 2
    "gemv", "gbmv", "hemv", "hbmv", "hpmv", "symv", "sbmv", "spmv", "trmv", "tbmv", "tpmv",
    "trsv", "tbsv", "tpsv", "ger", "geru", "gerc", "her", "hpr", "her2", "hpr2", "syr", "spr",
    "syr2", "spr2",
    # level 3
    "gemm", "symm", "hemm", "syrk", "herk", "syr2k", "her2k", "trmm", "trsm",
)  # fmt: skip
# mixed-type names outside the s/d/c/z pattern
_EXTRA = ("csscal", "zdscal", "scnrm2", "dznrm2", "scasum", "dzasum", "sdsdot", "dsdot")
_PREFIX = "scipy_"


def _scipy_openblas() -> Path | None:
    """The LP64 OpenBLAS shared library bundled with SciPy's wheel, if there is one."""
    try:
        import scipy
    except ModuleNotFoundError:
        return None
    libs = Path(scipy.__file__).resolve().parent.parent / "scipy.libs"
    found = sorted(p for p in libs.glob("libscipy_openblas*.so") if "64_" not in p.name)
    return found[0] if found else None


def scipy_openblas_flags() -> str | None:
    """``blas__ldflags`` that link SciPy's bundled OpenBLAS, or None where it is absent.

    Returns
    -------
    str or None
        Library directory, library, run path and one ``-D<name>_=scipy_<name>_`` per BLAS routine
        the library exports; None when SciPy ships no such library (e.g. a conda SciPy linked
        to a system BLAS, which PyTensor then finds itself).
    """
    path = _scipy_openblas()
    if path is None:
        return None
    try:
        lib = ctypes.CDLL(str(path))
    except OSError:
        return None
    names = [f"{t}{r}_" for r in _ROUTINES for t in "sdcz"] + [f"{n}_" for n in _EXTRA]
    exported = [n for n in names if hasattr(lib, _PREFIX + n)]
    if "dgemm_" not in exported:
        return None
    # -l<stem> (not -l:<file>) so that PyTensor recognises the library in the -L directory
    stem = path.name.removeprefix("lib").removesuffix(".so")
    flags = [f"-L{path.parent}", f"-l{stem}", f"-Wl,-rpath,{path.parent}"]
    return " ".join(flags + [f"-D{n}={_PREFIX}{n}" for n in exported])


def _user_setting(config: PyTensorConfigParser) -> bool:
    """Whether the user set ``blas__ldflags`` (environment or .pytensorrc)."""
    try:
        config.fetch_val_for_key("blas__ldflags")
    except KeyError:
        return False
    return True


@functools.cache
def configure_pytensor_blas() -> str:
    """Give PyTensor a BLAS before it first looks for one; idempotent.

    Returns
    -------
    str
        Where the BLAS came from: ``"user"``, ``"system"`` (PyTensor's own search found one),
        ``"scipy"`` (SciPy's bundled OpenBLAS) or ``"none"``.
    """
    import pytensor
    from pytensor.link.c.cmodule import default_blas_ldflags

    config = pytensor.config
    if _user_setting(config):
        return "user"
    with warnings.catch_warnings():
        # the search's "could not link to a BLAS" warning is answered below
        warnings.filterwarnings(
            "ignore", message=".*could not link to a BLAS", category=UserWarning
        )
        system = default_blas_ldflags()
    if system:
        config.blas__ldflags = system
        return "system"
    flags = scipy_openblas_flags()
    if flags is None:
        logger.info("no BLAS for PyTensor: its C matrix products use NumPy's C API")
        config.blas__ldflags = ""
        return "none"
    config.blas__ldflags = flags
    return "scipy"
