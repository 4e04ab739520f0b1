// The pool behind ParallelTeam (core/parallel.h says why it exists). Workers spin briefly after a job, then
// sleep; while the cores are contended (core/parallel_contention.h) they nap instead of spinning. Each task
// has a claim flag: every member of a team first claims the tasks of its own share, in order (the same
// split as a static schedule, so each thread keeps finding its data in its own cache call after call), then
// takes the tasks other members have not started, from the end of their shares. The caller is a member too,
// and sleeps while it waits for the last claimed tasks to finish.
#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <memory>
#include <mutex>
#include <new>
#include <thread>
#include <vector>

#include "core/parallel.h"
#include "core/parallel_contention.h"

#if defined(__unix__) || defined(__APPLE__)
#include <pthread.h>
#include <signal.h>
#define BPROP_POSIX_THREADS 1
#endif

namespace bprop::detail {
namespace {

using Clock = std::chrono::steady_clock;

// How long an idle worker spins for the next job before it sleeps. Calls come back to back in a training
// step and in a predict loop (a few µs of Python between them), while waking a sleeping thread costs the
// caller a system call and tens of µs before the worker runs.
constexpr auto kWorkerSpin = std::chrono::microseconds(200);
// How long a caller with nothing left to claim spins for the running tasks before it sleeps. Sleeping lets
// the scheduler put a descheduled worker on the caller's core at once, so it is short while the cores are
// contended. Otherwise the running tasks run, and sleeping would only cost a wake-up: measured, a caller
// asleep was often woken onto its worker's core (still spinning there), waited for it, and that wait read
// as contention.
constexpr auto kCallerSpinContended = std::chrono::microseconds(30);
constexpr auto kCallerSpin = std::chrono::microseconds(1000);
// Tasks one job holds; a call with more runs them in this many contiguous groups.
constexpr long kMaxJobTasks = 1024;

Contention contention;

inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield");
#endif
}

// Spins until ready() or the budget is spent; true if ready. The clock is read every 32 polls (~1 µs).
template <class Ready>
bool spin_until(Ready&& ready, Clock::duration budget) {
  const auto deadline = Clock::now() + budget;
  for (unsigned i = 1;; ++i) {
    if (ready()) return true;
    cpu_relax();
    if (i % 32 == 0 && Clock::now() >= deadline) return ready();
  }
}

// An invitation: the job's generation (32 bits) | the worker's slot (16) | the team's size (16).
inline std::uint64_t invitation(std::uint32_t generation, int slot, int size) {
  return (std::uint64_t(generation) << 32) | (std::uint64_t(slot) << 16) | std::uint64_t(size);
}

// A task's claim flag: the generation of the job it was last set up for (31 bits) and a claimed bit. A
// worker that wakes late for a finished job finds other generations there and can never claim in a newer one.
inline std::uint32_t open_flag(std::uint32_t generation) { return generation << 1; }

enum WorkerState : int { kAwake, kIdle, kNapping };  // awake: working or spinning

struct alignas(64) Worker {
  std::atomic<std::uint64_t> invited{0};
  std::atomic<int> state{kAwake};
  std::atomic<bool> poked{false};  // asked to wake up and spin, with no job yet
  std::mutex mutex;
  std::condition_variable wake;
};

}  // namespace

class Pool {
 public:
  bool try_acquire() {
    bool expected = false;
    return !busy_.load(std::memory_order_relaxed) &&
           busy_.compare_exchange_strong(expected, true, std::memory_order_acquire);
  }
  void release() { busy_.store(false, std::memory_order_release); }

