"""The compiled core's cell table (csrc/include/fastrnn/cells.hpp) is the one of fastrnn.cells."""

from __future__ import annotations

import pytest

from fastrnn import cells

core = pytest.importorskip("fastrnn.backends._core")


def test_core_cells_match_the_python_table():
    assert core.cells == tuple((c.name, c.gates, len(c.states)) for c in cells.CELLS)


def test_core_activations_match_the_python_table():
    assert core.activations == cells.ACTIVATIONS
    assert core.recurrent_activations == cells.RECURRENT_ACTIVATIONS


def test_every_cell_has_its_entry_points():
    for cell in cells.CELLS:
        assert callable(getattr(core, cell.forward_name))
        assert callable(getattr(core, cell.backward_name))


def test_trainer_layer_kinds_come_from_the_table():
    """An unknown layer kind lists the table's cells, then dense, dropout, masking and
    bidirectional."""
    with pytest.raises(ValueError) as err:
        core.Trainer("float64", [{"kind": "conv"}], [], 0, "mean_squared_error", False, 1)
    known = ", ".join(f"'{n}'" for n in (*cells.NAMES, "dense", "dropout", "masking",
                                         "bidirectional"))
    assert str(err.value) == f"layer kind must be one of {known}; got 'conv'"
