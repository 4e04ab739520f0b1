#include "nn/batch_norm_2d.h"

#include <cmath>

#include "core/error.h"
#include "core/scratch.h"
#include "core/sizes.h"

namespace bprop::nn {
template <typename T>
ChannelBatchNorm<T>::ChannelBatchNorm(const char* name, const char* sample_text, int min_rank, int max_rank,
                                      long channels, double eps, double momentum)
    : name_(name), sample_text_(sample_text), min_rank_(min_rank), max_rank_(max_rank), eps_(eps), momentum_(momentum) {
  const std::string where = "[" + name_ + "]";
  if (channels < 1) throw ValueError(where + " num_features must be >= 1; got " + std::to_string(channels));
  if (!(eps > 0)) throw ValueError(where + " eps must be > 0; got " + std::to_string(eps));
  if (!(momentum >= 0 && momentum <= 1))
    throw ValueError(where + " momentum must be in [0, 1]; got " + std::to_string(momentum));
  checked_count({channels}, 8 * sizeof(T), where + " parameter");  // four parameters, each value and gradient
  channels_ = channels;
  weight_ = filled_parameter<T>("weight", channels, T(1));
  bias_ = filled_parameter<T>("bias", channels, T(0));
  running_mean_ = filled_parameter<T>("running_mean", channels, T(0));
  running_var_ = filled_parameter<T>("running_var", channels, T(1));
}

template <typename T>
SampleShape ChannelBatchNorm<T>::build(const SampleShape& in) {
  const long rank = long(in.size());
  if (rank < min_rank_ || rank > max_rank_ || in[0] != channels_)
    throw ValueError("[" + name_ + "] expects samples of shape " + sample_text_ + " with C = " +
                     std::to_string(channels_) + "; got " + shape_text(in));
  return this->keep_shape(in);
}

template <typename T>
void ChannelBatchNorm<T>::eval_affine(T* scale, T* shift) const {
  const T* gamma = weight_->value.data();
  const T* beta = bias_->value.data();
  const T* mean = running_mean_->value.data();
  const T* var = running_var_->value.data();
  for (long c = 0; c < channels_; ++c) {
    const double s = double(gamma[c]) / std::sqrt(double(var[c]) + eps_);
    scale[c] = T(s);
    shift[c] = T(double(beta[c]) - double(mean[c]) * s);
  }
}

template <typename T>
void ChannelBatchNorm<T>::infer(const T* x, long rows, T* y) const {
  ScratchFrame scratch;
  T* scale = scratch.take<T>(channels_);
  T* shift = scratch.take<T>(channels_);
  eval_affine(scale, shift);
  ops::channel_affine(x, layout(rows), scale, shift, y);
}

template <typename T>
void ChannelBatchNorm<T>::use_running_stats() {
  for (long c = 0; c < channels_; ++c) {
    mean_[c] = double(running_mean_->value[c]);
    inv_std_[c] = 1.0 / std::sqrt(double(running_var_->value[c]) + eps_);
  }
}

template <typename T>
void ChannelBatchNorm<T>::forward(const T* x, long rows, T* y, Mode mode) {
  const long C = channels_;
  const ops::ChannelLayout shape = layout(rows);
  mean_.resize(C);
  inv_std_.resize(C);
  batch_stats_ = mode != Mode::eval;
  if (!batch_stats_) {  // infer's arithmetic; the running statistics are kept for backward
    affine_.resize(2 * C);
    eval_affine(affine_.data(), affine_.data() + C);
    ops::channel_affine(x, shape, affine_.data(), affine_.data() + C, y);
    use_running_stats();
    return;
  }
  partial_.resize(shape.planes());
  scratch_.resize(C);
  double* var = scratch_.data();
  ops::channel_moments(x, shape, partial_.data(), mean_.data(), var);
  for (long c = 0; c < C; ++c) inv_std_[c] = 1.0 / std::sqrt(var[c] + eps_);
  ops::channel_normalize(x, shape, mean_.data(), inv_std_.data(), weight_->value.data(), bias_->value.data(), y);
  if (mode == Mode::replay) return;  // the statistics were counted when this batch first ran
  const double count = double(shape.samples) * double(shape.plane);
  T* running_mean = running_mean_->value.data();
  T* running_var = running_var_->value.data();
  for (long c = 0; c < C; ++c) {
    running_mean[c] = T((1 - momentum_) * double(running_mean[c]) + momentum_ * mean_[c]);
    if (count > 1) running_var[c] = T((1 - momentum_) * double(running_var[c]) + momentum_ * var[c] * count / (count - 1));
  }
}

template <typename T>
void ChannelBatchNorm<T>::backward(const T* x, const T*, const T* dy, long rows, T* dx, bool accumulate) {
  const long C = channels_;
  const ops::ChannelLayout shape = layout(rows);
  if (mean_.size() < C) {  // no forward yet (a misuse): differentiate the evaluation map rather than read nothing
    mean_.resize(C);
    inv_std_.resize(C);
    use_running_stats();
    batch_stats_ = false;
  }
  partial_.resize(2 * shape.planes());
  scratch_.resize(5 * C);
  double* sum_dy = scratch_.data();
  double* sum_dy_centered = sum_dy + C;
  ops::channel_grad_sums(x, dy, shape, mean_.data(), partial_.data(), sum_dy, sum_dy_centered);
  // dγ = Σ dy·xhat with xhat = (x − mean)·inv_std; dβ = Σ dy.
  T* dgamma = weight_->grad.data();
  T* dbeta = bias_->grad.data();
  for (long c = 0; c < C; ++c) {
    const T dg = T(sum_dy_centered[c] * inv_std_[c]), db = T(sum_dy[c]);
    dgamma[c] = accumulate ? dgamma[c] + dg : dg;
    dbeta[c] = accumulate ? dbeta[c] + db : db;
  }
  if (!dx) return;
  // Batch statistics: dx = γ·inv_std·(dy − mean(dy) − xhat·mean(dy·xhat)) = a·(dy − mean(dy)) − b·(x − mean)
  // with a = γ·inv_std, b = γ·inv_std³·Σ dy·(x − mean)/count. Running statistics: dx = a·dy.
  double* a = sum_dy_centered + C;
  double* b = a + C;
  double* dy_mean = b + C;
  const T* gamma = weight_->value.data();
  const double count = double(shape.samples) * double(shape.plane);
  for (long c = 0; c < C; ++c) {
    const double inv = inv_std_[c];
    a[c] = double(gamma[c]) * inv;
    b[c] = a[c] * inv * inv * sum_dy_centered[c] / count;
    dy_mean[c] = sum_dy[c] / count;
  }
  if (batch_stats_)
    ops::channel_input_grad(x, dy, shape, mean_.data(), a, b, dy_mean, dx);
  else
    ops::channel_input_grad(x, dy, shape, mean_.data(), a, nullptr, nullptr, dx);
}

template class ChannelBatchNorm<float>;
template class ChannelBatchNorm<double>;

}  // namespace bprop::nn
