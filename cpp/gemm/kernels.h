// The kernel tables each ISA file provides. Only isa.cpp picks among them.
#pragma once
#include "gemm/kernel.h"

namespace bprop::gemm {

const Kernel<float>& sgemm_kernel_reference();
const Kernel<double>& dgemm_kernel_reference();
#ifdef BPROP_HAVE_X86_KERNELS
const Kernel<float>& sgemm_kernel_avx2();
const Kernel<double>& dgemm_kernel_avx2();
const Kernel<float>& sgemm_kernel_avx512();
const Kernel<double>& dgemm_kernel_avx512();
// FMA-throughput loops for the peak measurement: run `iterations` rounds, return the flops done.
double fma_peak_loop_avx2(long iterations);
double fma_peak_loop_avx512(long iterations);
#endif

}  // namespace bprop::gemm
