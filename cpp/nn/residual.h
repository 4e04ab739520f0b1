// Residual: y = f(x) + g(x), with f the block (a Sequential) and g the shortcut: the identity (y = x + f(x),
// the skip connection that lets gradients flow through deep stacks), or a Sequential of its own (a
// projection: a strided 1×1 convolution where a ResNet stage changes its channels or resolution).
// f(x) and g(x) must have one shape. Backward: dx = f'ᵀ·dy + g'ᵀ·dy; each branch writes (or, with
// accumulate, adds to) its own parameters' gradients. Parameters and buffers: the block's, then the shortcut's.
#pragma once
#include <memory>
#include <vector>

#include "core/array.h"
#include "nn/layer.h"
#include "nn/sequential.h"

namespace bprop::nn {

template <typename T>
class Residual : public Layer<T> {
 public:
  // An empty `shortcut` is the identity. ValueError when `layers` is empty.
  explicit Residual(std::vector<LayerPtr<T>> layers, std::vector<LayerPtr<T>> shortcut = {});
  std::string name() const override { return "Residual"; }
  // ValueError unless the block's output shape is the shortcut's (the input's, without one).
  SampleShape build(const SampleShape& in) override;
  void forward(const T* x, long rows, T* y, Mode mode) override;
  void backward(const T* x, const T* y, const T* dy, long rows, T* dx, bool accumulate) override;
  void infer(const T* x, long rows, T* y) const override;
  std::vector<ParameterPtr<T>> parameters() override;
  std::vector<ParameterPtr<T>> buffers() override;
  void reseed(uint64_t seed) override;
  bool caches_forward() const override { return true; }  // the branches' outputs

  const Sequential<T>& body() const { return body_; }
  const Sequential<T>* shortcut() const { return shortcut_.get(); }  // null for the identity

 private:
  Sequential<T> body_;
  std::unique_ptr<Sequential<T>> shortcut_;
  // The last forward's branch outputs (each branch's backward needs its own y) and the shortcut's dx;
  // grown with the batch, reused.
  Array<T> body_out_, shortcut_out_, shortcut_dx_;
};

}  // namespace bprop::nn
