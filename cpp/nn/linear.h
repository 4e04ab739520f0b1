// Linear: y = x·W + b over the last axis of each sample (leading axes are more rows, as in PyTorch), W of
// shape (in_features, out_features) as Keras stores it (PyTorch stores Wᵀ).
// Forward is one GEMM that adds b to each block of y as it finishes (and, for a fused activation, applies
// it there too); backward is two GEMMs, dW = xᵀ·dy and dx = dy·Wᵀ, and db the column sums of dy.
// Parameters: "weight", then "bias" when it has one.
#pragma once
#include <cstdint>
#include <string>

#include "nn/layer.h"

namespace bprop::nn {

template <typename T>
class Linear : public Layer<T>, public GemmOutput<T> {
 public:
  // ValueError for sizes < 1 or a bad initializer. Weights from `init` with `seed`; bias starts at 0.
  Linear(long in_features, long out_features, bool bias, const std::string& init, double init_limit, uint64_t seed);

  std::string name() const override { return "Linear"; }
  SampleShape build(const SampleShape& in) override;  // ValueError unless in.back() == in_features
  void forward(const T* x, long rows, T* y, Mode mode) override;
  void backward(const T* x, const T* y, const T* dy, long rows, T* dx, bool accumulate) override;
  void infer(const T* x, long rows, T* y) const override { forward_with(x, rows, y, nullptr); }
  std::vector<ParameterPtr<T>> parameters() override;

  // y = f(x·W + b) in one pass over y: the forward of a Linear fused with the elementwise map after it.
  const GemmOutput<T>* gemm_output() const override { return this; }
  void forward_then(const T* x, long rows, T* y, const ElementwiseFromOutput<T>& then) const override {
    forward_with(x, rows, y, &then);
  }

 private:
  void forward_with(const T* x, long rows, T* y, const ElementwiseFromOutput<T>* then) const;

  long in_features_, out_features_;
  ParameterPtr<T> weight_, bias_;
};

}  // namespace bprop::nn
