// The layer contract. Every layer of bprop (and Sequential, itself a layer) implements it; the model,
// the trainer and the autograd engine only ever talk to layers through it.
//
// A layer is built for the shape of one sample (nn/sample_shape.h) and returns its output sample shape;
// it is then called with any number of samples. Data are flat: a batch is `rows` samples of in_size()
// values each, contiguous, whatever the sample's rank (a layer on the last axis treats the leading axes
// as more rows, as PyTorch does). Building again for another shape is allowed (it is how one activation
// serves several widths in a Module); whoever runs a layer builds it for the shape it runs first.
//   forward(x, rows, y, mode): y = f(x) in a Mode (below). May cache what backward needs beyond x and y
//       (a dropout mask, batch statistics); caches grow with the batch and are reused, never freed per step.
//   backward(x, y, dy, rows, dx, accumulate): given the x and y of the last forward and dy = ∂L/∂y,
//       writes dx = ∂L/∂x (skipped when dx is null: the first layer's input needs no gradient) and each
//       parameter's gradient: overwritten, or added to when `accumulate`.
//   infer(x, rows, y): the forward of evaluation mode, writing nothing but y (intermediate values go to
//       a ScratchFrame, core/scratch.h). It reads the layer and writes no member, so any number of threads
//       may run it at once on one layer: predict, evaluate and no-grad calls use it. Same values as
//       forward(x, rows, y, Mode::eval), but for the rounding of a Sequential's folded BatchNorm
//       (nn/folded_step.h).
// forward and backward share the layer's caches: a caller that runs them holds cache_mutex() meanwhile
// (the trainer, a graph node, a binding), so two threads training one model never interleave.
// Layers validate in build() and the bindings validate batches; forward, backward and infer throw nothing
// but Interrupted (Ctrl-C, core/interrupt.h), thrown between units of work outside their own parallel
// regions, and (containers, before any work) the ValueError of a member built again for another shape
// by another use; nobody calls them from inside a parallel region.
#pragma once
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/sizes.h"
#include "nn/fusion.h"
#include "nn/parameter.h"
#include "nn/sample_shape.h"

namespace bprop::nn {

template <typename T>
class IndexInput;
template <typename T>
class LengthAware;

// How a forward runs. train: dropout draws a fresh mask and BatchNorm normalises with the batch and
// updates its running statistics. eval: dropout is the identity and BatchNorm uses its running
// statistics. replay: the last train forward again, exactly (the same dropout masks, the batch statistics
// without a second update): what recomputing a segment for gradient checkpointing needs.
enum class Mode { train, eval, replay };

template <typename T>
class Layer {
 public:
  virtual ~Layer() = default;
  virtual std::string name() const = 0;  // "Linear", as in Python and in error messages

  // Fixes the input sample shape and returns the output's; ValueError if the layer cannot take it.
  virtual SampleShape build(const SampleShape& in) = 0;
  const SampleShape& in_shape() const { return in_shape_; }
  const SampleShape& out_shape() const { return out_shape_; }
  long in_size() const { return in_size_; }  // values per input sample: a row of the flat batch; 0 until built
  long out_size() const { return out_size_; }

  virtual void forward(const T* x, long rows, T* y, Mode mode) = 0;
  virtual void backward(const T* x, const T* y, const T* dy, long rows, T* dx, bool accumulate) = 0;
  virtual void infer(const T* x, long rows, T* y) const = 0;
  std::mutex& cache_mutex() const { return cache_mutex_; }

  // Trainable parameters, in a fixed order; state that is saved but not trained (BatchNorm's running
  // statistics) is in buffers().
  virtual std::vector<ParameterPtr<T>> parameters() { return {}; }
  virtual std::vector<ParameterPtr<T>> buffers() { return {}; }

  // Layers taking int64 indices rather than values (Embedding) return their IndexInput (nn/indices.h).
  virtual IndexInput<T>* index_input() { return nullptr; }
  // Layers over sequences that take each sample's length (the recurrent layers) return their LengthAware
  // (nn/sequence_lengths.h).
  virtual LengthAware<T>* length_aware() { return nullptr; }

  // Capabilities a Sequential fuses adjacent layers by (nn/fusion.h); null when the layer lacks them.
  virtual const GemmOutput<T>* gemm_output() const { return nullptr; }
  virtual const ElementwiseFromOutput<T>* elementwise_from_output() const { return nullptr; }
  // What a Sequential folds for inference (nn/folded_step.h); null when the layer lacks them.
  virtual const FoldsChannelAffine<T>* folds_channel_affine() const { return nullptr; }
  virtual const ChannelAffineInEval<T>* channel_affine_in_eval() const { return nullptr; }

  // Layers that draw random numbers (Dropout) restart their generator from `seed`.
  virtual void reseed(uint64_t seed) {}
  // Where such a layer is in its random stream (its seed, the training forwards since, the last mask's key),
  // so a copy (pickle) draws the same masks next; empty for layers that draw nothing. set_random_state takes
  // what random_state gave (ValueError on a different length).
  virtual std::vector<uint64_t> random_state() const { return {}; }
  virtual void set_random_state(const std::vector<uint64_t>& state) { check_random_state(state, 0); }

 protected:
  void check_random_state(const std::vector<uint64_t>& state, std::size_t expected) const {
    if (state.size() != expected)
      throw ValueError("[" + name() + "] a random state has " + std::to_string(expected) + " values; got " +
                       std::to_string(state.size()));
  }

 public:

  // Whether backward reads state the last forward cached beyond x and y (a dropout mask, batch
  // statistics, inner outputs): such a layer can back-propagate only its latest forward. The autograd
  // engine counts the forwards it runs (`graph_forwards`) to refuse a stale backward.
  virtual bool caches_forward() const { return false; }
  uint64_t graph_forwards = 0;

 protected:
  // Records a build's shapes (after validating `in`) and returns `out`.
  SampleShape set_shapes(const SampleShape& in, SampleShape out) {
    const std::string where = "[" + name() + "]";
    in_size_ = sample_size(in, where);
    out_size_ = sample_size(out, where);
    in_shape_ = in;
    out_shape_ = std::move(out);
    rows_per_sample_ = in_size_ / in_shape_.back();
    return out_shape_;
  }
  // build() of the layers that keep the shape they are given (activations, Dropout).
  SampleShape keep_shape(const SampleShape& in) { return set_shapes(in, in); }
  // build() of the layers acting on the last axis, made for `in_width` values there (Linear, LayerNorm).
  SampleShape map_last_axis(const SampleShape& in, long in_width, long out_width) {
    if (!in.empty() && in.back() != in_width)
      throw ValueError("[" + name() + "] expects " + std::to_string(in_width) + " input features; got " +
                       std::to_string(in.back()) + (in.size() > 1 ? " (the last axis of samples of shape " + shape_text(in) + ")" : ""));
    return set_shapes(in, in.empty() ? in : with_last_axis(in, out_width));
  }
  // The rows a last-axis layer computes on for `rows` samples: each sample's leading axes are more rows.
  long last_axis_rows(long rows) const { return rows * rows_per_sample_; }

  SampleShape in_shape_, out_shape_;
  long in_size_ = 0, out_size_ = 0;
  long rows_per_sample_ = 1;  // the product of the input sample's leading axes

 private:
  mutable std::mutex cache_mutex_;
};

template <typename T>
using LayerPtr = std::shared_ptr<Layer<T>>;

}  // namespace bprop::nn
