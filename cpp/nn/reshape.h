// Layers that change a sample's shape and not its values: Flatten and Reshape. The data are flat rows
// already, so forward and backward are copies (y = x, dx = dy); only build() does any work.
#pragma once
#include <vector>

#include "nn/layer.h"

namespace bprop::nn {

template <typename T>
class ShapeOnlyLayer : public Layer<T> {
 public:
  SampleShape build(const SampleShape& in) override { return this->set_shapes(in, reshaped(in)); }
  void forward(const T* x, long rows, T* y, Mode) override { infer(x, rows, y); }
  void backward(const T* x, const T* y, const T* dy, long rows, T* dx, bool accumulate) override;
  void infer(const T* x, long rows, T* y) const override;

 protected:
  // The output sample shape for `in`; ValueError ("[Name] ...") when the layer cannot take it.
  virtual SampleShape reshaped(const SampleShape& in) const = 0;
};

// Flatten(start_dim=1, end_dim=-1), as PyTorch's: axes start_dim..end_dim of the batch (axis 0 the
// samples, so start_dim >= 1) merged into one.
template <typename T>
class Flatten : public ShapeOnlyLayer<T> {
 public:
  Flatten(long start_dim, long end_dim);  // ValueError for start_dim < 1
  std::string name() const override { return "Flatten"; }

 protected:
  SampleShape reshaped(const SampleShape& in) const override;

 private:
  long start_dim_, end_dim_;
};

// Reshape(shape), as Keras's: each sample to `shape` (the batch axis excluded); one size may be -1, the
// size that keeps the number of values.
template <typename T>
class Reshape : public ShapeOnlyLayer<T> {
 public:
  explicit Reshape(std::vector<long> shape);  // ValueError for an empty shape, sizes < 1 but one -1
  std::string name() const override { return "Reshape"; }

 protected:
  SampleShape reshaped(const SampleShape& in) const override;

 private:
  std::vector<long> shape_;
};

}  // namespace bprop::nn
