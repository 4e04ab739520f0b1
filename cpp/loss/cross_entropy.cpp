#include "loss/cross_entropy.h"

#include <algorithm>
#include <cmath>

#include "loss/reduction.h"

namespace bprop::loss {
namespace {

// One row: returns −Σⱼ q(j)·lsmⱼ and, when g is set, writes grad_scale·(pⱼ·Σq − q(j)) into g. Working
// with z − max(z) ≤ 0 keeps every exp ≤ 1 and keeps pⱼ accurate for logits of any finite size (going
// through log-sum-exp − zⱼ would lose pⱼ's digits to rounding at |z| ~ 1000 in float).
template <typename T, class Q>
double cross_entropy_row(const T* z, long cols, const Q& q, T grad_scale, T* g) {
  const T shift = *std::max_element(z, z + cols);
  T sum_exp = 0, sum_q = 0;
  for (long j = 0; j < cols; ++j) {
    sum_exp += std::exp(z[j] - shift);
    sum_q += q(j);
  }
  const T log_sum_exp = std::log(sum_exp);
  double loss = 0;
  for (long j = 0; j < cols; ++j) {
    const T shifted = z[j] - shift;
    loss += double(q(j)) * double(log_sum_exp - shifted);
    if (g) g[j] = grad_scale * (std::exp(shifted) / sum_exp * sum_q - q(j));
  }
  return loss;
}

}  // namespace

template <typename T>
double CrossEntropy<T>::forward_backward(const T* out, long rows, long cols, const Targets<T>& targets,
                                         const T* sample_weight, T* grad) const {
  const double scale = reduction_scale(this->reduction_, this->counted_rows(targets, rows));
  const T keep = 1 - label_smoothing_, spread = label_smoothing_ / T(cols);
  double total = 0;
  for (long i = 0; i < rows; ++i) {
    const T weight = row_weight(sample_weight, i);
    const T grad_scale = T(scale * double(weight));
    const T* z = out + i * cols;
    T* g = grad ? grad + i * cols : nullptr;
    double row_loss;
    if (targets.labels) {
      const int64_t label = targets.labels[i];
      if (ignore_index_ && label == *ignore_index_) {  // no term, no gradient
        if (g) std::fill(g, g + cols, T(0));
        continue;
      }
      row_loss = cross_entropy_row(z, cols, [&](long j) { return spread + (j == label ? keep : T(0)); },
                                   grad_scale, g);
    } else {
      const T* t = targets.values + i * cols;
      row_loss = cross_entropy_row(z, cols, [&](long j) { return keep * t[j] + spread; }, grad_scale, g);
    }
    total += double(weight) * row_loss;
  }
  return total * scale;
}

template class CrossEntropy<float>;
template class CrossEntropy<double>;

}  // namespace bprop::loss
