// bprop._core.Loss_<dtype> and its subclasses MSE_, MAE_, Huber_, CrossEntropy_, BinaryCrossEntropy_<dtype>.
// The Python front (bprop/nn/losses.py) has validated targets already; these checks keep a direct caller
// from crashing (labels out of range would read outside out). The trainer holds loss::LossPtr<T> taken
// from these objects, hence the shared_ptr holder on the base class.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "bindings/init.h"
#include "bindings/numpy_util.h"
#include "loss/cross_entropy.h"
#include "loss/elementwise.h"
#include "autograd/nn_ops.h"

namespace py = pybind11;

namespace bprop::bindings {
namespace {

loss::Reduction parse_reduction(const std::string& text, const std::string& loss_name) {
  if (text == "mean") return loss::Reduction::mean;
  if (text == "sum") return loss::Reduction::sum;
  throw ValueError("[" + loss_name + "] reduction must be 'mean' or 'sum'; got '" + text + "'");
}

std::string reduction_text(loss::Reduction reduction) {
  return reduction == loss::Reduction::mean ? "mean" : "sum";
}

// One int64 class index per row, each in [0, classes) or equal to ignore, borrowed for one call.
const int64_t* borrow_labels(const py::array& y, long rows, long classes, std::optional<int64_t> ignore,
                             const std::string& where) {
  if (!py::isinstance<py::array_t<int64_t>>(y))
    throw TypeError(where + " labels must be int64; got " + std::string(py::str(y.dtype())));
  if (!(y.flags() & py::array::c_style)) throw TypeError(where + " labels must be C-contiguous");
  if (shape_of(y) != std::vector<long>{rows})
    throw ValueError(where + " labels have shape " + shape_text(shape_of(y)) + "; expected " +
                     shape_text({rows}));
  const int64_t* labels = static_cast<const int64_t*>(y.data());
  check_labels(labels, rows, classes, ignore, where);
  return labels;
}

// The targets and weights of a batch of `rows` × `cols` outputs, borrowed and checked.
template <typename T>
loss::Targets<T> borrow_targets(const loss::Loss<T>& l, const py::array& targets, long rows, long cols,
                                const std::string& where) {
  loss::Targets<T> t;
  if (l.takes_labels() && targets.ndim() == 1)
    t.labels = borrow_labels(targets, rows, cols, l.ignore_index(), where);
  else
    t.values = borrow_shaped<T>(targets, {rows, cols}, where + " targets");
  return t;
}

template <typename T>
const T* borrow_weights(const py::object& sample_weight, long rows, const std::string& where) {
  if (sample_weight.is_none()) return nullptr;
  if (!py::isinstance<py::array>(sample_weight)) throw TypeError(where + " sample_weight must be a numpy.ndarray or None");
  return borrow_shaped<T>(py::reinterpret_borrow<py::array>(sample_weight), {rows}, where + " sample_weight");
}

template <typename T>
py::tuple forward_backward(const loss::Loss<T>& l, const py::array& out, const py::array& targets,
                           const py::object& sample_weight, bool want_grad) {
  const std::string where = "[" + l.name() + ".forward_backward]";
  if (out.ndim() != 2) throw ValueError(where + " out must be 2-D; got shape " + shape_text(shape_of(out)));
  const T* x = borrow<T>(out, where + " out");
  const long rows = long(out.shape(0)), cols = long(out.shape(1));
  if (rows == 0 || cols == 0) throw ValueError(where + " out is empty; got shape " + shape_text(shape_of(out)));
  const loss::Targets<T> t = borrow_targets(l, targets, rows, cols, where);
  const T* weights = borrow_weights<T>(sample_weight, rows, where);

  py::object grad = py::none();
  T* g = nullptr;
  if (want_grad) {
    py::array_t<T> array({rows, cols});
    g = array.mutable_data();
    grad = std::move(array);
  }
  double value;
  {
    py::gil_scoped_release release;
    value = l.forward_backward(x, rows, cols, t, weights, g);
  }
  return py::make_tuple(value, grad);
}

// The loss as a graph node on a 2-D output tensor (nn.functional): a scalar tensor.
template <typename T>
autograd::Tensor graph_forward(const loss::LossPtr<T>& l, const autograd::Tensor& out, const py::array& targets,
                               const py::object& sample_weight) {
  const std::string where = "[" + l->name() + "]";
  if (out->dim() != 2 || out->numel() == 0)
    throw ValueError(where + " needs outputs of shape (samples, outputs); got " + shape_text(out->shape()));
  const long rows = out->size(0), cols = out->size(1);
  const loss::Targets<T> t = borrow_targets(*l, targets, rows, cols, where);
  const T* weights = borrow_weights<T>(sample_weight, rows, where);
  py::gil_scoped_release release;
  return autograd::apply_loss(l, out, t, weights);
}

// A loss class bound as a subclass of Loss_<dtype>.
template <class L, typename T>
py::class_<L, loss::Loss<T>, std::shared_ptr<L>> bind_subclass(py::module_& m, const std::string& name) {
  return py::class_<L, loss::Loss<T>, std::shared_ptr<L>>(m, (name + "_" + dtype_name<T>()).c_str());
}

// MSE, MAE and BinaryCrossEntropy: the reduction is their only hyperparameter.
template <class L, typename T>
void bind_plain(py::module_& m, const std::string& name) {
  bind_subclass<L, T>(m, name).def(
      py::init([name](const std::string& reduction) { return std::make_shared<L>(parse_reduction(reduction, name)); }),
      py::kw_only(), py::arg("reduction") = "mean");
}

template <typename T>
void bind_losses(py::module_& m) {
  using Base = loss::Loss<T>;
  py::class_<Base, loss::LossPtr<T>>(m, (std::string("Loss_") + dtype_name<T>()).c_str())
      .def_property_readonly("name", &Base::name)
      .def_property_readonly("reduction", [](const Base& l) { return reduction_text(l.reduction()); })
      .def_property_readonly("takes_labels", &Base::takes_labels)
      .def_property_readonly("ignore_index", &Base::ignore_index)
      .def_property_readonly("dtype", [](const Base&) { return std::string(dtype_name<T>()); })
      .def("graph_forward", &graph_forward<T>, py::arg("out"), py::arg("targets").noconvert(),
           py::arg("sample_weight") = py::none(), "The loss of a 2-D output Tensor as a differentiable scalar Tensor.")
      .def("forward_backward", &forward_backward<T>, py::arg("out").noconvert(), py::arg("targets").noconvert(),
           py::arg("sample_weight") = py::none(), py::arg("want_grad") = true,
           "(loss, ∂loss/∂out or None) for a C-contiguous 2-D out of this dtype; targets are int64 class "
           "indices (rows,) for a loss that takes labels, else values shaped like out; sample_weight (rows,).");

  bind_plain<loss::MSE<T>, T>(m, "MSE");
  bind_plain<loss::MAE<T>, T>(m, "MAE");
  bind_plain<loss::BinaryCrossEntropy<T>, T>(m, "BinaryCrossEntropy");

  bind_subclass<loss::Huber<T>, T>(m, "Huber")
      .def(py::init([](double delta, const std::string& reduction) {
             if (!(delta > 0)) throw ValueError("[Huber] delta must be > 0; got " + std::to_string(delta));
             return std::make_shared<loss::Huber<T>>(parse_reduction(reduction, "Huber"),
                                                     loss::HuberError<T>{T(delta)});
           }),
           py::kw_only(), py::arg("delta") = 1.0, py::arg("reduction") = "mean")
      .def_property_readonly("delta", [](const loss::Huber<T>& l) { return double(l.term().delta); });

  bind_subclass<loss::CrossEntropy<T>, T>(m, "CrossEntropy")
      .def(py::init([](double label_smoothing, std::optional<int64_t> ignore_index, const std::string& reduction) {
             if (!(label_smoothing >= 0 && label_smoothing <= 1))
               throw ValueError("[CrossEntropy] label_smoothing must be in [0, 1]; got " +
                                std::to_string(label_smoothing));
             return std::make_shared<loss::CrossEntropy<T>>(parse_reduction(reduction, "CrossEntropy"),
                                                            T(label_smoothing), ignore_index);
           }),
           py::kw_only(), py::arg("label_smoothing") = 0.0, py::arg("ignore_index") = py::none(),
           py::arg("reduction") = "mean")
      .def_property_readonly("label_smoothing",
                             [](const loss::CrossEntropy<T>& l) { return double(l.label_smoothing()); })
      .def_property_readonly("ignore_index", &loss::CrossEntropy<T>::ignore_index);
}

}  // namespace

void init_loss(py::module_& m) {
  bind_losses<float>(m);
  bind_losses<double>(m);
}

}  // namespace bprop::bindings
