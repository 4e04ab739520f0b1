// How the recurrent layers (nn/recurrent.h) run their steps on threads: samples never meet, so each thread takes
// whole runs of steps for its own samples, with no barrier per step. A sample's values do not depend on the
// split (a GEMM row has the same bits in any batch, the cell kernels go row by row), so neither do results.
#pragma once
#include <algorithm>

#include "core/interrupt.h"
#include "core/parallel.h"
#include "gemm/gemm.h"

namespace bprop::nn {

// Runs body(r0, r1, s0, s1), steps [s0, s1) of samples [r0, r1), over every step and sample: chunks of steps
// in order (from the last chunk when `reverse`; the body runs its own steps in its order), a poll for Ctrl-C
// between chunks, and within a chunk the samples in contiguous runs on threads when a chunk's work is worth
// them (flops_per_step: one sample's step). While other work competes for the cores, each thread's share is cut
// in two, so that the others can take half of a late member's (as the GEMM does).
template <class Body>
void for_step_chunks(long rows, long steps, long flops_per_step, bool reverse, Body&& body) {
  constexpr long kStepsPerChunk = 16, kContendedRunsPerThread = 2;
  const double chunk_flops = double(rows) * double(flops_per_step) * double(std::min(steps, kStepsPerChunk));
  const int threads = rows >= 2 && chunk_flops >= gemm::parallel_min_flops() ? int(std::min<long>(num_threads(), rows))
                                                                              : 1;
  const long chunks = (steps + kStepsPerChunk - 1) / kStepsPerChunk;
  for (long c = 0; c < chunks; ++c) {
    throw_if_interrupted();
    const long s0 = (reverse ? chunks - 1 - c : c) * kStepsPerChunk, s1 = std::min(steps, s0 + kStepsPerChunk);
    if (threads <= 1) {
      body(0L, rows, s0, s1);
      continue;
    }
    ParallelTeam team(threads, Wake::if_awake);
    const long runs = std::min<long>(rows, team.size() * (team.contended() ? kContendedRunsPerThread : 1));
    team.run(runs, [&](long run, int) {
      const auto [r0, r1] = split_range(rows, int(run), int(runs));
      if (r0 < r1) body(r0, r1, s0, s1);
    });
  }
}

}  // namespace bprop::nn
