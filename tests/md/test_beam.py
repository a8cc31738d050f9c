"""The clamped copper plate (bayescal.md.beam); its SROM application: tests/apps."""

import numpy as np
import pytest

from bayescal.errors import InputDataError
from bayescal.md.beam import (
    BeamOptions,
    beam_box,
    clamp_constraint,
    driven_response,
    free_basis,
    prepare_beam,
)
from bayescal.srom import pod_basis, snapshot_matrix

#: a small plate: 5 x 1 x 2 cells (~70 atoms), 600 steps of 2 fs, about a second per run
SMALL = BeamOptions(cells=(5, 1, 2), steps=600)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"cells": (5, 0, 2)}, "cells"),
        ({"cells": (5, 1, 2), "clamp": 3.0, "tip": 2.0}, "clamp"),
        ({"dt": 0.0}, "dt"),
        ({"steps": 1001, "every": 10}, "every"),
        ({"load": float("nan")}, "load"),
    ],
)
def test_options_reject_bad_values(kwargs, match):
    with pytest.raises(InputDataError, match=match):
        BeamOptions(**kwargs)


@pytest.fixture(scope="module")
def u3_plate(require_lammps):
    box = beam_box("Cu_u3", SMALL)
    state = prepare_beam("Cu_u3", SMALL, box=box)
    yield state, box
    box.close()


def test_clamp_and_tip_are_the_same_atoms_for_every_potential(u3_plate):
    state, _ = u3_plate
    other = prepare_beam("Cu_mishin1", SMALL)
    np.testing.assert_array_equal(state.clamp, other.clamp)
    np.testing.assert_array_equal(state.tip, other.tip)
    assert 0 < state.clamp.sum() < state.n_atoms // 2
    assert not (state.clamp & state.tip).any()
    # the relaxed structures differ (different potentials), by well under a lattice spacing
    shift = np.abs(state.positions - other.positions).max()
    assert 1e-4 < shift < 0.5


def test_relaxed_plate_stays_at_rest_without_load(u3_plate):
    state, box = u3_plate
    opt = BeamOptions(cells=SMALL.cells, steps=200, load=0.0)
    resp = driven_response(free_basis(state), state, box, opt)
    assert np.abs(resp.displacements).max() < 1e-4  # relaxed to 1e-8 eV/A forces


def test_response_is_linear_in_the_load(u3_plate):
    """Doubling the tip force doubles the peak deflection (within 2 %): a linear regime."""
    state, box = u3_plate
    basis = free_basis(state)
    one = driven_response(basis, state, box, SMALL).peak_deflection
    two = driven_response(basis, state, box, BeamOptions(cells=SMALL.cells, steps=600, load=0.1))
    assert one > 0.05
    assert two.peak_deflection / one == pytest.approx(2.0, rel=0.02)


def test_reduced_model_in_own_pod_basis_reproduces_the_full_md(u3_plate):
    """A rank-r Galerkin model in the POD basis of the full response gets its peak within 1 %."""
    state, box = u3_plate
    full = driven_response(free_basis(state), state, box, SMALL)
    n = state.n_atoms
    S = snapshot_matrix(full.displacements, reference=np.zeros((n, 3)))
    basis, rank, _ = pod_basis(S, tol=1e-6, center=False)
    assert 1 <= rank <= 12
    assert np.abs(clamp_constraint(state).T @ basis).max() < 1e-12
    reduced = driven_response(basis, state, box, SMALL)
    assert reduced.rank == rank
    assert reduced.peak_deflection == pytest.approx(full.peak_deflection, rel=0.01)


def test_basis_that_moves_the_clamp_is_refused(u3_plate):
    state, box = u3_plate
    basis = np.zeros((3 * state.n_atoms, 1))
    basis[np.flatnonzero(np.repeat(state.clamp, 3))[0], 0] = 1.0
    with pytest.raises(InputDataError, match="clamped"):
        driven_response(basis, state, box, SMALL)
