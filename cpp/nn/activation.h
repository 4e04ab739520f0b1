// The elementwise activation layer (any entry of the table in ops/activations.h: ReLU, LeakyReLU, ...) and
// Softmax over the last axis. Their math lives in ops/; these only adapt it to the layer contract.
#pragma once
#include <string>
#include <vector>

#include "nn/layer.h"
#include "ops/activations.h"

namespace bprop::nn {

template <typename T>
class ActivationLayer : public Layer<T>, public ElementwiseFromOutput<T> {
 public:
  // name as in Python ("ReLU"); params in the table entry's order (missing ones take their defaults).
  // ValueError for an unknown name or a parameter outside its domain.
  ActivationLayer(const std::string& name, const std::vector<double>& params);
  std::string name() const override { return activation_.name(); }
  SampleShape build(const SampleShape& in) override;
  void forward(const T* x, long rows, T* y, Mode mode) override;
  void backward(const T* x, const T* y, const T* dy, long rows, T* dx, bool accumulate) override;
  void infer(const T* x, long rows, T* y) const override;

  const ops::Activation& activation() const { return activation_; }

  // Fusable after a GEMM when the derivative can be read from the output (ops::derivative_from_output).
  const ElementwiseFromOutput<T>* elementwise_from_output() const override;
  void apply_block(T* y, long rows, long cols, long ld) const override;
  void backward_from_output(const T* y, const T* dy, T* dx, long n) const override;

 private:
  ops::Activation activation_;
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
