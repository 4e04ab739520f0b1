#include "ops/conv.h"

#include <algorithm>
#include <cstring>

#include "core/parallel.h"
#include "core/scratch.h"
#include "core/workspace.h"
#include "gemm/gemm.h"
#include "ops/conv_depthwise.h"
#include "ops/conv_patches.h"

namespace bprop::ops {
namespace {

using gemm::Op;

// backward-data's column block (Kg × a tile of pixels): at most this many values, 256 KiB of float32,
// so the block the GEMM writes is still in L2 when col2im adds it into the image.
constexpr long kColumnBlockValues = 1L << 16;
// backward-weights' im2col tile: at most this many values (512 KiB of float32), within L2.
constexpr long kPatchTileValues = 1L << 17;
// Below this many flops per call the samples stay on the calling thread (as gemm's threshold).
constexpr double kSpreadMinFlops = 2.0e6;
constexpr double kWakeMinFlops = 2.0e7;

// Runs body(n, slot) for every sample n. Samples go to the team's threads when there are at least as many
// as threads (each sample's products then run on one thread: a call from a task gets a team of one), else
// they run in order on the caller with threaded products. `slots` is called first with the number of
// slots, so per-slot scratch is taken before the region.
template <class Slots, class Body>
void for_each_sample(long batch, double flops, Slots&& slots, Body&& body) {
  const int threads = num_threads();
  if (threads > 1 && batch >= threads && flops >= kSpreadMinFlops) {
    ParallelTeam team(threads, flops >= kWakeMinFlops ? Wake::always : Wake::if_awake);
    slots(team.size());
    team.run(batch, [&](long n, int slot) { body(n, slot); });
    return;
  }
  slots(1);
  for (long n = 0; n < batch; ++n) body(n, 0);
}

// The forward's GEMM epilogue: each output channel's bias on its row of a finished block, then the map.
template <typename T>
struct BiasThenMap {
  const T* bias;  // the group's first channel's, or null
  const BlockMap<T>* then;

