// The bprop._core extension. Only cpp/bindings/ includes pybind11; each area has one init_<area> file.
#include <pybind11/pybind11.h>

#include "bindings/init.h"
#include "core/error.h"

namespace py = pybind11;

PYBIND11_MODULE(_core, m) {
  m.doc() = "bprop's C++ core. Use the bprop package; this module's names may change.";
  // bprop::ValueError derives std::invalid_argument, which pybind11 already maps to ValueError.
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const bprop::TypeError& e) {
      PyErr_SetString(PyExc_TypeError, e.what());
    }
  });
  bprop::bindings::init_runtime(m);
  bprop::bindings::init_interrupts(m);
  bprop::bindings::init_gemm(m);
  bprop::bindings::init_nn_parameter(m);
  bprop::bindings::init_nn(m);
  bprop::bindings::init_nn_spatial(m);
  bprop::bindings::init_nn_pooling(m);
  bprop::bindings::init_nn_recurrent(m);
  bprop::bindings::init_python_layer(m);
  bprop::bindings::init_loss(m);
  bprop::bindings::init_optim(m);
  bprop::bindings::init_train(m);
  bprop::bindings::init_autograd(m);
}
