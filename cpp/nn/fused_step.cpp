#include "nn/fused_step.h"

namespace bprop::nn {

template <typename T>
FusedStep<T>::FusedStep(LayerPtr<T> first, LayerPtr<T> second)
    : first_(std::move(first)),
      second_(std::move(second)),
      gemm_(first_->gemm_output()),
      map_(second_->elementwise_from_output()) {
  this->set_shapes(first_->in_shape(), second_->out_shape());
}

template <typename T>
LayerPtr<T> FusedStep<T>::fuse(const LayerPtr<T>& first, const LayerPtr<T>& second) {
  if (!first || !second || !first->gemm_output() || !second->elementwise_from_output()) return nullptr;
  return LayerPtr<T>(new FusedStep<T>(first, second));
}

template <typename T>
SampleShape FusedStep<T>::build(const SampleShape& in) {
  return this->set_shapes(in, second_->build(first_->build(in)));
}

template <typename T>
void FusedStep<T>::forward(const T* x, long rows, T* y, Mode) {
  infer(x, rows, y);
}

template <typename T>
void FusedStep<T>::infer(const T* x, long rows, T* y) const {
  gemm_->forward_then(x, rows, y, *map_);
}

template <typename T>
void FusedStep<T>::backward(const T* x, const T* y, const T* dy, long rows, T* dx, bool accumulate) {
  const long n = rows * this->out_size_;
  grad_pre_.resize(n);
  map_->backward_from_output(y, dy, grad_pre_.data(), n);
  first_->backward(x, nullptr, grad_pre_.data(), rows, dx, accumulate);
}

template class FusedStep<float>;
template class FusedStep<double>;

}  // namespace bprop::nn
