// Backpropagation through time of the recurrent layers (nn/recurrent.h): per layer, last to first, and
// direction, the steps in reverse through the gate kernel's backward and dG·W_hh; then the weights' gradients
// and the layer input's as one GEMM each over every (sample, step) row.
#include <cstring>

#include "core/error.h"
#include "core/parallel.h"
#include "gemm/gemm.h"
#include "nn/dropout_mask.h"
#include "nn/recurrent.h"
#include "nn/recurrent_steps.h"

namespace bprop::nn {
namespace {

using gemm::Op;
using ops::CellKind;

// Below this many values the bias gradients' column sums stay on one thread (as Linear's).
constexpr long kParallelMinValues = 1L << 15;

// sums[j] = Σ_r m[r, j] over a rows×cols matrix, each column summed in row order (threads take columns):
// the same bits at any thread count.
template <typename T>
void column_sums(const T* m, long rows, long cols, T* sums) {
  run_parallel(rows * cols >= kParallelMinValues ? num_threads() : 1, [&](int index, int count) {
    const auto [j0, j1] = split_range(cols, index, count);
    for (long j = j0; j < j1; ++j) sums[j] = T(0);
    for (long r = 0; r < rows; ++r)
      for (long j = j0; j < j1; ++j) sums[j] += m[r * cols + j];
  });
}

template <typename T>
void set_or_add(T* to, const T* from, long n, bool add) {
  for (long i = 0; i < n; ++i) to[i] = add ? to[i] + from[i] : from[i];
}

}  // namespace

template <typename T>
void Recurrent<T>::unit_backward(long layer, long dir, const T* input, long rows, const int64_t* lengths,
                                 const UnitBuffers& unit, const T* d_out, T* d_in, bool add_to_d_in, bool accumulate,
                                 bool want_initial) {
  const CellKind cell = config_.cell;
  const bool gru = cell == CellKind::gru;
  const long H = config_.hidden_size, GH = gates_ * H, steps = steps_, width = layer_input_width(layer);
  const long DH = directions() * H, sequence = rows * steps, ld = steps * H;
  const Weights w = weights(layer, dir);
  T* d_gates = d_gates_.data();
  T* d_gates_hh = gru ? d_gates_hh_.data() : d_gates;  // ∂ĥ: for RNN and LSTM the same as ∂x̂

  // The steps back, each thread on its own samples (nn/recurrent_steps.h).
  const auto run_steps = [&](long r0, long r1, long s0, long s1) {
    T* dh = dh_.data() + r0 * H;
    ops::CellBackward<T> step;
    step.rows = r1 - r0;
    step.hidden = H;
    step.dh = dh;
    step.dc = cell == CellKind::lstm ? dc_.data() + r0 * H : nullptr;
    step.lengths = lengths ? lengths + r0 : nullptr;
    T* dg = d_gates + r0 * steps * GH;
    T* dg_hh = d_gates_hh + r0 * steps * GH;
    for (long s = s1 - 1; s >= s0; --s) {
      const long t = dir == 0 ? s : steps - 1 - s;
      step.step = t;
      step.gates = {unit.gates + r0 * steps * GH + t * GH, steps * GH};
      if (unit.saved) step.saved = {unit.saved + r0 * ld + t * H, ld};
      step.h_prev = {unit.states + r0 * ld + t * H, ld};
      if (unit.cells) step.c_prev = {unit.cells + r0 * ld + t * H, ld};
      step.d_out = d_out ? ops::Rows<const T>{d_out + r0 * steps * DH + t * DH + dir * H, steps * DH}
                         : ops::Rows<const T>{};
      step.d_pre = {dg + t * GH, steps * GH};
      step.d_pre_hh = gru ? ops::Rows<T>{dg_hh + t * GH, steps * GH} : ops::Rows<T>{};
      ops::cell_backward(cell, step);
      // ∂h₋ += ∂ĥ·W_hh (the kernel left the part that bypasses W_hh in dh); before the first step only for ∂h0.
      if (s > 0 || want_initial)
        gemm::gemm<T>(Op::N, Op::N, r1 - r0, H, GH, T(1), dg_hh + t * GH, steps * GH, w.w_hh, H, T(1), dh, H);
    }
  };
  for_step_chunks(rows, steps, 2 * GH * H, true, run_steps);

  // The parameters' gradients over every step at once: one GEMM each, K = rows·steps.
  const long per_unit = config_.bias ? 4 : 2;
  auto* p = &parameters_[std::size_t((layer * directions() + dir) * per_unit)];
  const T keep = accumulate ? T(1) : T(0);
  gemm::gemm<T>(Op::T, Op::N, GH, H, sequence, T(1), d_gates_hh, GH, unit.states, H, keep, p[1]->grad.data(), H);
  gemm::gemm<T>(Op::T, Op::N, GH, width, sequence, T(1), d_gates, GH, input, width, keep, p[0]->grad.data(), width);
  if (config_.bias) {
    T* sums = column_sums_.data();
    column_sums(d_gates, sequence, GH, sums);
    set_or_add(p[2]->grad.data(), sums, GH, accumulate);
    if (gru) column_sums(d_gates_hh, sequence, GH, sums);
    set_or_add(p[3]->grad.data(), sums, GH, accumulate);
  }
  if (d_in)
    gemm::gemm<T>(Op::N, Op::N, sequence, width, GH, T(1), d_gates, GH, w.w_ih, width, add_to_d_in ? T(1) : T(0), d_in,
                  width);
}

template <typename T>
void Recurrent<T>::backward_states(const T* x, const T* dy, long rows, const RecurrentStateGrads<T>& grads, T* dx,
                                   bool accumulate) {
  const long L = config_.num_layers, D = directions(), H = config_.hidden_size, GH = gates_ * H, DH = D * H;
  const long sequence = rows * steps_, state = rows * H;
  const bool lstm = config_.cell == CellKind::lstm;
  if (rows != last_rows_ || steps_ != last_steps_)
    throw ValueError("[" + name() + ".backward] follows the last forward, of " + std::to_string(last_rows_) +
                     " samples of " + std::to_string(last_steps_) + " steps; got " + std::to_string(rows) +
                     " samples of " + std::to_string(steps_) + " steps" + (last_rows_ ? "" : " (call forward first)"));
  const int64_t* lengths = lengths_.empty() ? nullptr : lengths_.data();
  d_gates_.resize(sequence * GH);
  if (config_.cell == CellKind::gru) d_gates_hh_.resize(sequence * GH);
  if (L > 1) d_seq_a_.resize(sequence * DH), d_seq_b_.resize(sequence * DH);
  dh_.resize(state);
  if (lstm) dc_.resize(state);
  column_sums_.resize(GH);

  const T* d_out = config_.return_sequences ? dy : nullptr;  // ∂L/∂(layer k's output sequence)
  for (long k = L - 1; k >= 0; --k) {
    const T* input = k == 0 ? x : (last_dropping_ ? dropped_ : outputs_)[std::size_t(k - 1)].data();
    T* d_in = k == 0 ? dx : (k % 2 ? d_seq_a_ : d_seq_b_).data();
    for (long d = 0; d < D; ++d) {
      const long u = k * D + d;
      // ∂L/∂(the unit's final state): from h_n, and from y when y is the last layer's final state.
      T* dh = dh_.data();
      if (grads.dh_n)
        std::memcpy(dh, grads.dh_n + u * state, sizeof(T) * std::size_t(state));
      else
        std::memset(dh, 0, sizeof(T) * std::size_t(state));
      if (k == L - 1 && !config_.return_sequences)
        for (long r = 0; r < rows; ++r)
          for (long j = 0; j < H; ++j) dh[r * H + j] += dy[r * DH + d * H + j];
      if (lstm) {
        if (grads.dc_n)
          std::memcpy(dc_.data(), grads.dc_n + u * state, sizeof(T) * std::size_t(state));
        else
          std::memset(dc_.data(), 0, sizeof(T) * std::size_t(state));
      }
      unit_backward(k, d, input, rows, lengths, unit_buffers(u), d_out, d_in, d > 0, accumulate, grads.dh0 != nullptr);
      if (grads.dh0) std::memcpy(grads.dh0 + u * state, dh, sizeof(T) * std::size_t(state));
      if (grads.dc0 && lstm) std::memcpy(grads.dc0 + u * state, dc_.data(), sizeof(T) * std::size_t(state));
    }
    if (k == 0) break;
    if (last_dropping_) apply_dropout(d_in, d_in, sequence * DH, layer_mask_key(k - 1), config_.dropout);
    d_out = d_in;
  }
}

template void Recurrent<float>::backward_states(const float*, const float*, long, const RecurrentStateGrads<float>&,
                                                float*, bool);
template void Recurrent<double>::backward_states(const double*, const double*, long,
                                                 const RecurrentStateGrads<double>&, double*, bool);

}  // namespace bprop::nn
