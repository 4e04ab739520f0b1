// SGD with momentum, dampening, Nesterov momentum and coupled L2 weight decay: torch.optim.SGD.
//   g = grad + weight_decay·param
//   momentum ≠ 0: buf = g on the first step, else buf = momentum·buf + (1 − dampening)·g;
//                 g = g + momentum·buf (Nesterov) or g = buf
//   param −= lr·g
// State: "momentum_buffer.<i>" when momentum ≠ 0.
#pragma once
#include <string>

#include "optim/optimizer.h"

namespace bprop::optim {

struct SGDOptions {
  double lr = 1e-3, momentum = 0, dampening = 0, weight_decay = 0;
  bool nesterov = false;
  void validate(const std::string& who) const;  // Nesterov needs momentum > 0 and dampening 0, as in torch
};

template <typename T>
class SGD final : public OptimizerWith<T, SGDOptions> {
 public:
  SGD(typename Optimizer<T>::ParameterList params, const SGDOptions& options, const ClipOptions& clip = {},
      SchedulePtr schedule = nullptr);

 protected:
  void update(const StepContext<T>& step) override;

 private:
  Array<T>* momentum_buffer_ = nullptr;
};

}  // namespace bprop::optim
