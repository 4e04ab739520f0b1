// RNN (tanh or ReLU), LSTM and GRU, PyTorch's, batch-major: samples (time, input_size); the output sample is
// (time, D·hidden) with return_sequences, else (D·hidden,): the last layer's final state, the reverse
// direction's (after it ran back to step 0) after the forward one's. D = 2 when bidirectional.
// Parameters, PyTorch's names, shapes and order, per layer k then direction ("_reverse" suffix):
// weight_ih_l{k} (G·H, in_k), weight_hh_l{k} (G·H, H), bias_ih_l{k} (G·H), bias_hh_l{k} (G·H); G = 1, 4
// (i,f,g,o) or 3 (r,z,n); all drawn from U(±1/√H) as PyTorch's. So a PyTorch state dict copies across.
//
// Forward, per layer and direction: one GEMM projects every step's input (the biases added in its
// epilogue); then per step one GEMM h₋·W_hhᵀ and the fused gate kernel (ops/recurrent_cells.h). Dropout
// (seeded masks keyed by the step, as Dropout's) on every layer's output but the last's, in training.
// Backward (BPTT), per layer and direction: per step the gate kernel's backward and ∂h₋ += ∂gates·W_hh;
// then ∂W_hh, ∂W_ih and ∂input as one GEMM each over all steps. Buffers grow with the batch and are reused.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "core/array.h"
#include "core/random.h"
#include "nn/layer.h"
#include "nn/sequence_lengths.h"
#include "ops/recurrent_cells.h"

namespace bprop::nn {

struct RecurrentConfig {
  ops::CellKind cell = ops::CellKind::lstm;
  long input_size = 0, hidden_size = 0, num_layers = 1;
  bool bias = true, bidirectional = false, return_sequences = false;
  double dropout = 0;
  uint64_t seed = 0;
};

// States of every layer and direction, each (num_layers·D, rows, hidden) (index k·D + d), any of them null:
// the initial ones (zeros when null) and where the final ones go. c: LSTM only.
template <typename T>
struct RecurrentStates {
  const T* h0 = nullptr;
  const T* c0 = nullptr;
  T* h_n = nullptr;
  T* c_n = nullptr;
};

// Gradients of the states, shaped as RecurrentStates: ∂L/∂h_n, ∂L/∂c_n in (null: zero), ∂L/∂h0, ∂L/∂c0
// out (null: not wanted).
template <typename T>
struct RecurrentStateGrads {
  const T* dh_n = nullptr;
  const T* dc_n = nullptr;
  T* dh0 = nullptr;
  T* dc0 = nullptr;
};

template <typename T>
class Recurrent : public Layer<T>, public LengthAware<T> {
 public:
  // ValueError for sizes < 1, dropout outside [0, 1).
  explicit Recurrent(const RecurrentConfig& config);

  std::string name() const override;  // "RNN", "LSTM" or "GRU"
  // ValueError unless `in` is (time, input_size).
  SampleShape build(const SampleShape& in) override;
  void forward(const T* x, long rows, T* y, Mode mode) override { forward_states(x, rows, nullptr, {}, y, mode); }
  void backward(const T* x, const T* y, const T* dy, long rows, T* dx, bool accumulate) override {
    backward_states(x, dy, rows, {}, dx, accumulate);
  }
  void infer(const T* x, long rows, T* y) const override { infer_states(x, rows, nullptr, {}, y); }
  std::vector<ParameterPtr<T>> parameters() override { return parameters_; }
  void reseed(uint64_t seed) override;
  std::vector<uint64_t> random_state() const override { return {seed_, training_steps_, mask_key_}; }
  void set_random_state(const std::vector<uint64_t>& state) override {
    this->check_random_state(state, 3);
    seed_ = state[0], training_steps_ = state[1], mask_key_ = state[2];
  }
  bool caches_forward() const override { return true; }

  LengthAware<T>* length_aware() override { return this; }
  void forward_lengths(const T* x, const int64_t* lengths, long rows, T* y, Mode mode) override {
    forward_states(x, rows, lengths, {}, y, mode);
  }
  void infer_lengths(const T* x, const int64_t* lengths, long rows, T* y) const override {
    infer_states(x, rows, lengths, {}, y);
  }

