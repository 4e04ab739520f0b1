// Whether a block of C holds only finite values (no exponent with all bits set): the float32 GEMM's
// overflow watch (overflow.h) runs it on every block as it is finished. Compiled inside each ISA's kernel
// file, like pack.h, so the loop vectorises with that ISA (SSE2 cost 10% of a 64^3 product, AVX-512
// a quarter of that); internal linkage for the same reason.
#pragma once
#include <cstdint>
#include <cstring>
#include <type_traits>

namespace bprop::gemm {
namespace {

template <typename T>
bool block_finite(const T* c, long rows, long cols, long ldc) {
  using Bits = std::conditional_t<sizeof(T) == 4, std::uint32_t, std::uint64_t>;
  constexpr Bits exponent = sizeof(T) == 4 ? Bits(0x7f800000u) : Bits(0x7ff0000000000000ull);
  // x is NaN or infinite when its exponent bits are all set, i.e. when ~x & exponent is 0: the minimum of
  // that over the block tells. The lanes of one 64-byte vector are kept apart across rows (one vector
  // min per 64 bytes, no reduction per row) and combined at the end.
  constexpr int kLanes = 64 / sizeof(T);
  Bits lanes[kLanes];
  for (int l = 0; l < kLanes; ++l) lanes[l] = exponent;
  Bits ragged = exponent;  // columns past the last whole vector: apart, so the lanes stay in a register
  for (long i = 0; i < rows; ++i) {
    const T* row = c + i * ldc;
    long j = 0;
    for (; j + kLanes <= cols; j += kLanes)
      for (int l = 0; l < kLanes; ++l) {
        Bits bits;
        std::memcpy(&bits, row + j + l, sizeof bits);
        const Bits clear = ~bits & exponent;
        lanes[l] = clear < lanes[l] ? clear : lanes[l];
      }
    for (; j < cols; ++j) {
      Bits bits;
      std::memcpy(&bits, row + j, sizeof bits);
      const Bits clear = ~bits & exponent;
      ragged = clear < ragged ? clear : ragged;
    }
  }
  Bits least = ragged;
  for (int l = 0; l < kLanes; ++l) least = lanes[l] < least ? lanes[l] : least;
  return least != 0;
}

}  // namespace
}  // namespace bprop::gemm
