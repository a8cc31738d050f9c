"""Copper embedded-atom potentials shipped with LAMMPS (``share/lammps/potentials``).

:data:`CU_POTENTIALS` lists them by short name; :func:`as_potential` turns a name into its
:class:`Potential`, whose :meth:`Potential.commands` are the ``pair_style`` and ``pair_coeff``
lines of a one-type box (:class:`bayescal.md.box.LammpsBox`).
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Literal

from bayescal.errors import InputDataError
from bayescal.md.session import potential_path

__all__ = [
    "CU_POTENTIALS",
    "DEFAULT_CANDIDATES",
    "PairStyle",
    "Potential",
    "as_potential",
]

PairStyle = Literal["eam", "eam/alloy", "eam/fs"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Potential:
    """An embedded-atom potential file shipped with LAMMPS (``share/lammps/potentials``).

    Parameters
    ----------
    name : str
        Short name (the registry key).
    pair_style : {"eam", "eam/alloy", "eam/fs"}
        LAMMPS pair style of the file.
    file : str
        File name in the potentials folder.
    element : str
        Element mapped to atom type 1 (``eam/alloy`` and ``eam/fs``; the ``eam`` funcfl files hold
        one element).
    reference : str
        Where the potential was published.
    """

    name: str
    pair_style: PairStyle
    file: str
    element: str = "Cu"
    reference: str = ""

    def __post_init__(self) -> None:
        if self.pair_style not in ("eam", "eam/alloy", "eam/fs"):
            raise InputDataError(
                f"pair_style must be 'eam', 'eam/alloy' or 'eam/fs'; got {self.pair_style!r}."
            )

    def commands(self) -> list[str]:
        """``pair_style`` and ``pair_coeff`` lines for a one-type box."""
        path = potential_path(self.file)
        if self.pair_style == "eam":
            return ["pair_style eam", f"pair_coeff 1 1 {path}"]
        return [f"pair_style {self.pair_style}", f"pair_coeff * * {path} {self.element}"]


CU_POTENTIALS: dict[str, Potential] = {
    p.name: p
    for p in (
        Potential(
            name="Cu_u3",
            pair_style="eam",
            file="Cu_u3.eam",
            reference="Foiles, Baskes, Daw, Phys. Rev. B 33, 7983 (1986)",
        ),
        Potential(
            name="Cu_u6",
            pair_style="eam",
            file="Cu_u6.eam",
            reference="Adams, Foiles, Wolfer, J. Mater. Res. 4, 102 (1989)",
        ),
        Potential(
            name="Cu_smf7",
            pair_style="eam",
            file="Cu_smf7.eam",
            reference="Foiles, Phys. Rev. B 32, 7685 (1985)",
        ),
        Potential(
            name="Cu_mishin1",
            pair_style="eam/alloy",
            file="Cu_mishin1.eam.alloy",
            reference="Mishin, Mehl, Papaconstantopoulos, Voter, Kress, Phys. Rev. B 63, 224106 "
            "(2001)",
        ),
        Potential(
            name="Cu_zhou",
            pair_style="eam/alloy",
            file="Cu_zhou.eam.alloy",
            reference="Zhou et al., Acta Mater. 49, 4005 (2001)",
        ),
        Potential(
            name="CuZr_mm",
            pair_style="eam/fs",
            file="CuZr_mm.eam.fs",
            reference="Mendelev et al., Cu-Zr EAM/FS (LAMMPS file of 2007), Cu-Cu part",
        ),
        Potential(
            name="CuTa",
            pair_style="eam/alloy",
            file="CuTa.eam.alloy",
            reference="Zhou, Johnson, Wadley, Phys. Rev. B 69, 144113 (2004), Cu-Cu part",
        ),
    )
}
"""Copper EAM potentials shipped with LAMMPS 2025.7 (all give a liquid at 1600 K and 7.8 g/cm^3)."""

DEFAULT_CANDIDATES: tuple[str, ...] = ("Cu_u3", "Cu_mishin1", "CuZr_mm")
"""Three copper potentials from three groups and decades (Foiles 1986, Mishin 2001, Mendelev)."""


def as_potential(p: str | Potential) -> Potential:
    """The :class:`Potential` of a :data:`CU_POTENTIALS` key (a :class:`Potential` as it is).

    Raises
    ------
    InputDataError
        An unknown name (with the nearest known one).
    """
    if isinstance(p, Potential):
        return p
    if p not in CU_POTENTIALS:
        near = difflib.get_close_matches(str(p), CU_POTENTIALS, n=1)
        hint = f" Did you mean {near[0]!r}?" if near else ""
        raise InputDataError(
            f"unknown potential {p!r}.{hint} Known: {', '.join(CU_POTENTIALS)}; or pass a "
            "Potential."
        )
    return CU_POTENTIALS[p]
