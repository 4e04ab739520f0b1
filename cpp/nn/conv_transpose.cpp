#include "nn/conv_transpose.h"

#include "nn/conv.h"

namespace bprop::nn {

template <typename T>
ConvTranspose<T>::ConvTranspose(std::string name, ops::ConvArgs args, bool bias, const std::string& init,
                                double init_limit, uint64_t seed)
    : name_(std::move(name)), args_(std::move(args)) {
  ops::check_conv_args(name_, args_, true);
  make_conv_parameters(args_, args_.in_channels, args_.out_channels / args_.groups, bias, init, init_limit, seed,
                       weight_, bias_);
}

template <typename T>
SampleShape ConvTranspose<T>::build(const SampleShape& in) {
  adjoint_ = ops::conv_transpose_geometry(name_, args_, in);
  const ops::ConvGeometry& g = adjoint_;
  SampleShape out{g.in_channels};
  if (args_.spatial_dims() == 2) out.push_back(g.in_h);
  out.push_back(g.in_w);
  return this->set_shapes(in, out);
}

template <typename T>
void ConvTranspose<T>::infer(const T* x, long rows, T* y) const {
  ops::conv_backward_data<T>(adjoint_, rows, x, weight_->value.data(), y, false);
  if (bias_) ops::channel_shift<T>({rows, adjoint_.in_channels, adjoint_.in_pixels()}, bias_->value.data(), y);
}

template <typename T>
void ConvTranspose<T>::backward(const T* x, const T*, const T* dy, long rows, T* dx, bool accumulate) {
  // The adjoint convolution reads this layer's output gradient as its input and x as its output gradient.
  ops::conv_backward_weights<T>(adjoint_, rows, dy, x, weight_->grad.data(), nullptr, accumulate);
  if (bias_) ops::channel_sums<T>(dy, {rows, adjoint_.in_channels, adjoint_.in_pixels()}, bias_->grad.data(), accumulate);
  if (dx) ops::conv_forward<T>(adjoint_, rows, dy, weight_->value.data(), nullptr, dx);
}

template <typename T>
std::vector<ParameterPtr<T>> ConvTranspose<T>::parameters() {
  if (bias_) return {weight_, bias_};
  return {weight_};
}

template class ConvTranspose<float>;
template class ConvTranspose<double>;

}  // namespace bprop::nn
