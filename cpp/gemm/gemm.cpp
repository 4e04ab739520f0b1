// The five loops around the micro-kernel (BLIS order): jc over nc-wide column blocks of C, pc over
// kc-deep slices of K (B̃ packed once per slice), ic over mc-tall row blocks (Ã packed), then the
// jr/ir tiles of the macro-kernel.
#include "gemm/gemm.h"

#include <algorithm>
#include <atomic>
#include <string>

#include "core/error.h"
#include "core/interrupt.h"
#include "core/parallel.h"
#include "core/workspace.h"
#include "gemm/blocking.h"
#include "gemm/isa.h"

namespace bprop::gemm {
namespace {

// Below this many flops a second thread costs more (waking it, the join) than it saves. Measured
// with benchmarks/bench_gemm.py --threshold on the 2-core development machine: calls back to back
// gain 1.2x at 1e6 flops and 1.5-1.8x at 4e6; with the pool asleep before each call, 4e6 is break-even.
constexpr double kDefaultParallelMinFlops = 4.0e6;

std::atomic<double>& parallel_min_flops_setting() {
  static std::atomic<double> flops{kDefaultParallelMinFlops};
  return flops;
}

long ceil_div(long a, long b) { return (a + b - 1) / b; }

// The few-row path splits columns across threads when B is at least this large (measured below).
constexpr double kFewRowsParallelMinBytes = 256.0 * 1024;

// Calls at least this long are worth waking sleeping workers for (core/parallel.h, Wake): a wake-up costs
// the caller a system call and the worker tens of µs before it runs, so below a few hundred µs of work the
// caller is better off alone. At ~100 GFLOP/s per core (AVX-512 here) that is 2e7 flops; the few-row path
// streams B at ~50 GB/s, 8 MB. Each MLP layer of the benchmark is above the first at batch 128, and
// under both at batch 1 (where calls come back to back, so awake workers take part anyway).
constexpr double kWakeMinFlops = 2.0e7;
constexpr double kFewRowsWakeMinBytes = 8.0e6;
// Blocks per thread while other work competes for the cores (ParallelTeam::contended): a member may then start
// late, and with its share in two blocks the others can take half of it. (Measured beside two busy processes,
// MLP epoch at 2 threads: 1.19x its 1-thread rate with 2 blocks per thread, 1.03x with 1; 4 gained no more.)
constexpr long kContendedBlocksPerThread = 2;

template <typename T>
void scale_c(long m, long n, T beta, T* c, long ldc) {
  for (long i = 0; i < m; ++i)
    for (long j = 0; j < n; ++j) c[i * ldc + j] = beta == T(0) ? T(0) : beta * c[i * ldc + j];
}

// The epilogue over a finished block of C whose first element is C(row0, col0) of the whole C.
template <typename T>
void apply_epilogue(const Epilogue<T>& epilogue, long row0, long col0, T* c, long rows, long cols, long ldc) {
  if (epilogue.apply) epilogue.apply(epilogue.context, row0, col0, c, rows, cols, ldc);
}

// A tile at the right edge of C: the kernel runs on a full-width scratch tile holding C's part (so it
// applies its own final rounding, as for full tiles), and only that part is copied back. With
// beta == 0, C is not read.
template <typename T>
void edge_tile(const Kernel<T>& kern, typename Kernel<T>::Ukernel ukernel, long kc, const T* a, long a_step,
               const T* b, long rows, long cols, T* c, long ldc, T alpha, T beta) {
  alignas(64) T tile[kMaxMR * kMaxNR];
  if (beta != T(0))
    for (long i = 0; i < rows; ++i)
      for (long j = 0; j < cols; ++j) tile[i * kern.nr + j] = c[i * ldc + j];
  ukernel(kc, a, a_step, b, kern.nr, tile, kern.nr, alpha, beta);
  for (long i = 0; i < rows; ++i)
    for (long j = 0; j < cols; ++j) c[i * ldc + j] = tile[i * kern.nr + j];
}

// Ctrl-C inside a long product: the calling thread polls between blocks (core/interrupt.h) and raises
// the flag; every thread leaves at its next block, and the caller throws once the region has ended.
struct StopFlag {
  std::atomic<bool> raised{false};
  // At the start of a block: whether this thread should leave. Only the calling thread polls.
  bool stop_here(bool caller) {
    if (caller && interrupt_requested()) raised.store(true, std::memory_order_relaxed);
    return raised.load(std::memory_order_relaxed);
  }
};

// Whether a B̃ block of kb×cols values is read where it lies instead of being packed. Packing
// pays for itself on large blocks (contiguous, aligned panels that stay in L1/L2 whatever the source's
// stride); on small ones it is a large share of the product (15% at 64^3). Measured on Zen 4 (1 MiB L2),
// 1 thread, GFLOP/s packed -> in place up to a limit: 64^3 91 -> 95, 128x256x512 107 -> 112, 512^3
// 109 -> 111; with no limit 1024^3 fell from 109 to 103. The limit is the L2 size (blocking.h).
template <typename T>
bool read_b_in_place(long kb, long cols) {
  return double(kb) * double(cols) * sizeof(T) <= double(blocking().in_place_bytes);
}

// Ã is read again for every B̃ micro-panel, mr values per step: lda apart (A row by row), or one short
// run per step with steps lda apart (Aᵀ). Either way only a block that stays in L1 gains (Zen 4: 64^3
// 5.5 -> 5.0 us, 128^3 1% faster); with the L2 limit 1024^3 fell from 109 to 99 GFLOP/s (A) and 2048^3
// from 108 to 104 (Aᵀ), the strided lines thrashing a few L1 sets.
template <typename T>
bool read_a_in_place(long kb, long rows) {
  return double(kb) * double(rows) * sizeof(T) <= double(blocking().in_place_a_bytes);
}

// op(B) as the driver reads it: a matrix in memory (B, or Bᵀ when trans), or a packer that writes its
// micro-panels itself (gemm.h: PanelPacker; a convolution's image patches). `col0` is the first column of
// op(B) this call covers, for a packer (a thread's share of the columns); a matrix is offset instead.
template <typename T>
struct OperandB {
  const T* b = nullptr;
  long ldb = 0;
  bool trans = false;
  const PanelPacker<T>* packer = nullptr;
  long col0 = 0;

