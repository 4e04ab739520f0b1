// Image patches as GEMM operands, read straight from an NCHW image:
//   pack_patches:  op(B) = patches (Kg × P) of one sample's group, row (c, ki, kj), column pixel, written
//                  into the GEMM's micro-panels (gemm.h: PanelPacker, dst[q·kc·nr + p·nr + r]): no im2col;
//   patches_tile:  a tile of whole columns of the batch's patch matrix (an im2col block within L2), which
//                  backward-weights' products read transposed;
//   col2im_add:    the adjoint of patches: a Kg × tile block of columns added into the image.
// Both read images padded in memory (pad_images), so no value needs a bounds check. The packer runs on the
// GEMM's threads: it never throws.
#pragma once
#include <algorithm>
#include <cstring>

#include "ops/conv_geometry.h"
#include "ops/conv_pack.h"

namespace bprop::ops {

// out[0, count) = in[0, count). The common lengths (a whole micro-panel of 32, 16 or 8 values) are
// constant-size copies the compiler inlines as vector moves: a call to memmove per panel row cost more
// than the copy (43% of a 16-channel forward went to packing before this).
template <typename T>
__attribute__((always_inline)) inline void copy_values(T* out, const T* in, long count) {
  switch (count) {
    case 32: std::memcpy(out, in, 32 * sizeof(T)); return;
    case 16: std::memcpy(out, in, 16 * sizeof(T)); return;
    case 8: std::memcpy(out, in, 8 * sizeof(T)); return;
    default: {  // other run lengths (an output row of 28 or 7): vectors of 8, then the rest
      long t = 0;
      for (; t + 8 <= count; t += 8) std::memcpy(out + t, in + t, 8 * sizeof(T));
      for (; t < count; ++t) out[t] = in[t];
    }
  }
}

// The positions [lo, hi) of a run of `count` outputs, iw = iw0 + t·stride, that lie inside [0, width).
inline void inside_run(long iw0, long stride, long count, long width, long& lo, long& hi) {
  lo = iw0 >= 0 ? 0 : std::min(count, (-iw0 + stride - 1) / stride);
  hi = iw0 >= width ? 0 : std::min(count, (width - 1 - iw0) / stride + 1);
  hi = std::max(lo, hi);
}

// The same convolution on images padded in memory (pad_images): no padding left and every patch value
// inside the image, so the packers copy runs without a bounds check. A negative padding (a flipped
// backward-data's crop) becomes an offset the same way.
inline ConvGeometry padded_geometry(const ConvGeometry& g) {
  ConvGeometry p = g;
  p.in_h = (g.out_h - 1) * g.stride_h + g.dilation_h * (g.kernel_h - 1) + 1;
  p.in_w = (g.out_w - 1) * g.stride_w + g.dilation_w * (g.kernel_w - 1) + 1;
  p.pad_h = p.pad_w = 0;
  return p;
}

// Whether every patch value of g lies inside its image (no bounds checks needed).
inline bool inside_image(const ConvGeometry& g) {
  return g.pad_h == 0 && g.pad_w == 0 && (g.out_h - 1) * g.stride_h + g.dilation_h * (g.kernel_h - 1) < g.in_h &&
         (g.out_w - 1) * g.stride_w + g.dilation_w * (g.kernel_w - 1) < g.in_w;
}

// xp (images × channels planes of padded.in_h × padded.in_w) = x (planes of g.in_h × g.in_w) placed at
// (pad_h, pad_w), zeros around (and what lies beyond the padded size dropped).
template <typename T>
void pad_images(const ConvGeometry& g, const ConvGeometry& padded, long planes, const T* x, T* xp) {
  const long hp = padded.in_h, wp = padded.in_w;
  const long col0 = std::max(0L, g.pad_w), skip = std::max(0L, -g.pad_w);  // first column written, columns skipped
  const long cols = std::max(0L, std::min(g.in_w - skip, wp - col0));
  for (long plane = 0; plane < planes; ++plane) {
    const T* from = x + plane * g.in_pixels();
    T* to = xp + plane * hp * wp;
    for (long i = 0; i < hp; ++i) {
      T* row = to + i * wp;
      const long source = i - g.pad_h;
      if (source < 0 || source >= g.in_h || cols == 0) {
        std::fill(row, row + wp, T(0));
        continue;
      }
      std::fill(row, row + col0, T(0));
      std::memcpy(row + col0, from + source * g.in_w + skip, sizeof(T) * std::size_t(cols));
      std::fill(row + col0 + cols, row + wp, T(0));
    }
  }
}

// pack_patches for a geometry inside_image: each panel's pixels as runs along output rows, found once
// per panel, then copied for every patch row.
template <typename T>
__attribute__((always_inline)) inline void pack_patches_inside(const ConvGeometry& g, const T* x, long row0, long kc, long col0, long cols, long nr, T* dst) {
  constexpr long kMaxNr = 64;  // gemm/kernel.h: kMaxNR; a panel has at most that many runs
  long source[kMaxNr], start[kMaxNr], length[kMaxNr];
  const long area = g.kernel_area(), panels = (cols + nr - 1) / nr;
  for (long q = 0; q < panels; ++q) {
    const long j0 = col0 + q * nr, count = std::min(nr, col0 + cols - j0);
    long runs = 0;
    for (long done = 0; done < count; ++runs) {
      const long j = j0 + done, oh = j / g.out_w, ow = j % g.out_w;
      source[runs] = oh * g.stride_h * g.in_w + ow * g.stride_w;
      start[runs] = done;
      length[runs] = std::min(count - done, g.out_w - ow);
      done += length[runs];
    }
    T* out = dst + q * kc * nr;
    // The patch position (c, ki, kj) of row p, advanced by counting: a division per row cost more than the
    // copies on small layers (LeNet's first convolution: 25 rows, runs of 4 to 28 values).
    long c = row0 / area, ki = row0 % area / g.kernel_w, kj = row0 % g.kernel_w;
    for (long p = 0; p < kc; ++p, out += nr) {
      const T* base = x + c * g.in_pixels() + ki * g.dilation_h * g.in_w + kj * g.dilation_w;
      if (++kj == g.kernel_w) {
        kj = 0;
        if (++ki == g.kernel_h) {
          ki = 0;
          ++c;
        }
      }
      for (long k = 0; k < runs; ++k) {
        if (g.stride_w == 1) {
          copy_values(out + start[k], base + source[k], length[k]);
        } else {
          const T* from = base + source[k];
          for (long t = 0; t < length[k]; ++t) out[start[k] + t] = from[t * g.stride_w];
        }
      }
      for (long t = count; t < nr; ++t) out[t] = T(0);
    }
  }
}

// What pack_patches reads: one sample's input channels of one group.
template <typename T>
struct PatchSource {
  const ConvGeometry* g;
  const T* x;  // the group's first input channel (Cg planes of in_h × in_w)
};

// The PanelPacker of a forward product. Its geometry is inside_image: the caller pads the image first
// (pad_images), so every run is a plain copy.
template <typename T>
void pack_patches(const void* context, long row0, long kc, long col0, long cols, long nr, T* dst) {
  const auto& source = *static_cast<const PatchSource<T>*>(context);
  pack_patches_inside_fast(*source.g, source.x, row0, kc, col0, cols, nr, dst);
}

// dst (rows [r0, r1) of the patch matrix, `cols` values each) = columns [j0, j0 + cols) of the batch's patch
// matrix (Kg × batch·P, column n·P + pixel) of one group: an im2col tile, the B of backward-weights'
// products (read transposed). Patch rows are the weight gradient's columns, so threads can take rows.
// g is inside_image (the caller pads the batch first).
template <typename T>
__attribute__((always_inline)) inline void patches_tile(const ConvGeometry& g, const T* x, long r0, long r1, long j0,
                                                        long cols, T* dst) {
  const long area = g.kernel_area(), pixels = g.out_pixels();
  const long n0 = j0 / pixels, oh0 = j0 % pixels / g.out_w, ow0 = j0 % g.out_w;
  for (long r = r0; r < r1; ++r) {
    const long c = r / area, ki = r % area / g.kernel_w, kj = r % g.kernel_w;
    const long dh = ki * g.dilation_h - g.pad_h, dw = kj * g.dilation_w - g.pad_w;
    T* out = dst + (r - r0) * cols;
    // One run per output row; rows of consecutive samples follow each other. Positions advance by
    // counting, not dividing: the runs are short (8 to 32 values) and many.
    const T* plane = x + n0 * g.in_size() + c * g.in_pixels();
    long oh = oh0, ow = ow0, done = 0;
    while (done < cols) {
      const long run = std::min(cols - done, g.out_w - ow), ih = oh * g.stride_h + dh, iw = ow * g.stride_w + dw;
      const T* from = plane + ih * g.in_w + iw;
      if (g.stride_w == 1)
        copy_values(out + done, from, run);
      else
        for (long t = 0; t < run; ++t) out[done + t] = from[t * g.stride_w];
      done += run;
      ow = 0;
      if (++oh == g.out_h) {
        oh = 0;
        plane += g.in_size();
      }
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
        long lo, hi;
        inside_run(iw0, g.stride_w, run, g.in_w, lo, hi);
        const T* part = from + done;
        if (g.stride_w == 1)
          for (long t = lo; t < hi; ++t) row[iw0 + t] += part[t];
        else
          for (long t = lo; t < hi; ++t) row[iw0 + t * g.stride_w] += part[t];
      }
      done += run;
      ow = 0;
      ++oh;
    }
  }
}

}  // namespace bprop::ops
