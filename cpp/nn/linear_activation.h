// LinearActivation: a Linear and the elementwise activation after it, run as one step. Sequential
// makes one for each such pair whose activation's derivative can be read from its output
// (ops::derivative_from_output), so the values before the activation are never stored:
//   forward:  the Linear's GEMM with bias and activation in its epilogue (one pass over y, not three);
//   backward: dy ⊙ f'(y) into a reused buffer, then the Linear's own backward.
// The two layers keep their parameters and identity; this only schedules them, and the results are
// bit-identical to running them one after the other.
#pragma once
#include <memory>

#include "core/array.h"
#include "nn/activation.h"
#include "nn/layer.h"
#include "nn/linear.h"

namespace bprop::nn {

template <typename T>
class LinearActivation : public Layer<T> {
 public:
  // The fused pair when `first` is a Linear and `second` an activation that fuses; otherwise null.
  // Both layers must already be built.
  static LayerPtr<T> fuse(const LayerPtr<T>& first, const LayerPtr<T>& second);

  std::string name() const override { return linear_->name() + "+" + activation_->name(); }
  long build(long in_features) override;
  void forward(const T* x, long rows, T* y, bool training) override;
  void backward(const T* x, const T* y, const T* dy, long rows, T* dx, bool accumulate) override;
  void infer(const T* x, long rows, T* y) const override;
  std::vector<ParameterPtr<T>> parameters() override { return linear_->parameters(); }

 private:
  LinearActivation(std::shared_ptr<Linear<T>> linear, std::shared_ptr<ActivationLayer<T>> activation);

  std::shared_ptr<Linear<T>> linear_;
  std::shared_ptr<ActivationLayer<T>> activation_;
  Array<T> grad_pre_;  // ∂L/∂(x·W + b), rows × out_features
};

}  // namespace bprop::nn
