// A layer whose computation is the user's Python code (a Python subclass of bprop.nn.Layer), so that it
// runs inside a C++ Sequential: in fit, evaluate, predict and on tensors, like any layer. It is the only
// nn::Layer that calls into Python, hence it lives in the bindings. It talks to one adapter object
// (python/bprop/nn/layers/python_layer.py), which speaks arrays whatever kind the user's layer is:
//   adapter.output_shape(in_shape: tuple) -> sequence of ints      (build)
//   adapter.forward(x: ndarray (rows, *in), training: bool) -> ndarray (rows, *out)
//   adapter.infer(x) -> ndarray (rows, *out)                        (evaluation mode, no state written)
//   adapter.backward(x, y, dy) -> ndarray dx (rows, *in), setting each parameter's `grad`
// Each call takes the GIL (layers run with it released, the trainer for whole epochs), copies x (y, dy) into
// new arrays (the user's code may keep or modify them), and checks the result (a numpy array of the layer's
// dtype, the expected shape, finite) before copying it into the caller's buffer: TypeError/ValueError
// naming the layer otherwise. An exception the user's code raises propagates as error_already_set through
// the trainer to the Python caller, as that exception. backward gives the layer contract's accumulate and
// frozen-parameter semantics itself: the Python code always writes fresh gradients.
// Threads: infer copies into call-local arrays only, and the GIL serialises the Python calls, so any
// number of threads may run it; forward/backward are guarded by cache_mutex() as for every layer.
#pragma once
#include <pybind11/pybind11.h>

#include <string>
#include <vector>

#include "nn/layer.h"

namespace bprop::bindings {

template <typename T>
class PythonLayer final : public nn::Layer<T> {
 public:
  // name: the Python class's, for messages and summaries; parameters: the layer's, in its fixed order;
  // caches_forward: whether backward needs the state of the last forward (an autograd-defined layer's graph).
  PythonLayer(std::string name, pybind11::object adapter, std::vector<nn::ParameterPtr<T>> parameters,
              bool caches_forward);
  ~PythonLayer() override;
  PythonLayer(const PythonLayer&) = delete;
  PythonLayer& operator=(const PythonLayer&) = delete;

  std::string name() const override { return name_; }
  nn::SampleShape build(const nn::SampleShape& in) override;
  void forward(const T* x, long rows, T* y, nn::Mode mode) override;
  void backward(const T* x, const T* y, const T* dy, long rows, T* dx, bool accumulate) override;
  void infer(const T* x, long rows, T* y) const override;
  std::vector<nn::ParameterPtr<T>> parameters() override { return parameters_; }
  bool caches_forward() const override { return caches_forward_; }

 private:
  std::string name_;
  pybind11::object adapter_;  // released with the GIL held (destructor)
  std::vector<nn::ParameterPtr<T>> parameters_;
  bool caches_forward_;
};

}  // namespace bprop::bindings
