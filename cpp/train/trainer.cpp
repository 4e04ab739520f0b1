#include "train/trainer.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <mutex>

#include "core/interrupt.h"

namespace bprop::train {

template <typename T>
Trainer<T>::Trainer(std::shared_ptr<nn::Model<T>> model, loss::LossPtr<T> loss, optim::OptimizerPtr<T> optimizer,
                    std::vector<Metric> metrics)
    : model_(std::move(model)), accounting_(std::move(loss), std::move(metrics)), optimizer_(std::move(optimizer)) {}

uint64_t epoch_seed(uint64_t seed, long epoch) {
  uint64_t z = seed + 0x9e3779b97f4a7c15ULL * uint64_t(epoch + 1);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

void epoch_order(uint64_t epoch_seed, bool shuffle, int64_t* order, long n) {
  for (long i = 0; i < n; ++i) order[i] = i;
  if (!shuffle) return;
  Generator rng(epoch_seed);
  for (long i = n - 1; i > 0; --i) std::swap(order[i], order[long(rng.below(uint64_t(i + 1)))]);
}

template <typename T>
void Trainer<T>::start(const Dataset<T>& data, long batch_size, uint64_t seed, long first_epoch) {
  data_ = data;
  batch_size_ = batch_size;
  seed_ = seed;
  epoch_ = first_epoch;
  order_.resize(data.rows);
  for (long i = 0; i < data.rows; ++i) order_[i] = i;
}

template <typename T>
long Trainer<T>::batches_per_epoch() const {
  return data_.rows / batch_size_ + (data_.rows % batch_size_ != 0);  // rows + batch_size - 1 could overflow
}

template <typename T>
void Trainer<T>::new_epoch(bool shuffle) {
  optimizer_->set_epoch(epoch_);  // what a per-epoch schedule reads
  const uint64_t seed = epoch_seed(seed_, epoch_++);
  model_->net().reseed(seed ^ 0xd1b54a32d192ed03ULL);  // dropout: a stream apart from the shuffle's
  epoch_order(seed, shuffle, order_.data(), data_.rows);
}

template <typename T>
void Trainer<T>::gather(const Dataset<T>& data, const int64_t* order, long start, long rows, T* x, int64_t* xi,
                        BatchTargets& batch) const {
  const long f = data.features, c = data.target_cols, p = data.positions;
  if (data.labels) batch.labels.resize(rows * p);
  if (data.values) batch.values.resize(rows * c);
  if (data.sample_weight) batch.weights.resize(rows * p);
  for (long r = 0; r < rows; ++r) {
    const long i = order ? long(order[start + r]) : start + r;
    if (data.indices)
      std::memcpy(xi + r * f, data.indices + i * f, sizeof(int64_t) * std::size_t(f));
    else
      std::memcpy(x + r * f, data.x + i * f, sizeof(T) * std::size_t(f));
    if (data.labels) std::memcpy(batch.labels.data() + r * p, data.labels + i * p, sizeof(int64_t) * std::size_t(p));
    if (data.values) std::memcpy(batch.values.data() + r * c, data.values + i * c, sizeof(T) * std::size_t(c));
    if (data.sample_weight && data.weight_positions == p)
      std::memcpy(batch.weights.data() + r * p, data.sample_weight + i * p, sizeof(T) * std::size_t(p));
    else if (data.sample_weight)  // a sample's weight applies to each of its positions
      for (long k = 0; k < p; ++k) batch.weights[r * p + k] = data.sample_weight[i];
  }
}

template <typename T>
double Trainer<T>::batch_loss(const Dataset<T>& data, const BatchTargets& batch, long rows, const T* out, T* grad,
                              Totals& totals) const {
  loss::Targets<T> targets;
  if (data.labels) targets.labels = batch.labels.data();
  if (data.values) targets.values = batch.values.data();
  return accounting_.add_batch(out, rows, model_->out_size(), data.labels ? data.positions : 1, targets,
                               data.sample_weight ? batch.weights.data() : nullptr, grad, totals);
}

template <typename T>
Totals Trainer<T>::train_batches(long first, long last) {
  std::lock_guard<std::mutex> lock(model_->net().cache_mutex());
  return train_batches_locked(first, last);
}

template <typename T>
Totals Trainer<T>::train_batches_locked(long first, long last) {
  Totals totals;
  totals.metric_sums.assign(accounting_.metrics().size(), 0.0);
  const long cols = model_->out_size();
  for (long b = first; b < last; ++b) {
    const long start = b * batch_size_, rows = std::min(batch_size_, data_.rows - start);
    gather(data_, order_.data(), start, rows, data_.indices ? nullptr : model_->input(rows),
           data_.indices ? model_->index_input(rows) : nullptr, batch_);
    const T* out = model_->forward(rows, nn::Mode::train);
    grad_out_.resize(rows * cols);
    const double value = batch_loss(data_, batch_, rows, out, grad_out_.data(), totals);
    if (!std::isfinite(value)) {  // never step on a NaN/Inf gradient: stop and say where
      totals.nonfinite = true;
      totals.nonfinite_batch = b;
      break;
    }
    model_->backward(grad_out_.data(), false);
    optimizer_->step();
    throw_if_interrupted();  // Ctrl-C: stop here, with the weights of this completed step
  }
  return totals;
}

template <typename T>
std::vector<EpochResult> Trainer<T>::run_epochs(long count, bool shuffle, const Dataset<T>* validation) {
  std::lock_guard<std::mutex> lock(model_->net().cache_mutex());
  std::vector<EpochResult> results;
  results.reserve(std::size_t(count));
  for (long e = 0; e < count; ++e) {
    new_epoch(shuffle);
    EpochResult result;
    result.train = train_batches_locked(0, batches_per_epoch());
    if (validation) {
      result.validation = evaluate(*validation, batch_size_);
      result.has_validation = true;
    }
    results.push_back(std::move(result));
    if (results.back().train.nonfinite) break;
  }
  return results;
}

template <typename T>
Totals Trainer<T>::evaluate(const Dataset<T>& data, long batch_size) const {
  Totals totals;
  totals.metric_sums.assign(accounting_.metrics().size(), 0.0);
  const long step = std::min(batch_size, data.rows);
  Array<T> x(data.indices ? 0 : step * data.features), out(step * model_->out_size());
  Array<int64_t> xi(data.indices ? step * data.features : 0);
  BatchTargets batch;
  for (long start = 0; start < data.rows; start += step) {
    const long rows = std::min(step, data.rows - start);
    gather(data, nullptr, start, rows, x.data(), xi.data(), batch);
    if (data.indices)
      model_->net().index_input()->infer_indices(xi.data(), rows, out.data());
    else
      model_->net().infer(x.data(), rows, out.data());
    if (!std::isfinite(batch_loss(data, batch, rows, out.data(), nullptr, totals))) totals.nonfinite = true;
    throw_if_interrupted();
  }
  return totals;
}

template class Trainer<float>;
template class Trainer<double>;

}  // namespace bprop::train
