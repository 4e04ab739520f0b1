#include "optim/optimizer.h"

#include <unordered_map>

#include "core/error.h"
#include "optim/check.h"

namespace bprop::optim {
namespace {

template <typename T>
const std::vector<nn::ParameterPtr<T>>& checked_parameters(const std::string& who,
                                                           const std::vector<nn::ParameterPtr<T>>& params) {
  if (params.empty()) throw ValueError("[" + who + "] the parameter list is empty; expected at least one parameter");
  std::unordered_map<const nn::Parameter<T>*, std::size_t> seen;
  for (std::size_t i = 0; i < params.size(); ++i) {
    if (!params[i]) throw ValueError("[" + who + "] parameter " + std::to_string(i) + " is None");
    const auto [at, fresh] = seen.emplace(params[i].get(), i);
    if (!fresh)
      throw ValueError("[" + who + "] parameter " + std::to_string(i) + " ('" + params[i]->name +
                       "') is parameter " + std::to_string(at->second) + " again; list each parameter once");
  }
  return params;
}

}  // namespace

template <typename T>
Optimizer<T>::Optimizer(std::string name, ParameterList params, double lr, const ClipOptions& clip,
                        SchedulePtr schedule)
    : name_(std::move(name)),
      params_(checked_parameters(name_, params)),
      lr_(lr),
      clip_(clip),
      schedule_(std::move(schedule)),
      norm_(params_) {
  check_hyperparameter(name_, "lr", lr, at_least(0));
  clip.validate(name_);
}

template <typename T>
void Optimizer<T>::add_gradient_hook(GradientHookPtr<T> hook) {
  if (!hook) throw ValueError("[" + name_ + ".add_gradient_hook] the hook is None");
  std::lock_guard<std::mutex> lock(mutex_);
  hooks_.push_back(std::move(hook));
}

template <typename T>
void Optimizer<T>::remove_gradient_hook(const GradientHook<T>* hook) {
  std::lock_guard<std::mutex> lock(mutex_);
  for (auto it = hooks_.begin(); it != hooks_.end(); ++it)
    if (it->get() == hook) {
      hooks_.erase(it);
      return;
    }
}

template <typename T>
void Optimizer<T>::step() {
  std::vector<GradientHookPtr<T>> hooks;  // copied, then run outside the lock: a hook may read the optimizer
  long steps;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!hooks_.empty()) hooks = hooks_;
    steps = step_count_;
  }
  for (const auto& hook : hooks) hook->on_gradients(params_, steps);
  std::lock_guard<std::mutex> lock(mutex_);
  GradientReader<T> clipped;
  if (clip_.max_norm) clipped.scale = T(clip_coefficient(norm_(params_), *clip_.max_norm));
  if (clip_.max_value) clipped.limit = T(*clip_.max_value);
  update({rate_at(step_count_), step_count_ + 1, clipped});
  for (auto& parameter : params_) ++parameter->writes;
  ++step_count_;
}

template <typename T>
typename Optimizer<T>::StateList Optimizer<T>::state() {
  StateList list;
  for (std::size_t i = 0; i < params_.size(); ++i)
    for (StateKind& kind : state_) list.emplace_back(kind.kind + "." + std::to_string(i), &kind.arrays[i]);
  return list;
}

template <typename T>
void Optimizer<T>::zero_grad() {
  for (const auto& p : params_) {
    T* g = p->grad.data();
    for_each_element(p->size(), [=](long i) { g[i] = T(0); });
  }
}

template <typename T>
void Optimizer<T>::set_lr(double lr) {
  check_hyperparameter(name_, "lr", lr, at_least(0));
  locked([&] { lr_ = lr; });
}

template <typename T>
void Optimizer<T>::set_step_count(long n) {
  check_count(name_, "step_count", n, 0);
  locked([&] { step_count_ = n; });
}

template <typename T>
void Optimizer<T>::set_epoch(long n) {
  check_count(name_, "epoch", n, 0);
  locked([&] { epoch_ = n; });
}

template <typename T>
void Optimizer<T>::set_clip(const ClipOptions& clip) {
  clip.validate(name_);
  locked([&] { clip_ = clip; });
}

template <typename T>
void Optimizer<T>::set_schedule(SchedulePtr schedule) {
  locked([&] { schedule_ = std::move(schedule); });
}

template <typename T>
std::vector<Array<T>>& Optimizer<T>::add_state(const std::string& kind, T initial) {
  StateKind& added = state_.emplace_back();
  added.kind = kind;
  added.arrays.resize(params_.size());
  for (std::size_t i = 0; i < params_.size(); ++i) {
    added.arrays[i].resize(params_[i]->size());
    if (initial != T(0)) added.arrays[i].fill(initial);
  }
  return added.arrays;
}

template class Optimizer<float>;
template class Optimizer<double>;

}  // namespace bprop::optim
