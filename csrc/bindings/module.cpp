// fastrnn.backends._core: the module definition. The bindings are the only files of the CPU
// core that know NumPy and Python; each concept registers itself (register.hpp), and every
// check they share is in checks.hpp.
#include <pybind11/pybind11.h>

#include "register.hpp"
#include "signals.hpp"

PYBIND11_MODULE(_core, m) {
  m.doc() = "fastrnn compiled CPU kernels (Elman, LSTM, GRU forward and BPTT). "
            "Use fastrnn.ops rather than this module.";
  fastrnn::bindings::init_signals();
  fastrnn::bindings::register_cells(m);
  fastrnn::bindings::register_training(m);
  fastrnn::bindings::register_info(m);
}
