// The checks of the pooling ops: options, sample shapes, output sizes. The kernels are in max_pool.cpp,
// avg_pool.cpp and adaptive_pool.cpp.
#include "ops/pooling.h"

#include <algorithm>
#include <cstdint>
#include <limits>

#include "core/error.h"
#include "core/sizes.h"

namespace bprop::ops {
namespace {

// Per-axis values as the user wrote them: a number for a 1d layer, a tuple for a 2d one.
std::string axes_text(const long* values, int dims) {
  return dims == 1 ? std::to_string(values[1]) : shape_text({values[0], values[1]});
}

std::string axes_text(const std::vector<long>& values) {
  return values.size() == 1 ? std::to_string(values[0]) : shape_text(values);
}

// The largest kernel, stride, padding or dilation taken: 2^31 - 1 (PyTorch's int), so that the window
// arithmetic (kernel·dilation, o·stride) cannot overflow.
constexpr long kLargestSetting = std::numeric_limits<int32_t>::max();

// Copies one value per spatial axis into (h, w), the 1d layers' height keeping `fill`.
void set_axes(const std::string& name, const char* what, int dims, const std::vector<long>& given, long minimum,
              long fill, long* out, long maximum = kLargestSetting) {
  if (long(given.size()) != dims)
    throw ValueError("[" + name + "] " + what + " must have " + std::to_string(dims) + " value(s), one per spatial axis; got " +
                     std::to_string(given.size()));
  for (long v : given)
    if (v < minimum)
      throw ValueError("[" + name + "] " + what + " must be >= " + std::to_string(minimum) + "; got " + axes_text(given));
    else if (v > maximum)
      throw ValueError("[" + name + "] " + what + " must be <= " + std::to_string(maximum) + "; got " + axes_text(given));
  out[0] = dims == 1 ? fill : given[0];
  out[1] = given[dims - 1];
}

std::string sample_form(int dims) { return dims == 1 ? "(C, L)" : "(C, H, W)"; }

std::vector<long> sample_of(int dims, long channels, long h, long w) {
  return dims == 1 ? std::vector<long>{channels, w} : std::vector<long>{channels, h, w};
}

}  // namespace

Planes sample_planes(const std::string& name, int dims, const std::vector<long>& sample) {
  if (long(sample.size()) != dims + 1)
    throw ValueError("[" + name + "] expects samples of shape " + sample_form(dims) + "; got samples of shape " +
                     shape_text(sample));
  // Sizes checked before anything multiplies them (the plane's size, the output's).
  for (long size : sample)
    if (size < 1)
      throw ValueError("[" + name + "] needs every axis of a sample >= 1; got samples of shape " + shape_text(sample));
  checked_count(sample, 1, "[" + name + "] samples");
  return {sample[0], dims == 1 ? 1 : sample[1], sample.back()};
}

PoolOptions pool_options(const std::string& name, PoolKind kind, int dims, const std::vector<long>& kernel_size,
                         const std::vector<long>& stride, const std::vector<long>& padding,
                         const std::vector<long>& dilation, bool ceil_mode, bool count_include_pad) {
  PoolOptions o;
  o.kind = kind;
  set_axes(name, "kernel_size", dims, kernel_size, 1, 1, o.kernel);
  set_axes(name, "stride", dims, stride, 1, 1, o.stride);
  set_axes(name, "padding", dims, padding, 0, 0, o.padding);
  set_axes(name, "dilation", dims, dilation, 1, 1, o.dilation);
  // PyTorch's rule: the padding may reach half the kernel (kernel_size // 2, whatever the dilation), so every
  // window holds at least one input value... nearly: see max_pool_forward's empty windows.
  for (int a = 0; a < 2; ++a)
    if (o.padding[a] > o.kernel[a] / 2) {
      const long half[2] = {o.kernel[0] / 2, o.kernel[1] / 2};
      throw ValueError("[" + name + "] padding must be at most half the kernel size; expected padding <= " +
                       axes_text(half, dims) + " for kernel_size " + axes_text(o.kernel, dims) + ", got " +
                       axes_text(o.padding, dims));
    }
  o.ceil_mode = ceil_mode;
  o.count_include_pad = count_include_pad;
  return o;
}

long pool_output_size(long in, long kernel, long stride, long padding, long dilation, bool ceil_mode) {
  // 128-bit: a kernel or dilation near 2^62 (a typo, a fuzzer) must give "too small", not a wrapped size.
  using Wide = __int128;
  const Wide span = Wide(dilation) * (kernel - 1) + 1;  // the input values a window spans, holes included
  Wide numerator = Wide(in) + 2 * Wide(padding) - span + (ceil_mode ? stride - 1 : 0);
  Wide out = (numerator >= 0 ? numerator / stride : -((-numerator + stride - 1) / stride)) + 1;  // floor division
  if (ceil_mode && (out - 1) * stride >= Wide(in) + padding) --out;  // the last window starts in the right padding
  if (out < 1) return out < -1 ? -1 : long(out);
  return out > std::numeric_limits<long>::max() ? std::numeric_limits<long>::max() : long(out);
}

PoolGeometry pool_geometry(const std::string& name, int dims, const PoolOptions& options,
                           const std::vector<long>& sample) {
  PoolGeometry g;
  g.options = options;
  g.in = sample_planes(name, dims, sample);
  const PoolOptions& o = options;
  const long in[2] = {g.in.height, g.in.width};
  long out[2];
  for (int a = 0; a < 2; ++a)
    out[a] = pool_output_size(in[a], o.kernel[a], o.stride[a], o.padding[a], o.dilation[a], o.ceil_mode);
  if (out[0] < 1 || out[1] < 1) {  // only a window spanning more than the padded input gives no output
    const int a = out[0] < 1 ? 0 : 1;
    const __int128 span = __int128(o.dilation[a]) * (o.kernel[a] - 1) + 1;
    const std::string axis = dims == 1 ? "length" : a == 0 ? "height" : "width";
    const bool max = o.kind == PoolKind::max;
    throw ValueError("[" + name + "] samples of shape " + shape_text(sample) + " would give an output of shape " +
                     shape_text(sample_of(dims, g.in.channels, std::max(out[0], 0L), std::max(out[1], 0L))) +
                     ": the window spans " +
                     (span <= std::numeric_limits<long>::max() ? std::to_string(long(span)) : "more than 2^63") +
                     " values along the " + axis + " (kernel_size " + axes_text(o.kernel, dims) +
                     (max ? ", dilation " + axes_text(o.dilation, dims) : "") + "), more than the padded " + axis +
                     " of " + std::to_string(in[a] + 2 * o.padding[a]) + " (padding " + axes_text(o.padding, dims) +
                     "); expected a window no larger than the padded input");
  }
  g.out_h = out[0];
  g.out_w = out[1];
  // An output sample must be countable before anything is allocated for it.
  checked_count(sample_of(dims, g.in.channels, g.out_h, g.out_w), 1, "[" + name + "] output");
  if (o.kind == PoolKind::max && g.in_plane() > std::numeric_limits<int32_t>::max())
    throw ValueError("[" + name + "] planes of 2^31 values or more are not supported (the argmax is a 32-bit "
                     "offset); got samples of shape " + shape_text(sample));
  return g;
}

void check_output_size(const std::string& name, int dims, const std::vector<long>& output_size) {
  long out[2];
  set_axes(name, "output_size", dims, output_size, 1, 1, out, std::numeric_limits<long>::max());
}

AdaptiveGeometry adaptive_geometry(const std::string& name, int dims, const std::vector<long>& output_size,
                                   const std::vector<long>& sample) {
  AdaptiveGeometry g;
  long out[2];
  set_axes(name, "output_size", dims, output_size, 1, 1, out, std::numeric_limits<long>::max());
  g.in = sample_planes(name, dims, sample);
  g.out_h = out[0];
  g.out_w = out[1];
  checked_count(sample_of(dims, g.in.channels, g.out_h, g.out_w), 1, "[" + name + "] output");
  return g;
}

}  // namespace bprop::ops