  // The team of a call (the caller holds the pool): its size, counting the caller. Workers asleep after an
  // idle spell are poked even when they are not taken, so they spin for the calls that follow.
  int form_team(int threads, Wake wake, bool& contended) {
    const auto now = Clock::now();
    contention.sample(now);
    contended = contention.at(now);
    const int helpers = ensure_workers(threads - 1);
    members_.clear();
    if (wake == Wake::if_awake && contended) return 1;  // a worker would take a core others want
    for (int i = 0; i < helpers; ++i) {
      Worker& worker = *workers_[std::size_t(i)];
      const int state = worker.state.load(std::memory_order_seq_cst);
      if (wake == Wake::always || state == kAwake) {
        members_.push_back(i);  // reserved: cannot throw
      } else if (state == kIdle && !worker.poked.exchange(true, std::memory_order_seq_cst)) {
        // One poke until the worker takes it: under load it may not run for a while.
        if (worker.state.load(std::memory_order_seq_cst) == kIdle) {
          std::lock_guard<std::mutex> lock(worker.mutex);
          worker.wake.notify_one();
        }
      }
    }
    return 1 + int(members_.size());
  }

  // Runs one job on the team: tasks in [2, kMaxJobTasks].
  void run(long tasks, TaskFunction function, void* context, const std::atomic<bool>* stop) {
    function_ = function;
    context_ = context;
    stop_ = stop;
    failed_.store(false, std::memory_order_relaxed);
    error_ = nullptr;
    done_.store(0, std::memory_order_relaxed);
    tasks_.store(tasks, std::memory_order_relaxed);
    const std::uint32_t generation = ++generation_ & 0x7FFFFFFFu;
    for (long t = 0; t < tasks; ++t) flags_[t].store(open_flag(generation), std::memory_order_relaxed);
    const int size = 1 + int(members_.size());
    for (std::size_t k = 0; k < members_.size(); ++k) {
      Worker& worker = *workers_[std::size_t(members_[k])];
      worker.invited.store(invitation(generation, int(k) + 1, size), std::memory_order_seq_cst);
      if (worker.state.load(std::memory_order_seq_cst) != kAwake) {
        std::lock_guard<std::mutex> lock(worker.mutex);
        worker.wake.notify_one();
      }
    }
    work(generation, 0, size);
    wait_until_done(tasks);
    if (failed_.load(std::memory_order_acquire)) std::rethrow_exception(std::exchange(error_, nullptr));
  }

 private:
  // A member's part of job `generation`: its own share in order, then what the others have not started.
  void work(std::uint32_t generation, int slot, int size) {
    const long tasks = tasks_.load(std::memory_order_relaxed);  // a later job's, if this one is over: harmless
    if (tasks > kMaxJobTasks) return;
    const auto [begin, end] = split_range(tasks, slot, size);
    for (long t = begin; t < end; ++t) try_task(generation, t, slot, tasks);
    for (int k = 1; k < size; ++k) {
      const auto [other_begin, other_end] = split_range(tasks, (slot + k) % size, size);
      for (long t = other_end - 1; t >= other_begin; --t) try_task(generation, t, slot, tasks);
    }
  }

  void try_task(std::uint32_t generation, long task, int slot, long tasks) {
    std::uint32_t expected = open_flag(generation);
    if (flags_[task].load(std::memory_order_relaxed) != expected ||
        !flags_[task].compare_exchange_strong(expected, expected | 1, std::memory_order_acq_rel))
      return;
    // Claimed: until it is counted done the caller waits, so the job's fields stay valid.
    bool skip = failed_.load(std::memory_order_relaxed) || (stop_ && stop_->load(std::memory_order_relaxed));
    if (!skip) {
      try {
        function_(context_, task, slot);
      } catch (...) {
        if (!failed_.exchange(true, std::memory_order_acq_rel)) error_ = std::current_exception();
        skip = true;
      }
    }
    if (skip) close(generation, tasks);
    finish(1, tasks);  // after this the caller may return: nothing of the job is touched again
  }

  // Claims every task of job `generation` nobody has started; they count as done without running.
  void close(std::uint32_t generation, long tasks) {
    long closed = 0;
    for (long t = 0; t < tasks; ++t) {
      std::uint32_t expected = open_flag(generation);
      if (flags_[t].compare_exchange_strong(expected, expected | 1, std::memory_order_acq_rel)) ++closed;
    }
    if (closed) finish(closed, tasks);
  }

