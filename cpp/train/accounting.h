// A batch's loss and metrics, added into an epoch's Totals: the one place either training engine (the C++
// Trainer of a Sequential, Python's ModuleLoop of a Module) accounts a batch, so both report the same
// numbers, in the same schema, for the same batches.
#pragma once
#include <vector>

#include "loss/loss.h"
#include "train/metrics.h"

namespace bprop::train {

// The reported loss is loss_sum / loss_weight and each metric metric_sum / metric_weight (0 when the
// weight is 0). Without ignored labels both weights are the samples seen, and the loss is the mean of the
// batch losses weighted by batch size. With ignored labels they count only the positions scored, in
// samples (positions / positions per sample): a "mean" loss and the metrics are then means over every
// position scored, whatever the batch size, as torch's loss over the whole dataset.
struct Totals {
  double loss_sum = 0;             // Σ over batches of batch loss × its weight
  double loss_weight = 0;          // Σ batch rows ("sum"), or rows counted ("mean")
  long samples = 0;                // samples seen
  long batches = 0;                // batches completed
  std::vector<double> metric_sums; // one per metric, Σ per-sample scores of the positions counted
  double metric_weight = 0;        // Σ samples counted (a sample with positions counts its share scored)
  bool nonfinite = false;          // stopped at a batch whose loss was NaN or Inf
  long nonfinite_batch = -1;       // its index within the epoch
};

template <typename T>
class Accounting {
 public:
  Accounting(loss::LossPtr<T> loss, std::vector<Metric> metrics)
      : loss_(std::move(loss)), metrics_(std::move(metrics)) {}

  const loss::Loss<T>& loss() const { return *loss_; }
  const std::vector<Metric>& metrics() const { return metrics_; }

  // The loss of a batch of `rows` samples of `cols` outputs, seen by the loss as rows × positions rows of
  // cols / positions values (a label per position); writes ∂loss/∂out into grad unless it is null. A finite
  // loss adds its per-sample share, the samples, the batch and the metrics to totals (a sample scoring the
  // mean over its positions; positions labelled the loss's ignore_index are not counted); the value is
  // returned as the loss computed it, in double.
  double add_batch(const T* out, long rows, long cols, long positions, const loss::Targets<T>& targets,
                   const T* weights, T* grad, Totals& totals) const;

 private:
  loss::LossPtr<T> loss_;
  std::vector<Metric> metrics_;
};

}  // namespace bprop::train
