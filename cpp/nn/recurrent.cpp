#include "nn/recurrent.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "core/error.h"
#include "core/interrupt.h"
#include "core/parallel.h"
#include "core/random.h"
#include "core/scratch.h"
#include "core/sizes.h"
#include "gemm/gemm.h"
#include "nn/dropout_mask.h"
#include "nn/init.h"
#include "nn/recurrent_steps.h"

namespace bprop::nn {
namespace {

using gemm::Op;
using ops::CellKind;

// out (cols × rows) = mᵀ for a row-major rows × cols m, in tiles that stay in L1 on both sides.
template <typename T>
void transpose(const T* m, long rows, long cols, T* out) {
  constexpr long kTile = 32;
  for (long i0 = 0; i0 < rows; i0 += kTile)
    for (long j0 = 0; j0 < cols; j0 += kTile) {
      const long i1 = std::min(i0 + kTile, rows), j1 = std::min(j0 + kTile, cols);
      for (long i = i0; i < i1; ++i)
        for (long j = j0; j < j1; ++j) out[j * rows + i] = m[i * cols + j];
    }
}

const char* cell_name(CellKind cell) {
  return cell == CellKind::lstm ? "LSTM" : cell == CellKind::gru ? "GRU" : "RNN";
}

}  // namespace

template <typename T>
Recurrent<T>::Recurrent(const RecurrentConfig& config)
    : config_(config), gates_(ops::gate_count(config.cell)), seed_(config.seed) {
  const std::string where = std::string("[") + cell_name(config.cell) + "]";
  const long H = config.hidden_size;
  if (config.input_size < 1 || H < 1 || config.num_layers < 1)
    throw ValueError(where + " input_size, hidden_size and num_layers must be >= 1; got " +
                     std::to_string(config.input_size) + ", " + std::to_string(H) + " and " +
                     std::to_string(config.num_layers));
  if (!(config.dropout >= 0 && config.dropout < 1))
    throw ValueError(where + " dropout must be in [0, 1); got " + std::to_string(config.dropout));
  const long D = directions();
  // Before allocating: the largest weight, and all of them together.
  checked_count({gates_, H, std::max(config.input_size, D * H)}, 2 * sizeof(T), where + " weight_ih");
  checked_count({config.num_layers, D, gates_, H, config.input_size + (D + 1) * H + 2}, 2 * sizeof(T),
                where + " parameters");
  const double limit = 1.0 / std::sqrt(double(H));  // PyTorch's U(±1/√H) for every parameter
  uint64_t index = 0;
  auto add = [&](const std::string& name, std::vector<long> shape) {
    auto parameter = std::make_shared<Parameter<T>>(name, std::move(shape));
    initialize(parameter->value, "uniform", 0, 0, limit, mix64(config.seed ^ mix64(++index)));
    parameters_.push_back(std::move(parameter));
  };
  const long GH = gates_ * H;
  for (long k = 0; k < config.num_layers; ++k)
    for (long d = 0; d < D; ++d) {
      const std::string suffix = "_l" + std::to_string(k) + (d ? "_reverse" : "");
      add("weight_ih" + suffix, {GH, layer_input_width(k)});
      add("weight_hh" + suffix, {GH, H});
      if (config.bias) {
        add("bias_ih" + suffix, {GH});
        add("bias_hh" + suffix, {GH});
      }
    }
}

template <typename T>
std::string Recurrent<T>::name() const {
  return cell_name(config_.cell);
}

template <typename T>
SampleShape Recurrent<T>::build(const SampleShape& in) {
  if (in.size() != 2 || in[1] != config_.input_size)
    throw ValueError("[" + name() + "] expects samples of shape (time, input_size) with input_size = " +
                     std::to_string(config_.input_size) + "; got samples of shape " + shape_text(in));
  const long DH = directions() * config_.hidden_size;
  SampleShape out = config_.return_sequences ? SampleShape{in[0], DH} : SampleShape{DH};
  SampleShape result = this->set_shapes(in, std::move(out));
  steps_ = in[0];
  return result;
}

template <typename T>
void Recurrent<T>::reseed(uint64_t seed) {
  seed_ = seed;
  training_steps_ = 0;
}

template <typename T>
typename Recurrent<T>::Weights Recurrent<T>::weights(long layer, long dir) const {
  const long per_unit = config_.bias ? 4 : 2;
  const auto* p = &parameters_[std::size_t((layer * directions() + dir) * per_unit)];
  return {p[0]->value.data(), p[1]->value.data(), config_.bias ? p[2]->value.data() : nullptr,
          config_.bias ? p[3]->value.data() : nullptr};
}

// ---- forward ---------------------------------------------------------------------------------------------

template <typename T>
void Recurrent<T>::unit_forward(long layer, long dir, const T* input, long rows, const int64_t* lengths, const T* h0,
                                const T* c0, const UnitBuffers& unit, T* out, const StepScratch& scratch) const {
  const CellKind cell = config_.cell;
  const long H = config_.hidden_size, GH = gates_ * H, steps = steps_, width = layer_input_width(layer);
  const long DH = directions() * H;
  const Weights w = weights(layer, dir);

  // x·W_ihᵀ for every step in one GEMM; the biases, folded into one vector (GRU's b_hn goes inside r⊙(...)),
  // are added by the gate kernel.
  const long folded = cell == CellKind::gru ? 2 * H : GH;
  for (long j = 0; j < GH; ++j) scratch.bias[j] = w.b_ih ? w.b_ih[j] + (j < folded ? w.b_hh[j] : T(0)) : T(0);
  gemm::gemm<T>(Op::N, Op::T, rows * steps, GH, width, T(1), input, width, w.w_ih, width, T(0), unit.gates, GH);
  // W_hhᵀ, so that each step's product reads B row by row (no packing per step; the few-row path at small batches).
  transpose(w.w_hh, GH, H, scratch.weight_hh_t);

  // The initial state goes where the first step reads it.
  const long first = dir == 0 ? 0 : steps - 1;
  const std::size_t row_bytes = sizeof(T) * std::size_t(H);
  for (long r = 0; r < rows; ++r) {
    T* h = unit.states + (r * steps + first) * H;
    if (h0)
      std::memcpy(h, h0 + r * H, row_bytes);
    else
      std::memset(h, 0, row_bytes);
    if (cell != CellKind::lstm) continue;
    T* c = unit.cells + (r * steps + first) * H;
    if (c0)
      std::memcpy(c, c0 + r * H, row_bytes);
    else
      std::memset(c, 0, row_bytes);
  }

  // RNN and LSTM add ĥ into the gates (the step's GEMM with beta = 1); GRU keeps it apart for r⊙(ĥ_n + b_hn).
  // Samples never meet: threads take whole runs of steps for their own rows (recurrent_threads).
  const bool gru = cell == CellKind::gru;
  const long ld = steps * H;
  const auto run_steps = [&](long r0, long r1, long s0, long s1) {
    const long n = r1 - r0;
    const T* weight_hh_t = scratch.weight_hh_t;
    T* gates = unit.gates + r0 * steps * GH;
    T* states = unit.states + r0 * ld;
    T* recurrent = gru ? scratch.recurrent + r0 * GH : nullptr;
    ops::CellForward<T> step;
    step.rows = n;
    step.hidden = H;
    step.bias = scratch.bias;
    step.recurrent = recurrent;
    step.bias_hn = gru && w.b_hh ? w.b_hh + 2 * H : nullptr;
    step.lengths = lengths ? lengths + r0 : nullptr;
    for (long s = s0; s < s1; ++s) {
      const long t = dir == 0 ? s : steps - 1 - s;
      const bool last = s == steps - 1;
      const long next = dir == 0 ? t + 1 : t - 1;
      if (s == 0 && !h0) {  // every row starts from zeros: ĥ is zero
        if (gru) std::memset(recurrent, 0, sizeof(T) * std::size_t(n * GH));
      } else if (gru) {
        gemm::gemm<T>(Op::N, Op::N, n, GH, H, T(1), states + t * H, ld, weight_hh_t, GH, T(0), recurrent, GH);
      } else {
        gemm::gemm<T>(Op::N, Op::N, n, GH, H, T(1), states + t * H, ld, weight_hh_t, GH, T(1), gates + t * GH,
                      steps * GH);
      }
      step.step = t;
      step.gates = {gates + t * GH, steps * GH};
      step.h_prev = {states + t * H, ld};
      step.h_next = last ? ops::Rows<T>{unit.state_final + r0 * H, H} : ops::Rows<T>{states + next * H, ld};
      if (cell == CellKind::lstm) {
        T* cells = unit.cells + r0 * ld;
        step.c_prev = {cells + t * H, ld};
        step.c_next = last ? ops::Rows<T>{unit.cell_final + r0 * H, H} : ops::Rows<T>{cells + next * H, ld};
      }
      if (unit.saved) step.saved = {unit.saved + r0 * ld + t * H, ld};
      step.out = out ? ops::Rows<T>{out + r0 * steps * DH + t * DH + dir * H, steps * DH} : ops::Rows<T>{};
      ops::cell_forward(cell, step);
    }
  };
  for_step_chunks(rows, steps, 2 * GH * H, false, run_steps);
}

template <typename T>
template <class Where>
void Recurrent<T>::run_forward(const T* x, long rows, const int64_t* lengths, const RecurrentStates<T>& states, T* y,
                               bool dropping, const Where& where) const {
  const long L = config_.num_layers, D = directions(), H = config_.hidden_size, DH = D * H;
  const long state = rows * H;  // values of one (rows, H) state
  const T* input = x;
  for (long k = 0; k < L; ++k) {
    const bool last = k == L - 1;
    T* out = last ? (config_.return_sequences ? y : nullptr) : where.output(k);
    for (long d = 0; d < D; ++d) {
      const long u = k * D + d;
      const UnitBuffers unit = where.unit(u);
      unit_forward(k, d, input, rows, lengths, states.h0 ? states.h0 + u * state : nullptr,
                   states.c0 ? states.c0 + u * state : nullptr, unit, out, where.scratch());
      if (states.h_n) std::memcpy(states.h_n + u * state, unit.state_final, sizeof(T) * std::size_t(state));
      if (states.c_n && unit.cell_final)
        std::memcpy(states.c_n + u * state, unit.cell_final, sizeof(T) * std::size_t(state));
      if (last && !config_.return_sequences)
        for (long r = 0; r < rows; ++r)
          std::memcpy(y + r * DH + d * H, unit.state_final + r * H, sizeof(T) * std::size_t(H));
    }
    if (last) break;
    if (dropping) {
      T* dropped = where.dropped(k);
      apply_dropout(out, dropped, rows * steps_ * DH, layer_mask_key(k), config_.dropout);
      input = dropped;
    } else {
      input = out;
    }
  }
}

template <typename T>
typename Recurrent<T>::UnitBuffers Recurrent<T>::unit_buffers(long u) {
  Unit& unit = units_[std::size_t(u)];
  const bool lstm = config_.cell == CellKind::lstm, saves = config_.cell == CellKind::lstm || config_.cell == CellKind::gru;
  return {unit.gates.data(), unit.states.data(), unit.state_final.data(), lstm ? unit.cells.data() : nullptr,
          lstm ? unit.cell_final.data() : nullptr, saves ? unit.saved.data() : nullptr};
}

template <typename T>
void Recurrent<T>::forward_states(const T* x, long rows, const int64_t* lengths, const RecurrentStates<T>& states, T* y,
                                  Mode mode) {
  const long L = config_.num_layers, D = directions(), H = config_.hidden_size, GH = gates_ * H;
  const long sequence = rows * steps_;  // rows of every step
  const bool lstm = config_.cell == CellKind::lstm, saves = lstm || config_.cell == CellKind::gru;
  const bool dropping = mode != Mode::eval && config_.dropout > 0 && L > 1;
  if (dropping && mode == Mode::train) mask_key_ = mix64(seed_ ^ mix64(++training_steps_));
  last_dropping_ = dropping;
  last_rows_ = rows;
  last_steps_ = steps_;
  if (lengths)
    lengths_.assign(lengths, lengths + rows);
  else
    lengths_.clear();

  units_.resize(std::size_t(L * D));
  for (auto& unit : units_) {
    unit.gates.resize(sequence * GH);
    unit.states.resize(sequence * H);
    unit.state_final.resize(rows * H);
    if (lstm) unit.cells.resize(sequence * H), unit.cell_final.resize(rows * H);
    if (saves) unit.saved.resize(sequence * H);
  }
  outputs_.resize(std::size_t(L - 1));
  for (auto& output : outputs_) output.resize(sequence * D * H);
  if (dropping) {
    dropped_.resize(std::size_t(L - 1));
    for (auto& output : dropped_) output.resize(sequence * D * H);
  }
  if (config_.cell == CellKind::gru) recurrent_.resize(rows * GH);  // RNN and LSTM add ĥ into the gates
  weight_hh_t_.resize(H * GH);
  bias_.resize(GH);

  struct Cache {
    Recurrent* self;
    UnitBuffers unit(long u) const { return self->unit_buffers(u); }
    T* output(long k) const { return self->outputs_[std::size_t(k)].data(); }
    T* dropped(long k) const { return self->dropped_[std::size_t(k)].data(); }
    StepScratch scratch() const { return {self->recurrent_.data(), self->weight_hh_t_.data(), self->bias_.data()}; }
  };
  run_forward(x, rows, lengths, states, y, dropping, Cache{this});
}

template <typename T>
void Recurrent<T>::infer_states(const T* x, long rows, const int64_t* lengths, const RecurrentStates<T>& states,
                                T* y) const {
  const long L = config_.num_layers, H = config_.hidden_size, GH = gates_ * H, DH = directions() * H;
  const long sequence = rows * steps_;
  const bool lstm = config_.cell == CellKind::lstm, saves = lstm || config_.cell == CellKind::gru;
  // One unit's buffers serve every layer and direction in turn; layer outputs take turns in two buffers.
  ScratchFrame frame;
  UnitBuffers unit{frame.take<T>(sequence * GH), frame.take<T>(sequence * H), frame.take<T>(rows * H),
                   lstm ? frame.take<T>(sequence * H) : nullptr, lstm ? frame.take<T>(rows * H) : nullptr,
                   saves ? frame.take<T>(sequence * H) : nullptr};
  T* outputs[2] = {L > 1 ? frame.take<T>(sequence * DH) : nullptr, L > 2 ? frame.take<T>(sequence * DH) : nullptr};
  const StepScratch scratch{config_.cell == CellKind::gru ? frame.take<T>(rows * GH) : nullptr, frame.take<T>(H * GH),
                            frame.take<T>(GH)};

  struct InScratch {
    const UnitBuffers& buffers;
    T* const* outputs;
    const StepScratch& steps;
    UnitBuffers unit(long) const { return buffers; }
    T* output(long k) const { return outputs[k % 2]; }
    T* dropped(long) const { return nullptr; }  // never dropping
    StepScratch scratch() const { return steps; }
  };
  run_forward(x, rows, lengths, states, y, false, InScratch{unit, outputs, scratch});
}

// Every member but backward's (recurrent_backward.cpp instantiates those).
template class Recurrent<float>;
template class Recurrent<double>;

}  // namespace bprop::nn
