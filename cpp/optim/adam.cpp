#include "optim/adam.h"

#include <cmath>

#include "optim/check.h"

namespace bprop::optim {

void AdamOptions::validate(const std::string& who) const {
  check_hyperparameters(who, {{"lr", lr, at_least(0)},
                              {"betas[0]", beta1, between(0, 1, true)},
                              {"betas[1]", beta2, between(0, 1, true)},
                              {"eps", eps, above(0)},
                              {"weight_decay", weight_decay, at_least(0)}});
}

template <typename T>
Adam<T>::Adam(const std::string& name, bool decoupled, typename Optimizer<T>::ParameterList params,
              const AdamOptions& options, const ClipOptions& clip, SchedulePtr schedule)
    : OptimizerWith<T, AdamOptions>(name, std::move(params), options, clip, std::move(schedule)),
      decoupled_(decoupled),
      exp_avg_(this->add_state("exp_avg")),
      exp_avg_sq_(this->add_state("exp_avg_sq")) {
  if (options.amsgrad) max_exp_avg_sq_ = &this->add_state("max_exp_avg_sq");
}

template <typename T>
void Adam<T>::update(const StepContext<T>& step) {
  const AdamOptions& o = this->options_;
  const GradientReader<T> gradient = step.gradient(decoupled_ ? 0 : o.weight_decay);
  const double t = double(step.number);
  // The scalars exactly as torch forms them (in double), so float64 trajectories agree to rounding.
  const T step_size = T(step.lr / (1 - std::pow(o.beta1, t)));
  // torch divides sqrt(v) by this correction; multiplying by its inverse saves the element loop one of
  // its two divisions (the loop is bound by the divider, not memory) for a rounding difference of 1 ulp.
  const T inv_correction2_sqrt = T(1 / std::pow(1 - std::pow(o.beta2, t), 0.5));
  const T decay = T(decoupled_ ? 1 - step.lr * o.weight_decay : 1);
  const T weight1 = T(1 - o.beta1), beta2 = T(o.beta2), weight2 = T(1 - o.beta2), eps = T(o.eps);
  // Frozen parameters are in no segment: left as they are, as torch skips a parameter without grad.
  for (const auto& segment : this->segments()) {
    T* p = segment.value;
    const T* g = segment.grad;
    T* m = exp_avg_.data() + segment.offset;
    T* v = exp_avg_sq_.data() + segment.offset;
    T* v_max = max_exp_avg_sq_ ? max_exp_avg_sq_->data() + segment.offset : nullptr;
    with_flags(
        [&](auto amsgrad, auto from_a) {
          for_each_element(segment.size, [=](long i) {
            const T d = gradient(g[i], p[i]);
            m[i] = lerp(from_a, m[i], d, weight1);
            v[i] = v[i] * beta2 + weight2 * d * d;
            T second = v[i];
            if constexpr (decltype(amsgrad)::value) second = v_max[i] = std::max(v_max[i], v[i]);
            const T denom = std::sqrt(second) * inv_correction2_sqrt + eps;
            p[i] = p[i] * decay - step_size * m[i] / denom;
          });
        },
        v_max != nullptr, lerp_from_a(weight1));
  }
}

template class Adam<float>;
template class Adam<double>;

}  // namespace bprop::optim
