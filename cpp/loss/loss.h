// The loss contract: value and gradient of one batch in one pass.
//
// out: rows × cols network outputs (logits for the cross-entropies). Targets: class indices (int64, one
// per row) or values shaped like out. sample_weight: null, or one weight per row multiplying that row's
// terms. Reduction (as PyTorch): "sum" adds every term; "mean" divides the sum by the number of terms
// (rows·cols for elementwise losses, rows for CrossEntropy), whatever the weights (as Keras does with
// sample weights). forward_backward returns the loss and, when grad is not null, writes ∂loss/∂out
// (rows × cols) into it. Targets are validated by the caller before (labels in range, finite values);
// the loss itself never throws.
#pragma once
#include <cstdint>
#include <memory>
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

  virtual double forward_backward(const T* out, long rows, long cols, const Targets<T>& targets,
                                  const T* sample_weight, T* grad) const = 0;

  Reduction reduction() const { return reduction_; }

 protected:
  Reduction reduction_;
};

template <typename T>
using LossPtr = std::shared_ptr<Loss<T>>;

}  // namespace bprop::loss
