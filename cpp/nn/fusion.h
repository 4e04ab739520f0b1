// Fusion by capability, never by concrete type. A Sequential runs two adjacent layers as one step
// (nn/fused_step.h) when the first offers GemmOutput and the second ElementwiseFromOutput. Linear and the
// elementwise activations offer them today; a convolution (its output is a GEMM's C too) or a new
// activation joins by overriding one method of the layer contract (Layer::gemm_output /
// Layer::elementwise_from_output), with nothing here or in Sequential to edit.
#pragma once

namespace bprop::nn {

// An elementwise map y = f(x) whose derivative can be read from y alone (ReLU, Sigmoid, ELU, ...): it can
// be applied to a block of a GEMM's output while the block is in cache, and back-propagated without x.
template <typename T>
class ElementwiseFromOutput {
 public:
  virtual ~ElementwiseFromOutput() = default;
  // y ← f(y) in place over a rows×cols block with row stride ld.
  virtual void apply_block(T* y, long rows, long cols, long ld) const = 0;
  // dx = dy ⊙ f'(x) over n values, read from y = f(x) alone.
  virtual void backward_from_output(const T* y, const T* dy, T* dx, long n) const = 0;
};

// A layer whose output is a GEMM's C: it can apply an elementwise map to each block of its output once the
// block holds the layer's own result (after its bias, say), while the block is still in cache.
template <typename T>
class GemmOutput {
 public:
  virtual ~GemmOutput() = default;
  // The layer's forward (evaluation and training alike) followed by `then` on every block of y.
  virtual void forward_then(const T* x, long rows, T* y, const ElementwiseFromOutput<T>& then) const = 0;
  // The layer's backward must not read y when it runs fused: it is called with y = null.
};

}  // namespace bprop::nn
