#include "nn/model.h"

#include <algorithm>

#include "core/interrupt.h"

namespace bprop::nn {

template <typename T>
Model<T>::Model(std::shared_ptr<Sequential<T>> net, long in_features)
    : net_(std::move(net)), in_features_(in_features), out_features_(net_->build(in_features)) {}

template <typename T>
T* Model<T>::input(long rows) {
  input_.resize(rows * in_features_);
  return input_.data();
}

template <typename T>
const T* Model<T>::forward(long rows, bool training) {
  output_.resize(rows * out_features_);
  net_->forward(input_.data(), rows, output_.data(), training);
  rows_ = rows;
  forward_thread_ = std::this_thread::get_id();
  return output_.data();
}

template <typename T>
void Model<T>::backward(const T* dout, bool accumulate) {
  net_->backward(input_.data(), output_.data(), dout, rows_, nullptr, accumulate);
}

template <typename T>
void Model<T>::predict(const T* x, long rows, long batch_size, T* out) const {
  for (long start = 0; start < rows; start += batch_size) {
    const long n = std::min(batch_size, rows - start);
    net_->infer(x + start * in_features_, n, out + start * out_features_);
    throw_if_interrupted();  // Ctrl-C between batches
  }
}

template class Model<float>;
template class Model<double>;

}  // namespace bprop::nn
