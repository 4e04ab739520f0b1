// The optimizer contract: one fused update over every parameter, with optional gradient clipping and a
// learning-rate schedule, and state that can be exported and restored (the persistence issue saves it).
//
// step(): run the gradient hooks (optim/gradient_hook.h), clip the gradients (by global norm, then by
// value, when set), take this step's rate from the schedule, update every parameter in place in one pass
// over its elements, then count the step. Hyperparameters and the parameter list are validated when the
// optimizer is made (ValueError); step() throws only what a hook throws, before any update, and
// allocates nothing.
//
// Every optimizer derives from Optimizer<T>, which owns the parameter list, the base rate, the step
// count, clipping, the schedule and the state arrays; a derived class adds its state arrays in its
// constructor (add_state) and writes update(), its per-element formula.
//
// Resume: state() (arrays), step_count() and lr() are all there is to save; restoring them into an
// optimizer made with the same hyperparameters over the same parameters continues the same trajectory.
//
// Storage: making an optimizer moves its parameters into its ParameterArena (arena.h), values and
// gradients unchanged, and lays each state kind out as one span parallel to it. update() then runs one
// loop per segment(): one segment for the whole arena when every parameter is trainable. If a later
// optimizer takes some of the parameters into its own arena, this one notices (ParameterArena::holds)
// and updates parameter by parameter from then on, with the same results; its state stays flat.
#pragma once
#include <atomic>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "core/array.h"
#include "nn/parameter.h"
#include "optim/arena.h"
#include "optim/check.h"
#include "optim/clip.h"
#include "optim/gradient_hook.h"
#include "optim/schedule.h"
#include "optim/update.h"

namespace bprop::optim {

template <typename T>
class Optimizer {
 public:
  using ParameterList = std::vector<nn::ParameterPtr<T>>;
  using StateList = std::vector<std::pair<std::string, Array<T>*>>;
  // A run of elements one update loop covers: values at `value`, gradients at `grad`, state at `offset`
  // in every state span, `size` elements. Within a segment no element reads another.
  struct Segment {
    T* value;
    const T* grad;
    long offset;
    long size;
  };
  // The gradients (or values) as one span, for gradient hooks (all-reduce, statistics): parameter k's
  // gradient is data[layout()[k].offset, + layout()[k].size); the padding between is zeros, to be kept
  // zero. Empty (data null, size 0) when the parameters are no longer all in this optimizer's arena.
  struct Span {
    T* data = nullptr;
    long size = 0;
  };

  Optimizer(const Optimizer&) = delete;
  Optimizer& operator=(const Optimizer&) = delete;
  virtual ~Optimizer() = default;

  virtual std::string name() const { return name_; }  // "Adam", as in Python and in error messages
  virtual void step();

  // Named state arrays, one per parameter per kind, ordered by parameter, then kind as the optimizer
  // added them: {"exp_avg.0", "exp_avg_sq.0", "exp_avg.1", ...}. Each has its parameter's size and views
  // that parameter's slot of the kind's flat span.
  virtual StateList state();
  virtual const ParameterList& parameters() const { return params_; }

  void zero_grad();  // every parameter's gradient to 0: one pass over the gradient span

  Span gradient_span() const;
  Span value_span() const;
  // Where each parameter lies in the spans (gradients, values, state), in parameter order.
  const std::vector<ArenaSlot>& layout() const { return arena_.slots(); }
  // Whether the parameters are all still in this optimizer's arena (see the header comment).
  bool flat() const { return arena_.holds(params_); }

  // Hooks run in the order added, at the start of every step(); removing one not added does nothing.
  void add_gradient_hook(GradientHookPtr<T> hook);
  void remove_gradient_hook(const GradientHook<T>* hook);

  // The base rate: what the user set; a schedule scales it. ValueError unless finite and >= 0.
  double lr() const { return locked([&] { return lr_; }); }
  void set_lr(double lr);
  // The rate the next step() will use: the schedule at step_count().
  double current_lr() const { return locked([&] { return rate_at(step_count_); }); }

  long step_count() const { return locked([&] { return step_count_; }); }  // step() calls so far, or as restored
  void set_step_count(long n);  // ValueError if n < 0; n = 0 means "no step taken" (SGD's first buffer)
  // The index of the epoch being trained, which per-epoch schedules read: the trainer sets it as each
  // epoch begins (a custom loop sets it itself). ValueError if n < 0.
  long epoch() const { return locked([&] { return epoch_; }); }
  void set_epoch(long n);

  ClipOptions clip() const { return locked([&] { return clip_; }); }
  void set_clip(const ClipOptions& clip);  // validated
  SchedulePtr schedule() const { return locked([&] { return schedule_; }); }  // null: constant rate
  void set_schedule(SchedulePtr schedule);

 protected:
  // Validates the parameters (non-empty, none null, none twice), lr and clip; `name` is for messages.
  Optimizer(std::string name, ParameterList params, double lr, const ClipOptions& clip, SchedulePtr schedule);

  // Adds a state kind: one span parallel to the arena (parameter k's state at segment offsets), filled
  // with `initial`, listed by state() as "<kind>.<index>". Call from the constructor, in the order state()
  // should list the kinds. The reference stays valid.
  Array<T>& add_state(const std::string& kind, T initial = T(0));

  // Updates every trainable parameter in place for this step: for each of segments(), one element loop
  // over its values, gradients and state (at its offset). Must not throw.
  virtual void update(const StepContext<T>& step) = 0;
  // This step's segments: the trainable parameters, merged into runs while they lie in the arena.
  const std::vector<Segment>& segments() const { return segments_; }

 private:
  struct StateKind {
    std::string kind;
    Array<T> span;                 // the arena's span: every parameter's state, padding included
    std::vector<Array<T>> slots;   // views of `span`, one per parameter, for state()
  };
  void plan_segments();  // fills segments_ for this step; allocates nothing

  // The rate of the step after `steps` steps, in the current epoch.
  double rate_at(long steps) const {
    if (!schedule_) return lr_;
    return schedule_->rate(lr_, schedule_->unit() == ScheduleUnit::epoch ? epoch_ : steps);
  }
  template <class Body>
  auto locked(Body&& body) const {
    std::lock_guard<std::mutex> lock(mutex_);
    return body();
  }

  std::string name_;
  ParameterList params_;
  double lr_;
  long step_count_ = 0;
  long epoch_ = 0;
  ClipOptions clip_;
  SchedulePtr schedule_;
  std::vector<GradientHookPtr<T>> hooks_;
  std::atomic<bool> has_hooks_{false};  // read without the lock: a step without hooks takes it once
  GradientNorm<T> norm_;
  ParameterArena<T> arena_;
  std::vector<Segment> segments_;  // capacity: one per parameter
  std::deque<StateKind> state_;  // a deque keeps references valid as kinds are added
  // step() runs without the GIL; this keeps a setter called from another thread from racing it.
  mutable std::mutex mutex_;
};

template <typename T>
using OptimizerPtr = std::shared_ptr<Optimizer<T>>;

// An optimizer whose hyperparameters are an options struct (SGDOptions, ...) with `lr` and
// `validate(who)`: checks them before anything else is built, and keeps them.
template <typename T, class Options>
class OptimizerWith : public Optimizer<T> {
 public:
  const Options& options() const { return options_; }

 protected:
  OptimizerWith(const std::string& name, typename Optimizer<T>::ParameterList params, const Options& options,
                const ClipOptions& clip, SchedulePtr schedule)
      : Optimizer<T>(name, std::move(params), validated(options, name).lr, clip, std::move(schedule)),
        options_(options) {}

  const Options options_;
};

}  // namespace bprop::optim
