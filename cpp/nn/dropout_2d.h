// Dropout2d(p): in training, zeroes each channel of each sample (a whole (n, c) plane of H·W values, or of
// any trailing axes: samples (C, *spatial), rank >= 2) with probability p and scales the kept ones by
// 1/(1−p), as PyTorch's Dropout2d; in evaluation, the identity. Neighbouring values of a feature map are
// correlated, so dropping them one by one (Dropout) regularises little; dropping whole maps does.
// The mask is keyed as Dropout's is (nn/dropout_mask.h): by the layer's seed and its count of training
// forwards, one counter-based draw per plane, so a seed reproduces every mask and Mode::replay draws the
// last again.
#pragma once
#include <cstdint>

#include "nn/dropout_mask.h"

namespace bprop::nn {

template <typename T>
class Dropout2d : public MaskedDropout<T> {
 public:
  Dropout2d(double p, uint64_t seed) : MaskedDropout<T>("Dropout2d", p, seed) {}  // ValueError unless 0 <= p <= 1
  std::string name() const override { return "Dropout2d"; }
  SampleShape build(const SampleShape& in) override;  // ValueError for samples of rank < 2
  void forward(const T* x, long rows, T* y, Mode mode) override;
  void backward(const T* x, const T* y, const T* dy, long rows, T* dx, bool accumulate) override;

 private:
  // mask_[n·C + c] times every value of plane (n, c), for the planes of `rows` samples.
  void apply_mask(const T* in, long rows, T* out) const;

  long mask_planes_ = 0;  // planes mask_ holds: backward after a forward of another batch size reads no further
};

}  // namespace bprop::nn
