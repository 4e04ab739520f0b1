#include "ops/softmax.h"

#include <cmath>

namespace bprop::ops {
namespace {

template <typename T>
T row_max(const T* x, long cols) {
  T m = x[0];
  for (long j = 1; j < cols; ++j) m = x[j] > m ? x[j] : m;
  return m;
}

}  // namespace

template <typename T>
void softmax_rows(const T* x, long rows, long cols, T* y) {
  for (long r = 0; r < rows; ++r) {
    const T* xr = x + r * cols;
    T* yr = y + r * cols;
    const T m = cols ? row_max(xr, cols) : T(0);
    T sum = 0;
    for (long j = 0; j < cols; ++j) sum += (yr[j] = std::exp(xr[j] - m));
    const T inv = T(1) / sum;
    for (long j = 0; j < cols; ++j) yr[j] *= inv;
  }
}

template <typename T>
void log_softmax_rows(const T* x, long rows, long cols, T* y) {
  for (long r = 0; r < rows; ++r) {
    const T* xr = x + r * cols;
    T* yr = y + r * cols;
    const T m = cols ? row_max(xr, cols) : T(0);
    T sum = 0;
    for (long j = 0; j < cols; ++j) sum += std::exp(xr[j] - m);
    const T log_norm = m + std::log(sum);
    for (long j = 0; j < cols; ++j) yr[j] = xr[j] - log_norm;
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
