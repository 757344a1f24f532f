// The cell table of the compiled side: one row per recurrent cell, the C++ twin of the rows of
// src/fastrnn/cells.py (tests/kernels/test_cells_table.py checks that the two agree, through
// fastrnn.backends._core.cells). The bindings read their names, gate counts and shape symbols
// from here instead of spelling the cell set out; the fused trainer its gate counts.
//
// Adding a cell: its kernels (fastrnn/<name>.hpp, csrc/cpu, csrc/cuda), one row here and one in
// cells.py, and its entry points in the bindings.
//
// The symbols are the glossary of elman.hpp (B, T, I, H, G = gates * H) as the bindings' error
// messages print them: "W must have shape (I, 4H) = (3, 8), got ...".
#pragma once

#include <cstddef>

#include "fastrnn/activations.hpp"

namespace fastrnn {

enum class Cell : int { Elman = 0, Lstm = 1, Gru = 2 };

struct CellInfo {
  Cell id;
  const char* name;        // canonical name (cells.py), prefix of <name>_forward / _backward
  int gates;               // gate blocks G / H along the last axis of W, U and b
  int states;              // recurrent states: 1 (h) or 2 (h, c)
  bool has_reset_after;    // the GRU option reset_after applies
  const char* w_symbol;    // W (I, G)
  const char* u_symbol;    // U (H, G)
  const char* b_symbol;    // b (G,); a reset_after GRU: see gru_bias_symbol
  const char* gates_symbol;  // the saved gate activations (B, T, G)
};

inline constexpr CellInfo kCells[] = {
    {Cell::Elman, "elman", 1, 1, false, "(I, H)", "(H, H)", "(H,)", "(B, T, H)"},
    {Cell::Lstm, "lstm", 4, 2, false, "(I, 4H)", "(H, 4H)", "(4H,)", "(B, T, 4H)"},
    {Cell::Gru, "gru", 3, 1, true, "(I, 3H)", "(H, 3H)", "(3H,)", "(B, T, 3H)"},
};
inline constexpr size_t kCellCount = sizeof(kCells) / sizeof(kCells[0]);

constexpr const CellInfo& cell_info(Cell c) { return kCells[static_cast<int>(c)]; }

// The GRU's bias symbol per variant, as the error messages name it.
constexpr const char* gru_bias_symbol(bool reset_after) {
  return reset_after ? "(2, 3H) (reset_after=True)" : "(3H,) (reset_after=False)";
}

// The names of the gate activations (cells.ACTIVATIONS, RECURRENT_ACTIVATIONS), in the order
// the bindings list them in their error messages.
struct ActivationName {
  const char* name;
  Activation value;
};

inline constexpr ActivationName kActivations[] = {
    {"tanh", Activation::Tanh},
    {"relu", Activation::Relu},
    {"sigmoid", Activation::Sigmoid},
    {"linear", Activation::Linear},
};
inline constexpr ActivationName kRecurrentActivations[] = {
    {"sigmoid", Activation::Sigmoid},
};

static_assert(kCells[0].id == Cell::Elman && kCells[1].id == Cell::Lstm &&
                  kCells[2].id == Cell::Gru && kCellCount == 3,
              "kCells is indexed by Cell");

}  // namespace fastrnn
