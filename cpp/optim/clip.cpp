#include "optim/clip.h"

#include <algorithm>
#include <cmath>

#include "optim/check.h"
#include "optim/update.h"

namespace bprop::optim {
namespace {

// Elements per chunk of the norm: enough to amortise a chunk's bookkeeping, small enough to balance.
constexpr long kNormChunk = 1L << 12;

// The sum of squares of g[begin, end) in a fixed order: 8 interleaved lanes (independent additions that
// pipeline and vectorize), added pairwise at the end. The same bits on every call.
template <typename T>
double sum_of_squares(const T* g, long begin, long end) {
  constexpr int kLanes = 8;
  double lane[kLanes] = {};
  long i = begin;
  for (; i + kLanes <= end; i += kLanes)
    for (int l = 0; l < kLanes; ++l) lane[l] += double(g[i + l]) * double(g[i + l]);
  for (int l = 0; i < end; ++i, ++l) lane[l] += double(g[i]) * double(g[i]);
  return ((lane[0] + lane[1]) + (lane[2] + lane[3])) + ((lane[4] + lane[5]) + (lane[6] + lane[7]));
}

}  // namespace

void ClipOptions::validate(const std::string& who) const {
  if (max_norm) check_hyperparameter(who, "clipnorm", *max_norm, above(0));
  if (max_value) check_hyperparameter(who, "clipvalue", *max_value, above(0));
}

double clip_coefficient(double norm, double max_norm) {
  const double coefficient = max_norm / (norm + 1e-6);
  return coefficient < 1 ? coefficient : 1;  // NaN (a NaN gradient) passes through unchanged
}

template <typename T>
GradientNorm<T>::GradientNorm(const std::vector<nn::ParameterPtr<T>>& params) {
  for (std::size_t p = 0; p < params.size(); ++p) {
    const long n = params[p]->size();
    for (long begin = 0; begin < n; begin += kNormChunk) chunks_.push_back({p, begin, std::min(n, begin + kNormChunk)});
    elements_ += n;
  }
  partial_.resize(chunks_.size());
}

template <typename T>
double GradientNorm<T>::operator()(const std::vector<nn::ParameterPtr<T>>& params) {
  const long chunks = long(chunks_.size());
  run_parallel(update_threads(elements_), [&](int index, int count) {
    const auto [first, last] = split_range(chunks, index, count);
    for (long c = first; c < last; ++c) {
      const Chunk& chunk = chunks_[std::size_t(c)];
      partial_[std::size_t(c)] = sum_of_squares(params[chunk.param]->grad.data(), chunk.begin, chunk.end);
    }
  });
  double total = 0;
  for (double sum : partial_) total += sum;
  return std::sqrt(total);
}

template class GradientNorm<float>;
template class GradientNorm<double>;

}  // namespace bprop::optim
