// The activations, one small functor each: the table of ops/activations.cpp lists them, and its generic
// span loops inline them, so every loop runs without a per-element indirect call and still vectorises.
//
// A functor F<T> declares:
//   kName                 the name, as in Python ("ReLU");
//   kParams               its named parameters: name, default, domain (std::array, maybe empty);
//   kReads                what its derivative reads: x, y or both (the loop loads nothing else);
//   from_output(p)        whether f' can be read from y alone, with y standing in for x in grad(x, y, g):
//                         true when grad reads only y, or reads x only through its sign and y > 0 ⇔ x > 0;
//   F(const T* params)    takes its parameter values, checked, in kParams order;
//   value(x)              f(x);
//   grad(x, y, g)         g · f'(x), reading x and/or y = f(x) as kReads says.
// Derivatives at kinks are PyTorch's; NaN going in comes out.
#pragma once
#include <array>
#include <cmath>

namespace bprop::ops {

enum class ParamDomain { any, positive };  // positive: > 0

struct ActivationParam {
  const char* name;
  double default_value;
  ParamDomain domain;
};

enum class Reads { x, y, x_and_y };

namespace functors {

using NoParams = std::array<ActivationParam, 0>;
inline bool always(const double*) { return true; }
inline bool never(const double*) { return false; }

template <typename T>
T stable_sigmoid(T x) {  // exp never overflows
  if (x >= 0) return T(1) / (T(1) + std::exp(-x));
  const T e = std::exp(x);
  return e / (T(1) + e);
}

template <typename T>
T stable_softplus(T x) {  // log(1 + e^x) without overflow: max(x, 0) + log1p(e^-|x|)
  return (x > T(0) ? x : T(0)) + std::log1p(std::exp(-std::abs(x)));
}

constexpr double kInvSqrt2 = 0.70710678118654752440, kInvSqrt2Pi = 0.39894228040143267794;
constexpr double kSqrt2OverPi = 0.79788456080286535588, kGeluTanhCubic = 0.044715;

// The piecewise grads take x, y and g as values the loop has loaded before choosing: a load under the
// condition is a branch the compiler keeps (mispredicted half the time on ReLU masks); this way it selects.

template <typename T>
struct Identity {
  static constexpr const char* kName = "Identity";
  static constexpr NoParams kParams{};
  static constexpr Reads kReads = Reads::y;
  static bool from_output(const double* p) { return always(p); }
  explicit Identity(const T*) {}
  T value(T x) const { return x; }
  T grad(T, T, T g) const { return g; }
};

template <typename T>
struct ReLU {
  static constexpr const char* kName = "ReLU";
  static constexpr NoParams kParams{};
  static constexpr Reads kReads = Reads::x;
  static bool from_output(const double* p) { return always(p); }
  explicit ReLU(const T*) {}
  T value(T x) const { return x <= T(0) ? T(0) : x; }  // NaN passes; `x > 0 ? x : 0` would hide a divergence
  T grad(T x, T, T g) const { return x > T(0) ? g : T(0); }  // f'(0) = 0, as PyTorch
};

template <typename T>
struct LeakyReLU {
  static constexpr const char* kName = "LeakyReLU";
  static constexpr std::array<ActivationParam, 1> kParams{{{"negative_slope", 0.01, ParamDomain::any}}};
  static constexpr Reads kReads = Reads::x;
  static bool from_output(const double* p) { return p[0] >= 0; }  // a negative slope flips the sign
  explicit LeakyReLU(const T* p) : slope(p[0]) {}
  T value(T x) const { return x > T(0) ? x : slope * x; }
  T grad(T x, T, T g) const { return x > T(0) ? g : slope * g; }
  T slope;
};

template <typename T>
struct ELU {
  static constexpr const char* kName = "ELU";
  static constexpr std::array<ActivationParam, 1> kParams{{{"alpha", 1.0, ParamDomain::positive}}};
  static constexpr Reads kReads = Reads::x_and_y;
  static bool from_output(const double* p) { return always(p); }  // alpha > 0: y > 0 ⇔ x > 0
  explicit ELU(const T* p) : alpha(p[0]) {}
  T value(T x) const { return x > T(0) ? x : alpha * std::expm1(x); }
  T grad(T x, T y, T g) const {  // below 0, f' = alpha·e^x = y + alpha
    const T below = g * (y + alpha);
    return x > T(0) ? g : below;
  }
  T alpha;
};

template <typename T>
struct GELU {  // x·Φ(x), exact (PyTorch's default)
  static constexpr const char* kName = "GELU";
  static constexpr NoParams kParams{};
  static constexpr Reads kReads = Reads::x;
  static bool from_output(const double* p) { return never(p); }
  explicit GELU(const T*) {}
  T value(T x) const { return T(0.5) * x * (T(1) + std::erf(x * T(kInvSqrt2))); }
  T grad(T x, T, T g) const {  // Φ(x) + x·φ(x)
    const T cdf = T(0.5) * (T(1) + std::erf(x * T(kInvSqrt2)));
    const T pdf = T(kInvSqrt2Pi) * std::exp(T(-0.5) * x * x);
    return g * (cdf + x * pdf);
  }
};

template <typename T>
struct GELUTanh {  // the tanh approximation (PyTorch's approximate="tanh")
  static constexpr const char* kName = "GELUTanh";
  static constexpr NoParams kParams{};
  static constexpr Reads kReads = Reads::x;
  static bool from_output(const double* p) { return never(p); }
  explicit GELUTanh(const T*) {}
  T value(T x) const {
    const T u = T(kSqrt2OverPi) * (x + T(kGeluTanhCubic) * x * x * x);
    return T(0.5) * x * (T(1) + std::tanh(u));
  }
  T grad(T x, T, T g) const {
    const T x2 = x * x;
    const T t = std::tanh(T(kSqrt2OverPi) * (x + T(kGeluTanhCubic) * x2 * x));
    const T du = T(kSqrt2OverPi) * (T(1) + T(3 * kGeluTanhCubic) * x2);
    return g * (T(0.5) * (T(1) + t) + T(0.5) * x * (T(1) - t * t) * du);
  }
};

template <typename T>
struct Sigmoid {
  static constexpr const char* kName = "Sigmoid";
  static constexpr NoParams kParams{};
  static constexpr Reads kReads = Reads::y;
  static bool from_output(const double* p) { return always(p); }
  explicit Sigmoid(const T*) {}
  T value(T x) const { return stable_sigmoid(x); }
  T grad(T, T y, T g) const { return g * y * (T(1) - y); }
};

template <typename T>
struct Tanh {
  static constexpr const char* kName = "Tanh";
  static constexpr NoParams kParams{};
  static constexpr Reads kReads = Reads::y;
  static bool from_output(const double* p) { return always(p); }
  explicit Tanh(const T*) {}
  T value(T x) const { return std::tanh(x); }
  T grad(T, T y, T g) const { return g * (T(1) - y * y); }
};

template <typename T>
struct SiLU {  // x·σ(x), also called swish
  static constexpr const char* kName = "SiLU";
  static constexpr NoParams kParams{};
  static constexpr Reads kReads = Reads::x;
  static bool from_output(const double* p) { return never(p); }  // not monotonic: y does not give x
  explicit SiLU(const T*) {}
  T value(T x) const { return x * stable_sigmoid(x); }
  T grad(T x, T, T g) const {  // σ(x)·(1 + x·(1 − σ(x)))
    const T s = stable_sigmoid(x);
    return g * (s * (T(1) + x * (T(1) - s)));
  }
};

template <typename T>
struct Softplus {  // log(1 + e^(βx))/β, and x itself where βx > threshold (PyTorch's)
  static constexpr const char* kName = "Softplus";
  static constexpr std::array<ActivationParam, 2> kParams{
      {{"beta", 1.0, ParamDomain::positive}, {"threshold", 20.0, ParamDomain::any}}};
  static constexpr Reads kReads = Reads::x;
  static bool from_output(const double* p) { return never(p); }
  explicit Softplus(const T* p) : beta(p[0]), threshold(p[1]) {}
  T value(T x) const {
    const T z = beta * x, below = stable_softplus(z) / beta;
    return z > threshold ? x : below;
  }
  T grad(T x, T, T g) const {  // σ(βx)
    const T z = beta * x, below = g * stable_sigmoid(z);
    return z > threshold ? g : below;
  }
  T beta, threshold;
};

template <typename T>
struct Hardswish {  // x·clamp(x + 3, 0, 6)/6
  static constexpr const char* kName = "Hardswish";
  static constexpr NoParams kParams{};
  static constexpr Reads kReads = Reads::x;
  static bool from_output(const double* p) { return never(p); }
  explicit Hardswish(const T*) {}
  T value(T x) const {  // NaN passes: both comparisons are false for it
    const T r = x + T(3), clamped = r < T(0) ? T(0) : (r > T(6) ? T(6) : r);
    return x * clamped / T(6);
  }
  T grad(T x, T, T g) const {  // 0 up to −3, x/3 + 1/2 between, 1 from 3 on: PyTorch's sides at the kinks
    const T middle = g * (x / T(3) + T(0.5));
    return x <= T(-3) ? T(0) : (x < T(3) ? middle : g);
  }
};

template <typename T>
struct Mish {  // x·tanh(softplus(x))
  static constexpr const char* kName = "Mish";
  static constexpr NoParams kParams{};
  static constexpr Reads kReads = Reads::x;
  static bool from_output(const double* p) { return never(p); }
  explicit Mish(const T*) {}
  T value(T x) const { return x * std::tanh(stable_softplus(x)); }
  T grad(T x, T, T g) const {  // t + x·σ(x)·(1 − t²), t = tanh(softplus(x))
    const T t = std::tanh(stable_softplus(x));
    return g * (t + x * stable_sigmoid(x) * (T(1) - t * t));
  }
};

}  // namespace functors
}  // namespace bprop::ops
