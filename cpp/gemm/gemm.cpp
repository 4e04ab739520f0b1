// The five loops around the micro-kernel (BLIS order): jc over nc-wide column blocks of C, pc over
// kc-deep slices of K (B̃ packed once per slice), ic over mc-tall row blocks (Ã packed), then the
// jr/ir tiles of the macro-kernel. Threads share the packing and split the tiles; K is never split,
// so every element of C is summed in the same order whatever the thread count.
#include "gemm/gemm.h"

#include <algorithm>
#include <atomic>
#include <string>

#include "core/error.h"
#include "core/parallel.h"
#include "core/workspace.h"
#include "gemm/isa.h"

namespace bprop::gemm {
namespace {

// Below this many flops a second thread costs more (fork/join, barriers) than it saves.
// Measured with benchmarks/bench_gemm.py --threshold on the development machine.
constexpr double kDefaultParallelMinFlops = 4.0e6;

std::atomic<double>& parallel_min_flops_setting() {
  static std::atomic<double> flops{kDefaultParallelMinFlops};
  return flops;
}

long ceil_div(long a, long b) { return (a + b - 1) / b; }

template <typename T>
void scale_c(long m, long n, T beta, T* c, long ldc) {
  for (long i = 0; i < m; ++i)
    for (long j = 0; j < n; ++j) c[i * ldc + j] = beta == T(0) ? T(0) : beta * c[i * ldc + j];
}

// An edge tile: the kernel fills a full scratch tile, and only the part inside C is merged.
template <typename T>
void edge_tile(const Kernel<T>& kern, long kc, const T* a, const T* b, long rows, long cols, T* c, long ldc,
               T alpha, T beta) {
  alignas(64) T tile[kMaxMR * kMaxNR];
  kern.ukernel(kc, a, b, tile, kern.nr, T(1), T(0));
  for (long i = 0; i < rows; ++i)
    for (long j = 0; j < cols; ++j) {
      T& out = c[i * ldc + j];
      out = beta == T(0) ? alpha * tile[i * kern.nr + j] : alpha * tile[i * kern.nr + j] + beta * out;
    }
}

template <typename T>
void gemm_blocked(const Kernel<T>& kern, bool trans_a, bool trans_b, long m, long n, long k, T alpha,
                  const T* a, long lda, const T* b, long ldb, T beta, T* c, long ldc, int threads) {
  const long mr = kern.mr, nr = kern.nr;
  Workspace& ws = thread_workspace();
  // Reserved before the parallel region: allocation may throw, the region must not.
  T* packed_a = ws.gemm_pack_a.reserve_elements<T>(std::size_t(kern.mc) * kern.kc);
  T* packed_b = ws.gemm_pack_b.reserve_elements<T>(std::size_t(kern.kc) * kern.nc);

  run_parallel(threads, [&](int tid, int nthreads) {
    for (long jc = 0; jc < n; jc += kern.nc) {
      const long nb = std::min<long>(kern.nc, n - jc), n_panels = ceil_div(nb, nr);
      for (long pc = 0; pc < k; pc += kern.kc) {
        const long kb = std::min<long>(kern.kc, k - pc);
        const T beta_slice = pc == 0 ? beta : T(1);  // later slices accumulate onto the first

        const auto [jb0, jb1] = split_range(n_panels, tid, nthreads);
        if (jb1 > jb0)
          kern.pack_b(trans_b, b, ldb, pc, kb, jc + jb0 * nr, std::min(jb1 * nr, nb) - jb0 * nr,
                      packed_b + jb0 * nr * kb);
        thread_barrier();

        for (long ic = 0; ic < m; ic += kern.mc) {
          const long mb = std::min<long>(kern.mc, m - ic), m_panels = ceil_div(mb, mr);
          const auto [ib0, ib1] = split_range(m_panels, tid, nthreads);
          if (ib1 > ib0)
            kern.pack_a(trans_a, a, lda, ic + ib0 * mr, std::min(ib1 * mr, mb) - ib0 * mr, pc, kb,
                        packed_a + ib0 * mr * kb);
          thread_barrier();

          // Tiles in jr-major order: a thread's contiguous share reuses each B̃ micro-panel from L1.
          const auto [t0, t1] = split_range(n_panels * m_panels, tid, nthreads);
          for (long t = t0; t < t1; ++t) {
            const long jp = t / m_panels, ip = t % m_panels;
            const long rows = std::min(mr, mb - ip * mr), cols = std::min(nr, nb - jp * nr);
            const T* pa = packed_a + ip * mr * kb;
            const T* pb = packed_b + jp * nr * kb;
            T* pc_tile = c + (ic + ip * mr) * ldc + jc + jp * nr;
            if (rows == mr && cols == nr)
              kern.ukernel(kb, pa, pb, pc_tile, ldc, alpha, beta_slice);
            else
              edge_tile(kern, kb, pa, pb, rows, cols, pc_tile, ldc, alpha, beta_slice);
          }
          thread_barrier();  // Ã and B̃ are repacked next
        }
      }
    }
  });
}

void check_sizes(long m, long n, long k, long lda, long ldb, long ldc, Op op_a, Op op_b) {
  auto fail = [](const std::string& what) { throw ValueError("[gemm] " + what); };
  if (m < 0 || n < 0 || k < 0)
    fail("sizes must be >= 0; got m=" + std::to_string(m) + ", n=" + std::to_string(n) + ", k=" + std::to_string(k));
  const long min_lda = std::max(1L, op_a == Op::N ? k : m), min_ldb = std::max(1L, op_b == Op::N ? n : k);
  if (lda < min_lda) fail("lda must be >= " + std::to_string(min_lda) + "; got " + std::to_string(lda));
  if (ldb < min_ldb) fail("ldb must be >= " + std::to_string(min_ldb) + "; got " + std::to_string(ldb));
  if (ldc < std::max(1L, n)) fail("ldc must be >= " + std::to_string(std::max(1L, n)) + "; got " + std::to_string(ldc));
}

}  // namespace

double parallel_min_flops() { return parallel_min_flops_setting().load(std::memory_order_relaxed); }

void set_parallel_min_flops(double flops) {
  if (!(flops >= 0)) throw ValueError("[gemm] the parallel threshold must be >= 0 flops");
  parallel_min_flops_setting().store(flops, std::memory_order_relaxed);
}

template <typename T>
void gemm(Op op_a, Op op_b, long m, long n, long k, T alpha, const T* a, long lda, const T* b, long ldb, T beta,
          T* c, long ldc) {
  check_sizes(m, n, k, lda, ldb, ldc, op_a, op_b);
  if (m == 0 || n == 0) return;
  if (k == 0 || alpha == T(0)) {
    scale_c(m, n, beta, c, ldc);
    return;
  }
  const double flops = 2.0 * double(m) * double(n) * double(k);
  const int threads = flops < parallel_min_flops() ? 1 : num_threads();
  gemm_blocked(kernel_for<T>(active_isa()), op_a == Op::T, op_b == Op::T, m, n, k, alpha, a, lda, b, ldb, beta, c,
               ldc, threads);
}

template void gemm<float>(Op, Op, long, long, long, float, const float*, long, const float*, long, float, float*,
                          long);
template void gemm<double>(Op, Op, long, long, long, double, const double*, long, const double*, long, double,
                           double*, long);

}  // namespace bprop::gemm
