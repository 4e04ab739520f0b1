#include "nn/reshape.h"

#include <cstring>

#include "core/error.h"
#include "core/sizes.h"

namespace bprop::nn {

template <typename T>
void ShapeOnlyLayer<T>::infer(const T* x, long rows, T* y) const {
  if (x != y) std::memcpy(y, x, sizeof(T) * std::size_t(rows * this->in_size_));
}

template <typename T>
void ShapeOnlyLayer<T>::backward(const T*, const T*, const T* dy, long rows, T* dx, bool) {
  if (dx && dx != dy) std::memcpy(dx, dy, sizeof(T) * std::size_t(rows * this->in_size_));
}

template <typename T>
Flatten<T>::Flatten(long start_dim, long end_dim) : start_dim_(start_dim), end_dim_(end_dim) {
  if (start_dim < 1)
    throw ValueError("[Flatten] start_dim must be >= 1 (axis 0 holds the samples, which stay apart); got " +
                     std::to_string(start_dim));
}

template <typename T>
SampleShape Flatten<T>::reshaped(const SampleShape& in) const {
  const long rank = long(in.size()) + 1;  // with the batch axis, as PyTorch counts
  const long first = start_dim_, last = end_dim_ < 0 ? end_dim_ + rank : end_dim_;
  if (first >= rank || last < first || last >= rank)
    throw ValueError("[Flatten] start_dim " + std::to_string(start_dim_) + " and end_dim " + std::to_string(end_dim_) +
                     " do not name axes of a batch of samples of shape " + shape_text(in));
  SampleShape out(in.begin(), in.begin() + (first - 1));
  long merged = 1;
  for (long axis = first; axis <= last; ++axis) merged *= in[axis - 1];
  out.push_back(merged);
  out.insert(out.end(), in.begin() + last, in.end());
  return out;
}

template <typename T>
Reshape<T>::Reshape(std::vector<long> shape) : shape_(std::move(shape)) {
  long unknown = 0;
  for (long size : shape_) {
    if (size == -1) ++unknown;
    else if (size < 1) unknown = 2;
  }
  if (shape_.empty() || unknown > 1)
    throw ValueError("[Reshape] shape must be sizes >= 1, one of them -1 at most; got " + shape_text(shape_));
  std::vector<long> known = shape_;
  for (long& size : known) size = size == -1 ? 1 : size;
  checked_count(known, 1, "[Reshape] shape");
}

template <typename T>
SampleShape Reshape<T>::reshaped(const SampleShape& in) const {
  const long values = sample_size(in, "[Reshape]");
  long known = 1;
  for (long size : shape_) known *= size == -1 ? 1 : size;
  SampleShape out = shape_;
  for (long& size : out)
    if (size == -1) size = values % known == 0 ? values / known : -1;
  if (product_or_overflow(out) != values)
    throw ValueError("[Reshape] cannot reshape samples of shape " + shape_text(in) + " (" + std::to_string(values) +
                     " values) to " + shape_text(shape_));
  return out;
}

template class ShapeOnlyLayer<float>;
template class ShapeOnlyLayer<double>;
template class Flatten<float>;
template class Flatten<double>;
template class Reshape<float>;
template class Reshape<double>;

}  // namespace bprop::nn
