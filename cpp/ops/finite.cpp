#include "ops/finite.h"

#include <cstdint>
#include <cstring>
#include <type_traits>

namespace bprop::ops {

// A number is NaN or ±Inf exactly when its exponent bits are all ones. Testing the bits (integer
// compares OR-ed together) vectorises where a floating-point test would not, and chunks let a bad value
// early in a large array end the scan soon.
template <typename T>
bool all_finite(const T* x, long n) {
  using Bits = std::conditional_t<sizeof(T) == 4, std::uint32_t, std::uint64_t>;
  constexpr Bits exponent = sizeof(T) == 4 ? Bits(0x7f800000u) : Bits(0x7ff0000000000000ull);
  constexpr long kChunk = 4096;
  for (long start = 0; start < n; start += kChunk) {
    const long end = n - start < kChunk ? n : start + kChunk;
    unsigned bad = 0;
    for (long i = start; i < end; ++i) {
      Bits bits;
      std::memcpy(&bits, x + i, sizeof(Bits));
      bad |= (bits & exponent) == exponent;
    }
    if (bad) return false;
  }
  return true;
}

template bool all_finite<float>(const float*, long);
template bool all_finite<double>(const double*, long);

}  // namespace bprop::ops
