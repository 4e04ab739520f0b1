#include "nn/dropout_2d.h"

#include <cstring>

#include "core/error.h"
#include "core/random.h"

namespace bprop::nn {

template <typename T>
Dropout2d<T>::Dropout2d(double p, uint64_t seed) : p_(p), seed_(seed) {
  if (!(p >= 0 && p <= 1)) throw ValueError("[Dropout2d] p must be in [0, 1]; got " + std::to_string(p));
}

template <typename T>
SampleShape Dropout2d<T>::build(const SampleShape& in) {
  if (in.size() < 2)
    throw ValueError("[Dropout2d] expects samples of shape (C, *spatial), rank 2 or more, whose channels it drops; got " +
                     shape_text(in) + " (Dropout drops single values)");
  return this->keep_shape(in);
}

template <typename T>
void Dropout2d<T>::apply_mask(const T* in, long rows, T* out) const {
  const long planes = rows * this->in_shape_[0], plane = this->in_size_ / this->in_shape_[0];
  for (long q = 0; q < planes; ++q) {
    const T m = q < mask_planes_ ? mask_[q] : T(1);
    for (long i = 0; i < plane; ++i) out[q * plane + i] = in[q * plane + i] * m;
  }
}

template <typename T>
void Dropout2d<T>::forward(const T* x, long rows, T* y, Mode mode) {
  last_training_ = mode != Mode::eval && p_ > 0;
  if (!last_training_) return infer(x, rows, y);
  if (mode == Mode::train) mask_key_ = mix64(seed_ ^ mix64(++steps_));  // replay keeps the last key
  const long planes = rows * this->in_shape_[0];
  mask_.resize(planes);
  mask_planes_ = planes;
  const T keep_scale = p_ < 1 ? T(1 / (1 - p_)) : T(0);
  for (long q = 0; q < planes; ++q) mask_[q] = counter_uniform(mask_key_, uint64_t(q)) >= p_ ? keep_scale : T(0);
  apply_mask(x, rows, y);
}

template <typename T>
void Dropout2d<T>::infer(const T* x, long rows, T* y) const {
  if (x != y) std::memcpy(y, x, sizeof(T) * std::size_t(rows * this->in_size_));
}

template <typename T>
void Dropout2d<T>::backward(const T*, const T*, const T* dy, long rows, T* dx, bool) {
  if (!dx) return;
  if (last_training_)
    apply_mask(dy, rows, dx);
  else if (dx != dy)
    std::memcpy(dx, dy, sizeof(T) * std::size_t(rows * this->in_size_));
}

template class Dropout2d<float>;
template class Dropout2d<double>;

}  // namespace bprop::nn
