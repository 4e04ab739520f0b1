// The layer contract. Every layer of bprop (and Sequential, itself a layer) implements it; the model,
// the trainer and the autograd engine only ever talk to layers through it.
//
// Data are row-major batches: `rows` samples of `features` values each, contiguous. A layer is built
// once for an input width and is then called with any number of rows.
//   forward(x, rows, y, training): y = f(x). May cache what backward needs beyond x and y (a dropout
//       mask, batch statistics); caches grow with the batch and are reused, never freed per step.
//   backward(x, y, dy, rows, dx, accumulate): given the x and y of the last forward and dy = ∂L/∂y,
//       writes dx = ∂L/∂x (skipped when dx is null: the first layer's input needs no gradient) and each
//       parameter's gradient: overwritten, or added to when `accumulate`.
//   infer(x, rows, y): the forward of evaluation mode, writing nothing but y (intermediate values go to
//       a ScratchFrame, core/scratch.h). It reads the layer and writes no member, so any number of threads
//       may run it at once on one layer: predict, evaluate and no-grad calls use it. Same values as
//       forward(x, rows, y, false).
// forward and backward share the layer's caches: a caller that runs them holds cache_mutex() meanwhile
// (the trainer, a graph node, a binding), so two threads training one model never interleave.
// Layers validate in build() and the bindings validate batches; forward, backward and infer throw nothing
// but Interrupted (Ctrl-C, core/interrupt.h), thrown between units of work outside their own parallel
// regions; nobody calls them from inside a parallel region.
#pragma once
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/error.h"
#include "nn/fusion.h"
#include "nn/parameter.h"

namespace bprop::nn {

template <typename T>
class Layer {
 public:
  virtual ~Layer() = default;
  virtual std::string name() const = 0;  // "Linear", as in Python and in error messages

  // Fixes the input width and returns the output width; ValueError if the layer cannot take it.
  virtual long build(long in_features) = 0;
  long in_features() const { return in_features_; }
  long out_features() const { return out_features_; }

  virtual void forward(const T* x, long rows, T* y, bool training) = 0;
  virtual void backward(const T* x, const T* y, const T* dy, long rows, T* dx, bool accumulate) = 0;
  virtual void infer(const T* x, long rows, T* y) const = 0;
  std::mutex& cache_mutex() const { return cache_mutex_; }

  // Trainable parameters, in a fixed order; state that is saved but not trained (BatchNorm's running
  // statistics) is in buffers().
  virtual std::vector<ParameterPtr<T>> parameters() { return {}; }
  virtual std::vector<ParameterPtr<T>> buffers() { return {}; }

  // Capabilities a Sequential fuses adjacent layers by (nn/fusion.h); null when the layer lacks them.
  virtual const GemmOutput<T>* gemm_output() const { return nullptr; }
  virtual const ElementwiseFromOutput<T>* elementwise_from_output() const { return nullptr; }

  // Layers that draw random numbers (Dropout) restart their generator from `seed`.
  virtual void reseed(uint64_t seed) {}

  // Whether backward reads state the last forward cached beyond x and y (a dropout mask, batch
  // statistics, inner outputs): such a layer can back-propagate only its latest forward. The autograd
  // engine counts the forwards it runs (`graph_forwards`) to refuse a stale backward.
  virtual bool caches_forward() const { return false; }
  uint64_t graph_forwards = 0;

 protected:
  // build() of the layers made for one input width (Linear, BatchNorm, LayerNorm).
  long expect_width(long in_features) {
    if (in_features != in_features_)
      throw ValueError("[" + name() + "] expects " + std::to_string(in_features_) + " input features; got " +
                       std::to_string(in_features));
    return out_features_;
  }

  // build() of the layers that keep the width they are given.
  long keep_width(long in_features) {
    if (in_features < 1)
      throw ValueError("[" + name() + "] needs at least 1 input feature; got " + std::to_string(in_features));
    return in_features_ = out_features_ = in_features;
  }

  long in_features_ = -1, out_features_ = -1;

 private:
  mutable std::mutex cache_mutex_;
};

template <typename T>
using LayerPtr = std::shared_ptr<Layer<T>>;

}  // namespace bprop::nn
