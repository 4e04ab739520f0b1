// BatchNorm2d over (C, H, W) samples and BatchNorm1d over (C,) or (C, L) samples, as PyTorch's: each channel
// is normalised over the batch and the spatial axes (N·H·W values), then scaled by `weight` (γ, starts at 1)
// and shifted by `bias` (β, starts at 0); buffers running_mean (starts at 0) and running_var (starts at 1).
//   train:  batch statistics (biased variance); r ← (1−momentum)·r + momentum·batch, the variance unbiased
//           (N·H·W/(N·H·W − 1)). A channel of a single value (N·H·W = 1; PyTorch raises) normalises to 0 and
//           leaves running_var unchanged, as bprop's BatchNorm does.
//   eval:   the running statistics: y = x·scale + shift per channel (eval_affine).
//   replay: the batch statistics again, without a second update.
// The math (per-channel sums in a fixed order, whatever the thread count) is ops/channel_norm.h's.
#pragma once
#include <string>

#include "core/array.h"
#include "nn/layer.h"
#include "ops/channel_norm.h"

namespace bprop::nn {

template <typename T>
class ChannelBatchNorm : public Layer<T>, public ChannelAffineInEval<T> {
 public:
  std::string name() const override { return name_; }
  SampleShape build(const SampleShape& in) override;  // ValueError unless the rank fits and in[0] == channels
  void forward(const T* x, long rows, T* y, Mode mode) override;
  void backward(const T* x, const T* y, const T* dy, long rows, T* dx, bool accumulate) override;
  void infer(const T* x, long rows, T* y) const override;
  std::vector<ParameterPtr<T>> parameters() override { return {weight_, bias_}; }
  std::vector<ParameterPtr<T>> buffers() override { return {running_mean_, running_var_}; }
  bool caches_forward() const override { return true; }  // the statistics backward differentiates through

  long channels() const { return channels_; }
  // The evaluation-mode map y = scale[c]·x + shift[c] (channels() values each): scale = γ/√(running_var + eps),
  // shift = β − running_mean·scale. What folding this layer into a preceding convolution needs.
  const ChannelAffineInEval<T>* channel_affine_in_eval() const override { return this; }
  long affine_channels() const override { return channels_; }
  void eval_affine(T* scale, T* shift) const override;

 protected:
  // ValueError for channels < 1, eps <= 0, momentum outside [0, 1]. Samples have rank in [min_rank, max_rank]
  // and look like `sample_text` ("(C, H, W)") in error messages.
  ChannelBatchNorm(const char* name, const char* sample_text, int min_rank, int max_rank, long channels, double eps,
                   double momentum);

 private:
  ops::ChannelLayout layout(long rows) const { return {rows, channels_, this->in_size_ / channels_}; }
  void use_running_stats();  // mean_ and inv_std_ from the running statistics

  std::string name_, sample_text_;
  int min_rank_, max_rank_;
  long channels_;
  double eps_, momentum_;
  ParameterPtr<T> weight_, bias_, running_mean_, running_var_;
  // The last forward's statistics, which backward differentiates through (batch) or treats as constants
  // (running): per channel, the mean and 1/√(var + eps).
  Array<double> mean_, inv_std_;
  bool batch_stats_ = false;
  Array<double> partial_, scratch_;  // per-plane sums; per-channel variances, sums and coefficients
  Array<T> affine_;                  // the evaluation map's scale and shift
};

template <typename T>
class BatchNorm2d final : public ChannelBatchNorm<T> {
 public:
  BatchNorm2d(long channels, double eps, double momentum)
      : ChannelBatchNorm<T>("BatchNorm2d", "(C, H, W)", 3, 3, channels, eps, momentum) {}
};

// PyTorch's BatchNorm1d: (C,) samples are normalised over the batch alone, (C, L) ones over batch and length.
template <typename T>
class BatchNorm1d final : public ChannelBatchNorm<T> {
 public:
  BatchNorm1d(long channels, double eps, double momentum)
      : ChannelBatchNorm<T>("BatchNorm1d", "(C,) or (C, L)", 1, 2, channels, eps, momentum) {}
};

}  // namespace bprop::nn
