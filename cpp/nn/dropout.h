// Dropout(p): in training, zeroes each value with probability p and scales the rest by 1/(1-p)
// (inverted dropout, as PyTorch); in evaluation, the identity. The mask comes from the layer's own
// seeded generator, so a seed reproduces it.
#pragma once
#include <cstdint>

#include "core/array.h"
#include "core/random.h"
#include "nn/layer.h"

namespace bprop::nn {

template <typename T>
class Dropout : public Layer<T> {
 public:
  Dropout(double p, uint64_t seed);  // ValueError unless 0 <= p <= 1
  std::string name() const override { return "Dropout"; }
  long build(long in_features) override { return this->keep_width(in_features); }
  void forward(const T* x, long rows, T* y, bool training) override;
  void backward(const T* x, const T* y, const T* dy, long rows, T* dx, bool accumulate) override;
  void infer(const T* x, long rows, T* y) const override;
  void reseed(uint64_t seed) override { rng_.reseed(seed); }
  bool caches_forward() const override { return true; }  // the mask

 private:
  double p_;
  Generator rng_;
  Array<T> mask_;             // 0 or 1/(1-p) per value of the last training forward
  bool last_training_ = false;
};

}  // namespace bprop::nn
