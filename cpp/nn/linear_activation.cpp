#include "nn/linear_activation.h"

namespace bprop::nn {

template <typename T>
LinearActivation<T>::LinearActivation(std::shared_ptr<Linear<T>> linear, std::shared_ptr<ActivationLayer<T>> activation)
    : linear_(std::move(linear)), activation_(std::move(activation)) {
  this->in_features_ = linear_->in_features();
  this->out_features_ = linear_->out_features();
}

template <typename T>
LayerPtr<T> LinearActivation<T>::fuse(const LayerPtr<T>& first, const LayerPtr<T>& second) {
  auto linear = std::dynamic_pointer_cast<Linear<T>>(first);
  auto activation = std::dynamic_pointer_cast<ActivationLayer<T>>(second);
  if (!linear || !activation || !ops::derivative_from_output(activation->kind(), double(activation->param())))
    return nullptr;
  return LayerPtr<T>(new LinearActivation<T>(std::move(linear), std::move(activation)));
}

template <typename T>
long LinearActivation<T>::build(long in_features) {
  return activation_->build(linear_->build(in_features));
}

template <typename T>
void LinearActivation<T>::forward(const T* x, long rows, T* y, bool) {
  infer(x, rows, y);
}

template <typename T>
void LinearActivation<T>::infer(const T* x, long rows, T* y) const {
  linear_->forward_activated(x, rows, y, activation_->kind(), activation_->param());
}

template <typename T>
void LinearActivation<T>::backward(const T* x, const T* y, const T* dy, long rows, T* dx, bool accumulate) {
  const long n = rows * this->out_features_;
  grad_pre_.resize(n);
  // y stands in for the activation's input: derivative_from_output said its derivative needs only y.
  ops::activation_backward(activation_->kind(), activation_->param(), y, y, dy, grad_pre_.data(), n);
  linear_->backward(x, nullptr, grad_pre_.data(), rows, dx, accumulate);
}

template class LinearActivation<float>;
template class LinearActivation<double>;

}  // namespace bprop::nn
