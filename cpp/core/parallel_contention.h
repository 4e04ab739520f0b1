// Whether other work competes for the cores: the signal that tells the pool's workers to stop spinning and
// short calls to run on the calling thread alone (core/parallel.h explains why).
#pragma once
#include <atomic>
#include <chrono>

namespace bprop::detail {

// Each of our threads (callers and workers) looks at its own run delay, the time it spent runnable but
// waiting for a CPU, at most every kContentionSample. One that waited more than kContendedShare of the time,
// in two looks in a row, marks the cores contended for a while. Measured here (2 cores): on an idle machine
// a thread waits 1-2% of the time, with a rare single spike when a daemon wakes; beside one busy process,
// 30-50%. The while doubles each time contention is found again within one while of the last one's end (our
// workers spun again and the load was still there) up to kContendedMax, and starts at kContendedMin for a
// new episode: once the workers stop spinning the caller may no longer wait, which says nothing about what
// their spinning again would do.
class Contention {
 public:
  using Clock = std::chrono::steady_clock;
  static constexpr Clock::duration kSample = std::chrono::milliseconds(2);
  static constexpr double kContendedShare = 0.10;
  static constexpr Clock::duration kContendedMin = std::chrono::milliseconds(20);
  static constexpr Clock::duration kContendedMax = std::chrono::milliseconds(640);

  bool at(Clock::time_point t) const { return t.time_since_epoch().count() < until_.load(std::memory_order_relaxed); }
  Clock::time_point until() const { return Clock::time_point(Clock::duration(until_.load(std::memory_order_relaxed))); }

  // A look at the calling thread's run delay, if its last look is kSample old.
  void sample(Clock::time_point t);

 private:
  std::atomic<Clock::rep> until_{0};
  std::atomic<Clock::rep> window_{kContendedMin.count()};
};

// Nanoseconds this thread has spent runnable but waiting for a CPU; -1 where the system does not say
// (Linux keeps it per thread with CONFIG_SCHED_INFO, on in common kernels).
long long run_delay_ns();

}  // namespace bprop::detail
