#include "nn/model.h"

#include <algorithm>

#include "core/error.h"
#include "core/interrupt.h"
#include "core/sizes.h"

namespace bprop::nn {

template <typename T>
Model<T>::Model(std::shared_ptr<Sequential<T>> net, const SampleShape& in)
    : net_(std::move(net)), in_shape_(in), out_shape_(net_->build(in)), in_size_(net_->in_size()),
      out_size_(net_->out_size()) {}

template <typename T>
void Model<T>::check_net_unchanged() const {
  if (net_->in_shape() != in_shape_)
    throw ValueError("[Sequential] its network was built for samples of shape " + shape_text(net_->in_shape()) +
                     " by another use since this model was built for " + shape_text(in_shape_) +
                     "; give each use its own layer objects");
}

template <typename T>
T* Model<T>::input(long rows) {
  input_.resize(rows * in_size_);
  return input_.data();
}

template <typename T>
int64_t* Model<T>::index_input(long rows) {
  index_input_.resize(rows * in_size_);
  return index_input_.data();
}

template <typename T>
const T* Model<T>::forward(long rows, Mode mode) {
  check_net_unchanged();
  output_.resize(rows * out_size_);
  if (auto* indices = net_->index_input())
    indices->forward_indices(index_input_.data(), rows, output_.data(), mode);
  else
    net_->forward(input_.data(), rows, output_.data(), mode);
  rows_ = rows;
  forward_thread_ = std::this_thread::get_id();
  return output_.data();
}

template <typename T>
void Model<T>::backward(const T* dout, bool accumulate) {
  check_net_unchanged();
  if (auto* indices = net_->index_input())
    indices->backward_indices(index_input_.data(), output_.data(), dout, rows_, accumulate);
  else
    net_->backward(input_.data(), output_.data(), dout, rows_, nullptr, accumulate);
}

template <typename T>
void Model<T>::predict(const T* x, long rows, long batch_size, T* out) const {
  check_net_unchanged();
  for (long start = 0; start < rows; start += batch_size) {
    const long n = std::min(batch_size, rows - start);
    net_->infer(x + start * in_size_, n, out + start * out_size_);
    throw_if_interrupted();  // Ctrl-C between batches
  }
}

template <typename T>
void Model<T>::predict_indices(const int64_t* x, long rows, long batch_size, T* out) const {
  check_net_unchanged();
  for (long start = 0; start < rows; start += batch_size) {
    const long n = std::min(batch_size, rows - start);
    net_->index_input()->infer_indices(x + start * in_size_, n, out + start * out_size_);
    throw_if_interrupted();  // Ctrl-C between batches
  }
}

template class Model<float>;
template class Model<double>;

}  // namespace bprop::nn
