// The registration functions of fastrnn._core, one per concept; module.cpp calls them in turn.
#pragma once

#include <pybind11/pybind11.h>

namespace fastrnn {
namespace bindings {

// <cell>_forward / <cell>_backward for every row of cells.hpp (cells.cpp).
void register_cells(pybind11::module_& m);

// Trainer: the fused training epoch of fastrnn/train.hpp (train.cpp).
void register_training(pybind11::module_& m);

// max_threads, isa, openmp and the cell table as the core knows it (info.cpp).
void register_info(pybind11::module_& m);

}  // namespace bindings
}  // namespace fastrnn
