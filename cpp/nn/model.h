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
  // Builds `net` for in_features (ValueError naming the layer that does not fit).
  Model(std::shared_ptr<Sequential<T>> net, long in_features);

  long in_features() const { return in_features_; }
  long out_features() const { return out_features_; }
  Sequential<T>& net() { return *net_; }

  // The input buffer for `rows` samples (grown, reused); the trainer gathers batches straight into it.
  T* input(long rows);
  // Forward over the `rows` samples in input(); returns the output, rows × out_features.
  const T* forward(long rows, bool training);
  // Backward from dout (rows × out_features of the last forward): parameter gradients only.
  void backward(const T* dout, bool accumulate);
  long last_rows() const { return rows_; }
  // Whether the last forward ran on the calling thread: a backward from another thread's forward would
  // mix two threads' batches (the bindings refuse it).
  bool last_forward_on_this_thread() const { return forward_thread_ == std::this_thread::get_id(); }
  // Outputs for x (rows × in_features) in evaluation mode, batch_size rows at a time, into out.
  void predict(const T* x, long rows, long batch_size, T* out) const;

 private:
  std::shared_ptr<Sequential<T>> net_;
  long in_features_, out_features_;
  Array<T> input_, output_;
  long rows_ = 0;
  std::thread::id forward_thread_;
};

}  // namespace bprop::nn
