#include "ops/upsample.h"

#include <cstring>
#include <type_traits>

#include "ops/plane_parallel.h"

namespace bprop::ops {
namespace {

// A factor known at compile time (2, the common one) lets the compiler vectorise the interleaved stores
// and loads; 0: the factor is a run-time value.
template <class Body>
void with_scale(long scale, Body&& body) {
  if (scale == 2) return body(std::integral_constant<long, 2>());
  body(std::integral_constant<long, 0>());
}

template <typename T, long kScale>
void widen_row(const T* in, long in_w, long scale, T* out) {
  const long s = kScale ? kScale : scale;
  for (long b = 0; b < s; ++b)
    for (long i = 0; i < in_w; ++i) out[i * s + b] = in[i];
}

// dx_row[i] += dy_row[i·s + b] for b = 0..s-1 in turn: each output added on its own, in output order.
template <typename T, long kScale>
void narrow_row_add(const T* in, long in_w, long scale, T* out) {
  const long s = kScale ? kScale : scale;
  for (long i = 0; i < in_w; ++i)
    for (long b = 0; b < s; ++b) out[i] += in[i * s + b];
}

}  // namespace

template <typename T>
void upsample_nearest_forward(const T* x, long planes, const UpsampleGeometry& g, T* y) {
  const long in = g.in_plane(), out = g.out_plane(), out_w = g.in_w * g.scale_w;
  for_planes(planes, double(out), [&](long first, long end) {
    for (long p = first; p < end; ++p)
      for (long ih = 0; ih < g.in_h; ++ih) {
        T* row = y + p * out + ih * g.scale_h * out_w;
        with_scale(g.scale_w, [&](auto scale) {
          widen_row<T, decltype(scale)::value>(x + p * in + ih * g.in_w, g.in_w, g.scale_w, row);
        });
        for (long a = 1; a < g.scale_h; ++a) std::memcpy(row + a * out_w, row, sizeof(T) * std::size_t(out_w));
      }
  });
}

template <typename T>
void upsample_nearest_backward(const T* dy, long planes, const UpsampleGeometry& g, T* dx) {
  const long in = g.in_plane(), out = g.out_plane(), out_w = g.in_w * g.scale_w;
  for_planes(planes, double(out), [&](long first, long end) {
    for (long p = first; p < end; ++p) {
      std::memset(static_cast<void*>(dx + p * in), 0, sizeof(T) * std::size_t(in));
      for (long ih = 0; ih < g.in_h; ++ih)
        for (long a = 0; a < g.scale_h; ++a)
          with_scale(g.scale_w, [&](auto scale) {
            narrow_row_add<T, decltype(scale)::value>(dy + p * out + (ih * g.scale_h + a) * out_w, g.in_w,
                                                      g.scale_w, dx + p * in + ih * g.in_w);
          });
    }
  });
}

template void upsample_nearest_forward<float>(const float*, long, const UpsampleGeometry&, float*);
template void upsample_nearest_forward<double>(const double*, long, const UpsampleGeometry&, double*);
template void upsample_nearest_backward<float>(const float*, long, const UpsampleGeometry&, float*);
template void upsample_nearest_backward<double>(const double*, long, const UpsampleGeometry&, double*);

}  // namespace bprop::ops
