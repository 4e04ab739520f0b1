#include "core/interrupt.h"

#include <atomic>
#include <chrono>

namespace bprop {
namespace {

// Often enough that Ctrl-C lands well within half a second; rare enough that taking the GIL for the
// check costs nothing measurable (one acquisition per 20 ms of work, uncontended in the usual case).
constexpr auto kPollInterval = std::chrono::milliseconds(20);

std::atomic<InterruptChecker> installed{nullptr};

}  // namespace

void set_interrupt_checker(InterruptChecker checker) { installed.store(checker); }

bool interrupt_requested() {
  const InterruptChecker checker = installed.load(std::memory_order_relaxed);
  if (!checker) return false;
  thread_local auto next_poll = std::chrono::steady_clock::time_point{};
  const auto now = std::chrono::steady_clock::now();
  if (now < next_poll) return false;
  next_poll = now + kPollInterval;
  return checker();
}

void throw_if_interrupted() {
  if (interrupt_requested()) throw Interrupted();
}

}  // namespace bprop
