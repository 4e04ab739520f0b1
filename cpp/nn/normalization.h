// BatchNorm (per feature, over the batch) and LayerNorm (per sample, over the features), both on the last
// axis, a sample's leading axes being more rows (Keras's axis=-1), with a
// learnt scale "weight" (γ, starts at 1) and shift "bias" (β, starts at 0), eps 1e-5 by default.
// BatchNorm in training normalises with the batch statistics and updates running_mean/running_var
// (buffers) as PyTorch does: r ← (1−momentum)·r + momentum·batch, the variance unbiased; in evaluation it
// uses the running statistics; in Mode::replay, the batch statistics without a second update. A training batch of one sample leaves running_var unchanged (no unbiased
// variance exists) and normalises to 0.
#pragma once
#include "core/array.h"
#include "nn/layer.h"

namespace bprop::nn {

// What both layers share: a fixed number of features, the learnt scale and shift, and the normalised values
// (xhat) and inverse standard deviations of the last forward, which backward needs.
template <typename T>
class AffineNorm : public Layer<T> {
 public:
  SampleShape build(const SampleShape& in) override {  // ValueError unless in.back() == features
    cached_rows_ = -1;  // xhat_ was for samples of another shape
    return this->map_last_axis(in, features_, features_);
  }
  std::vector<ParameterPtr<T>> parameters() override { return {weight_, bias_}; }
  bool caches_forward() const override { return true; }  // xhat and the inverse deviations

 protected:
  AffineNorm(const char* layer, long features, double eps);  // ValueError for features < 1, eps <= 0
  // y = γ·xhat + β over rows × width, from xhat_.
  void scale_and_shift(long rows, T* y) const;
  // dγ = Σ dy·xhat and dβ = Σ dy over the batch: written, or added when accumulate.
  void affine_grads(const T* dy, long rows, bool accumulate);
  // backward's first step: when the caches are not from a forward of `rows` samples (a backward called
  // before any forward, or after one of another batch size), they are computed from x again as an
  // evaluation-mode forward would, rather than read past their end.
  void cache_for(const T* x, long rows);

  long features_;
  T eps_;
  ParameterPtr<T> weight_, bias_;
  Array<T> xhat_, inv_std_;
  long cached_rows_ = -1;  // the samples of the forward xhat_ and inv_std_ are from; -1 for none
};

template <typename T>
class BatchNorm : public AffineNorm<T> {
 public:
  BatchNorm(long features, double eps, double momentum);  // also ValueError for momentum outside [0, 1]
  std::string name() const override { return "BatchNorm"; }
  void forward(const T* x, long rows, T* y, Mode mode) override;
  void backward(const T* x, const T* y, const T* dy, long rows, T* dx, bool accumulate) override;
  void infer(const T* x, long rows, T* y) const override;
  std::vector<ParameterPtr<T>> buffers() override { return {running_mean_, running_var_}; }

 private:
  T momentum_;
  ParameterPtr<T> running_mean_, running_var_;
  bool training_stats_ = false;  // whether the last forward normalised with batch statistics
};

template <typename T>
class LayerNorm : public AffineNorm<T> {
 public:
  LayerNorm(long features, double eps) : AffineNorm<T>("LayerNorm", features, eps) {}
  std::string name() const override { return "LayerNorm"; }
  void forward(const T* x, long rows, T* y, Mode mode) override;
  void backward(const T* x, const T* y, const T* dy, long rows, T* dx, bool accumulate) override;
  void infer(const T* x, long rows, T* y) const override;
};

}  // namespace bprop::nn