  void finish(long count, long tasks) {
    if (done_.fetch_add(count, std::memory_order_seq_cst) + count == tasks &&
        caller_sleeping_.load(std::memory_order_seq_cst)) {
      std::lock_guard<std::mutex> lock(done_mutex_);
      done_cv_.notify_one();
    }
  }

  void wait_until_done(long tasks) {
    auto done = [&] { return done_.load(std::memory_order_acquire) == tasks; };
    if (spin_until(done, contention.at(Clock::now()) ? Clock::duration(kCallerSpinContended) : kCallerSpin)) return;
    std::unique_lock<std::mutex> lock(done_mutex_);
    caller_sleeping_.store(true, std::memory_order_seq_cst);
    while (done_.load(std::memory_order_seq_cst) != tasks) done_cv_.wait(lock);
    caller_sleeping_.store(false, std::memory_order_relaxed);
  }

  // seen: the invitation current when the worker was made (it joins the jobs after that one).
  void worker_main(Worker* me, std::uint64_t seen) {
    for (;;) {
      std::uint64_t invited = me->invited.load(std::memory_order_acquire);
      if (invited == seen) invited = wait_for_invitation(*me, seen);
      seen = invited;
      work(std::uint32_t(invited >> 32), int((invited >> 16) & 0xFFFF), int(invited & 0xFFFF));
    }
  }

  // Spins for kWorkerSpin (unless the cores are contended), then sleeps: until invited or poked or, while
  // contended, until that ends (a nap; only calls worth waking it for do), and spins again.
  std::uint64_t wait_for_invitation(Worker& me, std::uint64_t seen) {
    std::uint64_t invited = seen;
    auto arrived = [&] { return (invited = me.invited.load(std::memory_order_acquire)) != seen; };
    for (;;) {
      auto now = Clock::now();
      contention.sample(now);
      if (!contention.at(now)) {
        spin_until([&] { return arrived() || contention.at(Clock::now()); }, kWorkerSpin);
        if (invited != seen) return invited;
        now = Clock::now();
        contention.sample(now);
      }
      const bool nap = contention.at(now);
      const auto nap_end = contention.until();
      std::unique_lock<std::mutex> lock(me.mutex);
      me.state.store(nap ? kNapping : kIdle, std::memory_order_seq_cst);
      while ((invited = me.invited.load(std::memory_order_seq_cst)) == seen &&
             !me.poked.load(std::memory_order_seq_cst)) {
        if (!nap) {
          me.wake.wait(lock);
        } else if (me.wake.wait_until(lock, nap_end) == std::cv_status::timeout) {
          break;
        }
      }
      me.state.store(kAwake, std::memory_order_seq_cst);
      me.poked.store(false, std::memory_order_relaxed);
      if (invited != seen) return invited;
    }
  }

  // Starts workers until there are `wanted` (or as many as the system allows); returns how many there are.
  int ensure_workers(long wanted) {
    try {
      members_.reserve(std::size_t(std::max<long>(wanted, 0)));
      workers_.reserve(std::size_t(std::max<long>(wanted, 0)));
      while (long(workers_.size()) < wanted) {
        auto worker = std::make_unique<Worker>();
        const std::uint64_t seen = invitation(generation_ & 0x7FFFFFFFu, 0, 0);
        worker->invited.store(seen, std::memory_order_relaxed);
        start_thread(worker.get(), seen);
        workers_.push_back(std::move(worker));  // reserved: cannot throw
      }
    } catch (...) {  // no memory or no more threads: run with the workers there are
    }
    return int(std::min<long>(long(workers_.size()), wanted));
  }