  // Columns [j0, ...) of this operand as their own operand.
  OperandB from_column(long j0) const {
    OperandB part = *this;
    if (packer)
      part.col0 += j0;
    else
      part.b += trans ? j0 * ldb : j0;
    return part;
  }
  // Packs rows [row0, row0+kc) × columns [c0, c0+cols) into micro-panels, as Kernel::pack_b does.
  void pack(const Kernel<T>& kern, long row0, long kc, long c0, long cols, T* dst) const {
    if (packer)
      packer->pack(packer->context, row0, kc, col0 + c0, cols, kern.nr, dst);
    else
      kern.pack_b(trans, b, ldb, row0, kc, c0, cols, dst);
  }
};

// One thread's whole problem: the five loops with its own packing buffers. The last kc slice applies
// the epilogue to each tile as soon as the kernel has written it.
template <typename T>
void gemm_serial(const Kernel<T>& kern, bool trans_a, long m, long n, long k, T alpha, const T* a, long lda,
                 const OperandB<T>& op_b, T beta, T* c, long ldc, const Epilogue<T>& epilogue, long row_base, long col_base,
                 T* packed_a, T* packed_b, StopFlag& stop, bool caller) {
  const T* b = op_b.b;
  const long ldb = op_b.ldb;
  const long mr = kern.mr, nr = kern.nr;
  for (long jc = 0; jc < n; jc += kern.nc) {
    const long nb = std::min<long>(kern.nc, n - jc), n_panels = ceil_div(nb, nr);
    for (long pc = 0; pc < k; pc += kern.kc) {
      const long kb = std::min<long>(kern.kc, k - pc);
      const T beta_slice = pc == 0 ? beta : T(1);  // later slices accumulate onto the first
      const bool last_slice = pc + kb >= k;
      if ((jc > 0 || pc > 0) && stop.stop_here(caller)) return;  // between blocks: a small product never polls
      // B̃: read in place when small enough (full panels; the ragged last one is packed), else packed whole.
      const bool b_in_place = !op_b.packer && !op_b.trans && read_b_in_place<T>(kb, nb);
      const long full_b = b_in_place ? nb / nr : 0;
      if (full_b * nr < nb) op_b.pack(kern, pc, kb, jc + full_b * nr, nb - full_b * nr, packed_b);
      for (long ic = 0; ic < m; ic += kern.mc) {
        if (ic > 0 && stop.stop_here(caller)) return;
        const long mb = std::min<long>(kern.mc, m - ic), m_panels = ceil_div(mb, mr);
        // Ã: a small op(A) is read in place, an Aᵀ step by step (each step's rows are contiguous), an A
        // row by row (kernels ukernel_a_rows).
        const bool a_in_place = (trans_a || kern.ukernel_a_rows[0]) && read_a_in_place<T>(kb, mb);
        if (!a_in_place) kern.pack_a(trans_a, a, lda, ic, mb, pc, kb, packed_a);
        const long a_step = a_in_place ? lda : mr;
        const auto& ukernel = a_in_place && !trans_a ? kern.ukernel_a_rows : kern.ukernel;
        // jr outer, ir inner: each B̃ micro-panel stays in L1 while the Ã micro-panels stream past.
        for (long jp = 0; jp < n_panels; ++jp) {
          const long cols = std::min(nr, nb - jp * nr);
          const bool panel_in_place = jp < full_b;
          const T* pb = panel_in_place ? b + pc * ldb + jc + jp * nr : packed_b + (jp - full_b) * nr * kb;
          const long b_step = panel_in_place ? ldb : nr;
          for (long ip = 0; ip < m_panels; ++ip) {
            const long rows = std::min(mr, mb - ip * mr);
            const long row = ic + ip * mr;
            const T* pa = !a_in_place ? packed_a + ip * mr * kb : trans_a ? a + pc * lda + row : a + row * lda + pc;
            T* tile = c + row * ldc + jc + jp * nr;
            if (cols == nr)
              ukernel[rows - 1](kb, pa, a_step, pb, b_step, tile, ldc, alpha, beta_slice);
            else
              edge_tile(kern, ukernel[rows - 1], kb, pa, a_step, pb, rows, cols, tile, ldc, alpha, beta_slice);
            if (last_slice) apply_epilogue(epilogue, row_base + row, col_base + jc + jp * nr, tile, rows, cols, ldc);
          }
        }
      }
    }
  }
}

// Threads take disjoint blocks of C and run independently: no barrier inside the call, so noise on
// one core never stalls the other mid-way. Splitting N repacks all of A in every block, splitting M all
// of B; the split takes the cheaper duplicate. K is never split, and blocks start on panel boundaries, so
// each element of C is summed in the same order whatever the thread count and the number of blocks.
// One block per thread of the call's team, each thread's own first (the same block from call to call, so
// its share of B stays in its cache); a block a late thread has not started is taken by the others. More,
// smaller blocks measured slower at no load (4-10% on the MLP's shapes: every block repacks A or B).
template <typename T>
void gemm_threaded(const Kernel<T>& kern, bool trans_a, long m, long n, long k, T alpha, const T* a, long lda,
                   const OperandB<T>& op_b, T beta, T* c, long ldc, const Epilogue<T>& epilogue, int threads) {
  const std::size_t a_size = std::size_t(kern.mc) * kern.kc, b_size = std::size_t(kern.kc) * kern.nc;
  Workspace& ws = thread_workspace();
  StopFlag stop;
  if (threads <= 1) {  // straight to the loops: a tiny network's step is a handful of µs-sized products
    gemm_serial(kern, trans_a, m, n, k, alpha, a, lda, op_b, beta, c, ldc, epilogue, 0, 0,
                ws.gemm_pack_a.reserve_elements<T>(a_size), ws.gemm_pack_b.reserve_elements<T>(b_size), stop, true);
    if (stop.raised.load()) throw Interrupted();
    return;
  }
  const long m_panels = ceil_div(m, kern.mr), n_panels = ceil_div(n, kern.nr);
  const bool split_n = n_panels >= threads && (m <= n || m_panels < threads);
  const long panels = split_n ? n_panels : m_panels;
  const double flops = 2.0 * double(m) * double(n) * double(k);
  ParallelTeam team(int(std::min<long>(threads, panels)), flops >= kWakeMinFlops ? Wake::always : Wake::if_awake);
  const long blocks = std::min<long>(panels, team.size() * (team.contended() ? kContendedBlocksPerThread : 1));

  // Reserved before the parallel region: allocation may throw, the region must not. One pair per thread.
  T* packed_a = ws.gemm_pack_a.reserve_elements<T>(a_size * team.size());
  T* packed_b = ws.gemm_pack_b.reserve_elements<T>(b_size * team.size());

  const auto block_of_c = [&](long block, int slot) {
    T* own_a = packed_a + a_size * slot;
    T* own_b = packed_b + b_size * slot;
    const auto [p0, p1] = split_range(panels, int(block), int(blocks));
    const bool caller = slot == 0;  // only the calling thread polls for Ctrl-C
    if (split_n) {
      const long j0 = p0 * kern.nr, j1 = std::min(p1 * kern.nr, n);
      if (j1 <= j0) return;
      gemm_serial(kern, trans_a, m, j1 - j0, k, alpha, a, lda, op_b.from_column(j0), beta, c + j0, ldc, epilogue, 0, j0,
                  own_a, own_b, stop, caller);
    } else {
      const long i0 = p0 * kern.mr, i1 = std::min(p1 * kern.mr, m);
      if (i1 <= i0) return;
      const T* a_part = trans_a ? a + i0 : a + i0 * lda;
      gemm_serial(kern, trans_a, i1 - i0, n, k, alpha, a_part, lda, op_b, beta, c + i0 * ldc, ldc, epilogue, i0, 0, own_a,
                  own_b, stop, caller);
    }
  };
  team.run(blocks, block_of_c, &stop.raised);  // blocks not yet started are skipped once the flag is raised
  if (stop.raised.load()) throw Interrupted();  // C is partly written; the caller discards it
}

// A few rows of C through the unpacked path. Threads take column ranges (multiples of 16, so vectors
// stay aligned): each streams only its part of B, which for a layer of a few MB then stays in its
// core's L2 from one call to the next (batch-1 inference). Columns are computed alike on any split.
template <typename T>
void gemm_few_rows(const Kernel<T>& kern, bool trans_a, long m, long n, long k, T alpha, const T* a, long lda,
                   const T* b, long ldb, T beta, T* c, long ldc, const Epilogue<T>& epilogue) {
  T* acc = thread_workspace().gemm_row.reserve_elements<T>(std::size_t(n));
  const double bytes = double(n) * double(k) * sizeof(T);
  const long blocks = ceil_div(n, 16);
  const int threads = bytes >= kFewRowsParallelMinBytes ? int(std::min<long>(num_threads(), blocks)) : 1;
  run_parallel(threads, bytes >= kFewRowsWakeMinBytes ? Wake::always : Wake::if_awake, [&](int index, int count) {
    const auto [q0, q1] = split_range(blocks, index, count);
    const long j0 = q0 * 16, j1 = std::min(q1 * 16, n);
    if (j1 <= j0) return;
    kern.gemm_small_m(trans_a, m, j1 - j0, k, kern.kc, alpha, a, lda, b + j0, ldb, beta, c + j0, ldc, acc + j0);
    apply_epilogue(epilogue, 0, j0, c + j0, m, j1 - j0, ldc);
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

namespace {

// The products BLAS defines without multiplying: an empty C, or C ← beta·C when k == 0 or alpha == 0.
// True when this was one (and has been done).
template <typename T>
bool no_product(long m, long n, long k, T alpha, T beta, T* c, long ldc, const Epilogue<T>& epilogue) {
  if (m == 0 || n == 0) return true;
  if (k != 0 && alpha != T(0)) return false;
  scale_c(m, n, beta, c, ldc);
  apply_epilogue(epilogue, 0, 0, c, m, n, ldc);
  return true;
}

int threads_for(long m, long n, long k) {
  return 2.0 * double(m) * double(n) * double(k) < parallel_min_flops() ? 1 : num_threads();
}

}  // namespace

template <typename T>
void gemm(Op op_a, Op op_b, long m, long n, long k, T alpha, const T* a, long lda, const T* b, long ldb, T beta,
          T* c, long ldc, const Epilogue<T>& epilogue) {
  check_sizes(m, n, k, lda, ldb, ldc, op_a, op_b);
  if (no_product(m, n, k, alpha, beta, c, ldc, epilogue)) return;
  const Kernel<T>& kern = kernel_for<T>(active_isa());
  if (m <= kern.small_m && op_b == Op::N) {  // a few rows: packing B would cost more than the product
    gemm_few_rows(kern, op_a == Op::T, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, epilogue);
    return;
  }
  OperandB<T> source;
  source.b = b;
  source.ldb = ldb;
  source.trans = op_b == Op::T;
  gemm_threaded(kern, op_a == Op::T, m, n, k, alpha, a, lda, source, beta, c, ldc, epilogue, threads_for(m, n, k));
}

template <typename T>
void gemm_packed_b(Op op_a, long m, long n, long k, T alpha, const T* a, long lda, const PanelPacker<T>& b, T beta,
                   T* c, long ldc, const Epilogue<T>& epilogue) {
  check_sizes(m, n, k, lda, std::max(1L, n), ldc, op_a, Op::N);
  if (!b.pack) throw ValueError("[gemm] the panel packer has no pack function");
  if (no_product(m, n, k, alpha, beta, c, ldc, epilogue)) return;
  OperandB<T> source;
  source.packer = &b;
  gemm_threaded(kernel_for<T>(active_isa()), op_a == Op::T, m, n, k, alpha, a, lda, source, beta, c, ldc, epilogue,
                threads_for(m, n, k));
}

template void gemm<float>(Op, Op, long, long, long, float, const float*, long, const float*, long, float, float*,
                          long, const Epilogue<float>&);
template void gemm<double>(Op, Op, long, long, long, double, const double*, long, const double*, long, double,
                           double*, long, const Epilogue<double>&);
template void gemm_packed_b<float>(Op, long, long, long, float, const float*, long, const PanelPacker<float>&, float,
                                   float*, long, const Epilogue<float>&);
template void gemm_packed_b<double>(Op, long, long, long, double, const double*, long, const PanelPacker<double>&,
                                    double, double*, long, const Epilogue<double>&);

}  // namespace bprop::gemm
