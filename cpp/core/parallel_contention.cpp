#include "core/parallel_contention.h"

#include <algorithm>
#include <cstdio>

#if defined(__linux__)
#include <fcntl.h>
#include <unistd.h>
#endif

namespace bprop::detail {

long long run_delay_ns() {
#if defined(__linux__)
  const int fd = open("/proc/thread-self/schedstat", O_RDONLY | O_CLOEXEC);  // "run_ns wait_ns slices"
  if (fd < 0) return -1;
  char text[128];
  const ssize_t n = read(fd, text, sizeof(text) - 1);
  close(fd);
  if (n <= 0) return -1;
  text[n] = '\0';
  unsigned long long run = 0, wait = 0;
  return std::sscanf(text, "%llu %llu", &run, &wait) == 2 ? static_cast<long long>(wait) : -1;
#else
  return -1;
#endif
}

void Contention::sample(Clock::time_point t) {
  thread_local Clock::time_point last_time{};
  thread_local long long last_delay = -1;
  thread_local bool last_high = false;
  if (t - last_time < kSample) return;
  const long long delay = run_delay_ns();
  const double elapsed = double(std::chrono::duration_cast<std::chrono::nanoseconds>(t - last_time).count());
  const bool known = last_delay >= 0 && delay >= last_delay;
  const bool high = known && double(delay - last_delay) > kContendedShare * elapsed;
  const bool contended = high && last_high;
  last_time = t;
  last_delay = delay;
  last_high = high;
  if (!contended) return;
  // Contention back within one window of the last one's end (as soon as the workers spun again): the
  // load is still there, nap twice as long; otherwise it is a new episode, start short.
  const Clock::rep now = t.time_since_epoch().count(), last_end = until_.load(std::memory_order_relaxed);
  Clock::rep window = window_.load(std::memory_order_relaxed);
  window = now - last_end < window ? std::min<Clock::rep>(2 * window, kContendedMax.count()) : kContendedMin.count();
  window_.store(window, std::memory_order_relaxed);
  until_.store(std::max(last_end, now + window), std::memory_order_relaxed);
}

}  // namespace bprop::detail
