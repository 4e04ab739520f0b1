// The thread count: OMP_NUM_THREADS or the usable cores until set_num_threads, capped at max_threads().
#include "core/parallel.h"

#include <atomic>
#include <cstdlib>
#include <string>
#include <thread>

#include "core/error.h"

#if defined(__linux__)
#include <sched.h>
#endif

namespace bprop {
namespace {

int usable_cores() {
#if defined(__linux__)
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof(set), &set) == 0) {
    const int n = CPU_COUNT(&set);
    if (n > 0) return n;
  }
#endif
  const unsigned n = std::thread::hardware_concurrency();
  return n ? int(n) : 1;
}

// OMP_NUM_THREADS as OpenMP reads it: the first entry of a comma list, a positive integer; else unset.
int threads_from_environment() {
  const char* text = std::getenv("OMP_NUM_THREADS");
  if (!text) return 0;
  char* end = nullptr;
  const long n = std::strtol(text, &end, 10);
  if (end == text || (*end != '\0' && *end != ',' && *end != ' ') || n < 1) return 0;
  return n > max_threads() ? max_threads() : int(n);
}

int default_threads() {
  const int from_environment = threads_from_environment();
  return from_environment ? from_environment : available_cores();
}

std::atomic<int>& thread_setting() {
  static std::atomic<int> threads{default_threads()};
  return threads;
}

}  // namespace

bool has_threads() { return true; }

int available_cores() {
  static const int cores = usable_cores();
  return cores;
}

int max_threads() { return kThreadsPerCore * available_cores(); }

int num_threads() { return thread_setting().load(std::memory_order_relaxed); }

void set_num_threads(int n) {
  if (n < 1) throw ValueError("[set_num_threads] the thread count must be >= 1; got " + std::to_string(n));
  thread_setting().store(n > max_threads() ? max_threads() : n, std::memory_order_relaxed);
}

}  // namespace bprop
