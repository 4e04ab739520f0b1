// ConvTranspose2d (PyTorch's): the adjoint of a Conv2d, for decoders and autoencoders. Parameters
// "weight" (in_channels, out_channels/groups, KH, KW) and "bias" (out_channels), PyTorch's shapes. Its
// forward is a convolution's backward-data (ops/conv.h) on the convolution mapping this layer's output
// to its input (ops::conv_transpose_geometry), its backward that convolution's forward and
// backward-weights: no math of its own.
#pragma once
#include <cstdint>
#include <string>

#include "nn/layer.h"
#include "ops/conv.h"

namespace bprop::nn {

template <typename T>
class ConvTranspose : public Layer<T> {
 public:
  // ValueError for arguments ops::check_conv_args refuses or a bad initializer. fan_in =
  // out_channels/groups × kernel area and fan_out = in_channels × kernel area, as PyTorch reads this weight.
  ConvTranspose(std::string name, ops::ConvArgs args, bool bias, const std::string& init, double init_limit,
                uint64_t seed);

  std::string name() const override { return name_; }
  SampleShape build(const SampleShape& in) override;  // ValueError via ops::conv_transpose_geometry
  void forward(const T* x, long rows, T* y, Mode) override { infer(x, rows, y); }
  void backward(const T* x, const T* y, const T* dy, long rows, T* dx, bool accumulate) override;
  void infer(const T* x, long rows, T* y) const override;
  std::vector<ParameterPtr<T>> parameters() override;

 private:
  std::string name_;
  ops::ConvArgs args_;
  ops::ConvGeometry adjoint_;  // the convolution from this layer's output to its input
  ParameterPtr<T> weight_, bias_;
};

}  // namespace bprop::nn
