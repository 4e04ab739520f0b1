#include "core/parallel.h"

#include <atomic>
#include <thread>

#include "core/error.h"

namespace bprop {
namespace {

int default_threads() {
#ifdef BPROP_HAVE_OPENMP
  return omp_get_max_threads();  // honours OMP_NUM_THREADS, else the cores we may run on
#else
  return 1;
#endif
}

std::atomic<int>& thread_setting() {
  static std::atomic<int> threads{default_threads()};
  return threads;
}

}  // namespace

bool has_openmp() {
#ifdef BPROP_HAVE_OPENMP
  return true;
#else
  return false;
#endif
}

int num_threads() { return thread_setting().load(std::memory_order_relaxed); }

void set_num_threads(int n) {
  if (n < 1) throw ValueError("[set_num_threads] the thread count must be >= 1; got " + std::to_string(n));
  thread_setting().store(has_openmp() ? n : 1, std::memory_order_relaxed);
}

int available_cores() {
#ifdef BPROP_HAVE_OPENMP
  return omp_get_num_procs();
#else
  const unsigned n = std::thread::hardware_concurrency();
  return n ? int(n) : 1;
#endif
}

}  // namespace bprop
