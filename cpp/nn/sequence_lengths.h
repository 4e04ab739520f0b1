// Layers over (time, features) samples that take each sample's own length: the capability a layer offers
// through Layer::length_aware() (the recurrent layers do). For sample r the steps t >= lengths[r] are
// padding: they output zeros and take no gradient, and the final state is the one after step lengths[r]-1
// (a reverse direction starts at step lengths[r]-1). The same numbers as PyTorch's packed sequences.
#pragma once
#include <cstdint>

#include "nn/layer.h"

namespace bprop::nn {

template <typename T>
class LengthAware {
 public:
  virtual ~LengthAware() = default;
  // As the layer contract's forward and infer, with `rows` lengths, each in [1, time] (checked by the
  // caller before any work). backward() then uses the lengths of the forward it follows.
  virtual void forward_lengths(const T* x, const int64_t* lengths, long rows, T* y, Mode mode) = 0;
  virtual void infer_lengths(const T* x, const int64_t* lengths, long rows, T* y) const = 0;
};

}  // namespace bprop::nn
