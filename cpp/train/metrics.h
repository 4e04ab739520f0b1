// Metrics summed over batches as the trainer runs (Keras's running averages): each returns the sum
// over a batch's samples of a per-sample score, which the caller divides by the sample count.
//   accuracy       class labels: argmax(out) == label; one output with 0/1 targets: (out > threshold)
//                  == (target > 0.5), the threshold 0 for logits, 0.5 for probabilities
//   top_k_accuracy the label among the k largest outputs
//   mse, mae       mean over outputs of (out − target)², |out − target|, for value targets
// Rows labelled `ignore` (the loss's ignore_index) score nothing: the caller counts only the others.
#pragma once
#include <cstdint>
#include <optional>
#include <string>

#include "loss/loss.h"

namespace bprop::train {

enum class MetricKind { accuracy, top_k_accuracy, mse, mae };

struct Metric {
  MetricKind kind;
  int k = 1;               // top_k_accuracy
  double threshold = 0.5;  // accuracy with one output
  std::string name() const;
};

// ValueError for an unknown name. Names: "accuracy", "top_k_accuracy" (k=5 by default), "mse", "mae".
Metric metric_from_name(const std::string& name, int k);

template <typename T>
double metric_sum(const Metric& metric, const T* out, long rows, long cols, const loss::Targets<T>& targets,
                  std::optional<int64_t> ignore);

}  // namespace bprop::train
