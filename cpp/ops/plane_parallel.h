// How the spatial kernels (pooling, upsampling) use threads: whole planes per task, so each plane is
// computed by one thread in one order and the results are the same at any thread count.
#pragma once
#include <algorithm>

#include "core/parallel.h"

namespace bprop::ops {

// Below this many operations (window values read) one thread is faster than waking a second; above the
// second, the call is long enough to wake every worker (as for the other element-wise ops).
inline constexpr double kPlaneParallelMinWork = double(1L << 15);
inline constexpr double kPlaneParallelWakeWork = double(1L << 18);

// body(first, end) over pieces of [0, planes), on the caller alone when the work is small.
template <class Body>
void for_planes(long planes, double work_per_plane, Body&& body) {
  const double work = double(planes) * work_per_plane;
  const int threads = work >= kPlaneParallelMinWork && planes > 1 ? num_threads() : 1;
  if (threads <= 1) {
    if (planes > 0) body(0L, planes);
    return;
  }
  ParallelTeam team(threads, work >= kPlaneParallelWakeWork ? Wake::always : Wake::if_awake);
  const long tasks = team.size() == 1 ? 1 : std::min<long>(long(team.size()) * kTasksPerThread, planes);
  team.run(tasks, [&](long task, int) {
    const auto [first, end] = split_range(planes, int(task), int(tasks));
    if (first < end) body(first, end);
  });
}

}  // namespace bprop::ops
