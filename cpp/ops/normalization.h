// Normalising one group of `count` values spaced `stride` apart: BatchNorm's groups are columns
// (stride = features), LayerNorm's are rows (stride 1). One implementation serves both layers.
#pragma once

namespace bprop::ops {

// xhat = (x − mean)/√(var + eps), with the biased variance. Returns 1/√(var + eps); mean and var out.
template <typename T>
T normalize_group(const T* x, long count, long stride, T eps, T* xhat, T& mean, T& var);

// Backward through y = gamma·xhat + beta for one group, with gamma[i·gamma_stride] the scale of value i
// (gamma_stride 0: one scale for the whole group). Writes
//   dx = inv_std/count · (count·g − Σg − xhat·Σ(g·xhat)),   g = dy·gamma.
template <typename T>
void normalize_group_backward(const T* dy, const T* xhat, const T* gamma, long gamma_stride, long count, long stride,
                              T inv_std, T* dx);

}  // namespace bprop::ops
