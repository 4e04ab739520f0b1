// Which kernel family runs: the best the CPU has, chosen once, or one forced for tests and benchmarks.
#pragma once
#include <string>
#include <vector>

#include "gemm/kernel.h"

namespace bprop::gemm {

enum class Isa { reference, avx2, avx512 };

const char* isa_name(Isa isa);
std::vector<Isa> available_isas();  // reference first, best last
Isa active_isa();
// Forces one ISA by name ("reference", "avx2", "avx512"); ValueError if unknown or not on this CPU.
void set_active_isa(const std::string& name);

const Kernel<float>& sgemm_kernel(Isa isa);
const Kernel<double>& dgemm_kernel(Isa isa);

template <typename T>
const Kernel<T>& kernel_for(Isa isa);
template <>
inline const Kernel<float>& kernel_for<float>(Isa isa) { return sgemm_kernel(isa); }
template <>
inline const Kernel<double>& kernel_for<double>(Isa isa) { return dgemm_kernel(isa); }

// float32 FMA throughput of `isa` on `threads` threads, in GFLOP/s, measured over about `seconds`.
// 0 for the reference ISA, which has no FMA loop of its own.
double measure_fma_peak_gflops(Isa isa, int threads, double seconds);

}  // namespace bprop::gemm
