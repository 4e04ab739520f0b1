// CrossEntropy on logits, as torch.nn.CrossEntropyLoss(label_smoothing=ε): per row, with the stable
// log-softmax lsmⱼ = zⱼ − max(z) − log Σₖ exp(zₖ − max(z)), the loss is −Σⱼ qⱼ·lsmⱼ for the target
// distribution q = (1 − ε)·t + ε/cols, where t is one-hot of the row's class index (targets.labels,
// used when set) or the row's probabilities (targets.values). Gradient pⱼ·Σq − qⱼ, p = softmax(z).
// With ignore_index (labels only, as torch's), rows labelled with it have no term and a zero gradient;
// "mean" divides by the rows not ignored (0 when all are: torch gives nan). 0 ≤ ε ≤ 1 and labels in
// [0, cols) or equal to ignore_index are checked by the bindings.
#pragma once
#include <string>

#include "loss/loss.h"

namespace bprop::loss {

template <typename T>
class CrossEntropy final : public Loss<T> {
 public:
  CrossEntropy(Reduction reduction, T label_smoothing, std::optional<int64_t> ignore_index = std::nullopt)
      : Loss<T>(reduction), label_smoothing_(label_smoothing), ignore_index_(ignore_index) {}
  std::string name() const override { return "CrossEntropy"; }
  bool takes_labels() const override { return true; }  // and probabilities, when labels is null
  T label_smoothing() const { return label_smoothing_; }
  std::optional<int64_t> ignore_index() const override { return ignore_index_; }

  double forward_backward(const T* out, long rows, long cols, const Targets<T>& targets,
                          const T* sample_weight, T* grad) const override;

 private:
  T label_smoothing_;
  std::optional<int64_t> ignore_index_;
};

extern template class CrossEntropy<float>;
extern template class CrossEntropy<double>;

}  // namespace bprop::loss
