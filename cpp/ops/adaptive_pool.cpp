// Adaptive average pooling, forward and backward: output i of an axis of n inputs averages inputs
// [floor(i·n/out), ceil((i+1)·n/out)), PyTorch's rule (windows may overlap when out does not divide n).
// The common case is global average pooling (out 1 × 1): its window sum runs over whole rows with
// several partial sums, which the compiler vectorises, in a fixed order (the same at any thread count).
#include <cstring>

#include "ops/plane_parallel.h"
#include "ops/pooling.h"

namespace bprop::ops {
namespace {

// [begin, end) of output i's window; 128-bit products, since i·n may pass 2^63 for huge planes.
struct Window {
  long begin, end;
};

inline Window window(long i, long n, long out) {
  using Wide = __int128;
  return {long(Wide(i) * n / out), long((Wide(i + 1) * n + out - 1) / out)};
}

// Σ x[0..n) in a fixed order: 8 running sums (vectorised), combined pairwise, then the tail.
template <typename T>
T row_sum(const T* x, long n) {
  constexpr int kLanes = 8;
  if (n < 2 * kLanes) {
    T sum = T(0);
    for (long i = 0; i < n; ++i) sum += x[i];
    return sum;
  }
  T acc[kLanes] = {};
  long i = 0;
  for (; i + kLanes <= n; i += kLanes)
    for (int l = 0; l < kLanes; ++l) acc[l] += x[i + l];
  T sum = ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
  for (; i < n; ++i) sum += x[i];
  return sum;
}

template <typename T>
void adaptive_plane(const T* x, const AdaptiveGeometry& g, T* y) {
  const long h = g.in.height, w = g.in.width;
  for (long oh = 0; oh < g.out_h; ++oh) {
    const Window rows = window(oh, h, g.out_h);
    for (long ow = 0; ow < g.out_w; ++ow) {
      const Window cols = window(ow, w, g.out_w);
      T sum = T(0);
      if (cols.begin == 0 && cols.end == w)  // whole rows (global pooling): one contiguous run
        sum = row_sum(x + rows.begin * w, (rows.end - rows.begin) * w);
      else
        for (long ih = rows.begin; ih < rows.end; ++ih) sum += row_sum(x + ih * w + cols.begin, cols.end - cols.begin);
      y[oh * g.out_w + ow] = sum / T((rows.end - rows.begin) * (cols.end - cols.begin));
    }
  }
}

template <typename T>
void adaptive_plane_backward(const T* dy, const AdaptiveGeometry& g, T* dx) {
  const long h = g.in.height, w = g.in.width;
  std::memset(static_cast<void*>(dx), 0, sizeof(T) * std::size_t(h * w));
  for (long oh = 0; oh < g.out_h; ++oh) {
    const Window rows = window(oh, h, g.out_h);
    for (long ow = 0; ow < g.out_w; ++ow) {
      const Window cols = window(ow, w, g.out_w);
      const T grad = dy[oh * g.out_w + ow] / T((rows.end - rows.begin) * (cols.end - cols.begin));
      for (long ih = rows.begin; ih < rows.end; ++ih) {
        T* d = dx + ih * w;
        for (long iw = cols.begin; iw < cols.end; ++iw) d[iw] += grad;
      }
    }
  }
}

// Each input value is read by about one window (more where windows overlap), each output once.
double plane_work(const AdaptiveGeometry& g) {
  return double(g.in.height) * double(g.in.width) + double(g.out_h) * double(g.out_w);
}

}  // namespace

template <typename T>
void adaptive_avg_pool_forward(const T* x, long planes, const AdaptiveGeometry& g, T* y) {
  const long in = g.in.height * g.in.width, out = g.out_h * g.out_w;
  for_planes(planes, plane_work(g), [&](long first, long end) {
    for (long p = first; p < end; ++p) adaptive_plane(x + p * in, g, y + p * out);
  });
}

template <typename T>
void adaptive_avg_pool_backward(const T* dy, long planes, const AdaptiveGeometry& g, T* dx) {
  const long in = g.in.height * g.in.width, out = g.out_h * g.out_w;
  for_planes(planes, plane_work(g), [&](long first, long end) {
    for (long p = first; p < end; ++p) adaptive_plane_backward(dy + p * out, g, dx + p * in);
  });
}

template void adaptive_avg_pool_forward<float>(const float*, long, const AdaptiveGeometry&, float*);
template void adaptive_avg_pool_forward<double>(const double*, long, const AdaptiveGeometry&, double*);
template void adaptive_avg_pool_backward<float>(const float*, long, const AdaptiveGeometry&, float*);
template void adaptive_avg_pool_backward<double>(const double*, long, const AdaptiveGeometry&, double*);

}  // namespace bprop::ops
