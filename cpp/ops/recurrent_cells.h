// The fused gate math of the recurrent cells: one time step over a batch of rows, PyTorch's equations,
// after the layer has summed the step's products (nn/recurrent.cpp):
//   RNN:  h = act(x̂ + ĥ)                                    act = tanh or ReLU
//   LSTM: i, f, g, o = σ, σ, tanh, σ of (x̂ + ĥ);  c = f⊙c₋ + i⊙g;  h = o⊙tanh(c)
//   GRU:  r, z = σ(x̂ + ĥ) on their thirds;  n = tanh(x̂_n + r⊙(ĥ_n + b_hn));  h = (1−z)⊙n + z⊙h₋
// x̂ is the input projection x·W_ihᵀ plus the biases folded into one vector (all of them but GRU's b_hn, which r
// scales), ĥ = h₋·W_hhᵀ: for RNN and LSTM the layer sums ĥ into the gates beforehand (the step's GEMM adds
// into them), for GRU it comes apart (r multiplies its n third). Gates are laid out as PyTorch's weight rows: i,f,g,o and r,z,n, H values each.
// A row is padding at a step at or beyond its length: its state passes through unchanged, its output is
// zero and it takes no gradient (PyTorch's packed sequences).
// The loops run on the calling thread, compiled once per ISA (core/isa.h picks one) with vectorised
// sigmoid and tanh (ops/vector_math.h). They never throw.
#pragma once
#include <cstdint>

namespace bprop::ops {

enum class CellKind { rnn_tanh, rnn_relu, lstm, gru };

inline int gate_count(CellKind kind) { return kind == CellKind::lstm ? 4 : kind == CellKind::gru ? 3 : 1; }

// `rows` rows each `ld` values apart: one time step's slice of a (rows, time, width) sequence.
template <typename T>
struct Rows {
  T* data = nullptr;
  long ld = 0;
  T* row(long r) const { return data + r * ld; }
  explicit operator bool() const { return data != nullptr; }
};

template <typename T>
struct CellForward {
  long rows = 0, hidden = 0;
  Rows<T> gates;                 // in: x·W_ihᵀ (+ ĥ for RNN and LSTM), G·H per row; out: the activations
                                 // backward reads (RNN: h itself)
  const T* bias = nullptr;       // G·H values added to every row's gates (zeros for a layer without bias)
  const T* recurrent = nullptr;  // GRU: ĥ, rows × G·H, contiguous
  const T* bias_hn = nullptr;    // GRU: b_hn (H values), or null (no bias)
  Rows<const T> h_prev;
  Rows<T> h_next;
  Rows<const T> c_prev;          // LSTM
  Rows<T> c_next;                // LSTM
  Rows<T> saved;                 // LSTM: tanh(c); GRU: ĥ_n + b_hn; RNN: unused
  Rows<T> out;                   // h again (the layer's output sequence), or null
  const int64_t* lengths = nullptr;  // null: no padding
  long step = 0;
};

template <typename T>
struct CellBackward {
  long rows = 0, hidden = 0;
  Rows<const T> gates, saved, h_prev, c_prev;  // as the forward left them (h_prev: GRU, c_prev: LSTM)
  Rows<const T> d_out;  // ∂L/∂h through the layer's output at this step, or null
  // rows × H, contiguous. In: ∂L/∂h (∂L/∂c) of the state after the step. Out: the part of ∂L/∂h₋ (∂L/∂c₋)
  // that does not go through W_hh (zero for RNN and LSTM; z⊙∂L/∂h for GRU); padding rows keep theirs.
  T* dh = nullptr;
  T* dc = nullptr;
  Rows<T> d_pre;     // out: ∂L/∂(x̂ + ĥ) per gate; for GRU ∂L/∂x̂
  Rows<T> d_pre_hh;  // out, GRU only: ∂L/∂ĥ (its n third is ∂L/∂x̂_n ⊙ r)
  const int64_t* lengths = nullptr;
  long step = 0;
};

template <typename T>
void cell_forward(CellKind kind, const CellForward<T>& s);
template <typename T>
void cell_backward(CellKind kind, const CellBackward<T>& s);

}  // namespace bprop::ops
