#include "nn/activation.h"

#include "core/error.h"
#include "ops/softmax.h"

namespace bprop::nn {

template <typename T>
ActivationLayer<T>::ActivationLayer(const std::string& name, const std::vector<double>& params)
    : activation_(name, params) {}

template <typename T>
SampleShape ActivationLayer<T>::build(const SampleShape& in) {
  return this->keep_shape(in);
}

template <typename T>
void ActivationLayer<T>::forward(const T* x, long rows, T* y, Mode) {
  infer(x, rows, y);
}

template <typename T>
void ActivationLayer<T>::infer(const T* x, long rows, T* y) const {
  activation_.forward(x, y, rows * this->in_size_);
}

template <typename T>
void ActivationLayer<T>::backward(const T* x, const T* y, const T* dy, long rows, T* dx, bool) {
  if (dx) activation_.backward(x, y, dy, dx, rows * this->in_size_);
}

template <typename T>
const ElementwiseFromOutput<T>* ActivationLayer<T>::elementwise_from_output() const {
  return activation_.derivative_from_output() ? this : nullptr;
}

template <typename T>
void ActivationLayer<T>::apply_block(T* y, long rows, long cols, long ld) const {
  activation_.apply_block(static_cast<const T*>(nullptr), y, rows, cols, ld);
}

template <typename T>
void ActivationLayer<T>::backward_from_output(const T* y, const T* dy, T* dx, long n) const {
  activation_.backward(y, y, dy, dx, n);  // y stands in for x: f' needs only y
}

template <typename T>
SampleShape Softmax<T>::build(const SampleShape& in) {
  return this->keep_shape(in);
}

template <typename T>
void Softmax<T>::forward(const T* x, long rows, T* y, Mode) {
  infer(x, rows, y);
}

template <typename T>
void Softmax<T>::infer(const T* x, long rows, T* y) const {
  ops::softmax_rows(x, this->last_axis_rows(rows), this->in_shape_.back(), y);
}

template <typename T>
void Softmax<T>::backward(const T*, const T* y, const T* dy, long rows, T* dx, bool) {
  if (dx) ops::softmax_rows_backward(y, dy, this->last_axis_rows(rows), this->in_shape_.back(), dx);
}

template class ActivationLayer<float>;
template class ActivationLayer<double>;
template class Softmax<float>;
template class Softmax<double>;

}  // namespace bprop::nn
