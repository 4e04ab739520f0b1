// PReLU (PyTorch's): y = x where x > 0, a·x otherwise, with the slope a learnt: parameter "weight" of shape
// (num_parameters,), one slope shared by every feature (num_parameters = 1) or one per feature (the last
// axis, leading axes being more rows), each starting at `init`. Its math is the activation table's LeakyReLU with a slope per feature;
// the slope's gradient is Σ x·dy over the values where x ≤ 0 (0 where x > 0, as PyTorch).
#pragma once
#include "nn/layer.h"

namespace bprop::nn {

template <typename T>
class PReLU : public Layer<T> {
 public:
  PReLU(long num_parameters, double init);  // ValueError for num_parameters < 1
  std::string name() const override { return "PReLU"; }
  // ValueError unless num_parameters is 1 or the size of the sample's last axis.
  SampleShape build(const SampleShape& in) override;
  void forward(const T* x, long rows, T* y, Mode mode) override;
  void backward(const T* x, const T* y, const T* dy, long rows, T* dx, bool accumulate) override;
  void infer(const T* x, long rows, T* y) const override;
  std::vector<ParameterPtr<T>> parameters() override { return {weight_}; }

 private:
  ParameterPtr<T> weight_;
};

}  // namespace bprop::nn
