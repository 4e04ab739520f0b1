// What the CPU (and the OS, for the wide registers) supports, read once.
#pragma once
#include <string>

namespace bprop {

struct CpuFeatures {
  bool avx2 = false;     // AVX2 and FMA3, with the OS saving ymm state
  bool avx512 = false;   // AVX-512 F/DQ/VL, with the OS saving zmm state
  bool neon = false;     // aarch64 Advanced SIMD
  std::string brand;     // e.g. "AMD EPYC"
  std::string vendor;    // "AuthenticAMD", "GenuineIntel", ... ("" off x86)
  int family = 0, model = 0;  // x86 display family and model (extended fields folded in), 0 when unknown
  // Per core: L1 data and L2; L3 as one slice is shared. From cpuid's cache leaves (4 on Intel,
  // 0x8000001D on AMD), else the OS (sysconf); 0 when unknown.
  long l1d_bytes = 0, l2_bytes = 0, l3_bytes = 0;
  const char* cache_source = "unknown";  // "cpuid" or "os"
};

const CpuFeatures& cpu_features();

}  // namespace bprop
