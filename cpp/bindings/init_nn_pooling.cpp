// Pooling and upsampling layers (nn/pooling.h, nn/upsample.h), one binding class per C++ class and dtype
// (MaxPool_float32, ...) under the Layer_float32/float64 base that init_nn registers first. The 1d and 2d
// Python classes share a binding and pass `dims`.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include "bindings/init.h"
#include "nn/pooling.h"
#include "nn/upsample.h"

namespace py = pybind11;

namespace bprop::bindings {
namespace {

template <typename T>
void bind_pooling(py::module_& m, const std::string& suffix) {
  using Layer = nn::Layer<T>;
  using Sizes = std::vector<long>;
  py::class_<nn::MaxPool<T>, Layer, std::shared_ptr<nn::MaxPool<T>>>(m, ("MaxPool" + suffix).c_str())
      .def(py::init<int, const Sizes&, const Sizes&, const Sizes&, const Sizes&, bool>(), py::arg("dims"),
           py::arg("kernel_size"), py::arg("stride"), py::arg("padding"), py::arg("dilation"), py::arg("ceil_mode"));
  py::class_<nn::AvgPool<T>, Layer, std::shared_ptr<nn::AvgPool<T>>>(m, ("AvgPool" + suffix).c_str())
      .def(py::init<int, const Sizes&, const Sizes&, const Sizes&, bool, bool>(), py::arg("dims"),
           py::arg("kernel_size"), py::arg("stride"), py::arg("padding"), py::arg("ceil_mode"),
           py::arg("count_include_pad"));
  py::class_<nn::AdaptiveAvgPool<T>, Layer, std::shared_ptr<nn::AdaptiveAvgPool<T>>>(
      m, ("AdaptiveAvgPool" + suffix).c_str())
      .def(py::init<int, const Sizes&>(), py::arg("dims"), py::arg("output_size"));
  py::class_<nn::Upsample<T>, Layer, std::shared_ptr<nn::Upsample<T>>>(m, ("Upsample" + suffix).c_str())
      .def(py::init<const Sizes&, bool, const std::string&>(), py::arg("scale_factor"), py::arg("per_axis"),
           py::arg("mode"));
}

}  // namespace

void init_nn_pooling(py::module_& m) {
  bind_pooling<float>(m, "_float32");
  bind_pooling<double>(m, "_float64");
}

}  // namespace bprop::bindings
