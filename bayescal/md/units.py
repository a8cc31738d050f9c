"""LAMMPS metal-unit constants (``force.cpp``), so reduced dynamics match LAMMPS to round-off.

Units: Å, ps, eV, g/mol, K, bar.
"""

from __future__ import annotations

__all__ = ["BOLTZMANN", "FORCE_TO_ACCEL", "MVV_TO_ENERGY"]

BOLTZMANN = 8.617343e-5
"""Boltzmann constant, eV/K."""
MVV_TO_ENERGY = 1.0364269e-4
"""(g/mol) (Å/ps)^2 -> eV."""
FORCE_TO_ACCEL = 1.0 / MVV_TO_ENERGY
"""(eV/Å) / (g/mol) -> Å/ps^2."""
