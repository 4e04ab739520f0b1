#include "train/accounting.h"

#include <cmath>

namespace bprop::train {

template <typename T>
double Accounting<T>::add_batch(const T* out, long rows, long cols, long positions, const loss::Targets<T>& targets,
                                const T* weights, T* grad, Totals& totals) const {
  const long loss_rows = rows * positions, loss_cols = cols / positions;
  const double value = loss_->forward_backward(out, loss_rows, loss_cols, targets, weights, grad);
  if (!std::isfinite(value)) return value;
  // Reported losses are per-sample means, so batches weigh by their size; by the positions they score
  // when some are ignored (what torch's "mean" over the whole dataset would divide by).
  const double counted = double(loss_->counted_rows(targets, loss_rows)) / double(positions);
  if (loss_->reduction() == loss::Reduction::sum) {
    totals.loss_sum += value;
    totals.loss_weight += double(rows);
  } else {
    totals.loss_sum += value * counted;
    totals.loss_weight += counted;
  }
  totals.samples += rows;
  totals.batches += 1;
  totals.metric_sums.resize(metrics_.size());
  for (std::size_t m = 0; m < metrics_.size(); ++m)
    totals.metric_sums[m] +=
        metric_sum(metrics_[m], out, loss_rows, loss_cols, targets, loss_->ignore_index()) / double(positions);
  totals.metric_weight += counted;
  return value;
}

template class Accounting<float>;
template class Accounting<double>;

}  // namespace bprop::train
