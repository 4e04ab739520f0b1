#include "nn/upsample.h"

#include <limits>

#include "core/error.h"
#include "core/sizes.h"

namespace bprop::nn {

template <typename T>
Upsample<T>::Upsample(const std::vector<long>& scale_factor, bool per_axis, const std::string& mode)
    : scale_factor_(scale_factor), per_axis_(per_axis) {
  if (mode != "nearest")
    throw ValueError("[Upsample] mode '" + mode + "' is not supported; expected 'nearest'");
  const std::size_t count = scale_factor_.size();
  if (per_axis ? count < 1 || count > 2 : count != 1)
    throw ValueError("[Upsample] scale_factor must be " + std::string(per_axis ? "1 or 2 values, one per spatial axis" : "one value") +
                     "; got " + std::to_string(count));
  for (long s : scale_factor_)
    if (s < 1) throw ValueError("[Upsample] scale_factor must be >= 1; got " + shape_text(scale_factor_));
}

template <typename T>
SampleShape Upsample<T>::build(const SampleShape& in) {
  const std::size_t dims = in.size() - 1;
  if (in.size() != 2 && in.size() != 3)
    throw ValueError("[Upsample] expects samples of shape (C, L) or (C, H, W); got samples of shape " + shape_text(in));
  if (per_axis_ && scale_factor_.size() != dims)
    throw ValueError("[Upsample] scale_factor " + shape_text(scale_factor_) + " has " + std::to_string(scale_factor_.size()) +
                     " value(s) but samples of shape " + shape_text(in) + " have " + std::to_string(dims) +
                     " spatial axes; expected one value per axis");
  sample_size(in, "[Upsample]");  // sizes >= 1 before they are multiplied
  SampleShape out = in;
  for (std::size_t a = 1; a < in.size(); ++a) {
    const long s = per_axis_ ? scale_factor_[a - 1] : scale_factor_[0];
    if (s > std::numeric_limits<long>::max() / in[a])
      throw ValueError("[Upsample] samples of shape " + shape_text(in) + " scaled by " + std::to_string(s) +
                       " have more than 2^63 values along an axis");
    out[a] = in[a] * s;
  }
  checked_count(out, sizeof(T), "[Upsample] output");  // one sample of it, in T, must fit in memory
  out = this->set_shapes(in, out);
  channels_ = in[0];
  geometry_.in_h = dims == 1 ? 1 : in[1];
  geometry_.in_w = in.back();
  geometry_.scale_h = dims == 1 ? 1 : out[1] / in[1];
  geometry_.scale_w = out.back() / in.back();
  return out;
}

template <typename T>
void Upsample<T>::infer(const T* x, long rows, T* y) const {
  ops::upsample_nearest_forward(x, rows * channels_, geometry_, y);
}

template <typename T>
void Upsample<T>::backward(const T*, const T*, const T* dy, long rows, T* dx, bool) {
  if (dx) ops::upsample_nearest_backward(dy, rows * channels_, geometry_, dx);
}

template class Upsample<float>;
template class Upsample<double>;

}  // namespace bprop::nn
