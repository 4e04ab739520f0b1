// Fusion by capability, never by concrete type. A Sequential runs two adjacent layers as one step
// (nn/fused_step.h) when the first offers GemmOutput and the second ElementwiseFromOutput. Linear, the
// convolutions and the elementwise activations offer them today; a new layer joins by overriding one
// method of the layer contract (Layer::gemm_output / Layer::elementwise_from_output), with nothing here or
// in Sequential to edit.
// For inference only, a Sequential also folds a layer that is a ChannelAffineInEval (BatchNorm) into a
// preceding FoldsChannelAffine (a convolution), with an elementwise layer after them in the epilogue
// (nn/folded_step.h): Conv2d → BatchNorm2d → ReLU runs as one convolution with rescaled weights.
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

// A layer that in evaluation mode maps each channel affinely: y[c] = scale[c]·x[c] + shift[c] (BatchNorm
// with its running statistics). Channels are the first axis of a sample.
template <typename T>
class ChannelAffineInEval {
 public:
  virtual ~ChannelAffineInEval() = default;
  virtual long affine_channels() const = 0;
  virtual void eval_affine(T* scale, T* shift) const = 0;  // affine_channels() values each
};

// A layer whose output channel c is linear in its weights' row c plus a bias (a convolution): a following
// per-channel affine map folds into it, W'[c] = scale[c]·W[c] and b'[c] = scale[c]·b[c] + shift[c].
template <typename T>
class FoldsChannelAffine {
 public:
  virtual ~FoldsChannelAffine() = default;
  virtual long folded_channels() const = 0;  // the output channels scale and shift must cover
  // Whether folding beats applying the map to the output, for a batch of `rows`: a fold rewrites the
  // weights on every call, the map passes over the output once.
  virtual bool fold_pays(long rows) const = 0;
  // infer() with the map folded in, then `then` (if not null) on every block of y.
  virtual void infer_folded(const T* x, long rows, T* y, const T* scale, const T* shift,
                            const ElementwiseFromOutput<T>* then) const = 0;
};

}  // namespace bprop::nn
