// Learning-rate schedules, evaluated by the optimizer in C++ at every step, so a whole epoch can run
// without returning to Python. Dtype-independent and immutable once made (one may serve several
// optimizers).
//
// Every schedule counts in one unit, chosen when it is made and never implied: per step, t is the number
// of optimizer steps taken (0 for the first step() call); per epoch, t is the index of the epoch being
// trained (0 for the first; fit sets it, a custom loop sets Optimizer.epoch). Per epoch is torch.optim's
// usual use (scheduler.step() after each epoch); per step, its scheduler stepped after every optimizer
// step. Each schedule uses torch's closed form:
//   StepDecay(step_size, gamma)        base_lr · gamma^floor(t / step_size)                 (StepLR)
//   ExponentialDecay(gamma)            base_lr · gamma^t                                    (ExponentialLR)
//   CosineDecay(t_max, eta_min)        eta_min + (base_lr − eta_min)·(1 + cos(π·t / t_max))/2
//                                      (CosineAnnealingLR: periodic, it rises again after t_max)
//   LinearWarmup(w, start_factor, then)
//       t < w: base_lr · (start_factor + (1 − start_factor)·t / w)                       (LinearLR)
//       t ≥ w: then(base_lr, t − w), or base_lr without `then`     (SequentialLR, milestones=[w])
#pragma once
#include <memory>
#include <string>

namespace bprop::optim {

enum class ScheduleUnit { step, epoch };
// "step" or "epoch"; ValueError naming `who` for anything else.
ScheduleUnit schedule_unit(const std::string& per, const std::string& who);
const char* schedule_unit_name(ScheduleUnit unit);

class Schedule {
 public:
  explicit Schedule(ScheduleUnit unit) : unit_(unit) {}
  virtual ~Schedule() = default;
  virtual std::string name() const = 0;  // "StepDecay", as in Python
  // The rate at t (0-based, in the schedule's unit) for base rate base_lr. Never throws.
  virtual double rate(double base_lr, long t) const = 0;
  ScheduleUnit unit() const { return unit_; }

 private:
  ScheduleUnit unit_;
};

using SchedulePtr = std::shared_ptr<const Schedule>;

class StepDecay final : public Schedule {
 public:
  StepDecay(long step_size, double gamma, ScheduleUnit unit);  // step_size >= 1, gamma > 0
  std::string name() const override { return "StepDecay"; }
  double rate(double base_lr, long t) const override;
  long step_size() const { return step_size_; }
  double gamma() const { return gamma_; }

 private:
  long step_size_;
  double gamma_;
};

class ExponentialDecay final : public Schedule {
 public:
  ExponentialDecay(double gamma, ScheduleUnit unit);  // gamma > 0
  std::string name() const override { return "ExponentialDecay"; }
  double rate(double base_lr, long t) const override;
  double gamma() const { return gamma_; }

 private:
  double gamma_;
};

class CosineDecay final : public Schedule {
 public:
  CosineDecay(long t_max, double eta_min, ScheduleUnit unit);  // t_max >= 1, eta_min >= 0 (absolute, as in torch)
  std::string name() const override { return "CosineDecay"; }
  double rate(double base_lr, long t) const override;
  long t_max() const { return t_max_; }
  double eta_min() const { return eta_min_; }

 private:
  long t_max_;
  double eta_min_;
};

class LinearWarmup final : public Schedule {
 public:
  // warmup_steps >= 1 (in the schedule's unit), start_factor in [0, 1]; `then` may be null (constant base_lr
  // after warm-up) and otherwise counts in the same unit.
  LinearWarmup(long warmup_steps, double start_factor, SchedulePtr then, ScheduleUnit unit);
  std::string name() const override { return "LinearWarmup"; }
  double rate(double base_lr, long t) const override;
  long warmup_steps() const { return warmup_steps_; }
  double start_factor() const { return start_factor_; }
  const SchedulePtr& then() const { return then_; }

 private:
  long warmup_steps_;
  double start_factor_;
  SchedulePtr then_;
};

}  // namespace bprop::optim
