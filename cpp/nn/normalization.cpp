#include "nn/normalization.h"

#include <cmath>

#include "core/error.h"
#include "core/scratch.h"
#include "core/sizes.h"
#include "ops/normalization.h"

namespace bprop::nn {
template <typename T>
AffineNorm<T>::AffineNorm(const char* layer, long features, double eps) : eps_(T(eps)) {
  if (features < 1) throw ValueError(std::string("[") + layer + "] features must be >= 1; got " + std::to_string(features));
  if (!(eps > 0)) throw ValueError(std::string("[") + layer + "] eps must be > 0; got " + std::to_string(eps));
  checked_count({features}, 8 * sizeof(T), std::string("[") + layer + "] parameter");
  features_ = features;
  weight_ = filled_parameter<T>("weight", features, T(1));
  bias_ = filled_parameter<T>("bias", features, T(0));
}

template <typename T>
void AffineNorm<T>::scale_and_shift(long rows, T* y) const {
  const long w = this->features_;
  const T* gamma = weight_->value.data();
  const T* beta = bias_->value.data();
  for (long r = 0; r < rows; ++r)
    for (long j = 0; j < w; ++j) y[r * w + j] = gamma[j] * xhat_[r * w + j] + beta[j];
}

template <typename T>
void AffineNorm<T>::affine_grads(const T* dy, long rows, bool accumulate) {
  const long w = this->features_;
  if (!accumulate) {
    weight_->grad.fill(T(0));
    bias_->grad.fill(T(0));
  }
  T* dgamma = weight_->grad.data();
  T* dbeta = bias_->grad.data();
  for (long r = 0; r < rows; ++r)
    for (long j = 0; j < w; ++j) {
      dgamma[j] += dy[r * w + j] * xhat_[r * w + j];
      dbeta[j] += dy[r * w + j];
    }
}

template <typename T>
void AffineNorm<T>::cache_for(const T* x, long rows) {
  if (rows == cached_rows_) return;
  ScratchFrame scratch;
  this->forward(x, rows, scratch.take<T>(rows * this->out_size_), Mode::eval);
}

template <typename T>
BatchNorm<T>::BatchNorm(long features, double eps, double momentum)
    : AffineNorm<T>("BatchNorm", features, eps), momentum_(T(momentum)) {
  if (!(momentum >= 0 && momentum <= 1))
    throw ValueError("[BatchNorm] momentum must be in [0, 1]; got " + std::to_string(momentum));
  running_mean_ = filled_parameter<T>("running_mean", features, T(0));
  running_var_ = filled_parameter<T>("running_var", features, T(1));
}

template <typename T>
void BatchNorm<T>::forward(const T* x, long rows, T* y, Mode mode) {
  this->cached_rows_ = rows;
  rows = this->last_axis_rows(rows);
  const long w = this->features_;
  this->xhat_.resize(rows * w);
  this->inv_std_.resize(w);
  T* xhat = this->xhat_.data();
  T* rmean = running_mean_->value.data();
  T* rvar = running_var_->value.data();
  for (long j = 0; j < w; ++j) {
    if (mode != Mode::eval) {
      T mean, var;
      this->inv_std_[j] = ops::normalize_group(x + j, rows, w, this->eps_, xhat + j, mean, var);
      if (mode == Mode::replay) continue;  // the statistics were counted when this batch first ran
      rmean[j] = (T(1) - momentum_) * rmean[j] + momentum_ * mean;
      if (rows > 1) rvar[j] = (T(1) - momentum_) * rvar[j] + momentum_ * var * T(rows) / T(rows - 1);
    } else {
      this->inv_std_[j] = T(1) / std::sqrt(rvar[j] + this->eps_);
      for (long r = 0; r < rows; ++r) xhat[r * w + j] = (x[r * w + j] - rmean[j]) * this->inv_std_[j];
    }
  }
  this->scale_and_shift(rows, y);
  training_stats_ = mode != Mode::eval;
}

template <typename T>
void BatchNorm<T>::infer(const T* x, long rows, T* y) const {
  rows = this->last_axis_rows(rows);
  // The arithmetic of forward(training=false), in the same order, without its caches.
  const long w = this->features_;
  const T* rmean = running_mean_->value.data();
  const T* rvar = running_var_->value.data();
  const T* gamma = this->weight_->value.data();
  const T* beta = this->bias_->value.data();
  ScratchFrame scratch;
  T* inv_std = scratch.take<T>(w);
  for (long j = 0; j < w; ++j) inv_std[j] = T(1) / std::sqrt(rvar[j] + this->eps_);
  for (long r = 0; r < rows; ++r)
    for (long j = 0; j < w; ++j) y[r * w + j] = gamma[j] * ((x[r * w + j] - rmean[j]) * inv_std[j]) + beta[j];
}

template <typename T>
void BatchNorm<T>::backward(const T* x, const T*, const T* dy, long rows, T* dx, bool accumulate) {
  this->cache_for(x, rows);
  rows = this->last_axis_rows(rows);
  const long w = this->features_;
  this->affine_grads(dy, rows, accumulate);
  if (!dx) return;
  const T* gamma = this->weight_->value.data();
  for (long j = 0; j < w; ++j) {
    if (training_stats_) {
      ops::normalize_group_backward(dy + j, this->xhat_.data() + j, gamma + j, 0, rows, w, this->inv_std_[j], dx + j);
    } else {  // running statistics are constants: the layer is affine in x
      for (long r = 0; r < rows; ++r) dx[r * w + j] = dy[r * w + j] * gamma[j] * this->inv_std_[j];
    }
  }
}

template <typename T>
void LayerNorm<T>::forward(const T* x, long rows, T* y, Mode) {
  this->cached_rows_ = rows;
  rows = this->last_axis_rows(rows);
  const long w = this->features_;
  this->xhat_.resize(rows * w);
  this->inv_std_.resize(rows);
  for (long r = 0; r < rows; ++r) {
    T mean, var;
    this->inv_std_[r] = ops::normalize_group(x + r * w, w, 1L, this->eps_, this->xhat_.data() + r * w, mean, var);
  }
  this->scale_and_shift(rows, y);
}

template <typename T>
void LayerNorm<T>::infer(const T* x, long rows, T* y) const {
  rows = this->last_axis_rows(rows);
  // xhat is written straight into y, then scaled and shifted in place: forward's arithmetic, no cache.
  const long w = this->features_;
  const T* gamma = this->weight_->value.data();
  const T* beta = this->bias_->value.data();
  for (long r = 0; r < rows; ++r) {
    T mean, var;
    T* row = y + r * w;
    ops::normalize_group(x + r * w, w, 1L, this->eps_, row, mean, var);
    for (long j = 0; j < w; ++j) row[j] = gamma[j] * row[j] + beta[j];
  }
}

template <typename T>
void LayerNorm<T>::backward(const T* x, const T*, const T* dy, long rows, T* dx, bool accumulate) {
  this->cache_for(x, rows);
  rows = this->last_axis_rows(rows);
  const long w = this->features_;
  this->affine_grads(dy, rows, accumulate);
  if (!dx) return;
  for (long r = 0; r < rows; ++r)
    ops::normalize_group_backward(dy + r * w, this->xhat_.data() + r * w, this->weight_->value.data(), 1L, w, 1L,
                                  this->inv_std_[r], dx + r * w);
}

template class AffineNorm<float>;
template class AffineNorm<double>;
template class BatchNorm<float>;
template class BatchNorm<double>;
template class LayerNorm<float>;
template class LayerNorm<double>;

}  // namespace bprop::nn
