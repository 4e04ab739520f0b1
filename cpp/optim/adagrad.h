// Adagrad with learning-rate decay and coupled L2 weight decay: torch.optim.Adagrad.
//   g = grad + weight_decay·param;  sum += g²;  param −= (lr / (1 + (t − 1)·lr_decay))·g / (√sum + eps)
// t = the step's number, from 1. State: "sum.<i>", starting at initial_accumulator_value.
#pragma once
#include <string>

#include "optim/optimizer.h"

namespace bprop::optim {

struct AdagradOptions {
  double lr = 1e-2, lr_decay = 0, weight_decay = 0, initial_accumulator_value = 0, eps = 1e-10;
  void validate(const std::string& who) const;
};

template <typename T>
class Adagrad final : public OptimizerWith<T, AdagradOptions> {
 public:
  Adagrad(typename Optimizer<T>::ParameterList params, const AdagradOptions& options, const ClipOptions& clip = {},
          SchedulePtr schedule = nullptr);

 protected:
  void update(const StepContext<T>& step) override;

 private:
  Array<T>& sum_;
};

}  // namespace bprop::optim
