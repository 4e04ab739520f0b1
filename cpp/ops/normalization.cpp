#include "ops/normalization.h"

#include <cmath>

namespace bprop::ops {

template <typename T>
T normalize_group(const T* x, long count, long stride, T eps, T* xhat, T& mean, T& var) {
  T sum = 0;
  for (long i = 0; i < count; ++i) sum += x[i * stride];
  mean = count ? sum / T(count) : T(0);
  T squares = 0;  // two passes: the one-pass formula loses precision when |mean| >> std
  for (long i = 0; i < count; ++i) {
    const T d = x[i * stride] - mean;
    squares += d * d;
  }
  var = count ? squares / T(count) : T(0);
  const T inv_std = T(1) / std::sqrt(var + eps);
  for (long i = 0; i < count; ++i) xhat[i * stride] = (x[i * stride] - mean) * inv_std;
  return inv_std;
}

template <typename T>
void normalize_group_backward(const T* dy, const T* xhat, const T* gamma, long gamma_stride, long count, long stride,
                              T inv_std, T* dx) {
  T g_sum = 0, g_xhat_sum = 0;
  for (long i = 0; i < count; ++i) {
    const T g = dy[i * stride] * gamma[i * gamma_stride];
    g_sum += g;
    g_xhat_sum += g * xhat[i * stride];
  }
  const T scale = inv_std / T(count);
  for (long i = 0; i < count; ++i) {
    const T g = dy[i * stride] * gamma[i * gamma_stride];
    dx[i * stride] = scale * (T(count) * g - g_sum - xhat[i * stride] * g_xhat_sum);
  }
}

template float normalize_group<float>(const float*, long, long, float, float*, float&, float&);
template double normalize_group<double>(const double*, long, long, double, double*, double&, double&);
template void normalize_group_backward<float>(const float*, const float*, const float*, long, long, long, float,
                                              float*);
template void normalize_group_backward<double>(const double*, const double*, const double*, long, long, long, double,
                                               double*);

}  // namespace bprop::ops
