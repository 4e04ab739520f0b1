// FusedStep: a layer whose output is a GEMM's C and the elementwise layer after it, run as one step
// (nn/fusion.h says which pairs qualify). The values before the elementwise map are never stored:
//   forward:  the first layer's GEMM with the map in its epilogue (one pass over y, not two or three);
//   backward: dy ⊙ f'(y) into a reused buffer, then the first layer's own backward.
// The two layers keep their parameters and identity; this only schedules them, and the results are
// bit-identical to running them one after the other.
#pragma once
#include <memory>

#include "core/array.h"
#include "nn/fusion.h"
#include "nn/layer.h"

namespace bprop::nn {

template <typename T>
class FusedStep : public Layer<T> {
 public:
  // The fused pair when `first` offers GemmOutput and `second` ElementwiseFromOutput; otherwise null.
  // Both layers must already be built.
  static LayerPtr<T> fuse(const LayerPtr<T>& first, const LayerPtr<T>& second);

  std::string name() const override { return first_->name() + "+" + second_->name(); }
  SampleShape build(const SampleShape& in) override;
  void forward(const T* x, long rows, T* y, Mode mode) override;
  void backward(const T* x, const T* y, const T* dy, long rows, T* dx, bool accumulate) override;
  void infer(const T* x, long rows, T* y) const override;
  std::vector<ParameterPtr<T>> parameters() override { return first_->parameters(); }
  std::vector<ParameterPtr<T>> buffers() override { return first_->buffers(); }

 private:
  FusedStep(LayerPtr<T> first, LayerPtr<T> second);

  LayerPtr<T> first_, second_;
  const GemmOutput<T>* gemm_;               // first_'s capability
  const ElementwiseFromOutput<T>* map_;     // second_'s
  Array<T> grad_pre_;  // ∂L/∂(the first layer's output), rows × out_size
};

}  // namespace bprop::nn
