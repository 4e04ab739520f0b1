// Whether an array holds only finite numbers: the check every array entering training or inference
// passes, so it must cost little at one row (a batch-1 predict) and need no temporary at a million.
#pragma once

namespace bprop::ops {

// True when none of x[0, n) is NaN or ±Inf.
template <typename T>
bool all_finite(const T* x, long n);

}  // namespace bprop::ops