  // The general entry points: lengths (null: every sample is `time` steps long, else each in [1, time],
  // checked by the caller), initial states and final states (RecurrentStates). backward_states follows
  // the last forward_states (its lengths, its dropout masks): dy = ∂L/∂y (y as the layer outputs it) and
  // the final states' gradients in; dx (null: not wanted), the initial states' gradients and the
  // parameters' gradients (overwritten, or added to when `accumulate`) out.
  void forward_states(const T* x, long rows, const int64_t* lengths, const RecurrentStates<T>& states, T* y, Mode mode);
  void infer_states(const T* x, long rows, const int64_t* lengths, const RecurrentStates<T>& states, T* y) const;
  // ValueError, before any work, unless a forward of `rows` samples of the shape built for came last.
  void backward_states(const T* x, const T* dy, long rows, const RecurrentStateGrads<T>& grads, T* dx, bool accumulate);

  const RecurrentConfig& config() const { return config_; }
  long directions() const { return config_.bidirectional ? 2 : 1; }
  long state_count() const { return config_.num_layers * directions(); }  // the first axis of h0, h_n, ...
  long steps() const { return steps_; }  // the time axis of the samples it was built for

 private:
  // Where one layer and direction computes, each (rows, time, width) batch-major: the gates (x̂ going in,
  // the activations backward reads coming out; G·H), the state before each step (H) and after the last one
  // (rows, H), the same for the LSTM's cell, and what the cell kernel saves (H).
  struct UnitBuffers {
    T *gates, *states, *state_final, *cells, *cell_final, *saved;
  };
  // What every step of a unit shares: GRU's ĥ of one step (rows, G·H), W_hhᵀ (H, G·H), the folded bias (G·H).
  struct StepScratch {
    T *recurrent, *weight_hh_t, *bias;
  };
  struct Unit {  // a training forward's cache of one layer and direction
    Array<T> gates, states, state_final, cells, cell_final, saved;
  };
  struct Weights {  // one layer and direction's parameters' values (biases null without bias)
    const T *w_ih, *w_hh, *b_ih, *b_hh;
  };

  // The whole forward; `where` gives the buffers (the cache, or a ScratchFrame's for infer).
  template <class Where>
  void run_forward(const T* x, long rows, const int64_t* lengths, const RecurrentStates<T>& states, T* y,
                   bool dropping, const Where& where) const;
  void unit_forward(long layer, long dir, const T* input, long rows, const int64_t* lengths, const T* h0, const T* c0,
                    const UnitBuffers& unit, T* out, const StepScratch& scratch) const;
  // want_initial: whether ∂L/∂h0 is wanted (dh_ then holds it afterwards; dc_ holds ∂L/∂c0 in any case).
  void unit_backward(long layer, long dir, const T* input, long rows, const int64_t* lengths, const UnitBuffers& unit,
                     const T* d_out, T* d_in, bool add_to_d_in, bool accumulate, bool want_initial);
  Weights weights(long layer, long dir) const;
  // The key of the dropout mask on layer `layer`'s output in the last training forward.
  uint64_t layer_mask_key(long layer) const { return mix64(mask_key_ ^ uint64_t(layer + 1)); }
  long layer_input_width(long layer) const { return layer == 0 ? config_.input_size : directions() * config_.hidden_size; }
  UnitBuffers unit_buffers(long unit);

  RecurrentConfig config_;
  long gates_ = 1;  // G
  long steps_ = 0;  // the time axis of the samples built for
  std::vector<ParameterPtr<T>> parameters_;  // PyTorch's order

  // Dropout: keyed by (seed, training forwards since seeded), as MaskedDropout's (nn/dropout_mask.h).
  uint64_t seed_ = 0, training_steps_ = 0, mask_key_ = 0;

  // The last forward_states, for backward_states.
  std::vector<Unit> units_;
  std::vector<Array<T>> outputs_, dropped_;  // per layer but the last: its output sequence, and with dropout
  Array<T> recurrent_, weight_hh_t_, bias_;
  std::vector<int64_t> lengths_;  // empty: every sample full length
  long last_rows_ = 0, last_steps_ = 0;
  bool last_dropping_ = false;
  // Backward's buffers.
  Array<T> d_gates_, d_gates_hh_, d_seq_a_, d_seq_b_, dh_, dc_, column_sums_;
};

}  // namespace bprop::nn
