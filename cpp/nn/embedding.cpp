#include "nn/embedding.h"

#include <algorithm>
#include <cstring>

#include "core/error.h"
#include "core/random.h"
#include "core/sizes.h"

namespace bprop::nn {

template <typename T>
Embedding<T>::Embedding(long num_embeddings, long embedding_dim, uint64_t seed, std::optional<long> padding_idx) {
  if (num_embeddings < 1 || embedding_dim < 1)
    throw ValueError("[Embedding] num_embeddings and embedding_dim must be >= 1; got " +
                     std::to_string(num_embeddings) + " and " + std::to_string(embedding_dim));
  if (padding_idx && (*padding_idx < -num_embeddings || *padding_idx >= num_embeddings))
    throw ValueError("[Embedding] padding_idx must be in [" + std::to_string(-num_embeddings) + ", " +
                     std::to_string(num_embeddings) + ") for a table of " + std::to_string(num_embeddings) +
                     " rows; got " + std::to_string(*padding_idx));
  checked_count({num_embeddings, embedding_dim}, 2 * sizeof(T), "[Embedding] weight");  // before allocating
  weight_ = std::make_shared<Parameter<T>>("weight", std::vector<long>{num_embeddings, embedding_dim});
  Generator rng(seed);
  for (long i = 0; i < weight_->size(); ++i) weight_->value[i] = T(rng.normal());
  if (padding_idx) {  // drawn like the others (a seed gives the same other rows), then zeroed
    padding_idx_ = *padding_idx < 0 ? *padding_idx + num_embeddings : *padding_idx;
    std::fill(weight_->value.data() + *padding_idx_ * embedding_dim,
              weight_->value.data() + (*padding_idx_ + 1) * embedding_dim, T(0));
  }
}

template <typename T>
SampleShape Embedding<T>::build(const SampleShape& in) {
  SampleShape out = in;
  out.push_back(weight_->shape[1]);
  return this->set_shapes(in, out);
}

template <typename T>
void Embedding<T>::infer_indices(const int64_t* x, long rows, T* y) const {
  const long dim = weight_->shape[1], n = rows * this->in_size_;
  const T* table = weight_->value.data();
  for (long i = 0; i < n; ++i) std::memcpy(y + i * dim, table + x[i] * dim, sizeof(T) * std::size_t(dim));
}

template <typename T>
void Embedding<T>::backward_indices(const int64_t* x, const T*, const T* dy, long rows, bool accumulate) {
  const long dim = weight_->shape[1], n = rows * this->in_size_;
  if (!accumulate) weight_->grad.fill(T(0));
  T* grad = weight_->grad.data();
  const int64_t skip = padding_idx_ ? *padding_idx_ : -1;  // indices are >= 0: -1 skips none
  for (long i = 0; i < n; ++i) {  // in sample order: the same sums at any thread count
    if (x[i] == skip) continue;
    T* row = grad + x[i] * dim;
    for (long j = 0; j < dim; ++j) row[j] += dy[i * dim + j];
  }
}

template class Embedding<float>;
template class Embedding<double>;

}  // namespace bprop::nn
