#include "ops/conv_geometry.h"

#include "core/error.h"
#include "core/sizes.h"

namespace bprop::ops {
namespace {

std::string axes_text(const std::vector<long>& values) {
  std::string text;
  for (std::size_t i = 0; i < values.size(); ++i) text += (i ? "x" : "") + std::to_string(values[i]);
  return text;
}

// "(C, H, W) with C = 3": the sample shape a layer expects, for messages.
std::string expected_sample(const ConvArgs& args, long channels) {
  return std::string(args.spatial_dims() == 1 ? "(C, L)" : "(C, H, W)") + " with C = " + std::to_string(channels);
}

void check_sample(const std::string& where, const ConvArgs& args, long channels, const std::vector<long>& sample) {
  if (long(sample.size()) != args.spatial_dims() + 1)
    throw ValueError(where + " expects samples of shape " + expected_sample(args, channels) + "; got samples of shape " +
                     shape_text(sample) + " (" + std::to_string(sample.size()) + "-D)");
  if (sample[0] != channels)
    throw ValueError(where + " expects samples of shape " + expected_sample(args, channels) + "; got " +
                     std::to_string(sample[0]) + " channels (samples of shape " + shape_text(sample) + ")");
  for (long size : sample)
    if (size < 1) throw ValueError(where + " got samples of shape " + shape_text(sample) + "; every size must be >= 1");
}

}  // namespace

void check_conv_args(const std::string& layer, const ConvArgs& args, bool transposed) {
  const std::string where = "[" + layer + "]";
  const std::size_t dims = args.kernel.size();
  if (dims < 1 || dims > 2) throw ValueError(where + " supports 1 or 2 spatial axes; got " + std::to_string(dims));
  const auto same_length = [&](const std::vector<long>& values, const char* name) {
    if (values.size() != dims)
      throw ValueError(where + " " + name + " must have one value per spatial axis (" + std::to_string(dims) + "); got " +
                       std::to_string(values.size()));
  };
  same_length(args.stride, "stride");
  same_length(args.dilation, "dilation");
  same_length(args.pad_begin, "padding");
  same_length(args.pad_end, "padding");
  if (args.in_channels < 1 || args.out_channels < 1 || args.groups < 1)
    throw ValueError(where + " in_channels, out_channels and groups must be >= 1; got " + std::to_string(args.in_channels) +
                     ", " + std::to_string(args.out_channels) + " and " + std::to_string(args.groups));
  if (args.in_channels % args.groups || args.out_channels % args.groups)
    throw ValueError(where + " in_channels (" + std::to_string(args.in_channels) + ") and out_channels (" +
                     std::to_string(args.out_channels) + ") must both be divisible by groups (" +
                     std::to_string(args.groups) + ")");
  for (std::size_t i = 0; i < dims; ++i) {
    if (args.kernel[i] < 1) throw ValueError(where + " kernel_size must be >= 1; got " + axes_text(args.kernel));
    if (args.stride[i] < 1) throw ValueError(where + " stride must be >= 1; got " + axes_text(args.stride));
    if (args.dilation[i] < 1) throw ValueError(where + " dilation must be >= 1; got " + axes_text(args.dilation));
    if (args.pad_begin[i] < 0 || args.pad_end[i] < 0)
      throw ValueError(where + " padding must be >= 0; got " + axes_text(args.pad_begin));
  }
  // Sizes a file or a typo could make absurd: the weight must fit in memory before anything is built.
  std::vector<long> weight_shape{args.out_channels, args.in_channels / args.groups};
  weight_shape.insert(weight_shape.end(), args.kernel.begin(), args.kernel.end());
  checked_count(weight_shape, 8, where + " weight");
  if (!transposed) return;
  if (args.output_padding.size() != dims)
    throw ValueError(where + " output_padding must have one value per spatial axis");
  for (std::size_t i = 0; i < dims; ++i)
    if (args.output_padding[i] < 0 || (args.output_padding[i] >= args.stride[i] && args.output_padding[i] >= args.dilation[i]))
      throw ValueError(where + " output_padding must be >= 0 and smaller than either stride or dilation; got "
                       "output_padding " + axes_text(args.output_padding) + ", stride " + axes_text(args.stride) +
                       ", dilation " + axes_text(args.dilation));
}

ConvGeometry conv_geometry(const std::string& layer, const ConvArgs& args, const std::vector<long>& sample) {
  const std::string where = "[" + layer + "]";
  check_sample(where, args, args.in_channels, sample);
  const bool one_axis = args.spatial_dims() == 1;
  ConvGeometry g;
  g.in_channels = args.in_channels;
  g.out_channels = args.out_channels;
  g.groups = args.groups;
  const std::vector<long> spatial(sample.begin() + 1, sample.end());
  std::vector<long> out(spatial.size());
  for (std::size_t i = 0; i < spatial.size(); ++i) {
    const long padded = spatial[i] + args.pad_begin[i] + args.pad_end[i];
    const long reach = args.dilation[i] * (args.kernel[i] - 1) + 1;  // the span one output reads
    if (reach > padded)
      throw ValueError(where + " kernel " + axes_text(args.kernel) + " (dilation " + axes_text(args.dilation) +
                       ", spanning " + std::to_string(reach) + ") is larger than the padded input: samples of shape " +
                       shape_text(sample) + " padded by " + std::to_string(args.pad_begin[i]) + "+" +
                       std::to_string(args.pad_end[i]) + " give " + std::to_string(padded) +
                       " positions on axis " + std::to_string(i + 1) + "; the output would be empty");
    out[i] = (padded - reach) / args.stride[i] + 1;
  }
  const std::size_t w = one_axis ? 0 : 1;  // the width axis's index in the per-axis vectors
  g.in_h = one_axis ? 1 : spatial[0];
  g.in_w = spatial[w];
  g.out_h = one_axis ? 1 : out[0];
  g.out_w = out[w];
  if (!one_axis) {
    g.kernel_h = args.kernel[0];
    g.stride_h = args.stride[0];
    g.dilation_h = args.dilation[0];
    g.pad_h = args.pad_begin[0];
  }
  g.kernel_w = args.kernel[w];
  g.stride_w = args.stride[w];
  g.dilation_w = args.dilation[w];
  g.pad_w = args.pad_begin[w];
  checked_count({g.out_channels, g.out_h, g.out_w}, 8, where + " output");
  return g;
}

ConvGeometry conv_transpose_geometry(const std::string& layer, const ConvArgs& args, const std::vector<long>& sample) {
  const std::string where = "[" + layer + "]";
  check_sample(where, args, args.in_channels, sample);
  // The transposed layer's output size, then the convolution that maps it back to this input.
  std::vector<long> out_sample{args.out_channels};
  for (long i = 0; i < args.spatial_dims(); ++i) {
    const long size = (sample[i + 1] - 1) * args.stride[i] - args.pad_begin[i] - args.pad_end[i] +
                      args.dilation[i] * (args.kernel[i] - 1) + args.output_padding[i] + 1;
    if (size < 1)
      throw ValueError(where + " samples of shape " + shape_text(sample) + " would give an output of size " +
                       std::to_string(size) + " on axis " + std::to_string(i + 1) + " (padding " +
                       std::to_string(args.pad_begin[i]) + " on each side is too large); expected >= 1");
    out_sample.push_back(size);
  }
  ConvArgs adjoint = args;
  std::swap(adjoint.in_channels, adjoint.out_channels);
  ConvGeometry g = conv_geometry(layer, adjoint, out_sample);
  // With output_padding the convolution's own size rule may find one more position than the input has;
  // the input's size is the truth (the extra output rows just receive no gradient).
  g.out_h = args.spatial_dims() == 1 ? 1 : sample[1];
  g.out_w = sample.back();
  return g;
}

}  // namespace bprop::ops
