// What the CPU (and the OS, for the wide registers) supports, read once.
#pragma once
#include <string>

namespace bprop {

struct CpuFeatures {
  bool avx2 = false;     // AVX2 and FMA3, with the OS saving ymm state
  bool avx512 = false;   // AVX-512 F/DQ/VL, with the OS saving zmm state
  bool neon = false;     // aarch64 Advanced SIMD
  std::string brand;     // e.g. "AMD EPYC"
  long l1d_bytes = 0, l2_bytes = 0, l3_bytes = 0;  // 0 when unknown
};

const CpuFeatures& cpu_features();

}  // namespace bprop
