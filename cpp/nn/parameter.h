// A trainable tensor: its values and the gradient backward writes, stored flat (row-major by shape).
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/array.h"
#include "core/sizes.h"

namespace bprop::nn {

template <typename T>
struct Parameter {
  // ValueError for sizes whose product overflows or whose value and gradient exceed the machine's memory.
  Parameter(std::string name_, std::vector<long> shape_) : name(std::move(name_)), shape(std::move(shape_)) {
    const long n = checked_count(shape, 2 * sizeof(T), "[Parameter " + name + "]");
    value.resize(n);
    grad.resize(n);
  }
  long size() const { return value.size(); }

  std::string name;         // "weight", "bias", "gamma", ...: fixed order within a layer
  std::vector<long> shape;  // Linear weight: {in_features, out_features}
  Array<T> value;
  Array<T> grad;
  // The autograd leaf viewing value and grad (autograd/parameter_tensor.h), made once and shared, so
  // every use of the parameter in a graph adds into this `grad`. Weak: the view owns the parameter.
  std::weak_ptr<void> tensor_view;
  bool requires_grad = true;  // false freezes it: graphs then route no gradient to it
  // Writes outside autograd (optimizer steps, set_value): a graph that saved the parameter's view checks
  // it, so a backward after an update says so instead of mixing old and new weights.
  uint64_t writes = 0;
};

// Shared: the layer that owns it, an optimizer and a Python handle may all hold one.
template <typename T>
using ParameterPtr = std::shared_ptr<Parameter<T>>;

}  // namespace bprop::nn
