// The register-blocked micro-kernel, written once over a SIMD vector type and compiled inside each
// ISA's file. V supplies: V::reg, V::width, zero(), load(p) (aligned), loadu(p), storeu(p, x),
// broadcast(x), fma(a, b, c) = a*b + c, mul(a, b). The contract is in kernel.h.
#pragma once
#include <array>
#include <utility>

namespace bprop::gemm {
// Internal linkage on purpose: every ISA file compiles its own copy with its own flags. Shared
// (inline) instantiations would let the linker keep the AVX-512 copy for the AVX2 path too.
namespace {

// MR rows of the register tile; a kernel for the first `rows` rows only is the same template with
// MR = rows (kernel.h: ukernel_rows), so every row of C is computed by the same instructions.
//
// A_ROWS: op(A) is read in place row by row, a[i*a_step + p] (a small row-major A, not packed), instead
// of a[p*a_step + i].
template <typename V, int MR, int NV, bool A_ROWS = false>
void ukernel_simd(long kc, const typename V::scalar* a, long a_step, const typename V::scalar* b, long b_step,
                  typename V::scalar* c, long ldc, typename V::scalar alpha, typename V::scalar beta) {
  using reg = typename V::reg;
  constexpr int W = V::width, NR = NV * W;
  static_assert(MR >= 1, "a kernel computes at least one row");
  reg acc[MR][NV];
#pragma GCC unroll 16
  for (int i = 0; i < MR; ++i)
#pragma GCC unroll 8
    for (int v = 0; v < NV; ++v) acc[i][v] = V::zero();

  // C is touched only after the loop; start its lines on their way now (rows of a large,
  // power-of-two ldc share cache sets, so they are often not resident).
#pragma GCC unroll 16
  for (int i = 0; i < MR; ++i) {
    __builtin_prefetch(c + i * ldc, 1);
    __builtin_prefetch(c + i * ldc + NR - 1, 1);
  }
  // Without this barrier gcc keeps the MR row addresses live across the loop, runs out of
  // general registers, parks them in vector registers and spills a B vector every step
  // (measured: 75 instead of 108 GFLOP/s). Recomputing them after the loop is free.
  __asm__ volatile("" : "+r"(c));

  for (long p = 0; p < kc; ++p) {
    reg bv[NV];
#pragma GCC unroll 8
    for (int v = 0; v < NV; ++v) bv[v] = V::loadu(b + v * W);  // B in place is not aligned
#pragma GCC unroll 16
    for (int i = 0; i < MR; ++i) {
      const reg ai = V::broadcast(A_ROWS ? a[i * a_step] : a[i]);
#pragma GCC unroll 8
      for (int v = 0; v < NV; ++v) acc[i][v] = V::fma(ai, bv[v], acc[i][v]);
    }
    a += A_ROWS ? 1 : a_step;
    b += b_step;
  }

  const reg va = V::broadcast(alpha);
  if (beta == 0) {
#pragma GCC unroll 16
    for (int i = 0; i < MR; ++i)
#pragma GCC unroll 8
      for (int v = 0; v < NV; ++v) V::storeu(c + i * ldc + v * W, V::mul(va, acc[i][v]));
  } else {
    const reg vb = V::broadcast(beta);
#pragma GCC unroll 16
    for (int i = 0; i < MR; ++i)
#pragma GCC unroll 8
      for (int v = 0; v < NV; ++v) {
        typename V::scalar* ci = c + i * ldc + v * W;
        V::storeu(ci, V::fma(vb, V::loadu(ci), V::mul(va, acc[i][v])));
      }
  }
}

// The kernels for 1..MR rows, in the order of Kernel::ukernel_rows.
template <typename V, int MR, int NV, bool A_ROWS, int... R>
constexpr auto ukernel_rows_table(std::integer_sequence<int, R...>) {
  using T = typename V::scalar;
  using Fn = void (*)(long, const T*, long, const T*, long, T*, long, T, T);
  return std::array<Fn, MR>{&ukernel_simd<V, R + 1, NV, A_ROWS>...};
}

template <typename V, int MR, int NV, bool A_ROWS = false>
constexpr auto ukernel_rows_table() {
  return ukernel_rows_table<V, MR, NV, A_ROWS>(std::make_integer_sequence<int, MR>());
}

}  // namespace
}  // namespace bprop::gemm
