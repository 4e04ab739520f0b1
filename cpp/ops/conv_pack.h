// The patch copies of ops/conv_patches.h compiled for the CPU's widest vectors: GCC's target_clones makes
// an AVX-512, an AVX2 and a baseline body and the loader picks one by the CPU, once. A copy rounds
// nothing, so every body writes the same values (forcing BPROP_ISA changes the GEMM, not these).
// Measured on Zen 4, 32->32 3x3 at 16x16: packing took 23% of the forward with SSE2 copies.
#pragma once
#include "ops/conv_geometry.h"

namespace bprop::ops {

void pack_patches_inside_fast(const ConvGeometry& g, const float* x, long row0, long kc, long col0, long cols, long nr,
                              float* dst);
void pack_patches_inside_fast(const ConvGeometry& g, const double* x, long row0, long kc, long col0, long cols,
                              long nr, double* dst);
void patches_tile_fast(const ConvGeometry& g, const float* x, long r0, long r1, long j0, long cols, float* dst);
void patches_tile_fast(const ConvGeometry& g, const double* x, long r0, long r1, long j0, long cols, double* dst);

}  // namespace bprop::ops
