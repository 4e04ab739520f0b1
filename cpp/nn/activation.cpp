#include "nn/activation.h"

#include "core/error.h"
#include "ops/softmax.h"

namespace bprop::nn {

template <typename T>
ActivationLayer<T>::ActivationLayer(const std::string& name, double param)
    : kind_(ops::activation_from_name(name)), param_(T(param)) {
  if (kind_ == ops::Activation::elu && !(param > 0))
    throw ValueError("[ELU] alpha must be > 0; got " + std::to_string(param));
}

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
  ops::activation_forward(kind_, param_, x, y, rows * this->in_size_);
}

template <typename T>
void ActivationLayer<T>::backward(const T* x, const T* y, const T* dy, long rows, T* dx, bool) {
  if (dx) ops::activation_backward(kind_, param_, x, y, dy, dx, rows * this->in_size_);
}

template <typename T>
const ElementwiseFromOutput<T>* ActivationLayer<T>::elementwise_from_output() const {
  return ops::derivative_from_output(kind_, double(param_)) ? this : nullptr;
}

template <typename T>
void ActivationLayer<T>::apply_block(T* y, long rows, long cols, long ld) const {
  ops::bias_activation_block(kind_, param_, static_cast<const T*>(nullptr), y, rows, cols, ld);
}

template <typename T>
void ActivationLayer<T>::backward_from_output(const T* y, const T* dy, T* dx, long n) const {
  ops::activation_backward(kind_, param_, y, y, dy, dx, n);  // y stands in for x: f' needs only y
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
