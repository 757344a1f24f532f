// Ctrl-C during a kernel call or a fused epoch (fastrnn/interrupt.hpp).
//
// The bindings release the GIL around the native work, so Python's SIGINT handler cannot run
// until the call returns. A binding therefore makes a PythonSignals before releasing the GIL:
// on the main thread (the only one Python runs signal handlers in) it installs a poll that the
// kernels call at their step, chunk and batch boundaries, about every 100 ms: it re-acquires the
// GIL for a moment and runs PyErr_CheckSignals. When a handler raised (KeyboardInterrupt), the
// kernels stop early and the binding, with the GIL back, raises that exception instead of
// returning the incomplete outputs.
//
// A signal handler that calls into fastrnn's kernels while one is interrupted would share the
// interrupted call's per-thread scratch space; such a call raises RuntimeError instead.
#pragma once

#include <pybind11/pybind11.h>

#include <stdexcept>

#include "fastrnn/interrupt.hpp"

namespace fastrnn {
namespace bindings {

namespace py = pybind11;

namespace signals_detail {
inline unsigned long& main_thread() {
  static unsigned long ident = 0;
  return ident;
}
inline bool& polling() {
  static thread_local bool p = false;
  return p;
}
}  // namespace signals_detail

// Called once at module initialisation (module.cpp), with the GIL held.
inline void init_signals() {
  try {
    signals_detail::main_thread() = py::module_::import("threading")
                                        .attr("main_thread")()
                                        .attr("ident")
                                        .cast<unsigned long>();
  } catch (const py::error_already_set&) {
    signals_detail::main_thread() = PyThread_get_thread_ident();
  }
}

class PythonSignals {
 public:
  PythonSignals()
      : scope_(PyThread_get_thread_ident() == signals_detail::main_thread() ? &poll : nullptr) {
    if (signals_detail::polling())
      throw std::runtime_error(
          "fastrnn kernels cannot be called from a signal handler that runs while another "
          "fastrnn call on this thread is being interrupted");
  }

  bool interrupted() const { return scope_.requested(); }

  // With the GIL held, after an interrupted call: the exception the signal handler raised,
  // fetched (so that the binding may use the C API again before it throws it).
  py::error_already_set pending() const {
    if (!PyErr_Occurred()) PyErr_SetNone(PyExc_KeyboardInterrupt);
    return py::error_already_set();
  }

  [[noreturn]] void raise() const { throw pending(); }

 private:
  static bool poll(void*) {
    PyGILState_STATE g = PyGILState_Ensure();
    signals_detail::polling() = true;
    const bool raised = PyErr_CheckSignals() != 0;
    signals_detail::polling() = false;
    PyGILState_Release(g);
    return raised;
  }

  ScopedInterrupt scope_;
};

}  // namespace bindings
}  // namespace fastrnn
