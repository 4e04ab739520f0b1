// Embedding(num_embeddings, embedding_dim): a lookup table, "weight" (num_embeddings, embedding_dim) drawn
// from N(0, 1) as PyTorch's. Samples are int64 indices of any shape; each index becomes its row, so the
// output sample shape is the input's plus (embedding_dim,). The gradient is a scatter-add into the rows
// used, in sample order (deterministic). The first layer of a network (nn/indices.h).
// padding_idx (as PyTorch's): that row starts at zeros and the scatter-add skips it, so it never has a
// gradient (and stays zero under every optimizer, weight decay included: it decays a zero).
#pragma once
#include <cstdint>
#include <optional>

#include "nn/indices.h"
#include "nn/layer.h"

namespace bprop::nn {

template <typename T>
class Embedding : public Layer<T>, public IndexInput<T> {
 public:
  // ValueError for sizes < 1, a table beyond the machine's memory, or padding_idx outside
  // [-num_embeddings, num_embeddings) (a negative one counts from the end and is stored normalised).
  Embedding(long num_embeddings, long embedding_dim, uint64_t seed, std::optional<long> padding_idx = std::nullopt);
  std::string name() const override { return "Embedding"; }
  SampleShape build(const SampleShape& in) override;
  std::vector<ParameterPtr<T>> parameters() override { return {weight_}; }
  IndexInput<T>* index_input() override { return this; }

  void forward_indices(const int64_t* x, long rows, T* y, Mode) override { infer_indices(x, rows, y); }
  void backward_indices(const int64_t* x, const T* y, const T* dy, long rows, bool accumulate) override;
  void infer_indices(const int64_t* x, long rows, T* y) const override;
  long index_count() const override { return weight_->shape[0]; }
  std::optional<long> padding_idx() const override { return padding_idx_; }  // in [0, num_embeddings)

  // Never called: a network hands this layer its indices (IndexInput), never values.
  void forward(const T*, long, T*, Mode) override {}
  void backward(const T*, const T*, const T*, long, T*, bool) override {}
  void infer(const T*, long, T*) const override {}

 private:
  ParameterPtr<T> weight_;
  std::optional<long> padding_idx_;
};

}  // namespace bprop::nn
