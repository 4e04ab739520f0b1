// A recurrent layer (nn/recurrent.h) on tensors, as a Module calls it: PyTorch's output, (h_n, c_n) = lstm(x,
// (h0, c0)), with gradients to x, the initial states and the parameters through one graph node whose vjp is the
// layer's backward_states (BPTT in one call). The node's output packs y, h_n and c_n end to end; the three
// tensors handed back are its parts, so gradients reaching any of them meet in that one backward.
#pragma once
#include <cstdint>
#include <memory>
#include <vector>

#include "autograd/tensor.h"
#include "nn/recurrent.h"

namespace bprop::autograd {

// x (samples, time, input_size); h0, c0 (state_count, samples, hidden) or null (zeros; c0 only for LSTM);
// lengths: `samples` values in [1, time] or null, checked by the caller, read during this call only.
// Returns {y, h_n, c_n}, c_n null but for LSTM. ValueError for shapes, TypeError for dtypes. Without training
// and without anything to record, runs the cache-free inference (safe across threads).
template <typename T>
std::vector<Tensor> apply_recurrent(const std::shared_ptr<nn::Recurrent<T>>& layer, const Tensor& x, const Tensor& h0,
                                    const Tensor& c0, const int64_t* lengths, bool training);

}  // namespace bprop::autograd
