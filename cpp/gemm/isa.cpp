#include "gemm/isa.h"

#include <algorithm>
#include <atomic>
#include <chrono>

#include "core/cpu_features.h"
#include "core/parallel.h"
#include "gemm/blocking.h"
#include "gemm/kernels.h"

namespace bprop::gemm {

namespace {

// A kernel table with the float32 cache blocks chosen for this CPU (blocking.h). mc and nc are rounded
// down to whole register tiles, as the driver requires.
Kernel<float> tuned(Kernel<float> kernel, const Blocks& blocks) {
  kernel.kc = blocks.kc;
  kernel.mc = std::max(kernel.mr, blocks.mc / kernel.mr * kernel.mr);
  kernel.nc = std::max(kernel.nr, blocks.nc / kernel.nr * kernel.nr);
  return kernel;
}

}  // namespace

const Kernel<float>& sgemm_kernel(Isa isa) {
  switch (isa) {
#ifdef BPROP_HAVE_X86_KERNELS
    case Isa::avx512: {
      static const Kernel<float> kernel = tuned(sgemm_kernel_avx512(), blocking().sgemm_avx512);
      return kernel;
    }
    case Isa::avx2: {
      static const Kernel<float> kernel = tuned(sgemm_kernel_avx2(), blocking().sgemm_avx2);
      return kernel;
    }
#endif
    default: return sgemm_kernel_reference();
  }
}

const Kernel<double>& dgemm_kernel(Isa isa) {
  switch (isa) {
#ifdef BPROP_HAVE_X86_KERNELS
    case Isa::avx512: return dgemm_kernel_avx512();
    case Isa::avx2: return dgemm_kernel_avx2();
#endif
    default: return dgemm_kernel_reference();
  }
}

double measure_fma_peak_gflops(Isa isa, int threads, double seconds) {
  double (*loop)(long) = nullptr;
#ifdef BPROP_HAVE_X86_KERNELS
  if (isa == Isa::avx512 && cpu_features().avx512) loop = &fma_peak_loop_avx512;
  if (isa == Isa::avx2 && cpu_features().avx2) loop = &fma_peak_loop_avx2;
#endif
  if (!loop) return 0.0;
  using clock = std::chrono::steady_clock;
  // Calibrate on one thread, then time every thread running the same count at once.
  long iterations = 1 << 16;
  for (;;) {
    const auto t0 = clock::now();
    loop(iterations);
    const double dt = std::chrono::duration<double>(clock::now() - t0).count();
    if (dt > seconds / 4 || iterations > (1L << 40)) {
      iterations = long(double(iterations) * seconds / (dt > 0 ? dt : 1e-9));
      break;
    }
    iterations *= 4;
  }
  std::atomic<double> flops{0.0};
  const auto t0 = clock::now();
  run_parallel(threads, Wake::always, [&](int, int) {  // every thread, each the same count
    const double done = loop(iterations);
    double seen = flops.load();
    while (!flops.compare_exchange_weak(seen, seen + done)) {
    }
  });
  const double dt = std::chrono::duration<double>(clock::now() - t0).count();
  return flops.load() / dt * 1e-9;
}

}  // namespace bprop::gemm
