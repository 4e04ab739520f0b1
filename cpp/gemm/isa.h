// The GEMM kernels of each instruction set (the choice itself is core/isa.h), and the FMA peak probe.
#pragma once
#include "core/isa.h"
#include "gemm/kernel.h"

namespace bprop::gemm {

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
