// Upsample(scale_factor, mode="nearest"), PyTorch's, on samples (C, L) or (C, H, W): each value repeated
// scale_factor times along each spatial axis (ops/upsample.h). One factor for every spatial axis, or one per
// axis (`per_axis`, then as many as the sample has). Only integer factors and mode "nearest"; no parameters.
#pragma once
#include <string>
#include <vector>

#include "nn/layer.h"
#include "ops/upsample.h"

namespace bprop::nn {

template <typename T>
class Upsample : public Layer<T> {
 public:
  // ValueError for factors < 1, per_axis with other than 1 or 2 factors, one factor given as several, and
  // any mode but "nearest".
  Upsample(const std::vector<long>& scale_factor, bool per_axis, const std::string& mode);
  std::string name() const override { return "Upsample"; }
  // ValueError for a sample of another rank than 2 or 3, or per-axis factors that do not match it.
  SampleShape build(const SampleShape& in) override;
  void forward(const T* x, long rows, T* y, Mode) override { infer(x, rows, y); }
  void backward(const T* x, const T* y, const T* dy, long rows, T* dx, bool accumulate) override;
  void infer(const T* x, long rows, T* y) const override;

 private:
  std::vector<long> scale_factor_;
  bool per_axis_;
  long channels_ = 0;
  ops::UpsampleGeometry geometry_;
};

}  // namespace bprop::nn
