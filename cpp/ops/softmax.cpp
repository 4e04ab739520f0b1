#include "ops/softmax.h"

#include <cmath>

namespace bprop::ops {
namespace {

// The row's maximum m and Σ exp(x − m); writes the exps into `exps` when it is not null.
template <typename T>
T shifted_exp_sum(const T* x, long cols, T& m, T* exps) {
  m = cols ? x[0] : T(0);
  for (long j = 1; j < cols; ++j) m = x[j] > m ? x[j] : m;
  T sum = 0;
  for (long j = 0; j < cols; ++j) {
    const T e = std::exp(x[j] - m);
    if (exps) exps[j] = e;
    sum += e;
  }
  return sum;
}

}  // namespace

template <typename T>
void softmax_rows(const T* x, long rows, long cols, T* y) {
  for (long r = 0; r < rows; ++r) {
    T* yr = y + r * cols;
    T m;
    const T inv = T(1) / shifted_exp_sum(x + r * cols, cols, m, yr);
    for (long j = 0; j < cols; ++j) yr[j] *= inv;
  }
}

template <typename T>
void log_softmax_rows(const T* x, long rows, long cols, T* y) {
  for (long r = 0; r < rows; ++r) {
    const T* xr = x + r * cols;
    T m;
    const T log_norm = std::log(shifted_exp_sum(xr, cols, m, static_cast<T*>(nullptr))) + m;
    for (long j = 0; j < cols; ++j) y[r * cols + j] = xr[j] - log_norm;
  }
}

template <typename T>
void softmax_rows_backward(const T* y, const T* dy, long rows, long cols, T* dx) {
  for (long r = 0; r < rows; ++r) {
    const T* yr = y + r * cols;
    const T* dyr = dy + r * cols;
    T dot = 0;
    for (long j = 0; j < cols; ++j) dot += dyr[j] * yr[j];
    for (long j = 0; j < cols; ++j) dx[r * cols + j] = yr[j] * (dyr[j] - dot);
  }
}

template void softmax_rows<float>(const float*, long, long, float*);
template void softmax_rows<double>(const double*, long, long, double*);
template void log_softmax_rows<float>(const float*, long, long, float*);
template void log_softmax_rows<double>(const double*, long, long, double*);
template void softmax_rows_backward<float>(const float*, const float*, long, long, float*);
template void softmax_rows_backward<double>(const double*, const double*, long, long, double*);

}  // namespace bprop::ops
