// MaskedDropout: what Dropout and Dropout2d share, a layer that multiplies by a random mask in training
// and is the identity in evaluation. It holds p, the seed and the mask of the last training forward. The
// mask is keyed by (seed, step): the layer's seed (Sequential gives each position its own) and the count of
// training forwards since it was seeded, each of its values drawn from its index by a counter-based draw.
// So a seed reproduces every mask, and Mode::replay draws the last one again. The layers differ in what one
// mask value covers: a value (Dropout) or a whole channel plane (Dropout2d).
#pragma once
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "core/array.h"
#include "core/error.h"
#include "core/random.h"
#include "nn/layer.h"

namespace bprop::nn {

// Whether value `i` of the mask keyed `key` is kept (probability 1 - p): the one draw of every dropout mask
// (Dropout, Dropout2d, the recurrent layers' dropout between layers). Kept values are scaled by 1/(1-p).
inline bool dropout_keeps(uint64_t key, long i, double p) { return counter_uniform(key, uint64_t(i)) >= p; }

// out = v ⊙ the mask keyed `key` over n values (out may be v): a mask applied where it is drawn, never stored.
template <typename T>
void apply_dropout(const T* v, T* out, long n, uint64_t key, double p) {
  const T keep_scale = T(1 / (1 - p));  // p < 1
  for (long i = 0; i < n; ++i) out[i] = dropout_keeps(key, i, p) ? v[i] * keep_scale : T(0);
}

template <typename T>
class MaskedDropout : public Layer<T> {
 public:
  void infer(const T* x, long rows, T* y) const override {  // the identity
    if (x != y) std::memcpy(y, x, sizeof(T) * std::size_t(rows * this->in_size_));
  }
  void reseed(uint64_t seed) override {
    seed_ = seed;
    steps_ = 0;
  }
  std::vector<uint64_t> random_state() const override { return {seed_, steps_, mask_key_}; }
  void set_random_state(const std::vector<uint64_t>& state) override {
    this->check_random_state(state, 3);
    seed_ = state[0], steps_ = state[1], mask_key_ = state[2];
  }
  bool caches_forward() const override { return true; }  // the mask

 protected:
  // layer: the name its ValueError starts with. ValueError unless 0 <= p <= 1.
  MaskedDropout(const char* layer, double p, uint64_t seed) : p_(p), seed_(seed) {
    if (!(p >= 0 && p <= 1))
      throw ValueError(std::string("[") + layer + "] p must be in [0, 1]; got " + std::to_string(p));
  }

  // Whether this forward drops values (training or replay, and p > 0), kept for backward; in Mode::train
  // it also moves on to the next step's mask key (replay keeps the last one).
  bool dropping(Mode mode) {
    last_training_ = mode != Mode::eval && p_ > 0;
    if (last_training_ && mode == Mode::train) mask_key_ = mix64(seed_ ^ mix64(++steps_));
    return last_training_;
  }
  // mask_ = `count` values of the current key's mask: each 0 with probability p, else 1/(1-p).
  void draw_mask(long count) {
    mask_.resize(count);
    const T keep_scale = p_ < 1 ? T(1 / (1 - p_)) : T(0);
    for (long i = 0; i < count; ++i) mask_[i] = dropout_keeps(mask_key_, i, p_) ? keep_scale : T(0);
  }

  double p_;
  uint64_t seed_, steps_ = 0;  // steps_: training forwards since the seed was set
  uint64_t mask_key_ = 0;      // the key of the last training forward's mask
  Array<T> mask_;              // 0 or 1/(1-p) per value the last training forward drew
  bool last_training_ = false;
};

}  // namespace bprop::nn
