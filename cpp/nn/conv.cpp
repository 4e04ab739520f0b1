#include "nn/conv.h"

#include "core/scratch.h"
#include "core/sizes.h"
#include "nn/init.h"

namespace bprop::nn {

SampleShape conv_output_shape(const ops::ConvGeometry& g, long spatial_dims) {
  if (spatial_dims == 1) return {g.out_channels, g.out_w};
  return {g.out_channels, g.out_h, g.out_w};
}

template <typename T>
void make_conv_parameters(const ops::ConvArgs& args, long rows, long per_group, bool bias,
                          const std::string& init, double init_limit, uint64_t seed, ParameterPtr<T>& weight,
                          ParameterPtr<T>& bias_out) {
  check_initializer(init, init_limit);
  std::vector<long> shape{rows, per_group};
  long area = 1;
  for (long k : args.kernel) {
    shape.push_back(k);
    area *= k;
  }
  weight = std::make_shared<Parameter<T>>("weight", shape);
  initialize(weight->value, init, per_group * area, rows * area, init_limit, seed);
  if (bias) bias_out = std::make_shared<Parameter<T>>("bias", std::vector<long>{args.out_channels});
}

template <typename T>
Conv<T>::Conv(std::string name, ops::ConvArgs args, bool bias, const std::string& init, double init_limit,
              uint64_t seed)
    : name_(std::move(name)), args_(std::move(args)) {
  ops::check_conv_args(name_, args_, false);
  make_conv_parameters(args_, args_.out_channels, args_.in_channels / args_.groups, bias, init, init_limit, seed,
                       weight_, bias_);
}

template <typename T>
SampleShape Conv<T>::build(const SampleShape& in) {
  geometry_ = ops::conv_geometry(name_, args_, in);
  return this->set_shapes(in, conv_output_shape(geometry_, args_.spatial_dims()));
}

namespace {

// An ElementwiseFromOutput as the convolution's block map.
template <typename T>
void apply_map(const void* context, T* y, long rows, long cols, long ld) {
  static_cast<const ElementwiseFromOutput<T>*>(context)->apply_block(y, rows, cols, ld);
}

}  // namespace

template <typename T>
void Conv<T>::forward_with(const T* x, long rows, T* y, const T* weight, const T* bias,
                           const ElementwiseFromOutput<T>* then) const {
  ops::BlockMap<T> map;
  if (then) map = {&apply_map<T>, then};
  ops::conv_forward<T>(geometry_, rows, x, weight, bias, y, map);
}

template <typename T>
void Conv<T>::infer_folded(const T* x, long rows, T* y, const T* scale, const T* shift,
                           const ElementwiseFromOutput<T>* then) const {
  // Folded afresh on every call (O·C/g·k² products, a kernel area's worth of output pixels): the weights
  // and the statistics may have changed since the last one, and a cache would need to know.
  const long channels = args_.out_channels;
  const long row = weight_->value.size() / channels;
  ScratchFrame scratch;
  T* weight = scratch.take<T>(channels * row);
  T* bias = scratch.take<T>(channels);
  const T* w = weight_->value.data();
  for (long c = 0; c < channels; ++c) {
    for (long k = 0; k < row; ++k) weight[c * row + k] = w[c * row + k] * scale[c];
    bias[c] = (bias_ ? bias_->value[c] * scale[c] : T(0)) + shift[c];
  }
  forward_with(x, rows, y, weight, bias, then);
}

template <typename T>
void Conv<T>::backward(const T* x, const T*, const T* dy, long rows, T* dx, bool accumulate) {
  ops::conv_backward_weights<T>(geometry_, rows, x, dy, weight_->grad.data(), bias_ ? bias_->grad.data() : nullptr,
                                accumulate);
  if (dx) ops::conv_backward_data<T>(geometry_, rows, dy, weight_->value.data(), dx, false);
}

template <typename T>
std::vector<ParameterPtr<T>> Conv<T>::parameters() {
  if (bias_) return {weight_, bias_};
  return {weight_};
}

template void make_conv_parameters<float>(const ops::ConvArgs&, long, long, bool,
                                          const std::string&, double, uint64_t, ParameterPtr<float>&,
                                          ParameterPtr<float>&);
template void make_conv_parameters<double>(const ops::ConvArgs&, long, long, bool,
                                           const std::string&, double, uint64_t, ParameterPtr<double>&,
                                           ParameterPtr<double>&);
template class Conv<float>;
template class Conv<double>;

}  // namespace bprop::nn
