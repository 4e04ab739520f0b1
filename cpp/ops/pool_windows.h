// Where the windows of a pool lie on one axis, shared by the max and average kernels. Output o's window
// starts at o·stride − padding and takes `kernel` positions `dilation` apart; the positions outside
// [0, in) are padding.
#pragma once
#include <algorithm>

#include "ops/pooling.h"

namespace bprop::ops::windows {

// The window positions j in [first, end) of output o that fall inside the input (empty when first >= end).
struct Span {
  long first, end;
  bool empty() const { return first >= end; }
};

inline Span span(long o, long in, long kernel, long stride, long padding, long dilation) {
  const long start = o * stride - padding;
  const long first = start >= 0 ? 0 : (-start + dilation - 1) / dilation;
  const long end = start >= in ? 0 : std::min(kernel, (in - 1 - start) / dilation + 1);
  return {first, end};
}

// Outputs [begin, end) along the width whose windows lie wholly inside the input: the fast loops take them,
// the few at the borders go one by one.
struct Interior {
  long begin, end;
};

inline Interior interior(long out, long in, long kernel, long stride, long padding, long dilation) {
  const long begin = std::min(out, (padding + stride - 1) / stride);
  const long last_start = in - 1 - (kernel - 1) * dilation + padding;  // the largest o·stride that fits
  const long end = last_start < 0 ? begin : std::clamp(last_start / stride + 1, begin, out);
  return {begin, end};
}

// A loop over a row of outputs reads inputs `stride` apart; the common strides are compile-time constants so
// the compiler can vectorise the strided loads (0: the stride is a run-time value).
template <class Body>
void with_stride(long stride, Body&& body) {
  if (stride == 1) return body(std::integral_constant<long, 1>());
  if (stride == 2) return body(std::integral_constant<long, 2>());
  body(std::integral_constant<long, 0>());
}

}  // namespace bprop::ops::windows
