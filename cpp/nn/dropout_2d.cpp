#include "nn/dropout_2d.h"

#include <cstring>

#include "core/error.h"

namespace bprop::nn {

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
    const T m = q < mask_planes_ ? this->mask_[q] : T(1);
    for (long i = 0; i < plane; ++i) out[q * plane + i] = in[q * plane + i] * m;
  }
}

template <typename T>
void Dropout2d<T>::forward(const T* x, long rows, T* y, Mode mode) {
  if (!this->dropping(mode)) return this->infer(x, rows, y);
  const long planes = rows * this->in_shape_[0];
  this->draw_mask(planes);
  mask_planes_ = planes;
  apply_mask(x, rows, y);
}

template <typename T>
void Dropout2d<T>::backward(const T*, const T*, const T* dy, long rows, T* dx, bool) {
  if (!dx) return;
  if (this->last_training_)
    apply_mask(dy, rows, dx);
  else if (dx != dy)
    std::memcpy(dx, dy, sizeof(T) * std::size_t(rows * this->in_size_));
}

template class Dropout2d<float>;
template class Dropout2d<double>;

}  // namespace bprop::nn
