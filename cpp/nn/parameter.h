// A trainable tensor: its values and the gradient backward writes, stored flat (row-major by shape).
//
// Storage: value and grad view a shared, 64-byte aligned block. A new parameter has a block of its own;
// an optimizer moves it into the optimizer's arena (move_to), where all its parameters lie end to end.
// Whoever caches value.data() or grad.data() across calls registers storage_moved to re-read them.
#pragma once
#include <cstdint>
#include <cstring>
#include <functional>
#include <memory>
#include <new>
#include <string>
#include <vector>

#include "core/array.h"
#include "core/error.h"
#include "core/sizes.h"

namespace bprop::nn {

template <typename T>
struct Parameter {
  // ValueError for sizes whose product overflows or whose value and gradient exceed the machine's memory.
  Parameter(std::string name_, std::vector<long> shape_) : name(std::move(name_)), shape(std::move(shape_)) {
    const long n = checked_count(shape, 2 * sizeof(T), "[Parameter " + name + "]");
    // One block, value then grad, so that NumPy views of either can keep it alive past a move_to.
    const long stride = aligned_count<T>(n);
    std::shared_ptr<T> block;
    try {
      block = make_shared_block<T>(2 * stride);
    } catch (const std::bad_alloc&) {  // within the machine's memory, but not free now (or capped by a sanitizer)
      throw ValueError("[Parameter " + name + "] could not allocate " + std::to_string(2 * stride * long(sizeof(T))) +
                       " bytes for shape " + shape_text(shape));
    }
    value.view(block, block.get(), n);
    grad.view(block, block.get() + stride, n);
  }
  long size() const { return value.size(); }

  // Moves value and grad to `value_at` and `grad_at` (size() elements each, inside the blocks the two
  // holders keep alive), contents unchanged, then calls storage_moved. Not while anything computes with
  // this parameter (a step, a forward or backward on another thread): they read the old addresses.
  void move_to(std::shared_ptr<void> values, T* value_at, std::shared_ptr<void> grads, T* grad_at) {
    if (size()) {
      std::memcpy(value_at, value.data(), sizeof(T) * std::size_t(size()));
      std::memcpy(grad_at, grad.data(), sizeof(T) * std::size_t(size()));
    }
    const long n = size();
    value.view(std::move(values), value_at, n);
    grad.view(std::move(grads), grad_at, n);
    if (storage_moved) storage_moved();
  }

  std::string name;         // "weight", "bias", "gamma", ...: fixed order within a layer
  std::vector<long> shape;  // Linear weight: {in_features, out_features}
  Array<T> value;
  Array<T> grad;
  // The autograd leaf viewing value and grad (autograd/parameter_tensor.h), made once and shared, so
  // every use of the parameter in a graph adds into this `grad`. Weak: the view owns the parameter.
  std::weak_ptr<void> tensor_view;
  // Called by move_to after the storage moved: the autograd leaf re-points its buffers (nn_ops.cpp).
  std::function<void()> storage_moved;
  bool requires_grad = true;  // false freezes it: graphs then route no gradient to it
  // Writes outside autograd (optimizer steps, set_value): a graph that saved the parameter's view checks
  // it, so a backward after an update says so instead of mixing old and new weights.
  uint64_t writes = 0;
};

// Shared: the layer that owns it, an optimizer and a Python handle may all hold one.
template <typename T>
using ParameterPtr = std::shared_ptr<Parameter<T>>;

// A (size,) parameter with every value `value`: a normalisation's scale, shift or running statistics.
template <typename T>
ParameterPtr<T> filled_parameter(const char* name, long size, T value) {
  auto p = std::make_shared<Parameter<T>>(name, std::vector<long>{size});
  p->value.fill(value);
  return p;
}

}  // namespace bprop::nn
