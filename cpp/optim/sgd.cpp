#include "optim/sgd.h"

#include "core/error.h"
#include "optim/check.h"

namespace bprop::optim {

void SGDOptions::validate(const std::string& who) const {
  check_hyperparameters(who, {{"lr", lr, at_least(0)},
                              {"momentum", momentum, at_least(0)},
                              {"dampening", dampening, between(0, 1, false)},
                              {"weight_decay", weight_decay, at_least(0)}});
  if (nesterov && (momentum <= 0 || dampening != 0))
    throw ValueError("[" + who + "] nesterov needs momentum > 0 and dampening 0; got momentum " +
                     format_number(momentum) + ", dampening " + format_number(dampening));
}

template <typename T>
SGD<T>::SGD(typename Optimizer<T>::ParameterList params, const SGDOptions& options, const ClipOptions& clip,
            SchedulePtr schedule)
    : OptimizerWith<T, SGDOptions>("SGD", std::move(params), options, clip, std::move(schedule)) {
  if (options.momentum != 0) momentum_buffer_ = &this->add_state("momentum_buffer");
}

template <typename T>
void SGD<T>::update(const StepContext<T>& step) {
  const SGDOptions& o = this->options_;
  const GradientReader<T> gradient = step.gradient(o.weight_decay);
  const T lr = T(step.lr), momentum = T(o.momentum), keep = T(1 - o.dampening);
  const bool first = step.number == 1, nesterov = o.nesterov;
  // Frozen parameters are in no segment: left as they are, as torch skips a parameter without grad.
  for (const auto& segment : this->segments()) {
    T* p = segment.value;
    const T* g = segment.grad;
    T* buf = momentum_buffer_ ? momentum_buffer_->data() + segment.offset : nullptr;
    with_flags(
        [&](auto with_momentum, auto first_step, auto with_nesterov) {
          for_each_element(segment.size, [=](long i) {
            T d = gradient(g[i], p[i]);
            if constexpr (decltype(with_momentum)::value) {
              buf[i] = decltype(first_step)::value ? d : buf[i] * momentum + keep * d;
              d = decltype(with_nesterov)::value ? d + momentum * buf[i] : buf[i];
            }
            p[i] -= lr * d;
          });
        },
        buf != nullptr, first, nesterov);
  }
}

template class SGD<float>;
template class SGD<double>;

}  // namespace bprop::optim
