#include "nn/linear.h"

#include "core/error.h"
#include "core/parallel.h"
#include "core/sizes.h"
#include "gemm/gemm.h"
#include "nn/init.h"

namespace bprop::nn {
namespace {

// Below this many dy values the bias gradient stays on one thread.
constexpr long kParallelMinValues = 1L << 15;
// An epilogue block of at most this many values (16 KiB of float32) stays in L1 between bias and map.
constexpr long kL1BlockValues = 4096;

}  // namespace

template <typename T>
Linear<T>::Linear(long in_features, long out_features, bool bias, const std::string& init, double init_limit,
                  uint64_t seed) {
  if (in_features < 1 || out_features < 1)
    throw ValueError("[Linear] in_features and out_features must be >= 1; got " + std::to_string(in_features) +
                     " and " + std::to_string(out_features));
  checked_count({in_features, out_features}, 2 * sizeof(T), "[Linear] weight");  // before allocating
  check_initializer(init, init_limit);
  in_features_ = in_features;
  out_features_ = out_features;
  weight_ = std::make_shared<Parameter<T>>("weight", std::vector<long>{in_features, out_features});
  initialize(weight_->value, init, in_features, out_features, init_limit, seed);
  if (bias) bias_ = std::make_shared<Parameter<T>>("bias", std::vector<long>{out_features});
}

template <typename T>
SampleShape Linear<T>::build(const SampleShape& in) {
  return this->map_last_axis(in, in_features_, out_features_);
}

template <typename T>
void Linear<T>::forward(const T* x, long rows, T* y, Mode) {
  forward_with(x, rows, y, nullptr);
}

namespace {

// The GEMM epilogue of a Linear: its bias on each finished block of y, then the fused map, if any.
template <typename T>
struct BiasThen {
  const T* bias;                           // out_features values, or null
  const ElementwiseFromOutput<T>* then;  // or null

  static void apply(const void* context, long, long col0, T* y, long rows, long cols, long ld) {
    const auto& self = *static_cast<const BiasThen*>(context);
    if (!self.bias) return self.then->apply_block(y, rows, cols, ld);
    // Row by row, so the map finds each row just written; a block small enough for L1 in one call (one
    // call of the map per block, not per row: what a tiny network's step is made of).
    const bool whole_block = rows * cols <= kL1BlockValues;
    for (long r = 0; r < rows; ++r) {
      T* row = y + r * ld;
      for (long j = 0; j < cols; ++j) row[j] += self.bias[col0 + j];
      if (self.then && !whole_block) self.then->apply_block(row, 1, cols, ld);
    }
    if (self.then && whole_block) self.then->apply_block(y, rows, cols, ld);
  }
};

}  // namespace

template <typename T>
void Linear<T>::forward_with(const T* x, long rows, T* y, const ElementwiseFromOutput<T>* then) const {
  const long in = in_features_, out = out_features_;
  rows = this->last_axis_rows(rows);
  const BiasThen<T> after{bias_ ? bias_->value.data() : nullptr, then};
  gemm::Epilogue<T> epilogue;
  if (after.bias || after.then) epilogue = {&BiasThen<T>::apply, &after};
  gemm::gemm<T>(gemm::Op::N, gemm::Op::N, rows, out, in, T(1), x, in, weight_->value.data(), out, T(0), y, out,
                epilogue);
}

template <typename T>
void Linear<T>::backward(const T* x, const T*, const T* dy, long rows, T* dx, bool accumulate) {
  const long in = in_features_, out = out_features_;
  rows = this->last_axis_rows(rows);
  const T keep = accumulate ? T(1) : T(0);
  gemm::gemm<T>(gemm::Op::T, gemm::Op::N, in, out, rows, T(1), x, in, dy, out, keep, weight_->grad.data(), out);
  if (bias_) {  // db = column sums of dy; threads take columns, each summed in row order
    T* db = bias_->grad.data();
    run_parallel(rows * out >= kParallelMinValues ? num_threads() : 1, [&](int index, int count) {
      const auto [j0, j1] = split_range(out, index, count);
      if (!accumulate)
        for (long j = j0; j < j1; ++j) db[j] = T(0);
      for (long r = 0; r < rows; ++r)
        for (long j = j0; j < j1; ++j) db[j] += dy[r * out + j];
    });
  }
  if (dx) gemm::gemm<T>(gemm::Op::N, gemm::Op::T, rows, in, out, T(1), dy, out, weight_->value.data(), out, T(0), dx, in);
}

template <typename T>
std::vector<ParameterPtr<T>> Linear<T>::parameters() {
  if (bias_) return {weight_, bias_};
  return {weight_};
}

template class Linear<float>;
template class Linear<double>;

}  // namespace bprop::nn
