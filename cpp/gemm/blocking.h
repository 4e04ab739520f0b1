// The GEMM's settings for the CPU at hand, decided once (at the first GEMM, or cpu_info): how many 512-bit
// FMAs a core issues per cycle (a short probe), its cache sizes (core/cpu_features.h), and from them the
// float32 cache blocks, taken from a table of settings measured per CPU family (blocking.cpp) or, for a
// family not in it, from an analytic model of the caches.
#pragma once
#include <string>

#include "core/isa.h"

namespace bprop::gemm {

// Cache blocks of the five loops (kernel.h): Ã is mc×kc (L2), B̃ kc×nc, a B̃ micro-panel kc×nr.
struct Blocks {
  int kc = 0, mc = 0, nc = 0;
};

struct Blocking {
  std::string family;          // the table row that matched, e.g. "AMD Zen 4/5, one 512-bit FMA per cycle"
  std::string source;          // the measurement behind the row (or "analytic model", or "environment")
  int fma512_per_cycle = 0;    // 512-bit FMAs issued per cycle per core (probe); 0 without AVX-512
  double fma_probe_ratio = 0;  // the probe's reading: 512-bit over 256-bit FMA throughput, in flops
  Blocks sgemm_avx512, sgemm_avx2;  // float32 blocks per ISA (float64 and the reference keep their own)
  long in_place_bytes = 0;     // B̃ blocks up to this size are read in place, not packed (gemm.cpp)
  long in_place_a_bytes = 0;   // the same for Ã, read again for every B̃ panel (twice L1)
};

// Decided on first use, then fixed for the process. BPROP_GEMM_BLOCKS="kc,mc,nc" in the environment
// replaces the float32 blocks of every ISA (for tuning sweeps: benchmarks/tune_blocking.py); bprop's import
// checks its form first (runtime.py).
const Blocking& blocking();

// The probe alone: 512-bit over 256-bit float32 FMA throughput (≈1 on a core that splits 512-bit FMAs into
// two 256-bit halves, ≈2 on one with two 512-bit FMA units); 0 without AVX-512.
double measure_fma512_ratio();

}  // namespace bprop::gemm
