// Dropout(p): in training, zeroes each value with probability p and scales the rest by 1/(1-p)
// (inverted dropout, as PyTorch); in evaluation, the identity. One mask value per value, keyed by the
// layer's seed and its count of training forwards (nn/dropout_mask.h), so a seed reproduces every mask and
// Mode::replay draws the last one again.
#pragma once
#include <cstdint>

#include "nn/dropout_mask.h"

namespace bprop::nn {

template <typename T>
class Dropout : public MaskedDropout<T> {
 public:
  Dropout(double p, uint64_t seed) : MaskedDropout<T>("Dropout", p, seed) {}  // ValueError unless 0 <= p <= 1
  std::string name() const override { return "Dropout"; }
  SampleShape build(const SampleShape& in) override { return this->keep_shape(in); }
  void forward(const T* x, long rows, T* y, Mode mode) override;
  void backward(const T* x, const T* y, const T* dy, long rows, T* dx, bool accumulate) override;
};

}  // namespace bprop::nn
