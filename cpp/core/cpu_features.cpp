#include "core/cpu_features.h"

#include <cstdint>
#include <cstring>
#include <unistd.h>

#if defined(__x86_64__) || defined(_M_X64)
#include <cpuid.h>
#endif

namespace bprop {
namespace {

#if defined(__x86_64__) || defined(_M_X64)
uint64_t read_xcr0() {
  uint32_t eax, edx;
  __asm__ volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
  return (uint64_t(edx) << 32) | eax;
}

// Cache sizes from the deterministic cache-parameter leaf (Intel 4, AMD 0x8000001D: the same layout).
// Each sub-leaf describes one cache: type in eax[4:0] (1 data, 3 unified, 0 no more), level in eax[7:5],
// size = ways · partitions · line size · sets.
void read_cache_leaf(unsigned leaf, CpuFeatures& f) {
  unsigned max_leaf, b, c, d;
  __get_cpuid(leaf & 0x80000000u, &max_leaf, &b, &c, &d);
  if (max_leaf < leaf) return;
  for (unsigned index = 0; index < 16; ++index) {
    unsigned a;
    __get_cpuid_count(leaf, index, &a, &b, &c, &d);
    const unsigned type = a & 0x1f, level = (a >> 5) & 0x7;
    if (type == 0) break;
    if (type != 1 && type != 3) continue;  // instruction caches
    const long size = long((b >> 22) + 1) * long(((b >> 12) & 0x3ff) + 1) * long((b & 0xfff) + 1) * long(c + 1);
    if (level == 1) f.l1d_bytes = size;
    if (level == 2) f.l2_bytes = size;
    if (level == 3) f.l3_bytes = size;
  }
  if (f.l1d_bytes > 0 && f.l2_bytes > 0) f.cache_source = "cpuid";
}

void detect_x86(CpuFeatures& f) {
  unsigned a, b, c, d;
  unsigned vendor[4] = {};
  if (__get_cpuid(0, &a, &vendor[0], &vendor[2], &vendor[1])) {  // ebx, edx, ecx spell the vendor
    char text[13] = {};
    std::memcpy(text, vendor, 12);
    f.vendor = text;
  }
  if (!__get_cpuid(1, &a, &b, &c, &d)) return;
  const int base_family = int((a >> 8) & 0xf), base_model = int((a >> 4) & 0xf);
  f.family = base_family == 0xf ? base_family + int((a >> 20) & 0xff) : base_family;
  f.model = base_family == 0xf || base_family == 0x6 ? (int((a >> 16) & 0xf) << 4) + base_model : base_model;
  read_cache_leaf(f.vendor == "AuthenticAMD" ? 0x8000001Du : 4u, f);
  const bool fma = c & (1u << 12), osxsave = c & (1u << 27), avx = c & (1u << 28);
  if (!(osxsave && avx)) return;
  // The OS must save the registers we use: xmm|ymm (bits 1,2) and opmask|zmm (bits 5,6,7).
  const uint64_t xcr0 = read_xcr0();
  const bool os_ymm = (xcr0 & 0x6) == 0x6, os_zmm = (xcr0 & 0xe6) == 0xe6;
  if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return;
  const bool avx2 = b & (1u << 5), avx512f = b & (1u << 16), avx512dq = b & (1u << 17),
             avx512vl = b & (1u << 31);
  f.avx2 = os_ymm && avx2 && fma;
  f.avx512 = f.avx2 && os_zmm && avx512f && avx512dq && avx512vl;

  unsigned brand[12] = {};
  if (__get_cpuid(0x80000000, &a, &b, &c, &d) && a >= 0x80000004) {
    for (unsigned i = 0; i < 3; ++i)
      __get_cpuid(0x80000002 + i, &brand[4 * i], &brand[4 * i + 1], &brand[4 * i + 2], &brand[4 * i + 3]);
    char text[49] = {};
    std::memcpy(text, brand, 48);
    f.brand = text;
    const auto first = f.brand.find_first_not_of(' '), last = f.brand.find_last_not_of(' ');
    f.brand = first == std::string::npos ? "" : f.brand.substr(first, last - first + 1);
  }
}
#endif

long sysconf_or_zero(int name) {
  const long v = sysconf(name);
  return v > 0 ? v : 0;
}

CpuFeatures detect() {
  CpuFeatures f;
#if defined(__x86_64__) || defined(_M_X64)
  detect_x86(f);
#elif defined(__aarch64__)
  f.neon = true;
  f.brand = "aarch64";
#endif
#ifdef _SC_LEVEL1_DCACHE_SIZE
  if (f.l1d_bytes <= 0 || f.l2_bytes <= 0) {  // no cache leaf (or a hypervisor hiding it): ask the OS
    f.l1d_bytes = sysconf_or_zero(_SC_LEVEL1_DCACHE_SIZE);
    f.l2_bytes = sysconf_or_zero(_SC_LEVEL2_CACHE_SIZE);
    f.l3_bytes = sysconf_or_zero(_SC_LEVEL3_CACHE_SIZE);
    if (f.l1d_bytes > 0) f.cache_source = "os";
  }
#endif
  return f;
}

}  // namespace

const CpuFeatures& cpu_features() {
  static const CpuFeatures features = detect();
  return features;
}

}  // namespace bprop
