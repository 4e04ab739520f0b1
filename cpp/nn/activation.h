// The elementwise activation layers (ReLU, LeakyReLU, ELU, GELU, Sigmoid, Tanh, Identity) and Softmax
// over the last axis. Their math lives in ops/; these only adapt it to the layer contract.
#pragma once
#include <string>

#include "nn/layer.h"
#include "ops/activations.h"

namespace bprop::nn {

template <typename T>
class ActivationLayer : public Layer<T>, public ElementwiseFromOutput<T> {
 public:
  // name as in Python ("ReLU"); param is LeakyReLU's negative slope or ELU's alpha.
  ActivationLayer(const std::string& name, double param);
  std::string name() const override { return ops::activation_name(kind_); }
  SampleShape build(const SampleShape& in) override;
  void forward(const T* x, long rows, T* y, Mode mode) override;
  void backward(const T* x, const T* y, const T* dy, long rows, T* dx, bool accumulate) override;
  void infer(const T* x, long rows, T* y) const override;

  ops::Activation kind() const { return kind_; }
  T param() const { return param_; }

  // Fusable after a GEMM when the derivative can be read from the output (ops::derivative_from_output).
  const ElementwiseFromOutput<T>* elementwise_from_output() const override;
  void apply_block(T* y, long rows, long cols, long ld) const override;
  void backward_from_output(const T* y, const T* dy, T* dx, long n) const override;

 private:
  ops::Activation kind_;
  T param_;
};

template <typename T>
class Softmax : public Layer<T> {
 public:
  std::string name() const override { return "Softmax"; }
  SampleShape build(const SampleShape& in) override;
  void forward(const T* x, long rows, T* y, Mode mode) override;
  void backward(const T* x, const T* y, const T* dy, long rows, T* dx, bool accumulate) override;
  void infer(const T* x, long rows, T* y) const override;
};

}  // namespace bprop::nn
