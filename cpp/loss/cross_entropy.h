// CrossEntropy on logits, as torch.nn.CrossEntropyLoss(label_smoothing=ε): per row, with the stable
// log-softmax lsmⱼ = zⱼ − max(z) − log Σₖ exp(zₖ − max(z)), the loss is −Σⱼ qⱼ·lsmⱼ for the target
// distribution q = (1 − ε)·t + ε/cols, where t is one-hot of the row's class index (targets.labels,
// used when set) or the row's probabilities (targets.values). Gradient pⱼ·Σq − qⱼ, p = softmax(z).
// "mean" divides by rows. 0 ≤ ε ≤ 1 and labels in [0, cols) are checked by the bindings.
#pragma once
#include <string>

#include "loss/loss.h"

namespace bprop::loss {

template <typename T>
class CrossEntropy final : public Loss<T> {
 public:
  CrossEntropy(Reduction reduction, T label_smoothing)
      : Loss<T>(reduction), label_smoothing_(label_smoothing) {}
  std::string name() const override { return "CrossEntropy"; }
  bool takes_labels() const override { return true; }  // and probabilities, when labels is null
  T label_smoothing() const { return label_smoothing_; }

  double forward_backward(const T* out, long rows, long cols, const Targets<T>& targets,
                          const T* sample_weight, T* grad) const override;

 private:
  T label_smoothing_;
};

extern template class CrossEntropy<float>;
extern template class CrossEntropy<double>;

}  // namespace bprop::loss
