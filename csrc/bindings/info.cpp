// What the compiled core is: threads, instruction set, and its cell table (cells.hpp),
// which tests/kernels/test_cells_table.py compares with fastrnn.cells.
#include <pybind11/pybind11.h>

#include <string>

#include "fastrnn/cells.hpp"
#include "fastrnn/cpu.hpp"
#include "fastrnn/pool.hpp"
#include "register.hpp"

namespace py = pybind11;

namespace fastrnn {
namespace bindings {

void register_info(py::module_& m) {
  m.def("max_threads", &pool::max_threads,
        "Threads a kernel call may use: set_max_threads, else FASTRNN_NUM_THREADS, else "
        "OMP_NUM_THREADS, else the CPUs this process may run on.");
  m.def("set_max_threads", [](int n) {
    if (n < 1) throw py::value_error("threads must be a positive integer, got " + std::to_string(n));
    pool::set_max_threads(n);
  }, py::arg("threads"), "Sets the threads kernel calls may use (from the next call on).");
  m.def("isa", []() { return std::string(fastrnn::cpu_isa()); },
        "Instruction set the kernels run with: 'avx512', 'avx2' or 'baseline' (FASTRNN_ISA can "
        "lower it).");
  m.def("empty_call", [](const py::args&) {},
        "Takes any arguments and does nothing: the floor of a binding call with a kernel's "
        "arrays (bench/bench_cells.py times it beside infer-b1).");
  py::list cells;
  for (const CellInfo& c : kCells) cells.append(py::make_tuple(c.name, c.gates, c.states));
  m.attr("cells") = py::tuple(cells);
  py::list acts, rec;
  for (const ActivationName& a : kActivations) acts.append(a.name);
  for (const ActivationName& a : kRecurrentActivations) rec.append(a.name);
  m.attr("activations") = py::tuple(acts);
  m.attr("recurrent_activations") = py::tuple(rec);
}

}  // namespace bindings
}  // namespace fastrnn