  void start_thread(Worker* worker, std::uint64_t seen) {
#ifdef BPROP_POSIX_THREADS
    // Workers block every signal, so signals go to the application's threads (Python's main thread).
    sigset_t all, previous;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &previous);
    try {
      std::thread(&Pool::worker_main, this, worker, seen).detach();
    } catch (...) {
      pthread_sigmask(SIG_SETMASK, &previous, nullptr);
      throw;
    }
    pthread_sigmask(SIG_SETMASK, &previous, nullptr);
#else
    std::thread(&Pool::worker_main, this, worker, seen).detach();
#endif
  }

  alignas(64) std::atomic<long> done_{0};  // on its own cache line: every finished task hits it
  // The job, written by the caller before it sends the invitations.
  alignas(64) TaskFunction function_ = nullptr;
  void* context_ = nullptr;
  const std::atomic<bool>* stop_ = nullptr;
  std::atomic<long> tasks_{0};
  std::atomic<bool> failed_{false};
  std::exception_ptr error_;  // written by the thread that set failed_
  alignas(64) std::atomic<std::uint32_t> flags_[kMaxJobTasks] = {};
  // The caller's own (while it holds busy_).
  std::uint32_t generation_ = 0;
  std::vector<std::unique_ptr<Worker>> workers_;
  std::vector<int> members_;  // the team's workers, by index into workers_; slot = position + 1
  alignas(64) std::atomic<bool> busy_{false};
  // A caller asleep until the last claimed task finishes.
  std::mutex done_mutex_;
  std::condition_variable done_cv_;
  std::atomic<bool> caller_sleeping_{false};
};

namespace {

// The process's pool, made on first use and never destroyed: its threads are detached and may still be
// waiting when the process exits. A forked child has none of the parent's threads, so it forgets the
// parent's pool (leaking that copy: its mutexes may be held by threads that no longer exist) and makes a
// fresh one on its first parallel call.
std::atomic<Pool*> the_pool{nullptr};

void forget_pool_in_child() { the_pool.store(nullptr, std::memory_order_relaxed); }

Pool* pool() {
  Pool* current = the_pool.load(std::memory_order_acquire);
  if (current) return current;
  Pool* fresh = new (std::nothrow) Pool();
  if (!fresh) return nullptr;
  if (!the_pool.compare_exchange_strong(current, fresh, std::memory_order_acq_rel)) {
    delete fresh;
    return current;
  }
#ifdef BPROP_POSIX_THREADS
  static const bool registered = pthread_atfork(nullptr, nullptr, &forget_pool_in_child) == 0;
  (void)registered;
#endif
  return fresh;
}

struct Grouped {  // more tasks than a job holds: each task of the job runs a contiguous group of them
  long tasks;
  TaskFunction function;
  void* context;
};

}  // namespace
}  // namespace bprop::detail

namespace bprop {

ParallelTeam::ParallelTeam(int threads, Wake wake) {
  if (threads <= 1) return;
  detail::Pool* shared = detail::pool();
  if (!shared || !shared->try_acquire()) return;  // the pool serves another call: this one runs alone
  try {
    size_ = shared->form_team(threads, wake, contended_);
  } catch (...) {  // no memory for the team's bookkeeping: alone, and the pool must not stay taken
    size_ = 1;
  }
  if (size_ > 1) {
    pool_ = shared;
  } else {
    shared->release();
  }
}

ParallelTeam::~ParallelTeam() {
  if (pool_) pool_->release();
}

void ParallelTeam::run_tasks(long tasks, detail::TaskFunction function, void* context,
                             const std::atomic<bool>* stop) {
  if (tasks <= detail::kMaxJobTasks) return pool_->run(tasks, function, context, stop);
  detail::Grouped grouped{tasks, function, context};
  pool_->run(
      detail::kMaxJobTasks,
      [](void* raw, long group, int slot) {
        const auto& g = *static_cast<detail::Grouped*>(raw);
        const auto [first, last] = split_range(g.tasks, int(group), int(detail::kMaxJobTasks));
        for (long task = first; task < last; ++task) g.function(g.context, task, slot);
      },
      &grouped, stop);
}

}  // namespace bprop
