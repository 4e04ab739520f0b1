// Pooling layers, PyTorch's, on samples (C, L) (the 1d classes) or (C, H, W) (the 2d ones), NCHW; no
// parameters. The math is ops/pooling.h's, on the rows·C planes of a batch; a 1d layer is the 2d math with
// H = 1 and reports its own name ("MaxPool1d"). build() runs the op's one geometry check (ValueError
// "[MaxPool2d] ..." naming the shapes); forward, backward and infer throw nothing.
//   MaxPool(dims, kernel_size, stride, padding, dilation, ceil_mode): the max of each window. forward keeps
//       each output's argmax (the gradient's destination) in a member that grows and is reused; infer needs
//       none.
//   AvgPool(dims, kernel_size, stride, padding, ceil_mode, count_include_pad): the mean of each window.
//   AdaptiveAvgPool(dims, output_size): the mean over windows that tile the input into output_size cells.
// Per-axis arguments hold one value per spatial axis (dims of them), as Python passes them.
#pragma once
#include <cstdint>
#include <vector>

#include "core/array.h"
#include "nn/layer.h"
#include "ops/pooling.h"

namespace bprop::nn {

template <typename T>
class MaxPool : public Layer<T> {
 public:
  // ValueError for dims other than 1 or 2 and for settings PyTorch refuses (ops::pool_options).
  MaxPool(int dims, const std::vector<long>& kernel_size, const std::vector<long>& stride,
          const std::vector<long>& padding, const std::vector<long>& dilation, bool ceil_mode);
  std::string name() const override { return dims_ == 1 ? "MaxPool1d" : "MaxPool2d"; }
  SampleShape build(const SampleShape& in) override;
  void forward(const T* x, long rows, T* y, Mode mode) override;
  void backward(const T* x, const T* y, const T* dy, long rows, T* dx, bool accumulate) override;
  void infer(const T* x, long rows, T* y) const override;
  bool caches_forward() const override { return true; }  // the argmax

 private:
  int dims_;
  ops::PoolOptions options_;
  ops::PoolGeometry geometry_;
  Array<int32_t> argmax_;      // per output of the last forward: its offset in its input plane
  long argmax_rows_ = -1;      // the samples argmax_ is for; -1 when it is for no forward of this geometry
};

template <typename T>
class AvgPool : public Layer<T> {
 public:
  AvgPool(int dims, const std::vector<long>& kernel_size, const std::vector<long>& stride,
          const std::vector<long>& padding, bool ceil_mode, bool count_include_pad);
  std::string name() const override { return dims_ == 1 ? "AvgPool1d" : "AvgPool2d"; }
  SampleShape build(const SampleShape& in) override;
  void forward(const T* x, long rows, T* y, Mode) override { infer(x, rows, y); }
  void backward(const T* x, const T* y, const T* dy, long rows, T* dx, bool accumulate) override;
  void infer(const T* x, long rows, T* y) const override;

 private:
  int dims_;
  ops::PoolOptions options_;
  ops::PoolGeometry geometry_;
};

template <typename T>
class AdaptiveAvgPool : public Layer<T> {
 public:
  AdaptiveAvgPool(int dims, const std::vector<long>& output_size);  // ValueError for sizes < 1
  std::string name() const override { return dims_ == 1 ? "AdaptiveAvgPool1d" : "AdaptiveAvgPool2d"; }
  SampleShape build(const SampleShape& in) override;
  void forward(const T* x, long rows, T* y, Mode) override { infer(x, rows, y); }
  void backward(const T* x, const T* y, const T* dy, long rows, T* dx, bool accumulate) override;
  void infer(const T* x, long rows, T* y) const override;

 private:
  int dims_;
  std::vector<long> output_size_;
  ops::AdaptiveGeometry geometry_;
};

}  // namespace bprop::nn
