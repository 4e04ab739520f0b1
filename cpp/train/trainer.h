// The training loop in C++: a chunk of batches per call (the whole epoch when no callback listens to
// batches), with the GIL released by the caller. Per batch: gather the rows named by `order` (the
// shuffle is an index: the data are never copied per epoch) into the model's input buffer, forward,
// loss and its gradient in one pass, backward, optimizer step, and running sums of loss and metrics.
// Every buffer is grown once and reused: no allocation per step after the first.
// Every loop polls for Ctrl-C between batches (core/interrupt.h) and throws Interrupted there.
// Training calls hold the model's cache mutex for their whole run (two fits of one model never
// interleave); evaluate shares no buffer with them or with other evaluations (it infers into its own),
// so it may run from any number of threads at once, in a callback of a running fit included.
#pragma once
#include <cstdint>
#include <vector>

#include "core/array.h"
#include "core/random.h"
#include "loss/loss.h"
#include "nn/model.h"
#include "optim/optimizer.h"
#include "train/accounting.h"
#include "train/metrics.h"

namespace bprop::train {

// A dataset, borrowed for one call and validated by the caller (shapes, finiteness, label range).
template <typename T>
struct Dataset {
  const T* x = nullptr;             // rows samples of `features` values each (a sample of any shape, flat),
  const int64_t* indices = nullptr; // or of `features` indices each, for a network that takes indices
  long rows = 0, features = 0;
  const int64_t* labels = nullptr;  // rows × positions class indices, or
  const T* values = nullptr;        // rows × target_cols values
  long target_cols = 0;
  // Labels per sample: 1, or more when each sample's output is (..., classes) with a label per position
  // (per time step, say): the loss then sees rows × positions rows of out_size / positions classes.
  long positions = 1;
  const T* sample_weight = nullptr;  // rows × weight_positions weights, or null
  // 1: a sample's weight applies to each of its positions; or `positions`: a weight per label position.
  long weight_positions = 1;
};

// One epoch's totals on the training data and, when validation data were given, on those.
// The seed of epoch `epoch`'s random streams in a run seeded with `seed` (splitmix-style mixing, so
// neighbouring epochs get unrelated streams). Python's Module loop uses the same function.
uint64_t epoch_seed(uint64_t seed, long epoch);
// The order an epoch visits n samples in: 0..n-1, or with `shuffle` a Fisher–Yates permutation drawn from a
// generator seeded with that epoch's seed. Both training engines (this trainer and Python's Module loop) take
// it from here, so a Module and the equivalent Sequential fitted with one seed see the same batches.
void epoch_order(uint64_t epoch_seed, bool shuffle, int64_t* order, long n);

struct EpochResult {
  Totals train, validation;
  bool has_validation = false;
};

template <typename T>
class Trainer {
 public:
  Trainer(std::shared_ptr<nn::Model<T>> model, loss::LossPtr<T> loss, optim::OptimizerPtr<T> optimizer,
          std::vector<Metric> metrics);

  // Begins a fit on `data` (borrowed until the next start), batch_size samples a step, the next epoch
  // being `first_epoch`. Every random stream of epoch e (its shuffle, the dropout masks) is drawn from
  // epoch_seed(seed, e) alone, so a seed reproduces a run whether its epochs are driven one batch, one
  // chunk or many epochs per call, and a run resumed at epoch e continues exactly as the whole run would.
  void start(const Dataset<T>& data, long batch_size, uint64_t seed, long first_epoch);
  long batches_per_epoch() const;
  // The next epoch: reseeds the shuffle and the model's dropout from epoch_seed, then the sample order
  // is a fresh permutation (Fisher–Yates) or 0..n-1.
  void new_epoch(bool shuffle);
  // Trains on batches [first, last) of the current epoch; stops early at a non-finite loss (before
  // stepping on it).
  Totals train_batches(long first, long last);
  // `count` whole epochs in one call, each followed by an evaluation on `validation` when given;
  // stops after an epoch that met a non-finite loss. What fit runs when no callback needs the epochs.
  std::vector<EpochResult> run_epochs(long count, bool shuffle, const Dataset<T>* validation);
  // Loss and metrics over a dataset in evaluation mode.
  Totals evaluate(const Dataset<T>& data, long batch_size) const;

 private:
  // A batch's targets and weights, gathered from the dataset in the batch's sample order.
  struct BatchTargets {
    Array<int64_t> labels;
    Array<T> values, weights;  // weights: one per label position
  };
  // Copies a batch's rows into x (or its indices into xi) and its targets and weights into `targets`.
  void gather(const Dataset<T>& data, const int64_t* order, long start, long rows, T* x, int64_t* xi,
              BatchTargets& targets) const;
  // The batch's loss (and, when grad is not null, ∂loss/∂out into it), added to the totals when finite.
  double batch_loss(const Dataset<T>& data, const BatchTargets& batch, long rows, const T* out, T* grad,
                    Totals& totals) const;
  Totals train_batches_locked(long first, long last);

  std::shared_ptr<nn::Model<T>> model_;
  Accounting<T> accounting_;
  optim::OptimizerPtr<T> optimizer_;
  Dataset<T> data_;
  long batch_size_ = 1;
  uint64_t seed_ = 0;
  long epoch_ = 0;  // the epoch new_epoch begins next
  Array<int64_t> order_;
  BatchTargets batch_;
  Array<T> grad_out_;
};

}  // namespace bprop::train
