// The geometry of a convolution over NCHW images, checked once: what every convolution kernel (ops/conv.h)
// and layer (nn/conv.h, nn/conv_transpose.h) reads. A 1-D convolution is a 2-D one of height 1.
//
// A layer is made with ConvArgs (its hyperparameters, per spatial axis); building it for a sample shape
// gives a ConvGeometry (the sizes of one call). Both checks throw ValueError "[<layer>] ..." naming the
// shapes: the one place a convolution's arguments are judged, for layers and functions alike.
#pragma once
#include <string>
#include <vector>

namespace bprop::ops {

// A layer's hyperparameters, as PyTorch's Conv1d/Conv2d/ConvTranspose2d take them (padding resolved:
// "same" and "valid" are begin/end pairs by then). Vectors hold one entry per spatial axis (1 or 2).
struct ConvArgs {
  long in_channels = 0, out_channels = 0, groups = 1;
  std::vector<long> kernel, stride, dilation;
  std::vector<long> pad_begin, pad_end;  // PyTorch pads symmetrically, except "same" with an even kernel
  std::vector<long> output_padding;      // transposed convolutions only (else empty or zeros)
  long spatial_dims() const { return long(kernel.size()); }
};

// ValueError unless the arguments make a convolution: sizes >= 1, channels divisible by groups, padding
// >= 0, one entry per axis everywhere; for a transposed one, output_padding below stride or dilation.
void check_conv_args(const std::string& layer, const ConvArgs& args, bool transposed);

// The sizes of one convolution: a sample of in_channels × in_h × in_w values gives out_channels × out_h ×
// out_w. pad_h/pad_w are the rows/columns of zeros before the image; those after it only fix out_h/out_w.
struct ConvGeometry {
  long in_channels = 0, out_channels = 0, groups = 1;
  long in_h = 1, in_w = 1, out_h = 1, out_w = 1;
  long kernel_h = 1, kernel_w = 1, stride_h = 1, stride_w = 1, dilation_h = 1, dilation_w = 1;
  long pad_h = 0, pad_w = 0;

  long in_pixels() const { return in_h * in_w; }
  long out_pixels() const { return out_h * out_w; }
  long in_group() const { return in_channels / groups; }    // Cg: input channels one group reads
  long out_group() const { return out_channels / groups; }  // Og: output channels one group writes
  long kernel_area() const { return kernel_h * kernel_w; }
  long patch() const { return in_group() * kernel_area(); }  // Kg: the GEMM's k, one output's inputs
  long in_size() const { return in_channels * in_pixels(); }
  long out_size() const { return out_channels * out_pixels(); }
  long weight_size() const { return out_channels * patch(); }
  // A 1×1 kernel at stride 1 without padding: the patches are the image itself (a plain GEMM).
  bool pointwise() const {
    return kernel_h == 1 && kernel_w == 1 && stride_h == 1 && stride_w == 1 && pad_h == 0 && pad_w == 0;
  }
};

// The geometry of args on samples of shape `sample` ((C, L) for one spatial axis, (C, H, W) for two);
// ValueError for another rank or channel count, or a kernel that does not fit the padded input.
ConvGeometry conv_geometry(const std::string& layer, const ConvArgs& args, const std::vector<long>& sample);

// A transposed convolution with args (weight (in_channels, out_channels/groups, *kernel)) is the adjoint
// of the convolution returned here: that convolution maps the transposed one's output (out_channels ×
// out size) to its input (in_channels × sample size). ValueError as conv_geometry, or for an output size
// below 1.
ConvGeometry conv_transpose_geometry(const std::string& layer, const ConvArgs& args, const std::vector<long>& sample);

}  // namespace bprop::ops
