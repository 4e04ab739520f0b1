// What every loss shares: the reduction's scale and the per-row sample weight.
#pragma once
#include "loss/loss.h"

namespace bprop::loss {

// The factor the sum of terms is multiplied by: 1 for "sum", 1/count for "mean" (count = number of
// terms, whatever the weights). An empty batch gives 0 rather than 0·∞.
inline double reduction_scale(Reduction reduction, long count) {
  if (reduction == Reduction::sum) return 1.0;
  return count > 0 ? 1.0 / double(count) : 0.0;
}

template <typename T>
inline T row_weight(const T* sample_weight, long row) {
  return sample_weight ? sample_weight[row] : T(1);
}

}  // namespace bprop::loss
