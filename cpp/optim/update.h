// What every update kernel shares: the parallel loop over a parameter's elements, the gradient as the
// kernels read it (clipped, plus coupled weight decay), and torch's lerp.
#pragma once
#include <algorithm>
#include <cmath>
#include <limits>
#include <type_traits>
#include <utility>

#include "core/parallel.h"
#include "core/isa.h"

namespace bprop::optim {

// Parameters with at least this many elements are updated on several threads; for smaller ones starting
// the threads costs more than the update. Measured (2 cores, float32): at 2^15 elements two threads already
// beat one, SGD 6.3 → 4.0 µs, Adam 30 → 16 µs.
inline constexpr long kParallelMinElements = 1L << 15;

inline int update_threads(long elements) { return elements >= kParallelMinElements ? num_threads() : 1; }

// The element loop, compiled per ISA: an update is bound by its arithmetic (Adam's sqrt and division), so
// the body (a lambda, inlined into each) gets the vector code of the kernel family the GEMM runs, AVX-512
// or AVX2+FMA, picked at run time (BPROP_ISA / set_isa force it): Adam over 535k float32 parameters,
// 308 µs at 1 thread with the baseline's SSE, 83 µs with AVX-512.
template <class Body>
void elements_baseline(Body& body, long begin, long end) {
  for (long i = begin; i < end; ++i) body(i);
}
#if BPROP_HAVE_X86_KERNELS
template <class Body>
[[gnu::target("avx2,fma")]] void elements_avx2(Body& body, long begin, long end) {
  for (long i = begin; i < end; ++i) body(i);
}
template <class Body>
[[gnu::target("avx512f,avx512vl,avx512dq,avx2,fma")]] void elements_avx512(Body& body, long begin, long end) {
  for (long i = begin; i < end; ++i) body(i);
}
#endif

// Calls body(i) for every i in [0, n), in one pass, split across threads for large n. Each element's
// update depends on that element alone, so the result is the same whatever the split.
template <class Body>
void for_each_element(long n, Body&& body) {
  const Isa isa = active_isa();
  parallel_for(n, kParallelMinElements, [&](long begin, long end) {
#if BPROP_HAVE_X86_KERNELS
    if (isa == Isa::avx512) return elements_avx512(body, begin, end);
    if (isa == Isa::avx2) return elements_avx2(body, begin, end);
#endif
    elements_baseline(body, begin, end);
  });
}

// Calls f(std::bool_constant<flags>...): choices fixed for a whole step (momentum on, the first step,
// AMSGrad, ...) are made once, outside the element loop, so each loop body is branch-free and vectorizes.
template <class F>
void with_flags(F&& f) {
  f();
}
template <class F, class... Flags>
void with_flags(F&& f, bool flag, Flags... flags) {
  if (flag)
    with_flags([&](auto... known) { f(std::true_type{}, known...); }, flags...);
  else
    with_flags([&](auto... known) { f(std::false_type{}, known...); }, flags...);
}

// A gradient element as an update reads it: scaled by the clip-by-norm coefficient, clamped by the
// clip-by-value bound, then with coupled L2 weight decay, torch's `grad + weight_decay * param`. Branch-free
// so loops vectorize: the defaults (×1, clamp to ±inf, + 0·param) give the gradient back exactly (unless
// param is inf or NaN, when the run has diverged anyway). NaN stays NaN, as with torch's clamp.
template <typename T>
struct GradientReader {
  T scale = 1;
  T limit = std::numeric_limits<T>::infinity();
  T weight_decay = 0;

  T operator()(T grad, T param) const { return std::min(std::max(grad * scale, -limit), limit) + weight_decay * param; }
};

// torch.lerp: a + w·(b − a), computed from the nearer end as ATen does, so the rounding matches. The end
// is a per-step choice (pass lerp_from_a(w) to with_flags): a choice per element would stop vectorizing.
template <typename T>
inline bool lerp_from_a(T w) {
  return std::abs(w) < T(0.5);
}
template <class FromA, typename T>
inline T lerp(FromA, T a, T b, T w) {
  if constexpr (FromA::value)
    return a + w * (b - a);
  else
    return b - (b - a) * (T(1) - w);
}

// One step's facts, handed to an optimizer's update().
template <typename T>
struct StepContext {
  double lr;                  // this step's rate, the schedule applied
  long number;                // 1 for the first step (bias corrections, Adagrad's decay, SGD's first buffer)
  GradientReader<T> clipped;  // clipping as step() decided it, without weight decay

  GradientReader<T> gradient(double coupled_weight_decay) const {
    GradientReader<T> reader = clipped;
    reader.weight_decay = T(coupled_weight_decay);
    return reader;
  }
};

}  // namespace bprop::optim
