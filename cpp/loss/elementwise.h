// Losses that are a sum of one term per output element: MSE, MAE, Huber and BinaryCrossEntropy.
//
// ElementwiseLoss<T, F> runs the loop once for all of them: targets.values (shaped like out) are
// required, weights multiply their row's terms, "mean" divides by rows·cols. F supplies the term:
// F(x, y) returns its value and its derivative in x, F::name is the loss's name. The terms are a line
// each and defined here, so they inline into the loop wherever it is instantiated.
#pragma once
#include <algorithm>
#include <cmath>
#include <string>

#include "loss/loss.h"
#include "loss/reduction.h"

namespace bprop::loss {

template <typename T>
struct Term {
  T value;  // the term l(x, y)
  T slope;  // ∂l/∂x
};

template <typename T, class F>
class ElementwiseLoss final : public Loss<T> {
 public:
  explicit ElementwiseLoss(Reduction reduction, F term = F()) : Loss<T>(reduction), term_(term) {}
  std::string name() const override { return F::name; }
  const F& term() const { return term_; }

  double forward_backward(const T* out, long rows, long cols, const Targets<T>& targets,
                          const T* sample_weight, T* grad) const override {
    const double scale = reduction_scale(this->reduction_, rows * cols);
    double total = 0;
    for (long i = 0; i < rows; ++i) {
      const T weight = row_weight(sample_weight, i);
      const T grad_scale = T(scale * double(weight));
      double row_total = 0;
      for (long j = i * cols; j < (i + 1) * cols; ++j) {
        const Term<T> t = term_(out[j], targets.values[j]);
        row_total += double(t.value);
        if (grad) grad[j] = grad_scale * t.slope;
      }
      total += double(weight) * row_total;
    }
    return total * scale;
  }

 private:
  F term_;
};

// torch.nn.MSELoss: (x − y)².
template <typename T>
struct SquaredError {
  static constexpr const char* name = "MSE";
  Term<T> operator()(T x, T y) const { return {(x - y) * (x - y), 2 * (x - y)}; }
};

// torch.nn.L1Loss: |x − y|, slope sign(x − y) and 0 where x == y, as torch.
template <typename T>
struct AbsoluteError {
  static constexpr const char* name = "MAE";
  Term<T> operator()(T x, T y) const { return {std::abs(x - y), T((x > y) - (x < y))}; }
};

// torch.nn.HuberLoss(delta): ½d² where |d| < delta, else delta·(|d| − ½delta), d = x − y. delta > 0
// (checked by the bindings).
template <typename T>
struct HuberError {
  static constexpr const char* name = "Huber";
  T delta = T(1);
  Term<T> operator()(T x, T y) const {
    const T d = x - y;
    if (std::abs(d) < delta) return {T(0.5) * d * d, d};
    return {delta * (std::abs(d) - T(0.5) * delta), std::copysign(delta, d)};
  }
};

// torch.nn.BCEWithLogitsLoss: −y·log σ(x) − (1 − y)·log(1 − σ(x)) for y in [0, 1], slope σ(x) − y, in
// the form max(x, 0) − x·y + log1p(exp(−|x|)): exp(−|x|) ≤ 1 never overflows, and σ(x) built from it
// keeps its digits for large |x|.
template <typename T>
struct LogisticError {
  static constexpr const char* name = "BinaryCrossEntropy";
  Term<T> operator()(T x, T y) const {
    const T e = std::exp(-std::abs(x));
    const T sigmoid = x >= 0 ? 1 / (1 + e) : e / (1 + e);
    return {std::max(x, T(0)) - x * y + std::log1p(e), sigmoid - y};
  }
};

template <typename T>
using MSE = ElementwiseLoss<T, SquaredError<T>>;
template <typename T>
using MAE = ElementwiseLoss<T, AbsoluteError<T>>;
template <typename T>
using Huber = ElementwiseLoss<T, HuberError<T>>;
template <typename T>
using BinaryCrossEntropy = ElementwiseLoss<T, LogisticError<T>>;

}  // namespace bprop::loss
