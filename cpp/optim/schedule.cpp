#include "optim/schedule.h"

#include <cmath>

#include "core/error.h"
#include "optim/check.h"

namespace bprop::optim {

ScheduleUnit schedule_unit(const std::string& per, const std::string& who) {
  if (per == "step") return ScheduleUnit::step;
  if (per == "epoch") return ScheduleUnit::epoch;
  throw ValueError("[" + who + "] per must be 'step' (t counts optimizer steps) or 'epoch' (t counts epochs); got '" +
                   per + "'");
}

const char* schedule_unit_name(ScheduleUnit unit) { return unit == ScheduleUnit::step ? "step" : "epoch"; }

StepDecay::StepDecay(long step_size, double gamma, ScheduleUnit unit)
    : Schedule(unit), step_size_(step_size), gamma_(gamma) {
  check_count("StepDecay", "step_size", step_size, 1);
  check_hyperparameter("StepDecay", "gamma", gamma, above(0));
}

double StepDecay::rate(double base_lr, long t) const {
  return base_lr * std::pow(gamma_, double(t / step_size_));
}

ExponentialDecay::ExponentialDecay(double gamma, ScheduleUnit unit) : Schedule(unit), gamma_(gamma) {
  check_hyperparameter("ExponentialDecay", "gamma", gamma, above(0));
}

double ExponentialDecay::rate(double base_lr, long t) const { return base_lr * std::pow(gamma_, double(t)); }

CosineDecay::CosineDecay(long t_max, double eta_min, ScheduleUnit unit)
    : Schedule(unit), t_max_(t_max), eta_min_(eta_min) {
  check_count("CosineDecay", "t_max", t_max, 1);
  check_hyperparameter("CosineDecay", "eta_min", eta_min, at_least(0));
}

double CosineDecay::rate(double base_lr, long t) const {
  const double pi = 3.14159265358979323846;  // math.pi
  return eta_min_ + (base_lr - eta_min_) * (1 + std::cos(pi * double(t) / double(t_max_))) / 2;
}

LinearWarmup::LinearWarmup(long warmup_steps, double start_factor, SchedulePtr then, ScheduleUnit unit)
    : Schedule(unit), warmup_steps_(warmup_steps), start_factor_(start_factor), then_(std::move(then)) {
  check_count("LinearWarmup", "warmup_steps", warmup_steps, 1);
  check_hyperparameter("LinearWarmup", "start_factor", start_factor, between(0, 1, false));
  if (then_ && then_->unit() != unit)
    throw ValueError(std::string("[LinearWarmup] counts per ") + schedule_unit_name(unit) + " but then (" +
                     then_->name() + ") counts per " + schedule_unit_name(then_->unit()) + "; give both one unit");
}

double LinearWarmup::rate(double base_lr, long t) const {
  if (t < warmup_steps_)
    return base_lr * (start_factor_ + (1 - start_factor_) * double(t) / double(warmup_steps_));
  return then_ ? then_->rate(base_lr, t - warmup_steps_) : base_lr;
}

}  // namespace bprop::optim
