// Row-wise softmax and log-softmax over rows × cols values, max-shifted so logits of any size stay
// finite; and the softmax's backward. CrossEntropy, the Softmax layer and autograd all use these.
#pragma once

namespace bprop::ops {

template <typename T>
void softmax_rows(const T* x, long rows, long cols, T* y);

template <typename T>
void log_softmax_rows(const T* x, long rows, long cols, T* y);

// dx = y ⊙ (dy − Σⱼ dyⱼ·yⱼ), row by row, from the softmax output y.
template <typename T>
void softmax_rows_backward(const T* y, const T* dy, long rows, long cols, T* dx);

}  // namespace bprop::ops
