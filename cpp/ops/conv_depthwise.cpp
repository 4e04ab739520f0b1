#include "ops/conv_depthwise.h"

#include <algorithm>
#include <utility>

#include "core/parallel.h"

namespace bprop::ops {
namespace {

// Below this many output values a call stays on one thread.
constexpr long kParallelMinValues = 1L << 15;

long ceil_div_nonnegative(long a, long b) { return a <= 0 ? 0 : (a + b - 1) / b; }

// The outputs [lo, hi) along one axis whose input position o·stride + offset lies inside [0, size).
std::pair<long, long> inside(long outputs, long stride, long offset, long size) {
  const long lo = ceil_div_nonnegative(-offset, stride);
  const long hi = size - offset <= 0 ? 0 : std::min(outputs, (size - 1 - offset) / stride + 1);
  return {std::min(lo, hi), hi};
}

// Calls body(ki, kj, out rows [oh0, oh1), out columns [ow0, ow1), dh, dw) for every kernel position: the
// outputs that read the input inside the image (the padding contributes zeros) and the offsets
// ih = oh·stride_h + dh, iw = ow·stride_w + dw.
template <class Body>
void for_each_tap(const ConvGeometry& g, Body&& body) {
  for (long ki = 0; ki < g.kernel_h; ++ki)
    for (long kj = 0; kj < g.kernel_w; ++kj) {
      const long dh = ki * g.dilation_h - g.pad_h, dw = kj * g.dilation_w - g.pad_w;
      const auto [oh0, oh1] = inside(g.out_h, g.stride_h, dh, g.in_h);
      const auto [ow0, ow1] = inside(g.out_w, g.stride_w, dw, g.in_w);
      body(ki * g.kernel_w + kj, oh0, oh1, ow0, ow1, dh, dw);
    }
}

template <class Body>
void for_planes(long planes, long values, Body&& body) {
  run_parallel(planes * values >= kParallelMinValues ? num_threads() : 1, [&](int index, int count) {
    const auto [p0, p1] = split_range(planes, index, count);
    for (long p = p0; p < p1; ++p) body(p);
  });
}

}  // namespace

template <typename T>
void depthwise_forward(const ConvGeometry& g, long batch, const T* x, const T* weight, const T* bias, T* y,
                       const BlockMap<T>& then) {
  const long og = g.out_group(), pixels = g.out_pixels(), area = g.kernel_area();
  for_planes(batch * g.out_channels, pixels, [&](long plane) {
    const long n = plane / g.out_channels, c = plane % g.out_channels;
    const T* in = x + n * g.in_size() + c / og * g.in_pixels();
    const T* w = weight + c * area;
    T* out = y + plane * pixels;
    std::fill(out, out + pixels, bias ? bias[c] : T(0));
    for_each_tap(g, [&](long tap, long oh0, long oh1, long ow0, long ow1, long dh, long dw) {
      const T wt = w[tap];
      for (long oh = oh0; oh < oh1; ++oh) {
        const T* row = in + (oh * g.stride_h + dh) * g.in_w + dw;
        T* o = out + oh * g.out_w;
        if (g.stride_w == 1)
          for (long ow = ow0; ow < ow1; ++ow) o[ow] += wt * row[ow];
        else
          for (long ow = ow0; ow < ow1; ++ow) o[ow] += wt * row[ow * g.stride_w];
      }
    });
    if (then.apply) then.apply(then.context, out, 1, pixels, pixels);
  });
}

template <typename T>
void depthwise_backward_data(const ConvGeometry& g, long batch, const T* dy, const T* weight, T* dx, bool accumulate) {
  const long og = g.out_group(), pixels = g.out_pixels(), area = g.kernel_area();
  // One task per input plane: it gathers from its og output channels, so no two tasks write one value.
  for_planes(batch * g.in_channels, pixels * og, [&](long plane) {
    const long n = plane / g.in_channels, ci = plane % g.in_channels;
    T* out = dx + plane * g.in_pixels();
    if (!accumulate) std::fill(out, out + g.in_pixels(), T(0));
    for (long c = ci * og; c < (ci + 1) * og; ++c) {
      const T* grad = dy + n * g.out_size() + c * pixels;
      const T* w = weight + c * area;
      for_each_tap(g, [&](long tap, long oh0, long oh1, long ow0, long ow1, long dh, long dw) {
        const T wt = w[tap];
        for (long oh = oh0; oh < oh1; ++oh) {
          T* row = out + (oh * g.stride_h + dh) * g.in_w + dw;
          const T* d = grad + oh * g.out_w;
          for (long ow = ow0; ow < ow1; ++ow) row[ow * g.stride_w] += wt * d[ow];
        }
      });
    }
  });
}

template <typename T>
void depthwise_backward_weights(const ConvGeometry& g, long batch, const T* x, const T* dy, T* dweight, bool accumulate) {
  const long og = g.out_group(), pixels = g.out_pixels(), area = g.kernel_area();
  // One task per output channel: its taps summed over samples in order, then pixels in order.
  for_planes(g.out_channels, batch * pixels, [&](long c) {
    T* w = dweight + c * area;
    if (!accumulate) std::fill(w, w + area, T(0));
    for (long n = 0; n < batch; ++n) {
      const T* in = x + n * g.in_size() + c / og * g.in_pixels();
      const T* grad = dy + n * g.out_size() + c * pixels;
      for_each_tap(g, [&](long tap, long oh0, long oh1, long ow0, long ow1, long dh, long dw) {
        T sum = T(0);
        for (long oh = oh0; oh < oh1; ++oh) {
          const T* row = in + (oh * g.stride_h + dh) * g.in_w + dw;
          const T* d = grad + oh * g.out_w;
          for (long ow = ow0; ow < ow1; ++ow) sum += d[ow] * row[ow * g.stride_w];
        }
        w[tap] += sum;
      });
    }
  });
}

template void depthwise_forward<float>(const ConvGeometry&, long, const float*, const float*, const float*, float*,
                                       const BlockMap<float>&);
template void depthwise_forward<double>(const ConvGeometry&, long, const double*, const double*, const double*,
                                        double*, const BlockMap<double>&);
template void depthwise_backward_data<float>(const ConvGeometry&, long, const float*, const float*, float*, bool);
template void depthwise_backward_data<double>(const ConvGeometry&, long, const double*, const double*, double*, bool);
template void depthwise_backward_weights<float>(const ConvGeometry&, long, const float*, const float*, float*, bool);
template void depthwise_backward_weights<double>(const ConvGeometry&, long, const double*, const double*, double*,
                                                 bool);

}  // namespace bprop::ops
