#include "ops/activations.h"

#include <cmath>

#include "core/error.h"
#include "core/parallel.h"

namespace bprop::ops {
namespace {

constexpr double kInvSqrt2 = 0.70710678118654752440, kInvSqrt2Pi = 0.39894228040143267794;
constexpr double kSqrt2OverPi = 0.79788456080286535588, kGeluTanhCubic = 0.044715;

struct NamedActivation {
  Activation kind;
  const char* name;
};
constexpr NamedActivation kNames[] = {
    {Activation::identity, "Identity"}, {Activation::relu, "ReLU"},     {Activation::leaky_relu, "LeakyReLU"},
    {Activation::elu, "ELU"},           {Activation::gelu, "GELU"},     {Activation::gelu_tanh, "GELUTanh"},
    {Activation::sigmoid, "Sigmoid"},   {Activation::tanh, "Tanh"},
};

template <typename T>
T sigmoid(T x) {  // stable on both sides: exp never overflows
  if (x >= 0) return T(1) / (T(1) + std::exp(-x));
  const T e = std::exp(x);
  return e / (T(1) + e);
}

}  // namespace

Activation activation_from_name(const std::string& name) {
  for (const auto& entry : kNames)
    if (name == entry.name) return entry.kind;
  std::string known;
  for (const auto& entry : kNames) known += std::string(known.empty() ? "" : ", ") + entry.name;
  throw ValueError("[activation] unknown activation '" + name + "'; expected one of: " + known);
}

const char* activation_name(Activation kind) {
  for (const auto& entry : kNames)
    if (kind == entry.kind) return entry.name;
  return "?";
}

namespace {

// Below this many values one thread is faster than waking a second (a 128x512 layer has 65,536).
constexpr long kParallelMinValues = 1L << 15;

template <typename T>
void forward_span(Activation kind, T param, const T* x, T* y, long n) {
  switch (kind) {
    case Activation::identity:
      for (long i = 0; i < n; ++i) y[i] = x[i];
      break;
    case Activation::relu:  // NaN passes through (as in PyTorch): `x > 0 ? x : 0` would hide a divergence
      for (long i = 0; i < n; ++i) y[i] = x[i] <= T(0) ? T(0) : x[i];
      break;
    case Activation::leaky_relu:
      for (long i = 0; i < n; ++i) y[i] = x[i] > T(0) ? x[i] : param * x[i];
      break;
    case Activation::elu:
      for (long i = 0; i < n; ++i) y[i] = x[i] > T(0) ? x[i] : param * std::expm1(x[i]);
      break;
    case Activation::gelu:  // x·Φ(x), exact (PyTorch's default)
      for (long i = 0; i < n; ++i) y[i] = T(0.5) * x[i] * (T(1) + std::erf(x[i] * T(kInvSqrt2)));
      break;
    case Activation::gelu_tanh:  // the tanh approximation (PyTorch's approximate="tanh")
      for (long i = 0; i < n; ++i) {
        const T u = T(kSqrt2OverPi) * (x[i] + T(kGeluTanhCubic) * x[i] * x[i] * x[i]);
        y[i] = T(0.5) * x[i] * (T(1) + std::tanh(u));
      }
      break;
    case Activation::sigmoid:
      for (long i = 0; i < n; ++i) y[i] = sigmoid(x[i]);
      break;
    case Activation::tanh:
      for (long i = 0; i < n; ++i) y[i] = std::tanh(x[i]);
      break;
  }
}

template <typename T>
void backward_span(Activation kind, T param, const T* x, const T* y, const T* dy, T* dx, long n) {
  switch (kind) {
    case Activation::identity:
      for (long i = 0; i < n; ++i) dx[i] = dy[i];
      break;
    // The piecewise cases load every operand before choosing: a load under the condition is a branch
    // the compiler keeps (mispredicted half the time on ReLU masks); loaded first, the loop vectorises.
    case Activation::relu:  // the derivative at 0 is taken as 0, as PyTorch does
      for (long i = 0; i < n; ++i) {
        const T g = dy[i];
        dx[i] = x[i] > T(0) ? g : T(0);
      }
      break;
    case Activation::leaky_relu:
      for (long i = 0; i < n; ++i) {
        const T g = dy[i];
        dx[i] = x[i] > T(0) ? g : param * g;
      }
      break;
    case Activation::elu:  // below 0, f' = alpha·e^x = y + alpha
      for (long i = 0; i < n; ++i) {
        const T g = dy[i], below = g * (y[i] + param);
        dx[i] = x[i] > T(0) ? g : below;
      }
      break;
    case Activation::gelu:  // Φ(x) + x·φ(x)
      for (long i = 0; i < n; ++i) {
        const T cdf = T(0.5) * (T(1) + std::erf(x[i] * T(kInvSqrt2)));
        const T pdf = T(kInvSqrt2Pi) * std::exp(T(-0.5) * x[i] * x[i]);
        dx[i] = dy[i] * (cdf + x[i] * pdf);
      }
      break;
    case Activation::gelu_tanh:
      for (long i = 0; i < n; ++i) {
        const T x2 = x[i] * x[i];
        const T t = std::tanh(T(kSqrt2OverPi) * (x[i] + T(kGeluTanhCubic) * x2 * x[i]));
        const T du = T(kSqrt2OverPi) * (T(1) + T(3 * kGeluTanhCubic) * x2);
        dx[i] = dy[i] * (T(0.5) * (T(1) + t) + T(0.5) * x[i] * (T(1) - t * t) * du);
      }
      break;
    case Activation::sigmoid:
      for (long i = 0; i < n; ++i) dx[i] = dy[i] * y[i] * (T(1) - y[i]);
      break;
    case Activation::tanh:
      for (long i = 0; i < n; ++i) dx[i] = dy[i] * (T(1) - y[i] * y[i]);
      break;
  }
}

}  // namespace

template <typename T>
void activation_forward(Activation kind, T param, const T* x, T* y, long n) {
  parallel_for(n, kParallelMinValues, [&](long b, long e) { forward_span(kind, param, x + b, y + b, e - b); });
}

template <typename T>
void activation_backward(Activation kind, T param, const T* x, const T* y, const T* dy, T* dx, long n) {
  parallel_for(n, kParallelMinValues,
               [&](long b, long e) { backward_span(kind, param, x + b, y + b, dy + b, dx + b, e - b); });
}

template <typename T>
void bias_activation_block(Activation kind, T param, const T* bias, T* y, long rows, long cols, long ld) {
  for (long r = 0; r < rows; ++r) {
    T* row = y + r * ld;
    if (bias)
      for (long j = 0; j < cols; ++j) row[j] += bias[j];
    if (kind != Activation::identity) forward_span(kind, param, row, row, cols);
  }
}

bool derivative_from_output(Activation kind, double param) {
  switch (kind) {
    case Activation::gelu:
    case Activation::gelu_tanh:
      return false;
    case Activation::leaky_relu:
      return param >= 0;
    case Activation::elu:
      return param > 0;
    default:
      return true;
  }
}

template void activation_forward<float>(Activation, float, const float*, float*, long);
template void activation_forward<double>(Activation, double, const double*, double*, long);
template void bias_activation_block<float>(Activation, float, const float*, float*, long, long, long);
template void bias_activation_block<double>(Activation, double, const double*, double*, long, long, long);
template void activation_backward<float>(Activation, float, const float*, const float*, const float*, float*, long);
template void activation_backward<double>(Activation, double, const double*, const double*, const double*, double*,
                                          long);

}  // namespace bprop::ops
