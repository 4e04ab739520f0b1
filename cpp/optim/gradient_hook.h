// Gradient hooks: code that sees every parameter's gradient once per step, after backward and before
// the update, and may change it: where a data-parallel all-reduce, gradient statistics and clipping
// policies live. They run first thing in Optimizer::step, so both training engines (the C++ trainer of a
// Sequential, a Module's loop) and custom loops run them in the one place; with none installed a step
// pays one check of an empty list.
#pragma once
#include <memory>
#include <vector>

#include "nn/parameter.h"

namespace bprop::optim {

template <typename T>
class GradientHook {
 public:
  virtual ~GradientHook() = default;
  // `parameters` in the optimizer's order; `step` counts the steps taken before this one. A hook may
  // rewrite any gradient; an exception it throws stops the step before any parameter is updated.
  virtual void on_gradients(const std::vector<nn::ParameterPtr<T>>& parameters, long step) = 0;
};

template <typename T>
using GradientHookPtr = std::shared_ptr<GradientHook<T>>;

}  // namespace bprop::optim
