// Layers over channel-first samples (C, *spatial): BatchNorm1d/2d and Dropout2d, bound once per dtype
// under the common Layer_<dtype> base that init_nn binds (its forward/backward/build serve them).
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include "bindings/init.h"
#include "nn/batch_norm_2d.h"
#include "nn/dropout_2d.h"

namespace py = pybind11;

namespace bprop::bindings {
namespace {

template <typename T>
void bind_spatial(py::module_& m, const std::string& suffix) {
  using Layer = nn::Layer<T>;
  using Norm = nn::ChannelBatchNorm<T>;
  py::class_<Norm, Layer, std::shared_ptr<Norm>>(m, ("ChannelBatchNorm" + suffix).c_str())
      .def_property_readonly("channels", &Norm::channels)
      .def("eval_affine", [](const Norm& layer) {
        // (scale, shift) of the evaluation map y = scale·x + shift, per channel: what a fold into a convolution uses.
        py::array_t<T> scale(layer.channels()), shift(layer.channels());
        layer.eval_affine(scale.mutable_data(), shift.mutable_data());
        return py::make_tuple(scale, shift);
      });
  py::class_<nn::BatchNorm2d<T>, Norm, std::shared_ptr<nn::BatchNorm2d<T>>>(m, ("BatchNorm2d" + suffix).c_str())
      .def(py::init<long, double, double>(), py::arg("num_features"), py::arg("eps"), py::arg("momentum"));
  py::class_<nn::BatchNorm1d<T>, Norm, std::shared_ptr<nn::BatchNorm1d<T>>>(m, ("BatchNorm1d" + suffix).c_str())
      .def(py::init<long, double, double>(), py::arg("num_features"), py::arg("eps"), py::arg("momentum"));
  py::class_<nn::Dropout2d<T>, Layer, std::shared_ptr<nn::Dropout2d<T>>>(m, ("Dropout2d" + suffix).c_str())
      .def(py::init<double, uint64_t>(), py::arg("p"), py::arg("seed"));
}

}  // namespace

void init_nn_spatial(py::module_& m) {
  bind_spatial<float>(m, "_float32");
  bind_spatial<double>(m, "_float64");
}

}  // namespace bprop::bindings
