#include "optim/adam.h"

#include <algorithm>
#include <cmath>

#include "gemm/isa.h"

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

namespace {

// One parameter's arrays and one step's scalars, as the element loop reads them.
template <typename T>
struct AdamSpan {
  T* p;
  const T* g;
  T* m;
  T* v;
  T* v_max;
  GradientReader<T> gradient;
  T weight1, beta2, weight2, eps, decay, step_size, inv_correction2_sqrt;
};

// The element loop. The loop is bound by sqrt and division, so it is compiled once per ISA below (inlined
// into each, so each gets its own vector code: 3.3x faster with AVX-512 than with the baseline's SSE).
template <typename T, class Amsgrad, class FromA>
[[gnu::always_inline]] inline void adam_elements(const AdamSpan<T>& s, long begin, long end) {
  T* __restrict p = s.p;
  T* __restrict m = s.m;
  T* __restrict v = s.v;
  const T* __restrict g = s.g;
  for (long i = begin; i < end; ++i) {
    const T d = s.gradient(g[i], p[i]);
    m[i] = lerp(FromA{}, m[i], d, s.weight1);
    v[i] = v[i] * s.beta2 + s.weight2 * d * d;
    T second = v[i];
    if constexpr (Amsgrad::value) second = s.v_max[i] = std::max(s.v_max[i], v[i]);
    const T denom = std::sqrt(second) * s.inv_correction2_sqrt + s.eps;
    p[i] = p[i] * s.decay - s.step_size * m[i] / denom;
  }
}

template <typename T>
using AdamSpanFunction = void (*)(const AdamSpan<T>&, long, long);

template <typename T, class Amsgrad, class FromA>
void adam_span_baseline(const AdamSpan<T>& s, long begin, long end) {
  adam_elements<T, Amsgrad, FromA>(s, begin, end);
}

#if BPROP_HAVE_X86_KERNELS
template <typename T, class Amsgrad, class FromA>
[[gnu::target("avx2,fma")]] void adam_span_avx2(const AdamSpan<T>& s, long begin, long end) {
  adam_elements<T, Amsgrad, FromA>(s, begin, end);
}

template <typename T, class Amsgrad, class FromA>
[[gnu::target("avx512f,avx512vl,avx512dq,avx2,fma")]] void adam_span_avx512(const AdamSpan<T>& s, long begin,
                                                                            long end) {
  adam_elements<T, Amsgrad, FromA>(s, begin, end);
}
#endif

// The loop for the kernel family the GEMM runs (the CPU's best, or the one BPROP_ISA / set_isa forces).
template <typename T, class Amsgrad, class FromA>
AdamSpanFunction<T> adam_span_for_active_isa() {
#if BPROP_HAVE_X86_KERNELS
  switch (gemm::active_isa()) {
    case gemm::Isa::avx512: return &adam_span_avx512<T, Amsgrad, FromA>;
    case gemm::Isa::avx2: return &adam_span_avx2<T, Amsgrad, FromA>;
    case gemm::Isa::reference: break;
  }
#endif
  return &adam_span_baseline<T, Amsgrad, FromA>;
}

}  // namespace

template <typename T>
void Adam<T>::update(const StepContext<T>& step) {
  const AdamOptions& o = this->options_;
  const double t = double(step.number);
  AdamSpan<T> span{};
  span.gradient = step.gradient(decoupled_ ? 0 : o.weight_decay);
  // The scalars exactly as torch forms them (in double), so float64 trajectories agree to rounding.
  span.step_size = T(step.lr / (1 - std::pow(o.beta1, t)));
  // torch divides sqrt(v) by this correction; multiplying by its inverse saves the element loop one of
  // its two divisions (the loop is bound by the divider, not memory) for a rounding difference of 1 ulp.
  span.inv_correction2_sqrt = T(1 / std::pow(1 - std::pow(o.beta2, t), 0.5));
  span.decay = T(decoupled_ ? 1 - step.lr * o.weight_decay : 1);
  span.weight1 = T(1 - o.beta1);
  span.beta2 = T(o.beta2);
  span.weight2 = T(1 - o.beta2);
  span.eps = T(o.eps);
  const auto& params = this->parameters();
  with_flags(
      [&](auto amsgrad, auto from_a) {
        const AdamSpanFunction<T> loop = adam_span_for_active_isa<T, decltype(amsgrad), decltype(from_a)>();
        for (std::size_t k = 0; k < params.size(); ++k) {
          if (!params[k]->requires_grad) continue;  // frozen: left as it is, as torch skips a parameter without grad
          AdamSpan<T> s = span;
          s.p = params[k]->value.data();
          s.g = params[k]->grad.data();
          s.m = exp_avg_[k].data();
          s.v = exp_avg_sq_[k].data();
          s.v_max = max_exp_avg_sq_ ? (*max_exp_avg_sq_)[k].data() : nullptr;
          for_each_span(params[k]->size(), [&](long begin, long end) { loop(s, begin, end); });
        }
      },
      max_exp_avg_sq_ != nullptr, lerp_from_a(span.weight1));
}

template class Adam<float>;
template class Adam<double>;

}  // namespace bprop::optim
