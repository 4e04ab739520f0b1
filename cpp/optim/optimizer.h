// The optimizer contract: one fused update over every parameter, with optional gradient clipping and a
// learning-rate schedule, and state that can be exported and restored (the persistence issue saves it).
//
// step(): clip the gradients (by global norm, then by value, when set), set lr from the schedule for
// this step, then update(lr) every parameter in place, then count the step. Hyperparameters are
// validated when the optimizer is made (ValueError); step() never throws.
#pragma once
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/array.h"
#include "nn/parameter.h"

namespace bprop::optim {

template <typename T>
class Optimizer {
 public:
  using ParameterList = std::vector<nn::ParameterPtr<T>>;
  virtual ~Optimizer() = default;
  virtual std::string name() const = 0;  // "Adam", as in Python
  virtual void step() = 0;

  // Named state arrays, e.g. {"exp_avg.0", ...}, in a fixed order, for export and restore.
  virtual std::vector<std::pair<std::string, Array<T>*>> state() = 0;
  virtual const ParameterList& parameters() const = 0;
};

template <typename T>
using OptimizerPtr = std::shared_ptr<Optimizer<T>>;

}  // namespace bprop::optim
