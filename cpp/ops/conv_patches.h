// Image patches as GEMM operands, read straight from an NCHW image (no im2col matrix):
//   pack_patches:            op(B) = patches (Kg × P) of one sample's group: row (c, ki, kj), column pixel;
//   pack_patches_transposed: op(B) = patchesᵀ (batch·P × Kg) of every sample's group: row (n, pixel);
//   col2im_add:              the adjoint of patches: a Kg × tile block of columns added into the image.
// The packers fill the GEMM's micro-panels (gemm.h: PanelPacker, dst[q·kc·nr + p·nr + r]) and run on the
// GEMM's threads: they never throw. Positions in the padding read as 0.
#pragma once
#include <algorithm>

#include "ops/conv_geometry.h"

namespace bprop::ops {

// One output row's run of pixels [ow0, ow0 + count) of the patch value (c, ki, kj): the input row it
// reads (null when that row lies in the padding) and the first input column.
template <typename T>
void patch_run(const ConvGeometry& g, const T* row, long iw0, long count, T* out) {
  if (!row) {
    std::fill(out, out + count, T(0));
    return;
  }
  const long sw = g.stride_w, width = g.in_w;
  if (sw == 1) {  // contiguous: zeros, one copy, zeros
    const long lo = std::clamp(-iw0, 0L, count), hi = std::clamp(width - iw0, lo, count);
    std::fill(out, out + lo, T(0));
    std::copy(row + iw0 + lo, row + iw0 + hi, out + lo);
    std::fill(out + hi, out + count, T(0));
    return;
  }
  for (long t = 0; t < count; ++t) {
    const long iw = iw0 + t * sw;
    out[t] = iw >= 0 && iw < width ? row[iw] : T(0);
  }
}

// What pack_patches reads: one sample's input channels of one group.
template <typename T>
struct PatchSource {
  const ConvGeometry* g;
  const T* x;  // the group's first input channel (Cg planes of in_h × in_w)
};

template <typename T>
void pack_patches(const void* context, long row0, long kc, long col0, long cols, long nr, T* dst) {
  const auto& source = *static_cast<const PatchSource<T>*>(context);
  const ConvGeometry& g = *source.g;
  const long area = g.kernel_area(), panels = (cols + nr - 1) / nr;
  for (long p = 0; p < kc; ++p) {
    const long r = row0 + p, c = r / area, ki = r % area / g.kernel_w, kj = r % g.kernel_w;
    const T* plane = source.x + c * g.in_pixels();
    const long dh = ki * g.dilation_h - g.pad_h, dw = kj * g.dilation_w - g.pad_w;
    for (long q = 0; q < panels; ++q) {
      T* out = dst + q * kc * nr + p * nr;
      const long j0 = col0 + q * nr, count = std::min(nr, col0 + cols - j0);
      long oh = j0 / g.out_w, ow = j0 % g.out_w, done = 0;
      while (done < count) {  // one run per output row the panel's pixels cover
        const long run = std::min(count - done, g.out_w - ow), ih = oh * g.stride_h + dh;
        const T* row = ih >= 0 && ih < g.in_h ? plane + ih * g.in_w : nullptr;
        patch_run(g, row, ow * g.stride_w + dw, run, out + done);
        done += run;
        ow = 0;
        ++oh;
      }
      std::fill(out + count, out + nr, T(0));
    }
  }
}

// What pack_patches_transposed reads: the whole batch's input channels of one group.
template <typename T>
struct BatchPatchSource {
  const ConvGeometry* g;
  const T* x;  // sample 0's first input channel of the group; samples are g->in_size() apart
};

template <typename T>
void pack_patches_transposed(const void* context, long row0, long kc, long col0, long cols, long nr, T* dst) {
  const auto& source = *static_cast<const BatchPatchSource<T>*>(context);
  const ConvGeometry& g = *source.g;
  const long area = g.kernel_area(), pixels = g.out_pixels(), panels = (cols + nr - 1) / nr;
  constexpr long kMaxNr = 64;  // gemm/kernel.h: kMaxNR
  long offset[kMaxNr], dh[kMaxNr], dw[kMaxNr];
  for (long q = 0; q < panels; ++q) {
    const long j0 = col0 + q * nr, count = std::min(nr, col0 + cols - j0);
    for (long t = 0; t < count; ++t) {  // the panel's patch positions (c, ki, kj), once
      const long r = j0 + t, c = r / area, ki = r % area / g.kernel_w, kj = r % g.kernel_w;
      dh[t] = ki * g.dilation_h - g.pad_h;
      dw[t] = kj * g.dilation_w - g.pad_w;
      offset[t] = c * g.in_pixels() + dh[t] * g.in_w + dw[t];
    }
    T* out = dst + q * kc * nr;
    for (long p = 0; p < kc; ++p, out += nr) {
      const long row = row0 + p, n = row / pixels, pixel = row % pixels;
      const long ih0 = pixel / g.out_w * g.stride_h, iw0 = pixel % g.out_w * g.stride_w;
      const T* base = source.x + n * g.in_size() + ih0 * g.in_w + iw0;
      for (long t = 0; t < count; ++t) {
        const long ih = ih0 + dh[t], iw = iw0 + dw[t];
        out[t] = ih >= 0 && ih < g.in_h && iw >= 0 && iw < g.in_w ? base[offset[t]] : T(0);
      }
      std::fill(out + count, out + nr, T(0));
    }
  }
}

// dx (the group's Cg planes) += columns [p0, p0 + tile) of the Kg × P patch gradient, held in `cols`
// (Kg rows of `tile` values). Rows in order, pixels in order: a fixed summation order.
template <typename T>
void col2im_add(const ConvGeometry& g, const T* cols, long p0, long tile, T* dx) {
  const long area = g.kernel_area();
  for (long r = 0; r < g.patch(); ++r) {
    const long c = r / area, ki = r % area / g.kernel_w, kj = r % g.kernel_w;
    T* plane = dx + c * g.in_pixels();
    const T* from = cols + r * tile;
    const long dh = ki * g.dilation_h - g.pad_h, dw = kj * g.dilation_w - g.pad_w;
    long oh = p0 / g.out_w, ow = p0 % g.out_w, done = 0;
    while (done < tile) {
      const long run = std::min(tile - done, g.out_w - ow), ih = oh * g.stride_h + dh;
      if (ih >= 0 && ih < g.in_h) {
        T* row = plane + ih * g.in_w;
        const long iw0 = ow * g.stride_w + dw;
        for (long t = 0; t < run; ++t) {
          const long iw = iw0 + t * g.stride_w;
          if (iw >= 0 && iw < g.in_w) row[iw] += from[done + t];
        }
      }
      done += run;
      ow = 0;
      ++oh;
    }
  }
}

}  // namespace bprop::ops
