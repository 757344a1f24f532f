// What the compiled core is: threads, instruction set, OpenMP, and its cell table (cells.hpp),
// which tests/kernels/test_cells_table.py compares with fastrnn.cells.
#include <pybind11/pybind11.h>

#include <string>

#include "fastrnn/cells.hpp"
#include "fastrnn/cpu.hpp"
#include "register.hpp"

#ifdef _OPENMP
#include <omp.h>
#endif

namespace py = pybind11;

namespace fastrnn {
namespace bindings {

void register_info(py::module_& m) {
  m.def("max_threads", []() {
#ifdef _OPENMP
    return omp_get_max_threads();
#else
    return 1;
#endif
  }, "Threads the kernels may use (OMP_NUM_THREADS, else the core count).");
  m.def("isa", []() { return std::string(fastrnn::cpu_isa()); },
        "Instruction set the kernels run with: 'avx512', 'avx2' or 'baseline' (FASTRNN_ISA can "
        "lower it).");
  m.attr("openmp") = py::bool_(
#ifdef _OPENMP
      true
#else
      false
#endif
  );

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
