#include "ops/channel_norm.h"

#include <algorithm>

#include "core/parallel.h"
#include "core/scratch.h"

namespace bprop::ops {
namespace {

// Below this many values a pass stays on the caller's thread: waking workers costs more than it saves.
// From kWakeMinValues on (a pass of a few hundred µs), sleeping workers are woken too.
constexpr long kParallelMinValues = 1L << 15;
constexpr long kWakeMinValues = 1L << 20;

// body(begin, end) over ranges of whole planes. Each range is a contiguous stretch of memory (a run of
// planes, channel after channel, sample after sample), so a thread streams through its share.
template <class Body>
void over_planes(const ChannelLayout& layout, Body&& body) {
  const long planes = layout.planes();
  const int threads = layout.values() >= kParallelMinValues && planes > 1 ? num_threads() : 1;
  if (threads <= 1) {
    if (planes > 0) body(0L, planes);
    return;
  }
  ParallelTeam team(threads, layout.values() >= kWakeMinValues ? Wake::always : Wake::if_awake);
  const long tasks = team.size() == 1 ? 1 : std::min<long>(planes, long(team.size()) * kTasksPerThread);
  team.run(tasks, [&](long task, int) {
    const auto [begin, end] = split_range(planes, int(task), int(tasks));
    if (begin < end) body(begin, end);
  });
}

// Σ term(i) over [0, n) in double, in four interleaved lanes combined as (l0 + l1) + (l2 + l3): a fixed
// order (so a fixed result), more accurate than one running sum, and independent adds the CPU overlaps.
template <class Term>
double lane_sum(long n, Term term) {
  double l0 = 0, l1 = 0, l2 = 0, l3 = 0;
  long i = 0;
  for (; i + 4 <= n; i += 4) {
    l0 += term(i);
    l1 += term(i + 1);
    l2 += term(i + 2);
    l3 += term(i + 3);
  }
  for (; i < n; ++i) l0 += term(i);
  return (l0 + l1) + (l2 + l3);
}

// out[c] = Σ over n, in order, of partial[n·channels + c]: one thread, so the order never changes.
void channel_totals(const double* partial, const ChannelLayout& layout, double* out) {
  const long channels = layout.channels;
  std::fill(out, out + channels, 0.0);
  for (long n = 0; n < layout.samples; ++n)
    for (long c = 0; c < channels; ++c) out[c] += partial[n * channels + c];
}

}  // namespace

template <typename T>
void channel_moments(const T* x, const ChannelLayout& layout, double* partial, double* mean, double* var) {
  const long plane = layout.plane, channels = layout.channels;
  const double count = double(layout.samples) * double(plane);
  over_planes(layout, [&](long begin, long end) {
    for (long p = begin; p < end; ++p) {
      const T* v = x + p * plane;
      partial[p] = lane_sum(plane, [v](long i) { return double(v[i]); });
    }
  });
  channel_totals(partial, layout, mean);
  for (long c = 0; c < channels; ++c) mean[c] /= count;
  over_planes(layout, [&](long begin, long end) {
    for (long p = begin; p < end; ++p) {
      const T* v = x + p * plane;
      const double m = mean[p % channels];
      partial[p] = lane_sum(plane, [v, m](long i) {
        const double d = double(v[i]) - m;
        return d * d;
      });
    }
  });
  channel_totals(partial, layout, var);
  for (long c = 0; c < channels; ++c) var[c] /= count;
}

template <typename T>
void channel_normalize(const T* x, const ChannelLayout& layout, const double* mean, const double* inv_std,
                       const T* gamma, const T* beta, T* y) {
  const long plane = layout.plane, channels = layout.channels;
  ScratchFrame scratch;  // per channel: the centre, scale and shift the passes use
  T* center = scratch.take<T>(3 * channels);
  T* scale = center + channels;
  T* shift = scale + channels;
  for (long c = 0; c < channels; ++c) {
    const double s = double(gamma[c]) * inv_std[c];
    center[c] = T(mean[c]);
    scale[c] = T(s);
    shift[c] = T(double(beta[c]) - (mean[c] - double(center[c])) * s);
  }
  over_planes(layout, [&](long begin, long end) {
    for (long p = begin; p < end; ++p) {
      const long c = p % channels;
      const T m = center[c], s = scale[c], t = shift[c];
      const T* in = x + p * plane;
      T* out = y + p * plane;
      for (long i = 0; i < plane; ++i) out[i] = (in[i] - m) * s + t;
    }
  });
}

template <typename T>
void channel_affine(const T* x, const ChannelLayout& layout, const T* scale, const T* shift, T* y) {
  const long plane = layout.plane, channels = layout.channels;
  over_planes(layout, [&](long begin, long end) {
    for (long p = begin; p < end; ++p) {
      const long c = p % channels;
      const T s = scale[c], t = shift[c];
      const T* in = x + p * plane;
      T* out = y + p * plane;
      for (long i = 0; i < plane; ++i) out[i] = in[i] * s + t;
    }
  });
}

template <typename T>
void channel_sums(const T* dy, const ChannelLayout& layout, T* out, bool accumulate) {
  ScratchFrame frame;
  double* partial = frame.take<double>(layout.planes());
  double* totals = frame.take<double>(layout.channels);
  over_planes(layout, [&](long begin, long end) {
    for (long p = begin; p < end; ++p) {
      const T* d = dy + p * layout.plane;
      partial[p] = lane_sum(layout.plane, [&](long i) { return double(d[i]); });
    }
  });
  channel_totals(partial, layout, totals);
  for (long c = 0; c < layout.channels; ++c) out[c] = accumulate ? T(out[c] + totals[c]) : T(totals[c]);
}

template <typename T>
void channel_shift(const ChannelLayout& layout, const T* shift, T* y) {
  const long plane = layout.plane, channels = layout.channels;
  over_planes(layout, [&](long begin, long end) {
    for (long p = begin; p < end; ++p) {
      const T t = shift[p % channels];
      T* out = y + p * plane;
      for (long i = 0; i < plane; ++i) out[i] += t;
    }
  });
}

template <typename T>
void channel_grad_sums(const T* x, const T* dy, const ChannelLayout& layout, const double* mean, double* partial,
                       double* sum_dy, double* sum_dy_centered) {
  const long plane = layout.plane, channels = layout.channels, planes = layout.planes();
  over_planes(layout, [&](long begin, long end) {
    for (long p = begin; p < end; ++p) {
      const T* xv = x + p * plane;
      const T* g = dy + p * plane;
      const double m = mean[p % channels];
      // One pass over x and dy for both sums, each in its own four lanes (lane_sum's order).
      double a0 = 0, a1 = 0, a2 = 0, a3 = 0, b0 = 0, b1 = 0, b2 = 0, b3 = 0;
      long i = 0;
      for (; i + 4 <= plane; i += 4) {
        a0 += double(g[i]);
        a1 += double(g[i + 1]);
        a2 += double(g[i + 2]);
        a3 += double(g[i + 3]);
        b0 += double(g[i]) * (double(xv[i]) - m);
        b1 += double(g[i + 1]) * (double(xv[i + 1]) - m);
        b2 += double(g[i + 2]) * (double(xv[i + 2]) - m);
        b3 += double(g[i + 3]) * (double(xv[i + 3]) - m);
      }
      for (; i < plane; ++i) {
        a0 += double(g[i]);
        b0 += double(g[i]) * (double(xv[i]) - m);
      }
      partial[p] = (a0 + a1) + (a2 + a3);
      partial[planes + p] = (b0 + b1) + (b2 + b3);
    }
  });
  channel_totals(partial, layout, sum_dy);
  channel_totals(partial + planes, layout, sum_dy_centered);
}

template <typename T>
void channel_input_grad(const T* x, const T* dy, const ChannelLayout& layout, const double* mean, const double* a,
                        const double* b, const double* dy_mean, T* dx) {
  const long plane = layout.plane, channels = layout.channels;
  // As channel_normalize: x − c with c = T(mean) in the pass, and b·(mean − c) folded into a per-channel constant.
  ScratchFrame scratch;
  T* ta = scratch.take<T>(4 * channels);
  T* tb = ta + channels;
  T* center = tb + channels;
  T* offset = center + channels;  // −b·(mean − c): the part of −b·(x − mean) that −b·(x − c) leaves out
  for (long c = 0; c < channels; ++c) {
    ta[c] = T(a[c]);
    tb[c] = b ? T(b[c]) : T(0);
    center[c] = b ? T(mean[c]) : T(0);
    offset[c] = b ? T(-b[c] * (mean[c] - double(center[c]))) : T(0);
  }
  over_planes(layout, [&](long begin, long end) {
    for (long p = begin; p < end; ++p) {
      const long c = p % channels;
      const T* g = dy + p * plane;
      T* out = dx + p * plane;
      const T ac = ta[c];
      if (!b) {  // statistics that do not depend on x (evaluation): an affine map of dy alone
        for (long i = 0; i < plane; ++i) out[i] = ac * g[i];
        continue;
      }
      const T gm = dy_mean ? T(dy_mean[c]) : T(0), m = center[c], bc = tb[c], k = offset[c];
      const T* xv = x + p * plane;
      for (long i = 0; i < plane; ++i) out[i] = ac * (g[i] - gm) - bc * (xv[i] - m) - k;
    }
  });
}

#define BPROP_CHANNEL_NORM(T)                                                                                  \
  template void channel_moments<T>(const T*, const ChannelLayout&, double*, double*, double*);                \
  template void channel_normalize<T>(const T*, const ChannelLayout&, const double*, const double*, const T*,  \
                                     const T*, T*);                                                           \
  template void channel_affine<T>(const T*, const ChannelLayout&, const T*, const T*, T*);                    \
  template void channel_sums<T>(const T*, const ChannelLayout&, T*, bool);                                    \
  template void channel_shift<T>(const ChannelLayout&, const T*, T*);                                         \
  template void channel_grad_sums<T>(const T*, const T*, const ChannelLayout&, const double*, double*, double*, \
                                     double*);                                                                \
  template void channel_input_grad<T>(const T*, const T*, const ChannelLayout&, const double*, const double*, \
                                      const double*, const double*, T*);
BPROP_CHANNEL_NORM(float)
BPROP_CHANNEL_NORM(double)
#undef BPROP_CHANNEL_NORM

}  // namespace bprop::ops
