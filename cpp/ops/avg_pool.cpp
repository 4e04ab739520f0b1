// Average pooling, forward and backward, with PyTorch's divisor: the window clipped to the padded input
// (which ceil_mode's last window may overhang) when count_include_pad, else to the input alone. The
// divisor is a product of a row count and a column count, so each output row computes its own once.
// Each output sums its window row by row from 0, as PyTorch does.
#include <algorithm>
#include <cstring>

#include "ops/plane_parallel.h"
#include "ops/pool_windows.h"
#include "ops/pooling.h"

namespace bprop::ops {
namespace {

// Where output o's window lies on one axis: the input positions [begin, end) and its divisor's factor.
struct Extent {
  long begin, end, count;
};

inline Extent extent(long o, long in, long kernel, long stride, long padding, bool count_include_pad) {
  const long start = o * stride - padding;
  const long stop = std::min(start + kernel, in + padding);  // clipped to the padded input
  const long begin = std::max(start, 0L), end = std::min(stop, in);
  return {begin, end, count_include_pad ? stop - start : end - begin};
}

// How many outputs the vector loops take at a time: their gradients sit in a buffer on the stack.
constexpr int kChunk = 256;

template <typename T, long kStride>
void sum_interior(const T* x, long w, Extent rows, long kw, long stride, long base, long n, T* y) {
  const long s = kStride ? kStride : stride;
  for (long i = 0; i < n; ++i) y[i] = T(0);
  for (long ih = rows.begin; ih < rows.end; ++ih)
    for (long c = 0; c < kw; ++c) {
      const T* in = x + ih * w + base + c;
      for (long i = 0; i < n; ++i) y[i] += in[i * s];
    }
  const T divisor = T(rows.count * kw);
  for (long i = 0; i < n; ++i) y[i] /= divisor;
}

// dx += each of m outputs' gradient over its window (m <= kChunk).
template <typename T, long kStride>
void spread_chunk(const T* dy, long w, Extent rows, long kw, long stride, long base, int m, T* dx) {
  const long s = kStride ? kStride : stride;
  const T divisor = T(rows.count * kw);
  T grad[kChunk];
  for (int i = 0; i < m; ++i) grad[i] = dy[i] / divisor;
  for (long ih = rows.begin; ih < rows.end; ++ih)
    for (long c = 0; c < kw; ++c) {
      T* out = dx + ih * w + base + c;
      for (int i = 0; i < m; ++i) out[i * s] += grad[i];
    }
}

template <typename T, long kStride>
void spread_interior(const T* dy, long w, Extent rows, long kw, long stride, long base, long n, T* dx) {
  for (long first = 0; first < n; first += kChunk)
    spread_chunk<T, kStride>(dy + first, w, rows, kw, stride, base + first * (kStride ? kStride : stride),
                             int(std::min<long>(kChunk, n - first)), dx);
}

// For each output row: the border outputs one by one (`one(ow, rows)`), then the interior run
// (`run(oh, rows, base, begin, n)`); windows that hold no input value (none do under PyTorch's padding rule,
// kept for safety) are left to `one`.
template <class One, class Run>
void each_row(const PoolGeometry& g, One&& one, Run&& run) {
  const PoolOptions& o = g.options;
  const windows::Interior inner = windows::interior(g.out_w, g.in.width, o.kernel[1], o.stride[1], o.padding[1], 1);
  for (long oh = 0; oh < g.out_h; ++oh) {
    const Extent rows = extent(oh, g.in.height, o.kernel[0], o.stride[0], o.padding[0], o.count_include_pad);
    const bool fast = rows.begin < rows.end && inner.begin < inner.end;
    for (long ow = 0; ow < g.out_w; ++ow) {
      if (fast && ow == inner.begin) ow = inner.end;
      if (ow < g.out_w) one(oh, ow, rows);
    }
    if (fast) run(oh, rows, inner.begin * o.stride[1] - o.padding[1], inner.begin, inner.end - inner.begin);
  }
}

template <typename T>
void avg_plane(const T* x, const PoolGeometry& g, T* y) {
  const PoolOptions& o = g.options;
  const long w = g.in.width;
  each_row(
      g,
      [&](long oh, long ow, Extent rows) {
        const Extent cols = extent(ow, w, o.kernel[1], o.stride[1], o.padding[1], o.count_include_pad);
        T sum = T(0);
        for (long ih = rows.begin; ih < rows.end; ++ih)
          for (long iw = cols.begin; iw < cols.end; ++iw) sum += x[ih * w + iw];
        const bool empty = rows.begin >= rows.end || cols.begin >= cols.end;
        y[oh * g.out_w + ow] = empty ? T(0) : sum / T(rows.count * cols.count);
      },
      [&](long oh, Extent rows, long base, long begin, long n) {
        windows::with_stride(o.stride[1], [&](auto stride) {
          sum_interior<T, decltype(stride)::value>(x, w, rows, o.kernel[1], o.stride[1], base, n,
                                                   y + oh * g.out_w + begin);
        });
      });
}

template <typename T>
void avg_plane_backward(const T* dy, const PoolGeometry& g, T* dx) {
  const PoolOptions& o = g.options;
  const long w = g.in.width;
  std::memset(static_cast<void*>(dx), 0, sizeof(T) * std::size_t(g.in_plane()));
  each_row(
      g,
      [&](long oh, long ow, Extent rows) {
        const Extent cols = extent(ow, w, o.kernel[1], o.stride[1], o.padding[1], o.count_include_pad);
        if (rows.begin >= rows.end || cols.begin >= cols.end) return;
        const T grad = dy[oh * g.out_w + ow] / T(rows.count * cols.count);
        for (long ih = rows.begin; ih < rows.end; ++ih)
          for (long iw = cols.begin; iw < cols.end; ++iw) dx[ih * w + iw] += grad;
      },
      [&](long oh, Extent rows, long base, long begin, long n) {
        windows::with_stride(o.stride[1], [&](auto stride) {
          spread_interior<T, decltype(stride)::value>(dy + oh * g.out_w + begin, w, rows, o.kernel[1], o.stride[1],
                                                      base, n, dx);
        });
      });
}

double window_work(const PoolGeometry& g) {
  return double(g.out_plane()) * double(g.options.kernel[0]) * double(g.options.kernel[1]);
}

}  // namespace

template <typename T>
void avg_pool_forward(const T* x, long planes, const PoolGeometry& g, T* y) {
  const long in = g.in_plane(), out = g.out_plane();
  for_planes(planes, window_work(g), [&](long first, long end) {
    for (long p = first; p < end; ++p) avg_plane(x + p * in, g, y + p * out);
  });
}

template <typename T>
void avg_pool_backward(const T* dy, long planes, const PoolGeometry& g, T* dx) {
  const long in = g.in_plane(), out = g.out_plane();
  for_planes(planes, window_work(g) + double(in), [&](long first, long end) {
    for (long p = first; p < end; ++p) avg_plane_backward(dy + p * out, g, dx + p * in);
  });
}

template void avg_pool_forward<float>(const float*, long, const PoolGeometry&, float*);
template void avg_pool_forward<double>(const double*, long, const PoolGeometry&, double*);
template void avg_pool_backward<float>(const float*, long, const PoolGeometry&, float*);
template void avg_pool_backward<double>(const double*, long, const PoolGeometry&, double*);

}  // namespace bprop::ops
