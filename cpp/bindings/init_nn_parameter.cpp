// bprop._core.Parameter_float32 / _float64: handles on a layer's trainable tensors. Values go in and out
// as copies; optimizers built from these handles update the same storage the layer computes with.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include "bindings/arguments.h"
#include "bindings/init.h"
#include "bindings/numpy_util.h"
#include "autograd/nn_ops.h"
#include "nn/parameter.h"

namespace py = pybind11;

namespace bprop::bindings {
namespace {

// target ← x, an array of exactly the parameter's dtype and shape (TypeError for anything that is not one).
template <typename T>
void copy_into(Array<T>& target, const nn::Parameter<T>& p, const py::object& x, const std::string& where) {
  if (!py::isinstance<py::array>(x))
    throw TypeError(where + p.name + " must be a numpy array of " + dtype_name<T>() + "; got " +
                    std::string(py::str(py::type::of(x).attr("__name__"))));
  const T* src = borrow_shaped<T>(x.cast<py::array>(), p.shape, where + p.name);
  if (p.size()) std::memcpy(target.data(), src, sizeof(T) * std::size_t(p.size()));  // size 0: data may be null
}

template <typename T>
void bind_parameter(py::module_& m, const char* class_name) {
  using P = nn::Parameter<T>;
  py::class_<P, nn::ParameterPtr<T>>(m, class_name)
      .def(py::init([](const std::string& name, const std::vector<long>& shape) {
             for (long d : shape)
               if (d < 0) throw ValueError("[Parameter] dimensions must be >= 0; got " + shape_text(shape));
             return std::make_shared<P>(name, shape);
           }),
           py::arg("name"), py::arg("shape"), "A free-standing parameter (zeros), for tests and custom models.")
      .def_property_readonly("name", [](const P& p) { return p.name; })
      .def_property_readonly("shape", [](const P& p) { return py::tuple(py::cast(p.shape)); })
      .def_property_readonly("dtype", [](const P&) { return std::string(dtype_name<T>()); })
      .def_property_readonly("size", &P::size)
      .def("value", [](const P& p) { return copy_to_numpy(p.value.data(), p.shape); })
      // An attribute, as Tensor.grad: a copy of the gradient; `p.grad = None` zeroes it, an array sets it.
      .def_property(
          "grad", [](const P& p) { return copy_to_numpy(p.grad.data(), p.shape); },
          [](P& p, const py::object& x) {
            if (x.is_none()) return p.grad.fill(T(0));
            copy_into(p.grad, p, x, "[Parameter.grad] ");
          })
      .def("set_value", [](P& p, const py::object& x) { copy_into(p.value, p, x, "[Parameter.set_value] "); ++p.writes; })
      .def("set_grad", [](P& p, const py::object& x) { copy_into(p.grad, p, x, "[Parameter.set_grad] "); })
      .def("zero_grad", [](P& p) { p.grad.fill(T(0)); })
      .def_property(
          "requires_grad", [](const P& p) { return p.requires_grad; },
          [](P& p, const py::object& flag) {
            const bool value = as_flag(flag, "[Parameter.requires_grad]");
            p.requires_grad = value;
            if (auto view = std::static_pointer_cast<autograd::TensorImpl>(p.tensor_view.lock()))
              view->set_requires_grad(value);
          },
          "False freezes the parameter: backward leaves its gradient alone and optimizers leave its value.")
      .def_property_readonly(
          "tensor", [](const nn::ParameterPtr<T>& p) { return autograd::parameter_tensor(p); },
          "The parameter as a leaf Tensor sharing its storage; backward adds into its gradient.")
      // Handles made at different times for one parameter compare equal (Module.parameters() dedups).
      .def("__eq__", [](const P& a, const P& b) { return &a == &b; }, py::is_operator())
      .def("__hash__", [](const P& p) { return std::hash<const void*>{}(&p); })
      .def("__repr__", [](const P& p) {
        return "Parameter(" + p.name + ", shape=" + shape_text(p.shape) + ", dtype=" + dtype_name<T>() + ")";
      });
}

}  // namespace

void init_nn_parameter(py::module_& m) {
  bind_parameter<float>(m, "Parameter_float32");
  bind_parameter<double>(m, "Parameter_float64");
}

}  // namespace bprop::bindings
