// The interrupt checker of core/interrupt.h, for Python: on the main thread (the one Python runs signal
// handlers on), take the GIL, run any pending handler and, when it raised (KeyboardInterrupt for Ctrl-C),
// keep that exception for the translator to restore once the call has unwound as bprop::Interrupted.
#include <pybind11/pybind11.h>

#include "bindings/init.h"
#include "core/interrupt.h"

namespace py = pybind11;

namespace bprop::bindings {
namespace {

unsigned long main_thread = 0;  // PyThread_get_thread_ident() of Python's main thread

// The exception a handler raised, per thread, between the poll and the translator.
struct Pending {
  PyObject *type = nullptr, *value = nullptr, *traceback = nullptr;
};
thread_local Pending pending;

bool check_python_signals() {
  if (PyThread_get_thread_ident() != main_thread) return false;  // handlers run on the main thread only
  py::gil_scoped_acquire gil;
  if (PyErr_CheckSignals() == 0) return false;
  PyErr_Fetch(&pending.type, &pending.value, &pending.traceback);
  return true;
}

}  // namespace

void init_interrupts(py::module_& m) {
  main_thread = py::module_::import("threading").attr("main_thread")().attr("ident").cast<unsigned long>();
  set_interrupt_checker(&check_python_signals);
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const Interrupted&) {
      if (pending.type) {
        PyErr_Restore(pending.type, pending.value, pending.traceback);
        pending = Pending{};
      } else {
        PyErr_SetNone(PyExc_KeyboardInterrupt);
      }
    }
  });
}

}  // namespace bprop::bindings
