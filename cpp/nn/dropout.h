// Dropout(p): in training, zeroes each value with probability p and scales the rest by 1/(1-p)
// (inverted dropout, as PyTorch); in evaluation, the identity. The mask is keyed by (seed, step): the
// layer's seed (Sequential gives each position its own) and the count of training forwards since it was
// seeded, each value drawn from its index by a counter-based draw. So a seed reproduces every mask, and
// Mode::replay draws the last one again.
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
  SampleShape build(const SampleShape& in) override { return this->keep_shape(in); }
  void forward(const T* x, long rows, T* y, Mode mode) override;
  void backward(const T* x, const T* y, const T* dy, long rows, T* dx, bool accumulate) override;
  void infer(const T* x, long rows, T* y) const override;
  void reseed(uint64_t seed) override {
    seed_ = seed;
    steps_ = 0;
  }
  bool caches_forward() const override { return true; }  // the mask

 private:
  double p_;
  uint64_t seed_, steps_ = 0;  // steps_: training forwards since the seed was set
  uint64_t mask_key_ = 0;      // the key of the last training forward's mask
  Array<T> mask_;              // 0 or 1/(1-p) per value of the last training forward
  bool last_training_ = false;
};

}  // namespace bprop::nn
