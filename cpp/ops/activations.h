// Elementwise activations: one table (ops/activations.cpp) of small functors (ops/activation_functors.h),
// one entry per activation, and the generic code written once around it: lookup by name with parameter
// checks, the parallel forward/backward over n values, and the block a GEMM epilogue applies. These are
// the only implementations: layers and autograd call them.
#pragma once
#include <array>
#include <string>
#include <vector>

#include "ops/activation_functors.h"

namespace bprop::ops {

constexpr int kMaxActivationParams = 2;

// Kernels over one span of n values on the calling thread, for one dtype; params in the entry's order.
template <typename T>
struct ActivationKernels {
  void (*forward)(const T* params, const T* x, T* y, long n);
  // dx = dy ⊙ f'(x); reads x and/or y as the entry's `reads` says (the other may be null).
  void (*backward)(const T* params, const T* x, const T* y, const T* dy, T* dx, long n);
  // Activation::apply_block's loop, the functor inlined across the rows.
  void (*block)(const T* params, const T* bias, T* y, long rows, long cols, long ld);
};

// One row of the table.
struct ActivationEntry {
  const char* name;  // as in Python: "ReLU"
  std::string op;    // in lower case: the name of its graph node ("relu")
  std::vector<ActivationParam> params;
  Reads reads;
  bool (*from_output)(const double* params);
  ActivationKernels<float> f32;
  ActivationKernels<double> f64;
};

// Every entry, in table order.
const std::vector<ActivationEntry>& activation_table();

// An activation with its parameter values, checked: what layers and graph nodes hold. Cheap to copy.
class Activation {
 public:
  // ValueError ("[activation] unknown activation 'X'; expected one of: ...") for an unknown name, and
  // ("[Name] alpha must be > 0; got ...") for a value outside its domain. `params` in the entry's order;
  // fewer than it has take the defaults for the rest; more is a ValueError.
  explicit Activation(const std::string& name, const std::vector<double>& params = {});

  const char* name() const { return entry_->name; }
  const ActivationEntry& entry() const { return *entry_; }
  std::vector<double> params() const;
  // True when f'(x) can be read from y = f(x) alone (backward then takes y for x too): what lets a Linear
  // layer apply the activation in place and keep no pre-activation values.
  bool derivative_from_output() const { return entry_->from_output(params_.data()); }
  // What backward reads: Reads::x means y may be null; Reads::y means x may be null.
  Reads reads() const { return entry_->reads; }

  // y = f(x) over n values, on bprop's threads for large n.
  template <typename T>
  void forward(const T* x, T* y, long n) const;
  // dx = dy ⊙ f'(x) over n values.
  template <typename T>
  void backward(const T* x, const T* y, const T* dy, T* dx, long n) const;
  // y ← f(y + bias) in place over a rows×cols block with row stride ld, bias holding cols values (or null),
  // on the calling thread: what an activation fused after a GEMM applies to each finished block, while the
  // block is still in cache. The values are those of forward after the addition.
  template <typename T>
  void apply_block(const T* bias, T* y, long rows, long cols, long ld) const;

 private:
  template <typename T>
  const T* typed_params() const;
  template <typename T>
  const ActivationKernels<T>& kernels() const;

  const ActivationEntry* entry_;
  std::array<double, kMaxActivationParams> params_{};
  std::array<float, kMaxActivationParams> params_f32_{};
};

// The entry called `name`, or ValueError listing the known names.
const ActivationEntry& find_activation(const std::string& name);

}  // namespace bprop::ops
