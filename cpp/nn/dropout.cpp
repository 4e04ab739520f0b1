#include "nn/dropout.h"

#include <cstring>

#include "core/error.h"

namespace bprop::nn {

template <typename T>
Dropout<T>::Dropout(double p, uint64_t seed) : p_(p), seed_(seed) {
  if (!(p >= 0 && p <= 1)) throw ValueError("[Dropout] p must be in [0, 1]; got " + std::to_string(p));
}

template <typename T>
void Dropout<T>::forward(const T* x, long rows, T* y, Mode mode) {
  const long n = rows * this->in_size_;
  last_training_ = mode != Mode::eval && p_ > 0;
  if (!last_training_) return infer(x, rows, y);
  if (mode == Mode::train) mask_key_ = mix64(seed_ ^ mix64(++steps_));  // replay keeps the last key
  mask_.resize(n);
  const T keep_scale = p_ < 1 ? T(1 / (1 - p_)) : T(0);
  for (long i = 0; i < n; ++i) {
    mask_[i] = counter_uniform(mask_key_, uint64_t(i)) >= p_ ? keep_scale : T(0);
    y[i] = x[i] * mask_[i];
  }
}

template <typename T>
void Dropout<T>::infer(const T* x, long rows, T* y) const {
  const long n = rows * this->in_size_;
  if (x != y) std::memcpy(y, x, sizeof(T) * std::size_t(n));
}

template <typename T>
void Dropout<T>::backward(const T*, const T*, const T* dy, long rows, T* dx, bool) {
  if (!dx) return;
  const long n = rows * this->in_size_;
  for (long i = 0; i < n; ++i) dx[i] = last_training_ ? dy[i] * mask_[i] : dy[i];
}

template class Dropout<float>;
template class Dropout<double>;

}  // namespace bprop::nn
