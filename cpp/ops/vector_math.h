// Sigmoid and tanh written so that a loop over them vectorises: plain arithmetic, selects and bit moves,
// no libm call (glibc's expf/tanhf stop GCC's vectoriser unless -ffast-math). The gate kernels of the
// recurrent cells (ops/recurrent_cells.cpp) inline them into loops compiled once per ISA.
//   float:  tanh is Eigen's rational minimax p13(x)/q6(x) (odd, so small arguments keep their relative
//           accuracy; within 2 ulp), sigmoid is 1/(1 + e^-x) with Cephes' expf (about 1 ulp).
//   double: std::tanh and std::exp: the float64 path is the one gradient checks read at 1e-10.
#pragma once
#include <cmath>
#include <cstdint>
#include <cstring>

namespace bprop::ops::vmath {

inline float tanh(float x) {
  // tanh rounds to ±1 in float32 beyond this.
  constexpr float kClamp = 7.90531110763549805f;
  x = x < -kClamp ? -kClamp : (x > kClamp ? kClamp : x);  // NaN passes through both comparisons
  const float x2 = x * x;
  float p = -2.76076847742355e-16f;
  p = p * x2 + 2.00018790482477e-13f;
  p = p * x2 + -8.60467152213735e-11f;
  p = p * x2 + 5.12229709037114e-08f;
  p = p * x2 + 1.48572235717979e-05f;
  p = p * x2 + 6.37261928875436e-04f;
  p = p * x2 + 4.89352455891786e-03f;
  float q = 1.19825839466702e-06f;
  q = q * x2 + 1.18534705686654e-04f;
  q = q * x2 + 2.26843463243900e-03f;
  q = q * x2 + 4.89352518554385e-03f;
  return x * p / q;
}

// e^x for x in [-87, 87] (callers clamp): 2^n · e^r with n = round(x / ln 2), |r| <= ln 2 / 2.
inline float exp_clamped(float x) {
  constexpr float kRound = 12582912.0f;  // 1.5·2^23: adding it rounds to an integer (no floor call)
  const float n = (x * 1.44269504088896341f + kRound) - kRound;
  const float r = (x - n * 0.693359375f) - n * -2.12194440e-4f;  // ln 2 in two parts (Cephes)
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * (r * r) + r + 1.0f;
  const int32_t bits = (int32_t(n) + 127) << 23;  // 2^n
  float scale;
  std::memcpy(&scale, &bits, sizeof scale);
  return p * scale;
}

inline float sigmoid(float x) {
  // Beyond ±87 the result is 0 or 1 to float precision (e^87 is near float's limit). NaN is kept out of
  // the float-to-int conversion and put back at the end.
  float m = -x;
  m = m < -87.0f ? -87.0f : (m > 87.0f ? 87.0f : m);
  const float s = 1.0f / (1.0f + exp_clamped(m == m ? m : 0.0f));
  return x == x ? s : x;
}

inline double tanh(double x) { return std::tanh(x); }

inline double sigmoid(double x) {  // e^-|x| never overflows
  const double e = std::exp(-std::abs(x));
  return x >= 0 ? 1.0 / (1.0 + e) : e / (1.0 + e);
}

}  // namespace bprop::ops::vmath
