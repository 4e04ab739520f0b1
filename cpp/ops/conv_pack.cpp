#include "ops/conv_pack.h"

#include "ops/conv_patches.h"

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__)
// Loop distribution off: it would turn the short copies back into memmove calls.
#define BPROP_WIDEST_VECTORS \
  __attribute__((target_clones("avx512f", "avx2", "default"), optimize("no-tree-loop-distribute-patterns")))
#else
#define BPROP_WIDEST_VECTORS
#endif

namespace bprop::ops {

BPROP_WIDEST_VECTORS void pack_patches_inside_fast(const ConvGeometry& g, const float* x, long row0, long kc,
                                                   long col0, long cols, long nr, float* dst) {
  pack_patches_inside(g, x, row0, kc, col0, cols, nr, dst);
}

BPROP_WIDEST_VECTORS void pack_patches_inside_fast(const ConvGeometry& g, const double* x, long row0, long kc,
                                                   long col0, long cols, long nr, double* dst) {
  pack_patches_inside(g, x, row0, kc, col0, cols, nr, dst);
}

BPROP_WIDEST_VECTORS void patches_tile_fast(const ConvGeometry& g, const float* x, long r0, long r1, long j0, long cols,
                                            float* dst) {
  patches_tile(g, x, r0, r1, j0, cols, dst);
}

BPROP_WIDEST_VECTORS void patches_tile_fast(const ConvGeometry& g, const double* x, long r0, long r1, long j0,
                                            long cols, double* dst) {
  patches_tile(g, x, r0, r1, j0, cols, dst);
}

}  // namespace bprop::ops
