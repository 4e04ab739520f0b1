// Thread count and the one way the core runs work on several threads.
// Without OpenMP everything runs on the calling thread and the count stays 1.
#pragma once
#include <utility>
#ifdef BPROP_HAVE_OPENMP
#include <omp.h>
#endif

namespace bprop {

bool has_openmp();
int num_threads();           // threads bprop uses: OMP_NUM_THREADS or the core count until set
void set_num_threads(int n); // n >= 1, else ValueError
int available_cores();

// Runs body(thread_index, thread_count) on `threads` threads. The body must not throw: an exception
// escaping an OpenMP region terminates the process, so all validation happens before this call.
template <class Body>
void run_parallel(int threads, Body&& body) {
#ifdef BPROP_HAVE_OPENMP
  if (threads > 1) {
#pragma omp parallel num_threads(threads)
    body(omp_get_thread_num(), omp_get_num_threads());
    return;
  }
#endif
  body(0, 1);
}

// The half-open share [begin, end) of `total` items that thread `index` of `count` takes.
inline std::pair<long, long> split_range(long total, int index, int count) {
  return {total * index / count, total * (index + 1) / count};
}

// body(begin, end) over contiguous shares of [0, n): on all threads when n >= min_parallel, else on
// the caller alone. Each item is handled by one thread, so results do not depend on the thread count.
template <class Body>
void parallel_for(long n, long min_parallel, Body&& body) {
  run_parallel(n >= min_parallel ? num_threads() : 1, [&](int index, int count) {
    const auto [begin, end] = split_range(n, index, count);
    if (begin < end) body(begin, end);
  });
}

}  // namespace bprop
