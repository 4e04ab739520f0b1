#include "bindings/python_layer.h"

#include <pybind11/numpy.h>
#include <pybind11/stl.h>

#include <cmath>
#include <cstring>

#include "bindings/init.h"
#include "bindings/numpy_util.h"
#include "core/array.h"
#include "core/sizes.h"
#include "ops/finite.h"

namespace py = pybind11;

namespace bprop::bindings {
namespace {

// A new array of `shape` holding a copy of data: what the user's code receives (it may keep or modify it).
template <typename T>
py::array_t<T> array_copy(const T* data, long rows, const nn::SampleShape& sample) {
  return copy_to_numpy(data, batch_shape(rows, sample));
}

// result, checked to be a finite numpy array of T and of exactly `shape`, copied into out.
// `where` is "[Name.forward] returned" and the like.
template <typename T>
void copy_result(const py::handle& result, const std::vector<long>& shape, T* out, const std::string& where) {
  if (!py::isinstance<py::array>(result))
    throw TypeError(where + " a " + std::string(py::str(py::type::of(result).attr("__name__"))) +
                    "; expected a numpy array of " + dtype_name<T>() + " of shape " + shape_text(shape));
  const py::array array = py::reinterpret_borrow<py::array>(result);
  if (array.dtype().num() != py::dtype::of<T>().num())
    throw TypeError(where + " an array of " + std::string(py::str(array.dtype())) + "; the layer computes in " +
                    dtype_name<T>() + " (convert with .astype(x.dtype))");
  if (shape_of(array) != shape)
    throw ValueError(where + " an array of shape " + shape_text(shape_of(array)) + "; expected " + shape_text(shape));
  // A transposed or strided result is legal: made contiguous here (a copy only when it is not already).
  const auto contiguous = py::array_t<T, py::array::c_style>::ensure(array);
  if (!contiguous) throw py::error_already_set();
  const T* data = contiguous.data();
  const std::size_t n = std::size_t(contiguous.size());
  if (!ops::all_finite(data, long(n))) throw ValueError(where + " NaN or Inf");
  if (n) std::memcpy(out, data, sizeof(T) * n);
}

}  // namespace

template <typename T>
PythonLayer<T>::PythonLayer(std::string name, py::object adapter, std::vector<nn::ParameterPtr<T>> parameters,
                            bool caches_forward)
    : name_(std::move(name)), adapter_(std::move(adapter)), parameters_(std::move(parameters)),
      caches_forward_(caches_forward) {
  for (const auto& p : parameters_)
    if (!p) throw ValueError("[" + name_ + "] got a null parameter");
}

template <typename T>
PythonLayer<T>::~PythonLayer() {
  // The last owner may be a graph or a network freed with the GIL released; a Python reference must be
  // dropped with it held. At interpreter exit there is no GIL to take: leak the reference instead.
#if PY_VERSION_HEX >= 0x030D0000
  const bool finalizing = Py_IsFinalizing();
#else
  const bool finalizing = _Py_IsFinalizing();
#endif
  if (!Py_IsInitialized() || finalizing) {
    adapter_.release();
    return;
  }
  py::gil_scoped_acquire gil;
  adapter_ = py::object();
}

template <typename T>
nn::SampleShape PythonLayer<T>::build(const nn::SampleShape& in) {
  nn::SampleShape out;
  {
    py::gil_scoped_acquire gil;
    const py::object shape = adapter_.attr("output_shape")(py::tuple(py::cast(in)));
    const std::string where = "[" + name_ + ".output_shape]";
    try {
      out = shape.cast<std::vector<long>>();
    } catch (const py::cast_error&) {
      throw TypeError(where + " must return a tuple of ints (one sample's output shape); got " +
                      std::string(py::repr(shape)));
    }
    for (long d : out)
      if (d < 1) throw ValueError(where + " returned " + shape_text(out) + "; every size must be >= 1");
  }
  return this->set_shapes(in, out);
}

template <typename T>
void PythonLayer<T>::forward(const T* x, long rows, T* y, nn::Mode mode) {
  py::gil_scoped_acquire gil;
  // replay (gradient checkpointing) runs the train forward again: a Python layer drawing random numbers
  // does not repeat them.
  const py::object result = adapter_.attr("forward")(array_copy(x, rows, this->in_shape_), mode != nn::Mode::eval);
  copy_result(result, batch_shape(rows, this->out_shape_), y, "[" + name_ + ".forward] returned");
}

template <typename T>
void PythonLayer<T>::infer(const T* x, long rows, T* y) const {
  py::gil_scoped_acquire gil;
  const py::object result = adapter_.attr("infer")(array_copy(x, rows, this->in_shape_));
  copy_result(result, batch_shape(rows, this->out_shape_), y, "[" + name_ + ".forward] returned");
}

template <typename T>
void PythonLayer<T>::backward(const T* x, const T* y, const T* dy, long rows, T* dx, bool accumulate) {
  py::gil_scoped_acquire gil;
  // The Python code writes fresh gradients (p.grad = ...); what it must not change is kept and put back:
  // the gradients accumulated so far (added back), and frozen parameters' (restored).
  std::vector<Array<T>> kept(parameters_.size());
  for (std::size_t i = 0; i < parameters_.size(); ++i) {
    nn::Parameter<T>& p = *parameters_[i];
    if (accumulate || !p.requires_grad) {
      kept[i].resize(p.size());
      if (p.size()) std::memcpy(kept[i].data(), p.grad.data(), sizeof(T) * std::size_t(p.size()));
    }
    if (p.requires_grad) p.grad.fill(T(0));
  }
  auto put_back = [&] {
    for (std::size_t i = 0; i < parameters_.size(); ++i) {
      nn::Parameter<T>& p = *parameters_[i];
      if (!p.requires_grad && kept[i].size() == p.size()) {
        if (p.size()) std::memcpy(p.grad.data(), kept[i].data(), sizeof(T) * std::size_t(p.size()));
      } else if (accumulate) {
        for (long k = 0; k < p.size(); ++k) p.grad.data()[k] += kept[i].data()[k];
      }
    }
  };
  py::object result;
  try {
    result = adapter_.attr("backward")(array_copy(x, rows, this->in_shape_), array_copy(y, rows, this->out_shape_),
                                       array_copy(dy, rows, this->out_shape_));
  } catch (...) {
    put_back();  // the gradients summed so far survive a failed step
    throw;
  }
  put_back();
  // Checked even when the caller needs no dx: a wrong dx is the layer's bug wherever it stands.
  std::vector<T> scratch;
  T* target = dx;
  if (!target) {
    scratch.resize(std::size_t(rows * this->in_size_));
    target = scratch.data();
  }
  copy_result(result, batch_shape(rows, this->in_shape_), target, "[" + name_ + ".backward] returned");
}

template class PythonLayer<float>;
template class PythonLayer<double>;

namespace {

template <typename T>
void bind(py::module_& m, const std::string& suffix) {
  py::class_<PythonLayer<T>, nn::Layer<T>, std::shared_ptr<PythonLayer<T>>>(m, ("PythonLayer" + suffix).c_str())
      .def(py::init<std::string, py::object, std::vector<nn::ParameterPtr<T>>, bool>(), py::arg("name"),
           py::arg("adapter"), py::arg("parameters"), py::arg("caches_forward"));
}

}  // namespace

void init_python_layer(py::module_& m) {
  bind<float>(m, "_float32");
  bind<double>(m, "_float64");
}

}  // namespace bprop::bindings
