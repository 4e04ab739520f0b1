#include "nn/sequential.h"

#include <algorithm>

#include "core/error.h"
#include "core/scratch.h"
#include "nn/fused_step.h"

namespace bprop::nn {

template <typename T>
Sequential<T>::Sequential(std::vector<LayerPtr<T>> layers) : layers_(std::move(layers)) {
  if (layers_.empty()) throw ValueError("[Sequential] needs at least one layer");
  for (const auto& layer : layers_)
    if (!layer) throw ValueError("[Sequential] got a null layer");
  steps_ = layers_;
  outputs_.resize(steps_.size());
}

template <typename T>
long Sequential<T>::build(long in_features) {
  this->in_features_ = in_features;
  long width = in_features;
  for (std::size_t i = 0; i < layers_.size(); ++i) {
    try {
      width = layers_[i]->build(width);
    } catch (const ValueError& e) {
      throw ValueError("[Sequential] layer " + std::to_string(i) + " (" + layers_[i]->name() + "): " + e.what());
    }
  }
  steps_.clear();
  for (std::size_t i = 0; i < layers_.size(); ++i) {
    LayerPtr<T> fused = i + 1 < layers_.size() ? FusedStep<T>::fuse(layers_[i], layers_[i + 1]) : nullptr;
    steps_.push_back(fused ? fused : layers_[i]);
    if (fused) ++i;
  }
  outputs_.resize(steps_.size());
  return this->out_features_ = width;
}

template <typename T>
void Sequential<T>::forward(const T* x, long rows, T* y, bool training) {
  const std::size_t last = steps_.size() - 1;
  const T* in = x;
  for (std::size_t i = 0; i < last; ++i) {
    outputs_[i].resize(rows * steps_[i]->out_features());
    steps_[i]->forward(in, rows, outputs_[i].data(), training);
    in = outputs_[i].data();
  }
  steps_[last]->forward(in, rows, y, training);
}

template <typename T>
void Sequential<T>::infer(const T* x, long rows, T* y) const {
  const std::size_t last = steps_.size() - 1;
  long widest = 0;
  for (std::size_t i = 0; i < last; ++i) widest = std::max(widest, steps_[i]->out_features());
  ScratchFrame scratch;
  T* const buffers[2] = {scratch.take<T>(rows * widest), scratch.take<T>(rows * widest)};
  const T* in = x;
  for (std::size_t i = 0; i < last; ++i) {
    T* out = buffers[i % 2];
    steps_[i]->infer(in, rows, out);
    in = out;
  }
  steps_[last]->infer(in, rows, y);
}

template <typename T>
void Sequential<T>::backward(const T* x, const T* y, const T* dy, long rows, T* dx, bool accumulate) {
  long widest = 0;
  for (const auto& step : steps_) widest = std::max(widest, step->in_features());
  grad_a_.resize(rows * widest);
  grad_b_.resize(rows * widest);
  const T* upstream = dy;  // ∂L/∂(output of step i)
  for (std::size_t i = steps_.size(); i-- > 0;) {
    const T* xi = i == 0 ? x : outputs_[i - 1].data();
    const T* yi = i == steps_.size() - 1 ? y : outputs_[i].data();
    T* downstream = i == 0 ? dx : (upstream == grad_a_.data() ? grad_b_.data() : grad_a_.data());
    steps_[i]->backward(xi, yi, upstream, rows, downstream, accumulate);
    upstream = downstream;
  }
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

template <typename T>
long Residual<T>::build(long in_features) {
  const long out = body_.build(in_features);
  if (out != in_features)
    throw ValueError("[Residual] the block maps " + std::to_string(in_features) + " features to " +
                     std::to_string(out) + "; a skip connection needs them equal");
  return this->in_features_ = this->out_features_ = in_features;
}

template <typename T>
void Residual<T>::forward(const T* x, long rows, T* y, bool training) {
  const long n = rows * this->in_features_;
  body_out_.resize(n);
  body_.forward(x, rows, body_out_.data(), training);
  for (long i = 0; i < n; ++i) y[i] = x[i] + body_out_[i];
}

template <typename T>
void Residual<T>::infer(const T* x, long rows, T* y) const {
  const long n = rows * this->in_features_;
  ScratchFrame scratch;
  T* body_out = scratch.take<T>(n);
  body_.infer(x, rows, body_out);
  for (long i = 0; i < n; ++i) y[i] = x[i] + body_out[i];
}

template <typename T>
void Residual<T>::backward(const T* x, const T*, const T* dy, long rows, T* dx, bool accumulate) {
  body_.backward(x, body_out_.data(), dy, rows, dx, accumulate);
  if (!dx) return;
  const long n = rows * this->in_features_;
  for (long i = 0; i < n; ++i) dx[i] += dy[i];
}

template class Sequential<float>;
template class Sequential<double>;
template class Residual<float>;
template class Residual<double>;

}  // namespace bprop::nn
