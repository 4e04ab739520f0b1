// Thread count and the one way the core runs work on several threads: bprop's own pool.
//
// Why not OpenMP: a statically split region waits for its slowest thread. On a machine where other
// processes keep the cores busy that thread is often not running at all, and a 2-thread call fell to a
// fraction of a 1-thread one (issue 10: 0.24x for batch-1 predict with one busy process, two orders of
// magnitude with two). Here:
//   * a call's team is decided when it starts: the caller plus the pool workers that are awake now (or,
//     for a call worth waking them for, all of them). A call nobody can help runs alone, in one piece,
//     exactly as on one thread;
//   * the work is a list of tasks that the team claims one at a time, the caller too: each member first
//     claims the tasks of its own share (a static split, so each thread keeps its data in its own cache from
//     call to call), then whatever the others have not started. A worker that is descheduled (or still
//     waking up) holds up the caller by the one task it has claimed at most; while the cores are contended
//     the caller soon sleeps as it waits, handing that worker its core;
//   * while other work competes for the cores (our threads wait for a CPU: core/parallel_contention.h),
//     workers stop spinning between calls and short calls run alone: a spinning worker would take time from
//     that work and from our own caller's serial code (Python between calls).
#pragma once
#include <algorithm>
#include <atomic>
#include <type_traits>
#include <utility>

namespace bprop {

bool has_threads();          // whether this build can run work on several threads
int num_threads();           // threads bprop uses: OMP_NUM_THREADS or the usable core count until set
void set_num_threads(int n); // n >= 1, else ValueError; above max_threads() it is capped there
int available_cores();       // cores this process may run on (its CPU affinity)
int max_threads();           // the cap: kThreadsPerCore x available_cores()

inline constexpr int kThreadsPerCore = 4;

// Whom a call may wake. Waking a sleeping worker costs the caller a system call and takes tens of µs
// before the worker runs; under load, much longer.
enum class Wake {
  if_awake,  // short calls: take the workers that are awake; wake none that sleeps because the cores are busy
  always,    // long calls (hundreds of µs): wake every worker, even late it takes a share
};

namespace detail {
using TaskFunction = void (*)(void* context, long task, int slot);
class Pool;
}  // namespace detail

// One parallel call: the team is decided when it is made, then run() hands out the tasks.
//
//   ParallelTeam team(threads, Wake::if_awake);
//   const long tasks = ... team.size() ...;        // e.g. one piece when size() == 1
//   team.run(tasks, [&](long task, int slot) { ... });
//
// run(tasks, body) calls body(task, slot) once for every task in [0, tasks) and returns when all have run.
// slot (in [0, size())) names the thread running the task within this call, for per-thread scratch: the
// caller is slot 0, and no two tasks run at once on one slot. Tasks run in any order on any slot, so a
// result must depend on the task alone. Exceptions: one thrown by a task stops the claiming of further
// tasks and is rethrown by run() once the running ones finish (kernels still validate before they start).
// stop: checked before each task is started; once true, the tasks not yet started are skipped and run()
// returns when the running ones finish: the place for "the caller asks every worker to stop early".
// A call made while the pool serves another (a second Python thread, or a task's own parallel call) gets a
// team of one: two calls never share the pool and oversubscribe the cores.
class ParallelTeam {
 public:
  ParallelTeam(int threads, Wake wake);
  ~ParallelTeam();
  ParallelTeam(const ParallelTeam&) = delete;
  ParallelTeam& operator=(const ParallelTeam&) = delete;

  int size() const { return size_; }
  // Whether other work competed for the cores when the team was made: members may then run late, and a
  // call cut finer lets the others take more of a late member's share.
  bool contended() const { return contended_; }

  template <class Body>
  void run(long tasks, Body&& body, const std::atomic<bool>* stop = nullptr) {
    if (size_ <= 1 || tasks <= 1) {
      for (long task = 0; task < tasks; ++task) {
        if (stop && stop->load(std::memory_order_relaxed)) return;
        body(task, 0);
      }
      return;
    }
    using Stored = std::remove_reference_t<Body>;
    run_tasks(
        tasks, [](void* context, long task, int slot) { (*static_cast<Stored*>(context))(task, slot); },
        const_cast<void*>(static_cast<const void*>(&body)), stop);
  }

 private:
  void run_tasks(long tasks, detail::TaskFunction function, void* context, const std::atomic<bool>* stop);

  detail::Pool* pool_ = nullptr;  // held while the team lives; null for a team of one
  int size_ = 1;
  bool contended_ = false;
};

// Runs body(index, count) for every index in [0, count): count shares of one job, count = the team's size
// (at most `threads`; 1 when no worker can help now, and then body(0, 1) is the whole job on the caller).
// An index is a share of the work, not a thread: one thread may run several shares one after the other,
// so shares must not wait for each other.
template <class Body>
void run_parallel(int threads, Wake wake, Body&& body) {
  if (threads <= 1) return body(0, 1);
  ParallelTeam team(threads, wake);
  const int count = team.size();
  team.run(count, [&](long index, int) { body(int(index), count); });
}

template <class Body>
void run_parallel(int threads, Body&& body) {
  run_parallel(threads, Wake::if_awake, std::forward<Body>(body));
}

// The half-open share [begin, end) of `total` items that share `index` of `count` takes.
inline std::pair<long, long> split_range(long total, int index, int count) {
  return {total * index / count, total * (index + 1) / count};
}

// How many tasks parallel_for cuts a loop into, per thread of its team: a few, so a thread that runs late
// takes fewer of them (the others take the rest) instead of stalling the call.
inline constexpr int kTasksPerThread = 4;

// body(begin, end) over contiguous pieces of [0, n): on a team when n >= min_parallel, else on the caller
// alone, in one piece. Pieces start at multiples of 16 (whole cache lines of floats, aligned vectors). Each
// item is handled by one thread, so results do not depend on the thread count.
template <class Body>
void parallel_for(long n, long min_parallel, Body&& body) {
  const int threads = n >= min_parallel ? num_threads() : 1;
  if (threads <= 1) {
    if (n > 0) body(0L, n);
    return;
  }
  ParallelTeam team(threads, Wake::if_awake);
  constexpr long kAlign = 16;
  const long blocks = (n + kAlign - 1) / kAlign;
  const long tasks = team.size() == 1 ? 1 : std::min<long>(long(team.size()) * kTasksPerThread, blocks);
  team.run(tasks, [&](long task, int) {
    const auto [b0, b1] = split_range(blocks, int(task), int(tasks));
    const long begin = b0 * kAlign, end = b1 * kAlign < n ? b1 * kAlign : n;
    if (begin < end) body(begin, end);
  });
}

}  // namespace bprop
