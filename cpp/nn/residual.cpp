#include "nn/residual.h"

#include "core/error.h"
#include "core/random.h"
#include "core/scratch.h"

namespace bprop::nn {

template <typename T>
Residual<T>::Residual(std::vector<LayerPtr<T>> layers, std::vector<LayerPtr<T>> shortcut) : body_(std::move(layers)) {
  if (!shortcut.empty()) shortcut_ = std::make_unique<Sequential<T>>(std::move(shortcut));
}

template <typename T>
SampleShape Residual<T>::build(const SampleShape& in) {
  // Both branches read the same values x; an Embedding first would be handed values, not indices.
  if (body_.index_input() || (shortcut_ && shortcut_->index_input()))
    throw ValueError("[Residual] its first layer takes integer indices, which only a network's first layer can be "
                     "given; put the Embedding before the Residual");
  const SampleShape out = body_.build(in);
  if (!shortcut_) {
    if (out != in)
      throw ValueError("[Residual] the block maps samples of shape " + shape_text(in) + " to " + shape_text(out) +
                       "; a skip connection needs them equal (or give a shortcut that maps them to " +
                       shape_text(out) + ")");
    return this->keep_shape(in);
  }
  SampleShape projected;
  try {
    projected = shortcut_->build(in);
  } catch (const ValueError& e) {
    throw ValueError(std::string("[Residual] shortcut: ") + e.what());
  }
  if (projected != out)
    throw ValueError("[Residual] the shortcut's output does not fit the block's, which it is added to; expected " +
                     shape_text(out) + " (the block's output for samples of shape " + shape_text(in) + "), got " +
                     shape_text(projected));
  return this->set_shapes(in, out);
}

template <typename T>
void Residual<T>::forward(const T* x, long rows, T* y, Mode mode) {
  const long n = rows * this->out_size_;
  body_out_.resize(n);
  body_.forward(x, rows, body_out_.data(), mode);
  if (!shortcut_) {
    for (long i = 0; i < n; ++i) y[i] = x[i] + body_out_[i];
    return;
  }
  shortcut_out_.resize(n);
  shortcut_->forward(x, rows, shortcut_out_.data(), mode);
  for (long i = 0; i < n; ++i) y[i] = body_out_[i] + shortcut_out_[i];
}

template <typename T>
void Residual<T>::infer(const T* x, long rows, T* y) const {
  const long n = rows * this->out_size_;
  ScratchFrame scratch;
  if (!shortcut_) {
    T* body_out = scratch.take<T>(n);
    body_.infer(x, rows, body_out);
    for (long i = 0; i < n; ++i) y[i] = x[i] + body_out[i];
    return;
  }
  // The block writes y directly (y never overlaps x); the sum rounds as forward's does.
  T* shortcut_out = scratch.take<T>(n);
  body_.infer(x, rows, y);
  shortcut_->infer(x, rows, shortcut_out);
  for (long i = 0; i < n; ++i) y[i] += shortcut_out[i];
}

template <typename T>
void Residual<T>::backward(const T* x, const T*, const T* dy, long rows, T* dx, bool accumulate) {
  body_.backward(x, body_out_.data(), dy, rows, dx, accumulate);
  const long n = rows * this->in_size_;
  if (!shortcut_) {
    if (!dx) return;
    for (long i = 0; i < n; ++i) dx[i] += dy[i];
    return;
  }
  // The shortcut's parameters get their gradients even when x needs none (dx null).
  T* shortcut_dx = nullptr;
  if (dx) {
    shortcut_dx_.resize(n);
    shortcut_dx = shortcut_dx_.data();
  }
  shortcut_->backward(x, shortcut_out_.data(), dy, rows, shortcut_dx, accumulate);
  if (!dx) return;
  for (long i = 0; i < n; ++i) dx[i] += shortcut_dx[i];
}

template <typename T>
std::vector<ParameterPtr<T>> Residual<T>::parameters() {
  std::vector<ParameterPtr<T>> all = body_.parameters();
  if (shortcut_)
    for (auto& p : shortcut_->parameters()) all.push_back(p);
  return all;
}

template <typename T>
std::vector<ParameterPtr<T>> Residual<T>::buffers() {
  std::vector<ParameterPtr<T>> all = body_.buffers();
  if (shortcut_)
    for (auto& b : shortcut_->buffers()) all.push_back(b);
  return all;
}

template <typename T>
void Residual<T>::reseed(uint64_t seed) {
  body_.reseed(seed);  // as before shortcuts existed: a saved seed gives the same dropout masks
  if (shortcut_) shortcut_->reseed(mix64(seed));  // a stream apart from the block's
}

template class Residual<float>;
template class Residual<double>;

}  // namespace bprop::nn
