"""The cell table: one row per recurrent cell, read by every wing.

``ops``, the layers, the fused-training plan, forecasting, the CLI's choices, the benchmarks and
``interop`` ask this table instead of spelling the cell set out. Adding a cell means its kernels
(``csrc/cpu``, ``csrc/cuda``, the backends), one row here (and its row in
``csrc/include/fastrnn/cells.hpp``, which the bindings read) and its layer.

A row (``CellInfo``):

    name                   canonical name: ops.<name>_forward / <name>_backward, backends, CLI
    aliases                other spellings accepted by ``get`` (lower case)
    title                  how reports print it ("LSTM")
    keras_class            the Keras layer class (and fastrnn.layers class) of the cell
    torch_class            the torch.nn module with the same equations
    gate_order             Keras's gate blocks along the 'gates * H' axis of W, U and b
    states                 the recurrent states, h first (the LSTM also has c)
    activations            values ``activation=`` may take
    recurrent_activations  values ``recurrent_activation=`` may take (empty: the cell has none)
    has_reset_after        whether the GRU option ``reset_after`` applies

Parameter counts are Keras's: Elman H(I+H+1), LSTM 4H(I+H+1), GRU 3H(I+H+2) with reset_after
(two bias rows) or 3H(I+H+1) without.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["CellInfo", "CELLS", "NAMES", "ELMAN", "LSTM", "GRU", "get", "by_keras_class",
           "ACTIVATIONS", "RECURRENT_ACTIVATIONS"]

ACTIVATIONS = ("tanh", "relu", "sigmoid", "linear")
RECURRENT_ACTIVATIONS = ("sigmoid",)


@dataclass(frozen=True)
class CellInfo:
    name: str
    aliases: tuple
    title: str
    keras_class: str
    torch_class: str
    gate_order: str
    states: tuple
    activations: tuple
    recurrent_activations: tuple
    has_reset_after: bool = False

    @property
    def gates(self) -> int:
        """Gate blocks: W is (I, gates*H), U (H, gates*H)."""
        return len(self.gate_order)

    def bias_shape(self, units: int, reset_after: bool = True) -> tuple:
        """Shape of b for `units` = H: (gates*H,), or (2, 3H) for a reset_after GRU."""
        if self.has_reset_after and reset_after:
            return (2, self.gates * units)
        return (self.gates * units,)

    def bias_symbol(self, reset_after: bool = True) -> str:
        """The bias shape in the glossary's symbols, for error messages: '(4H,)', '(2, 3H)'."""
        g = "" if self.gates == 1 else str(self.gates)
        if self.has_reset_after and reset_after:
            return f"(2, {g}H)"
        return f"({g}H,)"

    def count_params(self, inputs: int, units: int, use_bias: bool = True,
                     reset_after: bool = True) -> int:
        """Keras's parameter count of one layer of this cell (inputs I, units H)."""
        n_bias = 0
        if use_bias:
            n_bias = 1
            for d in self.bias_shape(1, reset_after)[:-1]:
                n_bias *= d
        return self.gates * units * (inputs + units + n_bias)

    @property
    def forward_name(self) -> str:
        return f"{self.name}_forward"

    @property
    def backward_name(self) -> str:
        return f"{self.name}_backward"


ELMAN = CellInfo("elman", ("simplernn", "simple_rnn", "rnn"), "Elman", "SimpleRNN", "RNN",
                 "h", ("h",), ACTIVATIONS, ())
LSTM = CellInfo("lstm", (), "LSTM", "LSTM", "LSTM", "ifco", ("h", "c"), ACTIVATIONS,
                RECURRENT_ACTIVATIONS)
GRU = CellInfo("gru", (), "GRU", "GRU", "GRU", "zrh", ("h",), ACTIVATIONS, RECURRENT_ACTIVATIONS,
               has_reset_after=True)

CELLS = (ELMAN, LSTM, GRU)
NAMES = tuple(c.name for c in CELLS)

_BY_NAME = {}
for _cell in CELLS:
    for _key in (_cell.name, _cell.keras_class.lower(), *_cell.aliases):
        _BY_NAME[_key] = _cell
del _cell, _key


def get(name) -> CellInfo:
    """The row of `name` (canonical, alias or Keras class, any case; a CellInfo passes through)."""
    if isinstance(name, CellInfo):
        return name
    cell = _BY_NAME.get(name.lower()) if isinstance(name, str) else None
    if cell is None:
        raise ValueError(f"cell must be one of {', '.join(repr(n) for n in NAMES)}; got {name!r}")
    return cell


def by_keras_class(class_name: str) -> CellInfo:
    """The row whose Keras layer class is `class_name` ('SimpleRNN', 'LSTM', 'GRU')."""
    for cell in CELLS:
        if cell.keras_class == class_name:
            return cell
    raise ValueError(f"no cell has the Keras class {class_name!r}; known: "
                     f"{', '.join(c.keras_class for c in CELLS)}")