  static void apply(const void* context, long row0, long, T* y, long rows, long cols, long ld) {
    const auto& self = *static_cast<const BiasThenMap*>(context);
    if (self.bias)
      for (long r = 0; r < rows; ++r) {
        const T b = self.bias[row0 + r];
        T* row = y + r * ld;
        for (long j = 0; j < cols; ++j) row[j] += b;
      }
    if (self.then->apply) self.then->apply(self.then->context, y, rows, cols, ld);
  }
};

bool depthwise(const ConvGeometry& g) { return g.groups > 1 && g.in_group() == 1; }


// The forward's products: y = conv(x) (+ bias, then `then`), or y += conv(x) when accumulate.
template <typename T>
void forward_products(const ConvGeometry& g, long batch, const T* x, const T* weight, const T* bias, T* y,
                      const BlockMap<T>& then, bool accumulate) {
  const T beta = accumulate ? T(1) : T(0);
  const long og = g.out_group(), cg = g.in_group(), kg = g.patch(), pixels = g.out_pixels();
  const double flops = 2.0 * double(batch) * double(g.weight_size()) * double(pixels);
  // A padded convolution reads each sample from a padded copy (one pass over the input), so the packer
  // copies whole runs without bounds checks: most of its cost before.
  const bool pad = !g.pointwise() && !inside_image(g);
  const ConvGeometry padded = pad ? padded_geometry(g) : g;
  T* copies = nullptr;
  for_each_sample(batch, flops, [&](int slots) {
    if (pad) copies = thread_workspace().conv_padded.reserve_elements<T>(std::size_t(slots * g.in_channels * padded.in_pixels()));
  }, [&](long n, int slot) {
    const T* image = x + n * g.in_size();
    if (pad) {
      T* own = copies + slot * g.in_channels * padded.in_pixels();
      pad_images(g, padded, g.in_channels, image, own);
      image = own;
    }
    for (long group = 0; group < g.groups; ++group) {
      const T* w = weight + group * og * kg;
      const T* in = image + group * cg * padded.in_pixels();
      T* out = y + n * g.out_size() + group * og * pixels;
      const BiasThenMap<T> after{bias ? bias + group * og : nullptr, &then};
      gemm::Epilogue<T> epilogue;
      if (bias || then.apply) epilogue = {&BiasThenMap<T>::apply, &after};
      if (g.pointwise()) {
        gemm::gemm<T>(Op::N, Op::N, og, pixels, cg, T(1), w, kg, in, g.in_pixels(), beta, out, pixels, epilogue);
      } else {
        const PatchSource<T> source{&padded, in};
        const gemm::PanelPacker<T> packer{&pack_patches<T>, &source};
        gemm::gemm_packed_b<T>(Op::N, og, pixels, kg, T(1), w, kg, packer, beta, out, pixels, epilogue);
      }
    }
  });
}

// A stride-1 convolution's backward-data is a convolution of dy with the kernel flipped and the channel
// roles swapped, padded by dilation·(kernel − 1) − padding: the forward's products, no col2im.
ConvGeometry flipped_geometry(const ConvGeometry& g) {
  ConvGeometry a = g;
  std::swap(a.in_channels, a.out_channels);
  a.in_h = g.out_h;
  a.in_w = g.out_w;
  a.out_h = g.in_h;
  a.out_w = g.in_w;
  a.pad_h = g.dilation_h * (g.kernel_h - 1) - g.pad_h;
  a.pad_w = g.dilation_w * (g.kernel_w - 1) - g.pad_w;
  return a;
}

// flipped (per group, Cg rows of Og·KH·KW) = weight with each kernel reversed and (o, c) swapped.
template <typename T>
void flip_weights(const ConvGeometry& g, const T* weight, T* flipped) {
  const long og = g.out_group(), cg = g.in_group(), area = g.kernel_area();
  for (long group = 0; group < g.groups; ++group)
    for (long o = 0; o < og; ++o)
      for (long c = 0; c < cg; ++c) {
        const T* from = weight + ((group * og + o) * cg + c) * area;
        T* to = flipped + ((group * cg + c) * og + o) * area;
        for (long k = 0; k < area; ++k) to[area - 1 - k] = from[k];
      }
}

}  // namespace

template <typename T>
void conv_forward(const ConvGeometry& g, long batch, const T* x, const T* weight, const T* bias, T* y,
                  const BlockMap<T>& then) {
  if (depthwise(g)) return depthwise_forward(g, batch, x, weight, bias, y, then);
  forward_products(g, batch, x, weight, bias, y, then, false);
}

template <typename T>
void conv_backward_data(const ConvGeometry& g, long batch, const T* dy, const T* weight, T* dx, bool accumulate) {
  if (depthwise(g)) return depthwise_backward_data(g, batch, dy, weight, dx, accumulate);
  if (g.stride_h == 1 && g.stride_w == 1) {
    ScratchFrame frame;
    T* flipped = frame.take<T>(g.weight_size());
    flip_weights(g, weight, flipped);
    return forward_products<T>(flipped_geometry(g), batch, dy, flipped, nullptr, dx, {}, accumulate);
  }
  const long og = g.out_group(), cg = g.in_group(), kg = g.patch(), pixels = g.out_pixels();
  const double flops = 2.0 * double(batch) * double(g.weight_size()) * double(pixels);
  // Columns per tile: whole micro-panels (32 floats), as many as keep Kg × tile in the block size.
  const long tile = std::min(pixels, std::max(32L, kColumnBlockValues / kg / 32 * 32));
  T* columns = nullptr;
  for_each_sample(
      batch, flops,
      [&](int slots) {
        if (!g.pointwise())
          columns = thread_workspace().conv_columns.reserve_elements<T>(std::size_t(slots * kg * tile));
      },
      [&](long n, int slot) {
        T* own = columns + slot * kg * tile;
        for (long group = 0; group < g.groups; ++group) {
          const T* w = weight + group * og * kg;
          const T* grad = dy + n * g.out_size() + group * og * pixels;
          T* out = dx + n * g.in_size() + group * cg * g.in_pixels();
          if (g.pointwise()) {  // the columns are the image: dx = Wᵀ·dy straight into it
            gemm::gemm<T>(Op::T, Op::N, cg, pixels, og, T(1), w, kg, grad, pixels, accumulate ? T(1) : T(0), out,
                          pixels);
            continue;
          }
          if (!accumulate) std::fill(out, out + cg * g.in_pixels(), T(0));
          for (long p0 = 0; p0 < pixels; p0 += tile) {
            const long cols = std::min(tile, pixels - p0);
            gemm::gemm<T>(Op::T, Op::N, kg, cols, og, T(1), w, kg, grad + p0, pixels, T(0), own, cols);
            col2im_add(g, own, p0, cols, out);
          }
        }
      });
}

template <typename T>
void conv_backward_weights(const ConvGeometry& g, long batch, const T* x, const T* dy, T* dweight, T* dbias,
                           bool accumulate) {
  const long pixels = g.out_pixels();
  if (dbias) channel_sums(dy, ChannelLayout{batch, g.out_channels, pixels}, dbias, accumulate);
  if (!dweight) return;
  if (depthwise(g)) return depthwise_backward_weights(g, batch, x, dy, dweight, accumulate);
  const long og = g.out_group(), cg = g.in_group(), kg = g.patch(), rows = batch * pixels;
  const double flops = 2.0 * double(batch) * double(g.weight_size()) * double(pixels);
  const int threads = flops >= kSpreadMinFlops ? num_threads() : 1;
  // dY as one (out_channels × batch·P) matrix, the input padded (so the tiles copy whole runs): both per
  // sample, samples split over the threads.
  ScratchFrame frame;
  const ConvGeometry padded = inside_image(g) ? g : padded_geometry(g);
  T* grad = batch > 1 ? frame.take<T>(g.out_channels * rows) : nullptr;
  T* copy = inside_image(g) ? nullptr : frame.take<T>(batch * g.in_channels * padded.in_pixels());
  run_parallel(threads, [&](int index, int count) {
    const auto [n0, n1] = split_range(batch, index, count);
    for (long n = n0; n < n1; ++n) {
      if (grad)
        for (long c = 0; c < g.out_channels; ++c)
          std::memcpy(grad + c * rows + n * pixels, dy + n * g.out_size() + c * pixels, sizeof(T) * pixels);
      if (copy)
        pad_images(g, padded, g.in_channels, x + n * g.in_size(), copy + n * g.in_channels * padded.in_pixels());
    }
  });
  const T* dy_rows = grad ? grad : dy;
  const T* image = copy ? copy : x;
  // dW (Og × Kg) = dY (Og × batch·P) · patchesᵀ, over im2col tiles of whole pixel columns within L2, read
  // transposed by the GEMM's vectorised packing. Threads take ranges of Kg (whole micro-panels): the patch
  // rows a range needs are that range's own, so each thread builds its rows and runs its product alone.
  // K = batch·P is never split: every value is summed in one order whatever the thread count.
  const long tile = std::min(rows, std::max(32L, kPatchTileValues / kg));
  const long panels = (kg + 31) / 32;
  ParallelTeam team(int(std::min<long>(threads, panels)), flops >= kWakeMinFlops ? Wake::always : Wake::if_awake);
  const long tasks = team.size() == 1 ? 1 : std::min<long>(panels, long(team.size()) * 2);
  const long most_rows = ((panels + tasks - 1) / tasks) * 32;
  T* tiles = frame.take<T>(team.size() * std::min(kg, most_rows) * tile);
  team.run(tasks, [&](long task, int slot) {
    const auto [q0, q1] = split_range(panels, int(task), int(tasks));
    const long r0 = q0 * 32, r1 = std::min(kg, q1 * 32);
    if (r1 <= r0) return;
    T* own = tiles + slot * std::min(kg, most_rows) * tile;
    for (long group = 0; group < g.groups; ++group) {
      const T* in = image + group * cg * padded.in_pixels();
      T* dw = dweight + group * og * kg + r0;
      for (long j0 = 0; j0 < rows; j0 += tile) {
        const long cols = std::min(tile, rows - j0);
        patches_tile_fast(padded, in, r0, r1, j0, cols, own);
        const T beta = j0 == 0 && !accumulate ? T(0) : T(1);
        gemm::gemm<T>(Op::N, Op::T, og, r1 - r0, cols, T(1), dy_rows + group * og * rows + j0, rows, own, cols, beta,
                      dw, kg);
      }
    }
  });
}

template void conv_forward<float>(const ConvGeometry&, long, const float*, const float*, const float*, float*,
                                  const BlockMap<float>&);
template void conv_forward<double>(const ConvGeometry&, long, const double*, const double*, const double*, double*,
                                   const BlockMap<double>&);
template void conv_backward_data<float>(const ConvGeometry&, long, const float*, const float*, float*, bool);
template void conv_backward_data<double>(const ConvGeometry&, long, const double*, const double*, double*, bool);
template void conv_backward_weights<float>(const ConvGeometry&, long, const float*, const float*, float*, float*, bool);
template void conv_backward_weights<double>(const ConvGeometry&, long, const double*, const double*, double*, double*,
                                            bool);

}  // namespace bprop::ops
