// RMSprop, plain or centered, with momentum and coupled L2 weight decay: torch.optim.RMSprop.
//   g = grad + weight_decay·param;  s = α·s + (1 − α)·g²
//   centered: a = lerp(a, g, 1 − α), avg = √(s − a²) + eps;  else avg = √s + eps
//   momentum > 0: buf = momentum·buf + g / avg, param −= lr·buf;  else param −= lr·g / avg
// State: "square_avg.<i>", then "momentum_buffer.<i>" with momentum, then "grad_avg.<i>" when centered.
#pragma once
#include <string>

#include "optim/optimizer.h"

namespace bprop::optim {

struct RMSpropOptions {
  double lr = 1e-2, alpha = 0.99, eps = 1e-8, weight_decay = 0, momentum = 0;
  bool centered = false;
  void validate(const std::string& who) const;
};

template <typename T>
class RMSprop final : public OptimizerWith<T, RMSpropOptions> {
 public:
  RMSprop(typename Optimizer<T>::ParameterList params, const RMSpropOptions& options, const ClipOptions& clip = {},
          SchedulePtr schedule = nullptr);

 protected:
  void update(const StepContext<T>& step) override;

 private:
  Array<T>& square_avg_;
  Array<T>* momentum_buffer_ = nullptr;
  Array<T>* grad_avg_ = nullptr;
};

}  // namespace bprop::optim
