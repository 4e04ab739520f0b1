#include "nn/pooling.h"

#include "core/error.h"
#include "core/scratch.h"
#include "core/sizes.h"

namespace bprop::nn {
namespace {

// The 1d and 2d classes share one C++ class each; anything else is a caller's bug, named by the family.
int checked_dims(const char* family, int dims) {
  if (dims != 1 && dims != 2)
    throw ValueError(std::string("[") + family + "] dims must be 1 or 2 (the 1d or 2d class); got " +
                     std::to_string(dims));
  return dims;
}

// The output sample: (C, L_out) for a 1d layer, (C, H_out, W_out) for a 2d one; ValueError when one sample
// of it, in T, would not fit in this process's memory (an adaptive pool's output_size is the user's).
template <typename T>
SampleShape out_sample(const std::string& name, int dims, long channels, long out_h, long out_w) {
  SampleShape out = dims == 1 ? SampleShape{channels, out_w} : SampleShape{channels, out_h, out_w};
  checked_count(out, sizeof(T), "[" + name + "] output");
  return out;
}

}  // namespace

// -- MaxPool -----------------------------------------------------------------------------------------------
template <typename T>
MaxPool<T>::MaxPool(int dims, const std::vector<long>& kernel_size, const std::vector<long>& stride,
                    const std::vector<long>& padding, const std::vector<long>& dilation, bool ceil_mode)
    : dims_(checked_dims("MaxPool", dims)),
      options_(ops::pool_options(name(), ops::PoolKind::max, dims, kernel_size, stride, padding, dilation, ceil_mode,
                                 true)) {}

template <typename T>
SampleShape MaxPool<T>::build(const SampleShape& in) {
  const ops::PoolGeometry g = ops::pool_geometry(name(), dims_, options_, in);
  SampleShape out = this->set_shapes(in, out_sample<T>(name(), dims_, g.in.channels, g.out_h, g.out_w));
  geometry_ = g;
  argmax_rows_ = -1;  // the argmax of another geometry points into other planes
  return out;
}

template <typename T>
void MaxPool<T>::forward(const T* x, long rows, T* y, Mode) {
  argmax_.resize(rows * this->out_size_);
  ops::max_pool_forward(x, rows * geometry_.in.channels, geometry_, y, argmax_.data());
  argmax_rows_ = rows;
}

template <typename T>
void MaxPool<T>::infer(const T* x, long rows, T* y) const {
  ops::max_pool_forward(x, rows * geometry_.in.channels, geometry_, y, static_cast<int32_t*>(nullptr));
}

template <typename T>
void MaxPool<T>::backward(const T* x, const T*, const T* dy, long rows, T* dx, bool) {
  if (!dx) return;
  if (rows != argmax_rows_) {
    // No forward of this batch to read (a backward called first, or after a build for another shape): find the
    // argmax from x again, as that forward would have.
    ScratchFrame frame;
    T* y = frame.take<T>(rows * this->out_size_);
    forward(x, rows, y, Mode::eval);
  }
  ops::max_pool_backward(dy, argmax_.data(), rows * geometry_.in.channels, geometry_, dx);
}

// -- AvgPool -----------------------------------------------------------------------------------------------
template <typename T>
AvgPool<T>::AvgPool(int dims, const std::vector<long>& kernel_size, const std::vector<long>& stride,
                    const std::vector<long>& padding, bool ceil_mode, bool count_include_pad)
    : dims_(checked_dims("AvgPool", dims)),
      options_(ops::pool_options(name(), ops::PoolKind::average, dims, kernel_size, stride, padding,
                                 std::vector<long>(std::size_t(dims), 1L), ceil_mode, count_include_pad)) {}

template <typename T>
SampleShape AvgPool<T>::build(const SampleShape& in) {
  const ops::PoolGeometry g = ops::pool_geometry(name(), dims_, options_, in);
  SampleShape out = this->set_shapes(in, out_sample<T>(name(), dims_, g.in.channels, g.out_h, g.out_w));
  geometry_ = g;
  return out;
}

template <typename T>
void AvgPool<T>::infer(const T* x, long rows, T* y) const {
  ops::avg_pool_forward(x, rows * geometry_.in.channels, geometry_, y);
}

template <typename T>
void AvgPool<T>::backward(const T*, const T*, const T* dy, long rows, T* dx, bool) {
  if (dx) ops::avg_pool_backward(dy, rows * geometry_.in.channels, geometry_, dx);
}

// -- AdaptiveAvgPool ---------------------------------------------------------------------------------------
template <typename T>
AdaptiveAvgPool<T>::AdaptiveAvgPool(int dims, const std::vector<long>& output_size)
    : dims_(checked_dims("AdaptiveAvgPool", dims)), output_size_(output_size) {
  ops::check_output_size(name(), dims_, output_size_);
}

template <typename T>
SampleShape AdaptiveAvgPool<T>::build(const SampleShape& in) {
  const ops::AdaptiveGeometry g = ops::adaptive_geometry(name(), dims_, output_size_, in);
  SampleShape out = this->set_shapes(in, out_sample<T>(name(), dims_, g.in.channels, g.out_h, g.out_w));
  geometry_ = g;
  return out;
}

template <typename T>
void AdaptiveAvgPool<T>::infer(const T* x, long rows, T* y) const {
  ops::adaptive_avg_pool_forward(x, rows * geometry_.in.channels, geometry_, y);
}

template <typename T>
void AdaptiveAvgPool<T>::backward(const T*, const T*, const T* dy, long rows, T* dx, bool) {
  if (dx) ops::adaptive_avg_pool_backward(dy, rows * geometry_.in.channels, geometry_, dx);
}

template class MaxPool<float>;
template class MaxPool<double>;
template class AvgPool<float>;
template class AvgPool<double>;
template class AdaptiveAvgPool<float>;
template class AdaptiveAvgPool<double>;

}  // namespace bprop::nn
