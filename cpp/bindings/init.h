#pragma once
#include <pybind11/pybind11.h>

namespace bprop::bindings {

void init_runtime(pybind11::module_& m);
void init_gemm(pybind11::module_& m);

}  // namespace bprop::bindings
