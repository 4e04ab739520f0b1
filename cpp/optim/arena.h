// An optimizer's flat parameter store: every parameter's value in one 64-byte aligned block and every
// gradient in another, parameter k at slot k, so an update, a gradient norm or an all-reduce is one pass
// over one span. Each Parameter views its slot (Parameter::move_to); the blocks live as long as any
// parameter in them (shared ownership), so an arena outlived by its parameters frees nothing they use.
//
// Layout: slots in parameter order; each offset a multiple of 64 bytes; the padding after a slot is
// zeros that no layer reads and that norms skip. Update loops may sweep it as part of a span: a zero
// gradient leaves a zero value and zero state (for finite hyperparameters), and no element reads another.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "nn/parameter.h"

namespace bprop::optim {

// A parameter's place in an arena's spans, in elements.
struct ArenaSlot {
  std::string name;  // the parameter's name ("weight", ...): its index in the list tells them apart
  long offset = 0;
  long size = 0;
};

template <typename T>
class ParameterArena {
 public:
  ParameterArena() = default;
  // Allocates both blocks, then moves each parameter into its slot, values and gradients unchanged.
  // ValueError if the total size overflows; std::bad_alloc if it cannot be had. Call before stepping.
  ParameterArena(const std::vector<nn::ParameterPtr<T>>& params, const std::string& who);

  long span() const { return span_; }  // elements in each block, padding included
  const std::vector<ArenaSlot>& slots() const { return slots_; }
  T* values() const { return values_.get(); }
  T* grads() const { return grads_.get(); }

  // Whether every parameter still views its slot. False once another optimizer moved them into its own
  // arena (or while a backward has a gradient swapped out): the owner then loops parameter by parameter.
  bool holds(const std::vector<nn::ParameterPtr<T>>& params) const;

 private:
  std::vector<ArenaSlot> slots_;
  long span_ = 0;
  std::shared_ptr<T> values_, grads_;
};

}  // namespace bprop::optim
