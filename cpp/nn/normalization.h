// BatchNorm (over the batch, per feature) and LayerNorm (over the features, per sample), both with a
// learnt scale "weight" (γ, starts at 1) and shift "bias" (β, starts at 0), eps 1e-5 by default.
// BatchNorm in training normalises with the batch statistics and updates running_mean/running_var
// (buffers) as PyTorch does: r ← (1−momentum)·r + momentum·batch, the variance unbiased; in evaluation it
// uses the running statistics. A training batch of one sample leaves running_var unchanged (no unbiased
// variance exists) and normalises to 0.
#pragma once
#include "core/array.h"
#include "nn/layer.h"

namespace bprop::nn {

template <typename T>
class BatchNorm : public Layer<T> {
 public:
  BatchNorm(long features, double eps, double momentum);  // ValueError for features < 1, eps <= 0, momentum ∉ [0,1]
  std::string name() const override { return "BatchNorm"; }
  long build(long in_features) override;
  void forward(const T* x, long rows, T* y, bool training) override;
  void backward(const T* x, const T* y, const T* dy, long rows, T* dx, bool accumulate) override;
  std::vector<ParameterPtr<T>> parameters() override { return {weight_, bias_}; }
  std::vector<ParameterPtr<T>> buffers() override { return {running_mean_, running_var_}; }

 private:
  T eps_, momentum_;
  ParameterPtr<T> weight_, bias_, running_mean_, running_var_;
  Array<T> xhat_, inv_std_;  // of the last forward
  bool training_stats_ = false;  // whether the last forward normalised with batch statistics
};

template <typename T>
class LayerNorm : public Layer<T> {
 public:
  LayerNorm(long features, double eps);  // ValueError for features < 1, eps <= 0
  std::string name() const override { return "LayerNorm"; }
  long build(long in_features) override;
  void forward(const T* x, long rows, T* y, bool training) override;
  void backward(const T* x, const T* y, const T* dy, long rows, T* dx, bool accumulate) override;
  std::vector<ParameterPtr<T>> parameters() override { return {weight_, bias_}; }

 private:
  T eps_;
  ParameterPtr<T> weight_, bias_;
  Array<T> xhat_, inv_std_;
};

}  // namespace bprop::nn
