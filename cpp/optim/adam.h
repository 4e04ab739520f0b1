// Adam and AdamW, one implementation: torch.optim.Adam / AdamW (AMSGrad optional).
//   Adam:  g = grad + weight_decay·param (coupled L2)      AdamW: param ·= 1 − lr·weight_decay (decoupled)
//   m = lerp(m, g, 1 − β1);  v = β2·v + (1 − β2)·g²;  AMSGrad: v_max = max(v_max, v), used for v below
//   param −= (lr / (1 − β1^t))·m / (√v / √(1 − β2^t) + eps),  t = the step's number, from 1
// State: "exp_avg.<i>", "exp_avg_sq.<i>", and "max_exp_avg_sq.<i>" with AMSGrad.
#pragma once
#include <string>

#include "optim/optimizer.h"

namespace bprop::optim {

// Adam's defaults; AdamW's weight_decay default is 1e-2 (the Python classes apply it).
struct AdamOptions {
  double lr = 1e-3, beta1 = 0.9, beta2 = 0.999, eps = 1e-8, weight_decay = 0;
  bool amsgrad = false;
  void validate(const std::string& who) const;
};

template <typename T>
class Adam : public OptimizerWith<T, AdamOptions> {
 public:
  Adam(typename Optimizer<T>::ParameterList params, const AdamOptions& options, const ClipOptions& clip = {},
       SchedulePtr schedule = nullptr)
      : Adam("Adam", false, std::move(params), options, clip, std::move(schedule)) {}
  bool decoupled_weight_decay() const { return decoupled_; }

 protected:
  Adam(const std::string& name, bool decoupled, typename Optimizer<T>::ParameterList params,
       const AdamOptions& options, const ClipOptions& clip, SchedulePtr schedule);
  void update(const StepContext<T>& step) override;

 private:
  bool decoupled_;
  Array<T>& exp_avg_;
  Array<T>& exp_avg_sq_;
  Array<T>* max_exp_avg_sq_ = nullptr;
};

template <typename T>
class AdamW final : public Adam<T> {
 public:
  AdamW(typename Optimizer<T>::ParameterList params, const AdamOptions& options, const ClipOptions& clip = {},
        SchedulePtr schedule = nullptr)
      : Adam<T>("AdamW", true, std::move(params), options, clip, std::move(schedule)) {}
};

}  // namespace bprop::optim
