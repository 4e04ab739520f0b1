// Max pooling, forward (with or without the argmax) and backward. PyTorch's rule in every window: scan it row
// by row, take a value when it is greater than the best so far or NaN; so ties go to the first maximum and a
// NaN wins (the last one, when several). A window starts with its first input value, which the scan then
// compares with itself: the same result as PyTorch's start from -inf.
#include <cstring>
#include <limits>

#include "ops/plane_parallel.h"
#include "ops/pool_windows.h"
#include "ops/pooling.h"

namespace bprop::ops {
namespace {

using windows::Span;

// Bitwise |, not ||: no branch, so the loops over outputs stay vectorisable.
template <typename T>
inline bool takes(T value, T best) {
  return (value > best) | (value != value);
}

// One output, its window clipped to the input: the border outputs and any that the fast loop does not take.
template <typename T>
void one_window(const T* x, const PoolGeometry& g, long h0, Span rows, long ow, T* y, int32_t* argmax) {
  const PoolOptions& o = g.options;
  const long w = g.in.width;
  const Span cols = windows::span(ow, w, o.kernel[1], o.stride[1], o.padding[1], o.dilation[1]);
  const long w0 = ow * o.stride[1] - o.padding[1];
  if (rows.empty() || cols.empty()) {  // no input value in the window: max of nothing, and no gradient
    *y = -std::numeric_limits<T>::infinity();
    if (argmax) *argmax = -1;
    return;
  }
  long best_at = (h0 + rows.first * o.dilation[0]) * w + w0 + cols.first * o.dilation[1];
  T best = x[best_at];
  for (long j = rows.first; j < rows.end; ++j) {
    const long row = (h0 + j * o.dilation[0]) * w + w0;
    for (long i = cols.first; i < cols.end; ++i) {
      const long at = row + i * o.dilation[1];
      if (takes(x[at], best)) {
        best = x[at];
        best_at = at;
      }
    }
  }
  *y = best;
  if (argmax) *argmax = int32_t(best_at);
}

// Outputs [0, n) of a row whose windows lie wholly inside the input along the width; `base` is the input
// offset of output 0's window's first column in the window's first row. The loop over outputs is innermost
// and reads inputs kStride apart (kStride 0: `stride`), so it vectorises; each output still sees its window's
// values in scan order.
template <typename T, bool kArgmax, long kStride>
void interior_row(const T* x, long w, long h0, long dh, Span rows, long kw, long stride, long dw, long base, int n,
                  T* y, int32_t* argmax) {
  const long s = kStride ? kStride : stride;
  const long first = (h0 + rows.first * dh) * w + base;
  for (int i = 0; i < n; ++i) {
    y[i] = x[first + i * s];
    if (kArgmax) argmax[i] = int32_t(first + i * s);
  }
  for (long j = rows.first; j < rows.end; ++j)
    for (long c = 0; c < kw; ++c) {
      const long offset = (h0 + j * dh) * w + base + c * dw;
      const T* in = x + offset;
      const int32_t at = int32_t(offset), step = int32_t(s);
      for (int i = 0; i < n; ++i) {  // loads into locals, then selects: gcc if-converts (and vectorises) this form
        const T v = in[i * s], best = y[i];
        const bool take = takes(v, best);
        if (kArgmax) {
          const int32_t best_at = argmax[i];
          argmax[i] = take ? at + i * step : best_at;
        }
        y[i] = take ? v : best;
      }
    }
}

template <typename T, bool kArgmax>
void max_plane(const T* x, const PoolGeometry& g, T* y, int32_t* argmax) {
  const PoolOptions& o = g.options;
  const windows::Interior inner =
      windows::interior(g.out_w, g.in.width, o.kernel[1], o.stride[1], o.padding[1], o.dilation[1]);
  for (long oh = 0; oh < g.out_h; ++oh) {
    const Span rows = windows::span(oh, g.in.height, o.kernel[0], o.stride[0], o.padding[0], o.dilation[0]);
    const long h0 = oh * o.stride[0] - o.padding[0];
    T* yr = y + oh * g.out_w;
    int32_t* ar = kArgmax ? argmax + oh * g.out_w : nullptr;
    const bool fast = !rows.empty() && inner.begin < inner.end;
    for (long ow = 0; ow < g.out_w; ++ow) {
      if (fast && ow == inner.begin) ow = inner.end;  // taken below
      if (ow < g.out_w) one_window(x, g, h0, rows, ow, yr + ow, kArgmax ? ar + ow : nullptr);
    }
    if (!fast) continue;
    const long base = inner.begin * o.stride[1] - o.padding[1];
    windows::with_stride(o.stride[1], [&](auto stride) {
      interior_row<T, kArgmax, decltype(stride)::value>(x, g.in.width, h0, o.dilation[0], rows, o.kernel[1],
                                                         o.stride[1], o.dilation[1], base,
                                                         int(inner.end - inner.begin), yr + inner.begin,
                                                         kArgmax ? ar + inner.begin : nullptr);
    });
  }
}

double window_work(const PoolGeometry& g) {
  return double(g.out_plane()) * double(g.options.kernel[0]) * double(g.options.kernel[1]);
}

}  // namespace

template <typename T>
void max_pool_forward(const T* x, long planes, const PoolGeometry& g, T* y, int32_t* argmax) {
  const long in = g.in_plane(), out = g.out_plane();
  for_planes(planes, window_work(g), [&](long first, long end) {
    for (long p = first; p < end; ++p) {
      if (argmax)
        max_plane<T, true>(x + p * in, g, y + p * out, argmax + p * out);
      else
        max_plane<T, false>(x + p * in, g, y + p * out, nullptr);
    }
  });
}

template <typename T>
void max_pool_backward(const T* dy, const int32_t* argmax, long planes, const PoolGeometry& g, T* dx) {
  const long in = g.in_plane(), out = g.out_plane();
  for_planes(planes, double(in + out), [&](long first, long end) {
    for (long p = first; p < end; ++p) {
      T* d = dx + p * in;
      const T* g_out = dy + p * out;
      const int32_t* at = argmax + p * out;
      std::memset(static_cast<void*>(d), 0, sizeof(T) * std::size_t(in));
      for (long i = 0; i < out; ++i)
        if (at[i] >= 0) d[at[i]] += g_out[i];
    }
  });
}

template void max_pool_forward<float>(const float*, long, const PoolGeometry&, float*, int32_t*);
template void max_pool_forward<double>(const double*, long, const PoolGeometry&, double*, int32_t*);
template void max_pool_backward<float>(const float*, const int32_t*, long, const PoolGeometry&, float*);
template void max_pool_backward<double>(const double*, const int32_t*, long, const PoolGeometry&, double*);

}  // namespace bprop::ops
