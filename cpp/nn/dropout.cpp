#include "nn/dropout.h"

namespace bprop::nn {

template <typename T>
void Dropout<T>::forward(const T* x, long rows, T* y, Mode mode) {
  if (!this->dropping(mode)) return this->infer(x, rows, y);
  const long n = rows * this->in_size_;
  this->draw_mask(n);
  for (long i = 0; i < n; ++i) y[i] = x[i] * this->mask_[i];
}

template <typename T>
void Dropout<T>::backward(const T*, const T*, const T* dy, long rows, T* dx, bool) {
  if (!dx) return;
  const long n = rows * this->in_size_;
  for (long i = 0; i < n; ++i) dx[i] = this->last_training_ ? dy[i] * this->mask_[i] : dy[i];
}

template class Dropout<float>;
template class Dropout<double>;

}  // namespace bprop::nn
