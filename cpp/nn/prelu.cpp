#include "nn/prelu.h"

#include "core/error.h"
#include "core/parallel.h"
#include "ops/activation_functors.h"

namespace bprop::nn {
namespace {

using ops::functors::LeakyReLU;

// Below this many values one thread is faster than waking a second (as for the other activations).
constexpr long kParallelMinValues = 1L << 15;

}  // namespace

template <typename T>
PReLU<T>::PReLU(long num_parameters, double init) {
  if (num_parameters < 1)
    throw ValueError("[PReLU] num_parameters must be >= 1; got " + std::to_string(num_parameters));
  weight_ = std::make_shared<Parameter<T>>("weight", std::vector<long>{num_parameters});
  weight_->value.fill(T(init));
}

template <typename T>
SampleShape PReLU<T>::build(const SampleShape& in) {
  const long slopes = weight_->size(), in_features = in.empty() ? 0 : in.back();
  if (slopes != 1 && slopes != in_features)
    throw ValueError("[PReLU] has " + std::to_string(slopes) + " slopes (num_parameters), one per feature, but got " +
                     std::to_string(in_features) + " input features; expected num_parameters 1 or " +
                     std::to_string(in_features));
  return this->keep_shape(in);
}

template <typename T>
void PReLU<T>::forward(const T* x, long rows, T* y, Mode) {
  infer(x, rows, y);
}

template <typename T>
void PReLU<T>::infer(const T* x, long rows, T* y) const {
  const long width = this->in_shape_.back(), slopes = weight_->size();
  rows = this->last_axis_rows(rows);
  const T* a = weight_->value.data();
  parallel_for(rows, kParallelMinValues / width + 1, [&](long begin, long end) {
    for (long r = begin; r < end; ++r)
      for (long j = 0; j < width; ++j) y[r * width + j] = LeakyReLU<T>(a + (slopes == 1 ? 0 : j)).value(x[r * width + j]);
  });
}

template <typename T>
void PReLU<T>::backward(const T* x, const T*, const T* dy, long rows, T* dx, bool accumulate) {
  const long width = this->in_shape_.back(), slopes = weight_->size();
  rows = this->last_axis_rows(rows);
  const T* a = weight_->value.data();
  if (dx)
    parallel_for(rows, kParallelMinValues / width + 1, [&](long begin, long end) {
      for (long r = begin; r < end; ++r)
        for (long j = 0; j < width; ++j) {
          const long i = r * width + j;
          dx[i] = LeakyReLU<T>(a + (slopes == 1 ? 0 : j)).grad(x[i], T(0), dy[i]);
        }
    });
  // The slopes' gradient: a fixed-order sum on one thread, so it does not depend on the thread count.
  T* da = weight_->grad.data();
  if (!accumulate) weight_->grad.fill(T(0));
  for (long r = 0; r < rows; ++r)
    for (long j = 0; j < width; ++j) {
      const T v = x[r * width + j], below = v * dy[r * width + j];
      da[slopes == 1 ? 0 : j] += v > T(0) ? T(0) : below;
    }
}

template class PReLU<float>;
template class PReLU<double>;

}  // namespace bprop::nn
