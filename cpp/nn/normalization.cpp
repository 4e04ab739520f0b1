#include "nn/normalization.h"

#include <cmath>

#include "core/error.h"
#include "ops/normalization.h"

namespace bprop::nn {
namespace {

template <typename T>
ParameterPtr<T> filled(const char* name, long features, T value) {
  auto p = std::make_shared<Parameter<T>>(name, std::vector<long>{features});
  p->value.fill(value);
  return p;
}

void check_features(const char* layer, long features, double eps) {
  if (features < 1) throw ValueError(std::string("[") + layer + "] features must be >= 1; got " + std::to_string(features));
  if (!(eps > 0)) throw ValueError(std::string("[") + layer + "] eps must be > 0; got " + std::to_string(eps));
}

// γ and β gradients shared by both layers: dγ = Σ dy·xhat, dβ = Σ dy over the batch.
template <typename T>
void affine_grads(const T* dy, const T* xhat, long rows, long width, Parameter<T>& weight, Parameter<T>& bias,
                  bool accumulate) {
  T* dgamma = weight.grad.data();
  T* dbeta = bias.grad.data();
  if (!accumulate) {
    weight.grad.fill(T(0));
    bias.grad.fill(T(0));
  }
  for (long r = 0; r < rows; ++r)
    for (long j = 0; j < width; ++j) {
      dgamma[j] += dy[r * width + j] * xhat[r * width + j];
      dbeta[j] += dy[r * width + j];
    }
}

}  // namespace

template <typename T>
BatchNorm<T>::BatchNorm(long features, double eps, double momentum) : eps_(T(eps)), momentum_(T(momentum)) {
  check_features("BatchNorm", features, eps);
  if (!(momentum >= 0 && momentum <= 1))
    throw ValueError("[BatchNorm] momentum must be in [0, 1]; got " + std::to_string(momentum));
  this->in_features_ = this->out_features_ = features;
  weight_ = filled<T>("weight", features, T(1));
  bias_ = filled<T>("bias", features, T(0));
  running_mean_ = filled<T>("running_mean", features, T(0));
  running_var_ = filled<T>("running_var", features, T(1));
}

template <typename T>
long BatchNorm<T>::build(long in_features) {
  return this->expect_width(in_features);
}

template <typename T>
void BatchNorm<T>::forward(const T* x, long rows, T* y, bool training) {
  const long w = this->in_features_;
  xhat_.resize(rows * w);
  inv_std_.resize(w);
  T* rmean = running_mean_->value.data();
  T* rvar = running_var_->value.data();
  for (long j = 0; j < w; ++j) {
    if (training) {
      T mean, var;
      inv_std_[j] = ops::normalize_group(x + j, rows, w, eps_, xhat_.data() + j, mean, var);
      rmean[j] = (T(1) - momentum_) * rmean[j] + momentum_ * mean;
      if (rows > 1) rvar[j] = (T(1) - momentum_) * rvar[j] + momentum_ * var * T(rows) / T(rows - 1);
    } else {
      inv_std_[j] = T(1) / std::sqrt(rvar[j] + eps_);
      for (long r = 0; r < rows; ++r) xhat_[r * w + j] = (x[r * w + j] - rmean[j]) * inv_std_[j];
    }
  }
  const T* gamma = weight_->value.data();
  const T* beta = bias_->value.data();
  for (long r = 0; r < rows; ++r)
    for (long j = 0; j < w; ++j) y[r * w + j] = gamma[j] * xhat_[r * w + j] + beta[j];
  training_stats_ = training;
}

template <typename T>
void BatchNorm<T>::backward(const T*, const T*, const T* dy, long rows, T* dx, bool accumulate) {
  const long w = this->in_features_;
  affine_grads(dy, xhat_.data(), rows, w, *weight_, *bias_, accumulate);
  if (!dx) return;
  const T* gamma = weight_->value.data();
  for (long j = 0; j < w; ++j) {
    if (training_stats_) {
      ops::normalize_group_backward(dy + j, xhat_.data() + j, gamma + j, 0, rows, w, inv_std_[j], dx + j);
    } else {  // running statistics are constants: the layer is affine in x
      for (long r = 0; r < rows; ++r) dx[r * w + j] = dy[r * w + j] * gamma[j] * inv_std_[j];
    }
  }
}

template <typename T>
LayerNorm<T>::LayerNorm(long features, double eps) : eps_(T(eps)) {
  check_features("LayerNorm", features, eps);
  this->in_features_ = this->out_features_ = features;
  weight_ = filled<T>("weight", features, T(1));
  bias_ = filled<T>("bias", features, T(0));
}

template <typename T>
long LayerNorm<T>::build(long in_features) {
  return this->expect_width(in_features);
}

template <typename T>
void LayerNorm<T>::forward(const T* x, long rows, T* y, bool) {
  const long w = this->in_features_;
  xhat_.resize(rows * w);
  inv_std_.resize(rows);
  const T* gamma = weight_->value.data();
  const T* beta = bias_->value.data();
  for (long r = 0; r < rows; ++r) {
    T mean, var;
    inv_std_[r] = ops::normalize_group(x + r * w, w, 1L, eps_, xhat_.data() + r * w, mean, var);
    for (long j = 0; j < w; ++j) y[r * w + j] = gamma[j] * xhat_[r * w + j] + beta[j];
  }
}

template <typename T>
void LayerNorm<T>::backward(const T*, const T*, const T* dy, long rows, T* dx, bool accumulate) {
  const long w = this->in_features_;
  affine_grads(dy, xhat_.data(), rows, w, *weight_, *bias_, accumulate);
  if (!dx) return;
  for (long r = 0; r < rows; ++r)
    ops::normalize_group_backward(dy + r * w, xhat_.data() + r * w, weight_->value.data(), 1L, w, 1L, inv_std_[r],
                                  dx + r * w);
}

template class BatchNorm<float>;
template class BatchNorm<double>;
template class LayerNorm<float>;
template class LayerNorm<double>;

}  // namespace bprop::nn
