// Layers that take int64 indices instead of values (Embedding): the capability a layer offers through
// Layer::index_input(). Such a layer can only come first in a network (no layer computes indices), and the
// model, trainer and bindings then hand it the batch's int64 indices through these calls; its forward,
// backward and infer on values are never called.
#pragma once
#include <cstdint>
#include <optional>
#include <string>

#include "nn/layer.h"

namespace bprop::nn {

template <typename T>
class IndexInput {
 public:
  virtual ~IndexInput() = default;
  // As the layer contract's calls, with x rows × in_size indices, each checked in range by the caller.
  // Indices have no gradient: backward writes the parameters' gradients only.
  virtual void forward_indices(const int64_t* x, long rows, T* y, Mode mode) = 0;
  virtual void backward_indices(const int64_t* x, const T* y, const T* dy, long rows, bool accumulate) = 0;
  virtual void infer_indices(const int64_t* x, long rows, T* y) const = 0;
  // The number of valid indices: each must be in [0, index_count()).
  virtual long index_count() const = 0;
  // The index that marks padding (Embedding's padding_idx), if any.
  virtual std::optional<long> padding_idx() const { return std::nullopt; }
  // ValueError naming the sample for a batch this layer cannot take beyond the range of its indices
  // (which the caller checks): a network deriving lengths from padding refuses a sample of padding alone.
  virtual void check_indices(const int64_t* x, long rows, const std::string& where) const {}
};

}  // namespace bprop::nn
