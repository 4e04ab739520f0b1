// a·b + c as this file's kernels compute it: fused (one rounding) where the file's target has FMA,
// two roundings where it has none (the reference kernel on x86). Included by kernel files only, so
// each kernel family uses one rule everywhere: full tiles, edge tiles and the few-row path agree.
#pragma once
#include <cmath>

namespace bprop::gemm {
namespace {

template <typename T>
inline T madd(T a, T b, T c) {
#if defined(__FMA__) || defined(__aarch64__)
  return std::fma(a, b, c);
#else
  return a * b + c;
#endif
}

}  // namespace
}  // namespace bprop::gemm
