#include "optim/rmsprop.h"

#include <cmath>

#include "optim/check.h"

namespace bprop::optim {

void RMSpropOptions::validate(const std::string& who) const {
  check_hyperparameters(who, {{"lr", lr, at_least(0)},
                              {"alpha", alpha, between(0, 1, false)},
                              {"eps", eps, above(0)},
                              {"weight_decay", weight_decay, at_least(0)},
                              {"momentum", momentum, at_least(0)}});
}

template <typename T>
RMSprop<T>::RMSprop(typename Optimizer<T>::ParameterList params, const RMSpropOptions& options,
                    const ClipOptions& clip, SchedulePtr schedule)
    : OptimizerWith<T, RMSpropOptions>("RMSprop", std::move(params), options, clip, std::move(schedule)),
      square_avg_(this->add_state("square_avg")) {
  if (options.momentum > 0) momentum_buffer_ = &this->add_state("momentum_buffer");
  if (options.centered) grad_avg_ = &this->add_state("grad_avg");
}

template <typename T>
void RMSprop<T>::update(const StepContext<T>& step) {
  const RMSpropOptions& o = this->options_;
  const GradientReader<T> gradient = step.gradient(o.weight_decay);
  const T lr = T(step.lr), alpha = T(o.alpha), weight = T(1 - o.alpha), eps = T(o.eps), momentum = T(o.momentum);
  // Frozen parameters are in no segment: left as they are, as torch skips a parameter without grad.
  for (const auto& segment : this->segments()) {
    T* p = segment.value;
    const T* g = segment.grad;
    T* s = square_avg_.data() + segment.offset;
    T* buf = momentum_buffer_ ? momentum_buffer_->data() + segment.offset : nullptr;
    T* a = grad_avg_ ? grad_avg_->data() + segment.offset : nullptr;
    with_flags(
        [&](auto centered, auto with_momentum, auto from_a) {
          for_each_element(segment.size, [=](long i) {
            const T d = gradient(g[i], p[i]);
            s[i] = s[i] * alpha + weight * d * d;
            T avg;
            if constexpr (decltype(centered)::value) {
              a[i] = lerp(from_a, a[i], d, weight);
              avg = std::sqrt(s[i] - a[i] * a[i]) + eps;
            } else {
              avg = std::sqrt(s[i]) + eps;
            }
            if constexpr (decltype(with_momentum)::value) {
              buf[i] = buf[i] * momentum + d / avg;
              p[i] -= lr * buf[i];
            } else {
              p[i] -= lr * d / avg;
            }
          });
        },
        a != nullptr, buf != nullptr, lerp_from_a(weight));
  }
}

template class RMSprop<float>;
template class RMSprop<double>;

}  // namespace bprop::optim
