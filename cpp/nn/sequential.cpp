#include "nn/sequential.h"

#include <algorithm>

#include "core/error.h"
#include "core/scratch.h"
#include "core/sizes.h"
#include "nn/folded_step.h"
#include "nn/fused_step.h"
#include "nn/sequence_lengths.h"

namespace bprop::nn {

template <typename T>
Sequential<T>::Sequential(std::vector<LayerPtr<T>> layers) : layers_(std::move(layers)) {
  if (layers_.empty()) throw ValueError("[Sequential] needs at least one layer");
  for (const auto& layer : layers_)
    if (!layer) throw ValueError("[Sequential] got a null layer");
  steps_ = infer_steps_ = layers_;
  outputs_.resize(steps_.size());
}

namespace {

// The layers as steps: fused pairs (and, when `fold`, folded runs) as one, every other layer on its own.
template <typename T>
std::vector<LayerPtr<T>> plan_steps(const std::vector<LayerPtr<T>>& layers, bool fold) {
  std::vector<LayerPtr<T>> steps;
  const auto at = [&](std::size_t i) { return i < layers.size() ? layers[i] : nullptr; };
  for (std::size_t i = 0; i < layers.size();) {
    if (auto folded = fold ? FoldedStep<T>::fold(at(i), at(i + 1), at(i + 2)) : nullptr) {
      steps.push_back(folded);
      i += folded->layer_count();
    } else if (LayerPtr<T> fused = FusedStep<T>::fuse(at(i), at(i + 1))) {
      steps.push_back(fused);
      i += 2;
    } else {
      steps.push_back(layers[i]);
      i += 1;
    }
  }
  return steps;
}

}  // namespace

template <typename T>
SampleShape Sequential<T>::build(const SampleShape& in) {
  sample_size(in, "[Sequential]");
  SampleShape shape = in;
  for (std::size_t i = 0; i < layers_.size(); ++i) {
    try {
      shape = layers_[i]->build(shape);
    } catch (const ValueError& e) {
      throw ValueError("[Sequential] layer " + std::to_string(i) + " (" + layers_[i]->name() + "): " + e.what());
    }
  }
  for (std::size_t i = 1; i < layers_.size(); ++i)
    if (layers_[i]->index_input())
      throw ValueError("[Sequential] layer " + std::to_string(i) + " (" + layers_[i]->name() +
                       ") takes integer indices, which only a network's first layer can be given");
  steps_ = plan_steps(layers_, false);
  infer_steps_ = plan_steps(layers_, true);
  layer_inputs_.clear();
  for (const auto& layer : layers_) layer_inputs_.push_back(layer->in_shape());
  outputs_.resize(steps_.size());
  const IndexInput<T>* first = layers_[0]->index_input();
  lengths_from_padding_ = first && first->padding_idx() && in.size() == 1 && layers_.size() > 1 &&
                          layers_[1]->length_aware() && steps_[1] == layers_[1] && infer_steps_[1] == layers_[1];
  return this->set_shapes(in, shape);
}

template <typename T>
void Sequential<T>::check_steps_unchanged() const {
  for (std::size_t i = 0; i < layer_inputs_.size(); ++i)
    if (layers_[i]->in_shape() != layer_inputs_[i])
      throw ValueError("[Sequential] its layer " + layers_[i]->name() + " was built for samples of shape " +
                       shape_text(layers_[i]->in_shape()) + " by another use since this Sequential built it for " +
                       shape_text(layer_inputs_[i]) + "; give each use its own layer object");
}

template <typename T>
void Sequential<T>::forward(const T* x, long rows, T* y, Mode mode) {
  check_steps_unchanged();
  forward_from(0, x, rows, y, mode);
}

template <typename T>
void Sequential<T>::forward_indices(const int64_t* x, long rows, T* y, Mode mode) {
  check_steps_unchanged();
  IndexInput<T>* first = steps_[0]->index_input();
  if (steps_.size() == 1) return first->forward_indices(x, rows, y, mode);
  outputs_[0].resize(rows * steps_[0]->out_size());
  first->forward_indices(x, rows, outputs_[0].data(), mode);
  if (!lengths_from_padding_) return forward_from(1, outputs_[0].data(), rows, y, mode);
  lengths_.resize(rows);
  padded_lengths(x, rows, lengths_.data());
  forward_after_lengths(outputs_[0].data(), lengths_.data(), rows, y, mode);
}

template <typename T>
void Sequential<T>::padded_lengths(const int64_t* x, long rows, int64_t* lengths) const {
  const long steps = this->in_size_;
  const int64_t padding = *layers_[0]->index_input()->padding_idx();
  for (long r = 0; r < rows; ++r) {
    long length = steps;
    while (length > 0 && x[r * steps + length - 1] == padding) --length;
    lengths[r] = length;
  }
}

template <typename T>
void Sequential<T>::check_indices(const int64_t* x, long rows, const std::string& where) const {
  if (!lengths_from_padding_) return;
  std::vector<int64_t> lengths(rows);
  padded_lengths(x, rows, lengths.data());
  for (long r = 0; r < rows; ++r)
    if (lengths[r] == 0)
      throw ValueError(where + ": sample " + std::to_string(r) + " is padding alone (padding_idx " +
                       std::to_string(*layers_[0]->index_input()->padding_idx()) + "); the " + layers_[1]->name() +
                       " after the Embedding needs at least one step of each sample");
}

template <typename T>
void Sequential<T>::forward_after_lengths(const T* embedded, const int64_t* lengths, long rows, T* y, Mode mode) {
  LengthAware<T>* second = steps_[1]->length_aware();
  if (steps_.size() == 2) return second->forward_lengths(embedded, lengths, rows, y, mode);
  outputs_[1].resize(rows * steps_[1]->out_size());
  second->forward_lengths(embedded, lengths, rows, outputs_[1].data(), mode);
  forward_from(2, outputs_[1].data(), rows, y, mode);
}

template <typename T>
void Sequential<T>::infer_after_lengths(const T* embedded, const int64_t* lengths, long rows, T* y) const {
  const LengthAware<T>* second = infer_steps_[1]->length_aware();
  if (infer_steps_.size() == 2) return second->infer_lengths(embedded, lengths, rows, y);
  ScratchFrame scratch;
  T* out = scratch.take<T>(rows * infer_steps_[1]->out_size());
  second->infer_lengths(embedded, lengths, rows, out);
  infer_from(2, out, rows, y);
}

template <typename T>
void Sequential<T>::forward_from(std::size_t first, const T* in, long rows, T* y, Mode mode) {
  const std::size_t last = steps_.size() - 1;
  for (std::size_t i = first; i < last; ++i) {
    outputs_[i].resize(rows * steps_[i]->out_size());
    steps_[i]->forward(in, rows, outputs_[i].data(), mode);
    in = outputs_[i].data();
  }
  steps_[last]->forward(in, rows, y, mode);
}

template <typename T>
void Sequential<T>::infer(const T* x, long rows, T* y) const {
  check_steps_unchanged();
  infer_from(0, x, rows, y);
}

template <typename T>
void Sequential<T>::infer_indices(const int64_t* x, long rows, T* y) const {
  check_steps_unchanged();
  const IndexInput<T>* first = infer_steps_[0]->index_input();
  if (infer_steps_.size() == 1) return first->infer_indices(x, rows, y);
  ScratchFrame scratch;
  T* embedded = scratch.take<T>(rows * infer_steps_[0]->out_size());
  first->infer_indices(x, rows, embedded);
  if (!lengths_from_padding_) return infer_from(1, embedded, rows, y);
  int64_t* lengths = scratch.take<int64_t>(rows);
  padded_lengths(x, rows, lengths);
  infer_after_lengths(embedded, lengths, rows, y);
}

template <typename T>
void Sequential<T>::infer_from(std::size_t first, const T* in, long rows, T* y) const {
  const std::size_t last = infer_steps_.size() - 1;
  long widest = 0;
  for (std::size_t i = first; i < last; ++i) widest = std::max(widest, infer_steps_[i]->out_size());
  ScratchFrame scratch;
  T* const buffers[2] = {scratch.take<T>(rows * widest), scratch.take<T>(rows * widest)};
  for (std::size_t i = first; i < last; ++i) {
    T* out = buffers[i % 2];
    infer_steps_[i]->infer(in, rows, out);
    in = out;
  }
  infer_steps_[last]->infer(in, rows, y);
}

template <typename T>
void Sequential<T>::backward(const T* x, const T* y, const T* dy, long rows, T* dx, bool accumulate) {
  check_steps_unchanged();
  backward_to(0, x, y, dy, rows, dx, accumulate);
}

template <typename T>
void Sequential<T>::backward_indices(const int64_t* x, const T* y, const T* dy, long rows, bool accumulate) {
  check_steps_unchanged();
  const T* upstream = backward_to(1, nullptr, y, dy, rows, nullptr, accumulate);  // ∂L/∂(the first's output)
  const T* first_y = steps_.size() == 1 ? y : outputs_[0].data();
  steps_[0]->index_input()->backward_indices(x, first_y, upstream, rows, accumulate);
}

template <typename T>
const T* Sequential<T>::backward_to(std::size_t stop, const T* x, const T* y, const T* dy, long rows, T* dx,
                                    bool accumulate) {
  long widest = 0;
  for (const auto& step : steps_) widest = std::max(widest, step->in_size());
  grad_a_.resize(rows * widest);
  grad_b_.resize(rows * widest);
  const T* upstream = dy;  // ∂L/∂(output of step i)
  for (std::size_t i = steps_.size(); i-- > stop;) {
    const T* xi = i == 0 ? x : outputs_[i - 1].data();
    const T* yi = i == steps_.size() - 1 ? y : outputs_[i].data();
    T* downstream = i == 0 ? dx : (upstream == grad_a_.data() ? grad_b_.data() : grad_a_.data());
    steps_[i]->backward(xi, yi, upstream, rows, downstream, accumulate);
    upstream = downstream;
  }
  return upstream;
}

namespace {

// Every layer's parameters() or buffers(), in layer order.
template <typename T>
std::vector<ParameterPtr<T>> collect(const std::vector<LayerPtr<T>>& layers,
                                     std::vector<ParameterPtr<T>> (Layer<T>::*list)()) {
  std::vector<ParameterPtr<T>> all;
  for (const auto& layer : layers)
    for (auto& p : ((*layer).*list)()) all.push_back(p);
  return all;
}

}  // namespace

template <typename T>
std::vector<ParameterPtr<T>> Sequential<T>::parameters() {
  return collect(layers_, &Layer<T>::parameters);
}

template <typename T>
std::vector<ParameterPtr<T>> Sequential<T>::buffers() {
  return collect(layers_, &Layer<T>::buffers);
}

template <typename T>
void Sequential<T>::reseed(uint64_t seed) {
  // A distinct, fixed stream per layer position (splitmix-style spacing).
  for (std::size_t i = 0; i < layers_.size(); ++i) layers_[i]->reseed(seed + 0x9e3779b97f4a7c15ULL * (i + 1));
}

template class Sequential<float>;
template class Sequential<double>;

}  // namespace bprop::nn
