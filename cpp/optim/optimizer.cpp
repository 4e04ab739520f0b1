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
  arena_ = ParameterArena<T>(params_, name_);  // last: a failed check leaves the parameters where they were
  segments_.reserve(params_.size());
}

template <typename T>
void Optimizer<T>::plan_segments() {
  segments_.clear();
  const bool flat = arena_.holds(params_);
  const auto& slots = arena_.slots();
  bool extends = false;  // whether the previous parameter is trainable and ends the last segment
  for (std::size_t k = 0; k < params_.size(); ++k) {
    nn::Parameter<T>& p = *params_[k];
    const long offset = slots[k].offset;
    if (!p.requires_grad) {
      extends = false;
    } else if (flat && extends) {
      segments_.back().size = offset + p.size() - segments_.back().offset;  // the padding between comes along
    } else if (flat) {
      segments_.push_back({arena_.values() + offset, arena_.grads() + offset, offset, p.size()});
      extends = true;
    } else {
      segments_.push_back({p.value.data(), p.grad.data(), offset, p.size()});
    }
  }
}

template <typename T>
void Optimizer<T>::add_gradient_hook(GradientHookPtr<T> hook) {
  if (!hook) throw ValueError("[" + name_ + ".add_gradient_hook] the hook is None");
  std::lock_guard<std::mutex> lock(mutex_);
  hooks_.push_back(std::move(hook));
  has_hooks_.store(true, std::memory_order_release);
}

template <typename T>
void Optimizer<T>::remove_gradient_hook(const GradientHook<T>* hook) {
  std::lock_guard<std::mutex> lock(mutex_);
  for (auto it = hooks_.begin(); it != hooks_.end(); ++it)
    if (it->get() == hook) {
      hooks_.erase(it);
      has_hooks_.store(!hooks_.empty(), std::memory_order_release);
      return;
    }
}

template <typename T>
void Optimizer<T>::step() {
  if (has_hooks_.load(std::memory_order_acquire)) {
    std::vector<GradientHookPtr<T>> hooks;  // copied, then run outside the lock: a hook may read the optimizer
    long steps;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      hooks = hooks_;
      steps = step_count_;
    }
    for (const auto& hook : hooks) hook->on_gradients(params_, steps);
  }
  std::lock_guard<std::mutex> lock(mutex_);
  GradientReader<T> clipped;
  if (clip_.max_norm) clipped.scale = T(clip_coefficient(norm_(params_), *clip_.max_norm));
  if (clip_.max_value) clipped.limit = T(*clip_.max_value);
  plan_segments();
  update({rate_at(step_count_), step_count_ + 1, clipped});
  for (auto& parameter : params_) ++parameter->writes;
  ++step_count_;
}

template <typename T>
typename Optimizer<T>::StateList Optimizer<T>::state() {
  StateList list;
  for (std::size_t i = 0; i < params_.size(); ++i)
    for (StateKind& kind : state_) list.emplace_back(kind.kind + "." + std::to_string(i), &kind.slots[i]);
  return list;
}

template <typename T>
void Optimizer<T>::zero_grad() {
  if (const Span span = gradient_span(); span.data) {
    T* g = span.data;
    return for_each_element(span.size, [=](long i) { g[i] = T(0); });
  }
  for (const auto& p : params_) {
    T* g = p->grad.data();
    for_each_element(p->size(), [=](long i) { g[i] = T(0); });
  }
}

template <typename T>
typename Optimizer<T>::Span Optimizer<T>::gradient_span() const {
  if (!arena_.holds(params_)) return {};
  return {arena_.grads(), arena_.span()};
}

template <typename T>
typename Optimizer<T>::Span Optimizer<T>::value_span() const {
  if (!arena_.holds(params_)) return {};
  return {arena_.values(), arena_.span()};
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
Array<T>& Optimizer<T>::add_state(const std::string& kind, T initial) {
  StateKind& added = state_.emplace_back();
  added.kind = kind;
  std::shared_ptr<T> block = make_shared_block<T>(arena_.span());
  added.span.view(block, block.get(), arena_.span());
  if (initial != T(0)) added.span.fill(initial);
  added.slots.resize(params_.size());
  for (std::size_t i = 0; i < params_.size(); ++i)
    added.slots[i].view(block, block.get() + arena_.slots()[i].offset, arena_.slots()[i].size);
  return added.span;
}

template class Optimizer<float>;
template class Optimizer<double>;

}  // namespace bprop::optim
