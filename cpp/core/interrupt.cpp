#include "core/interrupt.h"

#include <atomic>
#include <chrono>

#if defined(__linux__)
#include <time.h>
#endif

namespace bprop {
namespace {

// Often enough that Ctrl-C lands well within half a second; rare enough that taking the GIL for the
// check costs nothing measurable (one acquisition per 20 ms of work, uncontended in the usual case).
constexpr auto kPollInterval = std::chrono::milliseconds(20);

std::atomic<InterruptChecker> installed{nullptr};

// The time for the throttle. Polls come once per training step (a µs for a tiny network), so the clock
// read must cost little: Linux's coarse clock is a plain read of the kernel's last tick (a few ns, a few
// ms resolution, ample against kPollInterval) where the precise one measured 20-40 ns here.
std::chrono::nanoseconds poll_clock() {
#if defined(__linux__) && defined(CLOCK_MONOTONIC_COARSE)
  timespec now;
  if (clock_gettime(CLOCK_MONOTONIC_COARSE, &now) == 0)
    return std::chrono::seconds(now.tv_sec) + std::chrono::nanoseconds(now.tv_nsec);
#endif
  return std::chrono::steady_clock::now().time_since_epoch();
}

}  // namespace

void set_interrupt_checker(InterruptChecker checker) { installed.store(checker); }

bool interrupt_requested() {
  const InterruptChecker checker = installed.load(std::memory_order_relaxed);
  if (!checker) return false;
  thread_local std::chrono::nanoseconds next_poll{0};
  const auto now = poll_clock();
  if (now < next_poll) return false;
  next_poll = now + kPollInterval;
  return checker();
}

void throw_if_interrupted() {
  if (interrupt_requested()) throw Interrupted();
}

}  // namespace bprop
