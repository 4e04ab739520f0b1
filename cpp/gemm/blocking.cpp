#include "gemm/blocking.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>

#include "core/cpu_features.h"
#include "gemm/kernels.h"

namespace bprop::gemm {
namespace {

// One row per CPU family whose best blocks were measured; the first row that matches is used.
struct TableRow {
  const char* family;
  bool (*matches)(const CpuFeatures& cpu, int fma512_per_cycle);
  Blocks sgemm_avx512, sgemm_avx2;
  const char* measured;  // what chose these values, so the next session can repeat it
};

bool is_amd_zen4_or_later(const CpuFeatures& cpu, int) {
  return cpu.vendor == "AuthenticAMD" && cpu.family >= 0x19;
}

const TableRow kTable[] = {
    {"AMD Zen 4/Zen 5 (family 0x19/0x1A)", &is_amd_zen4_or_later, {512, 288, 4096}, {512, 192, 4096},
     "AMD EPYC family 25 model 17 (Zen 4, 1 MiB L2, one 512-bit FMA per cycle), 2026-11-29: "
     "python benchmarks/tune_blocking.py (1 thread, medians of 5 rounds): kc 512/mc 288/nc 4096 best or within "
     "0.5% on 1024^3, 2048^3, 256^3 and the three MLP products; kc 256 lost up to 11% (1024^3), kc 384 up to "
     "5%, kc 768/mc 192 up to 4%, mc 144 or 432 and nc 2048 within 1.5%. AVX2 (BPROP_ISA=avx2, 3 rounds): "
     "kc 512/mc 192 best or within 1% everywhere; the former 256/288 ran 1024^3 at 65 GFLOP/s against 110"},
};

// For a family not in the table: the analytic model of Low et al. ("Analytical modeling is enough for
// high-performance BLIS", 2016) in its simplest form. A B̃ micro-panel (kc×nr) fills half of L1, leaving
// the other half to the Ã micro-panels streaming past; Ã (mc×kc) fills half of L2; B̃ (kc×nc) a quarter
// of the L3 (shared with the other cores), at most 4096 columns.
Blocks analytic_blocks(const CpuFeatures& cpu, int mr, int nr) {
  const long l1 = cpu.l1d_bytes > 0 ? cpu.l1d_bytes : 32 * 1024;
  const long l2 = cpu.l2_bytes > 0 ? cpu.l2_bytes : 512 * 1024;
  const long l3 = cpu.l3_bytes > 0 ? cpu.l3_bytes : 8L * 1024 * 1024;
  const long s = sizeof(float);
  const long kc = std::clamp(l1 / 2 / (nr * s) / 32 * 32, 128L, 512L);
  const long mc = std::clamp(l2 / 2 / (kc * s) / mr * mr, long(mr), 1536L / mr * mr);
  const long nc = std::clamp(l3 / 4 / (kc * s) / nr * nr, long(nr), 4096L);
  return {int(kc), int(mc), int(nc)};
}

// BPROP_GEMM_BLOCKS="kc,mc,nc", already checked by bprop's import; {} when unset or unreadable.
bool blocks_from_environment(Blocks& blocks) {
  const char* text = std::getenv("BPROP_GEMM_BLOCKS");
  if (!text || !*text) return false;
  int kc = 0, mc = 0, nc = 0;
  if (std::sscanf(text, "%d,%d,%d", &kc, &mc, &nc) != 3 || kc < 1 || mc < 1 || nc < 1) return false;
  blocks = {kc, mc, nc};
  return true;
}

Blocking decide() {
  const CpuFeatures& cpu = cpu_features();
  Blocking b;
  b.fma_probe_ratio = measure_fma512_ratio();
  // Two units show as twice the flops of 256-bit FMAs; one unit fed in two halves as the same flops.
  b.fma512_per_cycle = b.fma_probe_ratio == 0 ? 0 : b.fma_probe_ratio > 1.5 ? 2 : 1;
  b.in_place_bytes = cpu.l2_bytes > 0 ? cpu.l2_bytes : 512 * 1024;
  b.in_place_a_bytes = 2 * (cpu.l1d_bytes > 0 ? cpu.l1d_bytes : 32 * 1024);
  const TableRow* row = nullptr;
  for (const TableRow& candidate : kTable)
    if (candidate.matches(cpu, b.fma512_per_cycle)) {
      row = &candidate;
      break;
    }
  if (row) {
    b.family = row->family;
    b.source = row->measured;
    b.sgemm_avx512 = row->sgemm_avx512;
    b.sgemm_avx2 = row->sgemm_avx2;
  } else {
    b.family = cpu.vendor.empty() ? "unknown" : cpu.vendor + " family " + std::to_string(cpu.family) + " model " +
                                                    std::to_string(cpu.model) + " (not in the table)";
    b.source = "analytic model of the caches (no measured row for this family)";
    b.sgemm_avx512 = analytic_blocks(cpu, 12, 32);
    b.sgemm_avx2 = analytic_blocks(cpu, 6, 16);
  }
  Blocks forced;
  if (blocks_from_environment(forced)) {
    b.sgemm_avx512 = b.sgemm_avx2 = forced;
    b.source = "environment (BPROP_GEMM_BLOCKS)";
  }
  return b;
}

}  // namespace

double measure_fma512_ratio() {
#ifdef BPROP_HAVE_X86_KERNELS
  if (!cpu_features().avx512) return 0.0;
  using clock = std::chrono::steady_clock;
  // Best of three short alternating runs each (about 0.1 ms apiece): the first may meet a core still
  // raising its clock, and the best reading is the closest to the unit's throughput.
  const auto rate = [](double (*loop)(long)) {
    const auto t0 = clock::now();
    const double flops = loop(50000);
    return flops / std::chrono::duration<double>(clock::now() - t0).count();
  };
  double wide = 0, narrow = 0;
  for (int round = 0; round < 3; ++round) {
    wide = std::max(wide, rate(&fma_peak_loop_avx512));
    narrow = std::max(narrow, rate(&fma_peak_loop_avx2));
  }
  return narrow > 0 ? wide / narrow : 0.0;
#else
  return 0.0;
#endif
}

const Blocking& blocking() {
  static const Blocking chosen = decide();
  return chosen;
}

}  // namespace bprop::gemm
