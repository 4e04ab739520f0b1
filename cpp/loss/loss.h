// The loss contract: value and gradient of one batch in one pass.
//
// out: rows × cols network outputs (logits for the cross-entropies). Targets: class indices (int64, one
// per row) or values shaped like out. sample_weight: null, or one weight per row multiplying that row's
// terms. A loss taking labels may have an ignore_index: rows labelled with it have no term, a zero
// gradient, and are not counted. Reduction (as PyTorch): "sum" adds every term; "mean" divides the sum by
// the number of terms (rows·cols for elementwise losses, rows not ignored for CrossEntropy), whatever the
// weights (as Keras does with sample weights); nothing to count gives 0. forward_backward returns the loss
// and, when grad is not null, writes ∂loss/∂out (rows × cols) into it. Targets are validated by the caller
// before (labels in range or ignored, finite values); the loss itself never throws.
#pragma once
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

namespace bprop::loss {

enum class Reduction { mean, sum };

template <typename T>
struct Targets {
  const int64_t* labels = nullptr;  // rows class indices, or
  const T* values = nullptr;        // rows × cols values (probabilities, regression targets)
};

template <typename T>
class Loss {
 public:
  explicit Loss(Reduction reduction) : reduction_(reduction) {}
  virtual ~Loss() = default;
  virtual std::string name() const = 0;  // "CrossEntropy", as in Python
  virtual bool takes_labels() const { return false; }  // class indices rather than values
  // The label of rows to skip (CrossEntropy's ignore_index), if any: what label checks and metrics also skip.
  virtual std::optional<int64_t> ignore_index() const { return std::nullopt; }

  virtual double forward_backward(const T* out, long rows, long cols, const Targets<T>& targets,
                                  const T* sample_weight, T* grad) const = 0;

  Reduction reduction() const { return reduction_; }
  // How many of `rows` rows have a term: all but those labelled ignore_index().
  long counted_rows(const Targets<T>& targets, long rows) const {
    const std::optional<int64_t> ignore = ignore_index();
    if (!ignore || !targets.labels) return rows;
    long counted = 0;
    for (long i = 0; i < rows; ++i) counted += targets.labels[i] != *ignore;
    return counted;
  }

 protected:
  Reduction reduction_;
};

template <typename T>
using LossPtr = std::shared_ptr<Loss<T>>;

}  // namespace bprop::loss
