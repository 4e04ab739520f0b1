// Walks every index of a shape in row-major order with up to three operands, each read through its
// own strides (0 along axes it is broadcast over): the loop under NumPy-style broadcasting, reductions
// over axes and axis permutations. The innermost axis runs as a plain loop.
#pragma once
#include <array>
#include <vector>

namespace bprop::ops {

// f(offsets) for every index, offsets[k] = Σ index[d]·strides[k][d].
template <std::size_t K, class F>
void for_each_strided(const std::vector<long>& shape, const std::array<std::vector<long>, K>& strides, F&& f) {
  const std::size_t rank = shape.size();
  for (long d : shape)
    if (d == 0) return;
  if (rank == 0) {
    std::array<long, K> offsets{};
    f(offsets);
    return;
  }
  std::vector<long> index(rank, 0);
  std::array<long, K> base{};
  const long inner = shape[rank - 1];
  std::array<long, K> step;
  for (std::size_t k = 0; k < K; ++k) step[k] = strides[k][rank - 1];
  while (true) {
    std::array<long, K> offsets = base;
    for (long i = 0; i < inner; ++i) {
      f(offsets);
      for (std::size_t k = 0; k < K; ++k) offsets[k] += step[k];
    }
    // Next outer index (odometer), keeping base in step.
    long d = long(rank) - 2;
    for (; d >= 0; --d) {
      for (std::size_t k = 0; k < K; ++k) base[k] += strides[k][d];
      if (++index[d] < shape[d]) break;
      for (std::size_t k = 0; k < K; ++k) base[k] -= strides[k][d] * shape[d];
      index[d] = 0;
    }
    if (d < 0) return;
  }
}

// Row-major strides of `shape` read as broadcast to `out_shape` (right-aligned; 0 where it has size 1
// or no axis).
inline std::vector<long> broadcast_strides(const std::vector<long>& shape, const std::vector<long>& out_shape) {
  std::vector<long> strides(out_shape.size(), 0);
  long stride = 1;
  const long offset = long(out_shape.size()) - long(shape.size());
  for (long d = long(shape.size()) - 1; d >= 0; --d) {
    strides[d + offset] = shape[d] == 1 ? 0 : stride;
    stride *= shape[d];
  }
  return strides;
}

inline std::vector<long> contiguous_strides(const std::vector<long>& shape) {
  return broadcast_strides(shape, shape);
}

}  // namespace bprop::ops
