// Sequential: layers applied in order; itself a layer, so a Residual can wrap one. build() turns the
// layers into steps: a layer whose output is a GEMM's C followed by an elementwise layer that fuses (a Linear
// and a ReLU, say) becomes one FusedStep (fused_step.h), every other layer is a step of its own. Inference
// has a plan of its own, which also folds a BatchNorm into the convolution before it (folded_step.h).
// It keeps the output of every step from the last forward (grown with the batch, reused) because each
// step's backward needs its own x and y; two gradient buffers take turns on the way back.
#pragma once
#include <string>
#include <vector>

#include "core/array.h"
#include "nn/indices.h"
#include "nn/layer.h"

namespace bprop::nn {

template <typename T>
class Sequential : public Layer<T>, public IndexInput<T> {
 public:
  explicit Sequential(std::vector<LayerPtr<T>> layers);  // ValueError when empty
  std::string name() const override { return "Sequential"; }
  SampleShape build(const SampleShape& in) override;  // ValueError naming the layer whose shape does not fit
  void forward(const T* x, long rows, T* y, Mode mode) override;
  void backward(const T* x, const T* y, const T* dy, long rows, T* dx, bool accumulate) override;
  // Two scratch buffers take turns holding the steps' outputs.
  void infer(const T* x, long rows, T* y) const override;
  std::vector<ParameterPtr<T>> parameters() override;
  std::vector<ParameterPtr<T>> buffers() override;
  void reseed(uint64_t seed) override;
  bool caches_forward() const override { return true; }  // the inner outputs

  // A network whose first layer takes indices (an Embedding) takes them too.
  IndexInput<T>* index_input() override { return layers_[0]->index_input() ? this : nullptr; }
  void forward_indices(const int64_t* x, long rows, T* y, Mode mode) override;
  void backward_indices(const int64_t* x, const T* y, const T* dy, long rows, bool accumulate) override;
  void infer_indices(const int64_t* x, long rows, T* y) const override;
  long index_count() const override { return layers_[0]->index_input()->index_count(); }
  // With lengths from padding (below): ValueError naming a sample of padding alone.
  void check_indices(const int64_t* x, long rows, const std::string& where) const override;
  // Whether the first layer's padding gives the second its lengths: an Embedding with padding_idx over
  // (time,) samples followed by a LengthAware layer (an LSTM). A sample's length then runs to its last
  // index that is not padding; the steps after it are padding (nn/sequence_lengths.h).
  bool lengths_from_padding() const { return lengths_from_padding_; }

  const std::vector<LayerPtr<T>>& layers() const { return layers_; }
  const std::vector<LayerPtr<T>>& steps() const { return steps_; }  // as forward runs, after build()
  const std::vector<LayerPtr<T>>& infer_steps() const { return infer_steps_; }  // as infer runs

 private:
  std::vector<LayerPtr<T>> layers_;
  // ValueError when a step was built again for another shape since this Sequential built it (the layer
  // object is also used elsewhere, on other shapes): its output would no longer fit the buffers.
  void check_steps_unchanged() const;
  // Each sample's length (lengths_from_padding): one past its last index that is not padding.
  void padded_lengths(const int64_t* x, long rows, int64_t* lengths) const;
  // Step 1 (the LengthAware layer) given the lengths, then the steps after it; y is the network's output.
  void forward_after_lengths(const T* embedded, const int64_t* lengths, long rows, T* y, Mode mode);
  void infer_after_lengths(const T* embedded, const int64_t* lengths, long rows, T* y) const;
  // Steps [first, end) forward (or infer) from `in`, the last one writing y.
  void forward_from(std::size_t first, const T* in, long rows, T* y, Mode mode);
  void infer_from(std::size_t first, const T* in, long rows, T* y) const;
  // Steps [stop, end) backward from dy; returns ∂L/∂(step stop's input), written into dx when stop is 0.
  const T* backward_to(std::size_t stop, const T* x, const T* y, const T* dy, long rows, T* dx, bool accumulate);

  std::vector<LayerPtr<T>> steps_;        // what forward and backward run: layers_, fused pairs as one
  std::vector<LayerPtr<T>> infer_steps_;  // what infer runs: steps_, with folds
  std::vector<SampleShape> layer_inputs_;  // each layer's input shape, as build() left it
  std::vector<Array<T>> outputs_;   // outputs_[i]: step i's output, for i < last
  bool lengths_from_padding_ = false;
  std::vector<int64_t> lengths_;    // the last forward's, with lengths_from_padding_
  Array<T> grad_a_, grad_b_;
};

}  // namespace bprop::nn
