#include "train/metrics.h"

#include <cmath>

#include "core/error.h"

namespace bprop::train {

std::string Metric::name() const {
  switch (kind) {
    case MetricKind::accuracy: return "accuracy";
    case MetricKind::top_k_accuracy: return "top_k_accuracy";
    case MetricKind::mse: return "mse";
    case MetricKind::mae: return "mae";
  }
  return "?";
}

Metric metric_from_name(const std::string& name, int k) {
  if (name == "accuracy") return {MetricKind::accuracy, 1};
  if (name == "top_k_accuracy") {
    if (k < 1) throw ValueError("[metrics] top_k_accuracy needs k >= 1; got " + std::to_string(k));
    return {MetricKind::top_k_accuracy, k};
  }
  if (name == "mse") return {MetricKind::mse, 1};
  if (name == "mae") return {MetricKind::mae, 1};
  throw ValueError("[metrics] unknown metric '" + name + "'; expected accuracy, top_k_accuracy, mse or mae");
}

namespace {

template <typename T>
long argmax(const T* row, long cols) {
  long best = 0;
  for (long j = 1; j < cols; ++j)
    if (row[j] > row[best]) best = j;
  return best;
}

// How many outputs beat the label's: the label is in the top k when fewer than k do.
template <typename T>
bool in_top_k(const T* row, long cols, long label, int k) {
  long greater = 0;
  for (long j = 0; j < cols; ++j) greater += row[j] > row[label];
  return greater < k;
}

}  // namespace

template <typename T>
double metric_sum(const Metric& metric, const T* out, long rows, long cols, const loss::Targets<T>& targets,
                  std::optional<int64_t> ignore) {
  double sum = 0;
  for (long r = 0; r < rows; ++r) {
    if (ignore && targets.labels && targets.labels[r] == *ignore) continue;
    const T* row = out + r * cols;
    switch (metric.kind) {
      case MetricKind::accuracy:
        if (targets.labels)
          sum += argmax(row, cols) == targets.labels[r];
        else if (cols == 1)
          sum += (double(row[0]) > metric.threshold) == (targets.values[r] > T(0.5));
        else
          sum += argmax(row, cols) == argmax(targets.values + r * cols, cols);
        break;
      case MetricKind::top_k_accuracy:
        sum += in_top_k(row, cols, targets.labels ? long(targets.labels[r]) : argmax(targets.values + r * cols, cols),
                        metric.k);
        break;
      case MetricKind::mse:
      case MetricKind::mae: {
        double s = 0;
        for (long j = 0; j < cols; ++j) {
          const double d = double(row[j]) - double(targets.values[r * cols + j]);
          s += metric.kind == MetricKind::mse ? d * d : std::fabs(d);
        }
        sum += s / double(cols);
        break;
      }
    }
  }
  return sum;
}

template double metric_sum<float>(const Metric&, const float*, long, long, const loss::Targets<float>&,
                                  std::optional<int64_t>);
template double metric_sum<double>(const Metric&, const double*, long, long, const loss::Targets<double>&,
                                   std::optional<int64_t>);

}  // namespace bprop::train
