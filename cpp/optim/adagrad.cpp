#include "optim/adagrad.h"

#include <cmath>

#include "optim/check.h"

namespace bprop::optim {

void AdagradOptions::validate(const std::string& who) const {
  check_hyperparameters(who, {{"lr", lr, at_least(0)},
                              {"lr_decay", lr_decay, at_least(0)},
                              {"weight_decay", weight_decay, at_least(0)},
                              {"initial_accumulator_value", initial_accumulator_value, at_least(0)},
                              {"eps", eps, above(0)}});
}

template <typename T>
Adagrad<T>::Adagrad(typename Optimizer<T>::ParameterList params, const AdagradOptions& options,
                    const ClipOptions& clip, SchedulePtr schedule)
    : OptimizerWith<T, AdagradOptions>("Adagrad", std::move(params), options, clip, std::move(schedule)),
      sum_(this->add_state("sum", T(options.initial_accumulator_value))) {}

template <typename T>
void Adagrad<T>::update(const StepContext<T>& step) {
  const AdagradOptions& o = this->options_;
  const GradientReader<T> gradient = step.gradient(o.weight_decay);
  const T clr = T(step.lr / (1 + double(step.number - 1) * o.lr_decay)), eps = T(o.eps);
  // Frozen parameters are in no segment: left as they are, as torch skips a parameter without grad.
  for (const auto& segment : this->segments()) {
    T* p = segment.value;
    const T* g = segment.grad;
    T* sum = sum_.data() + segment.offset;
    for_each_element(segment.size, [=](long i) {
      const T d = gradient(g[i], p[i]);
      sum[i] += d * d;
      p[i] -= clr * d / (std::sqrt(sum[i]) + eps);
    });
  }
}

template class Adagrad<float>;
template class Adagrad<double>;

}  // namespace bprop::optim
