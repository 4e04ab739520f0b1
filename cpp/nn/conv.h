// Conv1d and Conv2d (PyTorch's): over (C, L) or (C, H, W) samples, NCHW data. Parameters "weight"
// (out_channels, in_channels/groups, *kernel) and "bias" (out_channels), PyTorch's shapes and order, so a
// PyTorch state dict copies across unchanged. The math is ops/conv.h: forward one implicit GEMM per sample
// and group with the bias (and a fused activation) in its epilogue; backward dW over the whole batch in
// one product, dX through the transposed weights and col2im.
#pragma once
#include <cstdint>
#include <string>

#include "nn/layer.h"
#include "ops/conv.h"

namespace bprop::nn {

template <typename T>
class Conv : public Layer<T>, public GemmOutput<T>, public FoldsChannelAffine<T> {
 public:
  // name: "Conv1d" or "Conv2d" (one spatial axis or two, as args has). ValueError for arguments
  // ops::check_conv_args refuses or a bad initializer. Weights from `init` (fan_in = in_channels/groups ×
  // kernel area, fan_out = out_channels × kernel area) with `seed`; the bias starts at 0.
  Conv(std::string name, ops::ConvArgs args, bool bias, const std::string& init, double init_limit, uint64_t seed);

  std::string name() const override { return name_; }
  SampleShape build(const SampleShape& in) override;  // ValueError via ops::conv_geometry
  void forward(const T* x, long rows, T* y, Mode mode) override { forward_with(x, rows, y, nullptr); }
  void backward(const T* x, const T* y, const T* dy, long rows, T* dx, bool accumulate) override;
  void infer(const T* x, long rows, T* y) const override { forward_with(x, rows, y, nullptr); }
  std::vector<ParameterPtr<T>> parameters() override;

  const GemmOutput<T>* gemm_output() const override { return this; }
  void forward_then(const T* x, long rows, T* y, const ElementwiseFromOutput<T>& then) const override {
    forward_with(x, rows, y, &then);
  }
  const FoldsChannelAffine<T>* folds_channel_affine() const override { return this; }
  long folded_channels() const override { return args_.out_channels; }
  // Weights and outputs both have out_channels rows: compare a weight row with a channel's output values.
  bool fold_pays(long rows) const override { return rows * geometry_.out_pixels() >= geometry_.patch(); }
  void infer_folded(const T* x, long rows, T* y, const T* scale, const T* shift,
                    const ElementwiseFromOutput<T>* then) const override;
  const ops::ConvGeometry& geometry() const { return geometry_; }

 private:
  void forward_with(const T* x, long rows, T* y, const ElementwiseFromOutput<T>* then) const {
    forward_with(x, rows, y, weight_->value.data(), bias_ ? bias_->value.data() : nullptr, then);
  }
  void forward_with(const T* x, long rows, T* y, const T* weight, const T* bias,
                    const ElementwiseFromOutput<T>* then) const;

  std::string name_;
  ops::ConvArgs args_;
  ops::ConvGeometry geometry_;
  ParameterPtr<T> weight_, bias_;
};

// A convolution's weight (rows, per_group, *kernel), initialised by `init` with fan_in = per_group × kernel
// area and fan_out = rows × kernel area (how PyTorch reads a Conv's and a ConvTranspose's weight alike),
// and its bias (out_channels, starting at 0) when `bias`. ValueError for a bad initializer.
template <typename T>
void make_conv_parameters(const ops::ConvArgs& args, long rows, long per_group, bool bias,
                          const std::string& init, double init_limit, uint64_t seed, ParameterPtr<T>& weight,
                          ParameterPtr<T>& bias_out);

// The shape of a convolution's output sample: (channels, L) or (channels, H, W).
SampleShape conv_output_shape(const ops::ConvGeometry& g, long spatial_dims);

}  // namespace bprop::nn
