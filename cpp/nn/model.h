// A built network with its own input and output buffers: what a Python Sequential drives, and what
// the trainer gathers batches into. forward keeps x and y for the backward that follows; whoever calls
// input/forward/backward holds net().cache_mutex() (they share those buffers and the layers' caches).
// predict shares nothing: any number of threads may run it at once.
#pragma once
#include <memory>
#include <thread>

#include "core/array.h"
#include "nn/sequential.h"

namespace bprop::nn {

template <typename T>
class Model {
 public:
  // Builds `net` for samples of shape `in` (ValueError naming the layer that does not fit).
  Model(std::shared_ptr<Sequential<T>> net, const SampleShape& in);

  const SampleShape& in_shape() const { return in_shape_; }
  const SampleShape& out_shape() const { return out_shape_; }
  long in_size() const { return in_size_; }  // values per sample, in and out
  long out_size() const { return out_size_; }
  Sequential<T>& net() { return *net_; }

  // The input buffer for `rows` samples (grown, reused); the trainer gathers batches straight into it.
  // A network whose first layer takes indices (nn/indices.h) reads index_input instead.
  T* input(long rows);
  int64_t* index_input(long rows);
  bool takes_indices() const { return net_->index_input() != nullptr; }
  long index_count() const { return net_->index_input()->index_count(); }  // when takes_indices()
  void check_indices(const int64_t* x, long rows, const std::string& where) const {  // when takes_indices()
    net_->index_input()->check_indices(x, rows, where);
  }
  // Forward over the `rows` samples in input(); returns the output, rows × out_size.
  const T* forward(long rows, Mode mode);
  // Backward from dout (rows × out_size, of the last forward): parameter gradients only.
  void backward(const T* dout, bool accumulate);
  long last_rows() const { return rows_; }
  // Whether the last forward ran on the calling thread: a backward from another thread's forward would
  // mix two threads' batches (the bindings refuse it).
  bool last_forward_on_this_thread() const { return forward_thread_ == std::this_thread::get_id(); }
  // Outputs for x (rows × in_size) in evaluation mode, batch_size rows at a time, into out.
  void predict(const T* x, long rows, long batch_size, T* out) const;
  void predict_indices(const int64_t* x, long rows, long batch_size, T* out) const;  // indices checked in range

 private:
  // ValueError when the network was built again for another shape (it is also used elsewhere).
  void check_net_unchanged() const;

  std::shared_ptr<Sequential<T>> net_;
  SampleShape in_shape_, out_shape_;
  long in_size_, out_size_;
  Array<T> input_, output_;
  Array<int64_t> index_input_;
  long rows_ = 0;
  std::thread::id forward_thread_;
};

}  // namespace bprop::nn
