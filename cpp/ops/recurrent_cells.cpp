#include "ops/recurrent_cells.h"

#include <cstring>

#include "core/isa.h"
#include "ops/vector_math.h"

// Row loops are inlined into one function per ISA (target attributes, as optim/update.h does), so the
// per-gate loops below get that ISA's vector code; `ivdep` because the row pointers never overlap (the
// gates are transformed in place, element by element).
#define BPROP_INLINE inline __attribute__((always_inline))

namespace bprop::ops {
namespace {

template <typename T>
BPROP_INLINE bool is_padding(const int64_t* lengths, long r, long step) {
  return lengths && step >= lengths[r];
}

// ---- forward, one row ----------------------------------------------------------------------------------

template <typename T, bool Relu>
BPROP_INLINE void rnn_row(long H, T* __restrict g, const T* __restrict b, T* __restrict h_next) {
#pragma GCC ivdep
  for (long j = 0; j < H; ++j) {
    const T v = g[j] + b[j];
    const T h = Relu ? (v <= T(0) ? T(0) : v) : vmath::tanh(v);  // ReLU: NaN passes, as activations do
    g[j] = h;
    h_next[j] = h;
  }
}

template <typename T>
BPROP_INLINE void lstm_row(long H, T* __restrict g, const T* __restrict b, const T* __restrict c_prev,
                           T* __restrict c_next, T* __restrict tanh_c, T* __restrict h_next) {
#pragma GCC ivdep
  for (long j = 0; j < H; ++j) {
    const T i = vmath::sigmoid(g[j] + b[j]);
    const T f = vmath::sigmoid(g[H + j] + b[H + j]);
    const T c_hat = vmath::tanh(g[2 * H + j] + b[2 * H + j]);
    const T o = vmath::sigmoid(g[3 * H + j] + b[3 * H + j]);
    const T c = f * c_prev[j] + i * c_hat;
    const T t = vmath::tanh(c);
    g[j] = i;
    g[H + j] = f;
    g[2 * H + j] = c_hat;
    g[3 * H + j] = o;
    c_next[j] = c;
    tanh_c[j] = t;
    h_next[j] = o * t;
  }
}

template <typename T, bool Bias>
BPROP_INLINE void gru_row(long H, T* __restrict g, const T* __restrict b, const T* __restrict rec,
                          const T* __restrict b_hn, const T* __restrict h_prev, T* __restrict h_n,
                          T* __restrict h_next) {
#pragma GCC ivdep
  for (long j = 0; j < H; ++j) {
    const T r = vmath::sigmoid(g[j] + b[j] + rec[j]);
    const T z = vmath::sigmoid(g[H + j] + b[H + j] + rec[H + j]);
    const T hn = Bias ? rec[2 * H + j] + b_hn[j] : rec[2 * H + j];
    const T n = vmath::tanh(g[2 * H + j] + b[2 * H + j] + r * hn);
    g[j] = r;
    g[H + j] = z;
    g[2 * H + j] = n;
    h_n[j] = hn;
    h_next[j] = (T(1) - z) * n + z * h_prev[j];
  }
}

template <typename T>
BPROP_INLINE void forward_rows(CellKind kind, const CellForward<T>& s) {
  const long H = s.hidden, G = gate_count(kind);
  const std::size_t row_bytes = sizeof(T) * std::size_t(H);
  for (long r = 0; r < s.rows; ++r) {
    T* h_next = s.h_next.row(r);
    if (is_padding<T>(s.lengths, r, s.step)) {  // the state passes through; the output is zero
      std::memmove(h_next, s.h_prev.row(r), row_bytes);
      if (kind == CellKind::lstm) std::memmove(s.c_next.row(r), s.c_prev.row(r), row_bytes);
      if (s.out) std::memset(s.out.row(r), 0, row_bytes);
      continue;
    }
    T* g = s.gates.row(r);
    const T* b = s.bias;
    switch (kind) {
      case CellKind::rnn_tanh: rnn_row<T, false>(H, g, b, h_next); break;
      case CellKind::rnn_relu: rnn_row<T, true>(H, g, b, h_next); break;
      case CellKind::lstm: lstm_row(H, g, b, s.c_prev.row(r), s.c_next.row(r), s.saved.row(r), h_next); break;
      case CellKind::gru: {
        const T* rec = s.recurrent + r * G * H;
        if (s.bias_hn)
          gru_row<T, true>(H, g, b, rec, s.bias_hn, s.h_prev.row(r), s.saved.row(r), h_next);
        else
          gru_row<T, false>(H, g, b, rec, nullptr, s.h_prev.row(r), s.saved.row(r), h_next);
        break;
      }
    }
    if (s.out) std::memcpy(s.out.row(r), h_next, row_bytes);
  }
}

// ---- backward, one row ---------------------------------------------------------------------------------

template <typename T, bool Relu>
BPROP_INLINE void rnn_back_row(long H, const T* __restrict h, T* __restrict dh, T* __restrict d_pre) {
#pragma GCC ivdep
  for (long j = 0; j < H; ++j) {
    const T d = dh[j];
    d_pre[j] = Relu ? (h[j] > T(0) ? d : T(0)) : d * (T(1) - h[j] * h[j]);  // ReLU'(0) = 0, as PyTorch
    dh[j] = T(0);
  }
}

template <typename T>
BPROP_INLINE void lstm_back_row(long H, const T* __restrict g, const T* __restrict tanh_c, const T* __restrict c_prev,
                                T* __restrict dh, T* __restrict dc, T* __restrict d_pre) {
#pragma GCC ivdep
  for (long j = 0; j < H; ++j) {
    const T i = g[j], f = g[H + j], c_hat = g[2 * H + j], o = g[3 * H + j], t = tanh_c[j];
    const T d_h = dh[j];
    const T d_c = dc[j] + d_h * o * (T(1) - t * t);
    d_pre[j] = d_c * c_hat * i * (T(1) - i);
    d_pre[H + j] = d_c * c_prev[j] * f * (T(1) - f);
    d_pre[2 * H + j] = d_c * i * (T(1) - c_hat * c_hat);
    d_pre[3 * H + j] = d_h * t * o * (T(1) - o);
    dc[j] = d_c * f;
    dh[j] = T(0);
  }
}

template <typename T>
BPROP_INLINE void gru_back_row(long H, const T* __restrict g, const T* __restrict h_n, const T* __restrict h_prev,
                               T* __restrict dh, T* __restrict d_pre, T* __restrict d_pre_hh) {
#pragma GCC ivdep
  for (long j = 0; j < H; ++j) {
    const T r = g[j], z = g[H + j], n = g[2 * H + j];
    const T d_h = dh[j];
    const T d_n = d_h * (T(1) - z) * (T(1) - n * n);
    const T d_z = d_h * (h_prev[j] - n) * z * (T(1) - z);
    const T d_r = d_n * h_n[j] * r * (T(1) - r);
    d_pre[j] = d_r;
    d_pre[H + j] = d_z;
    d_pre[2 * H + j] = d_n;
    d_pre_hh[j] = d_r;
    d_pre_hh[H + j] = d_z;
    d_pre_hh[2 * H + j] = d_n * r;
    dh[j] = d_h * z;
  }
}

template <typename T>
BPROP_INLINE void backward_rows(CellKind kind, const CellBackward<T>& s) {
  const long H = s.hidden, G = gate_count(kind);
  for (long r = 0; r < s.rows; ++r) {
    T* dh = s.dh + r * H;
    if (is_padding<T>(s.lengths, r, s.step)) {  // no gradient here; the state's passes through
      std::memset(s.d_pre.row(r), 0, sizeof(T) * std::size_t(G * H));
      if (s.d_pre_hh) std::memset(s.d_pre_hh.row(r), 0, sizeof(T) * std::size_t(G * H));
      continue;
    }
    if (s.d_out) {
      const T* d_out = s.d_out.row(r);
      for (long j = 0; j < H; ++j) dh[j] += d_out[j];
    }
    const T* g = s.gates.row(r);
    T* d_pre = s.d_pre.row(r);
    switch (kind) {
      case CellKind::rnn_tanh: rnn_back_row<T, false>(H, g, dh, d_pre); break;
      case CellKind::rnn_relu: rnn_back_row<T, true>(H, g, dh, d_pre); break;
      case CellKind::lstm: lstm_back_row(H, g, s.saved.row(r), s.c_prev.row(r), dh, s.dc + r * H, d_pre); break;
      case CellKind::gru: gru_back_row(H, g, s.saved.row(r), s.h_prev.row(r), dh, d_pre, s.d_pre_hh.row(r)); break;
    }
  }
}

// ---- one function per ISA --------------------------------------------------------------------------------

template <typename T>
void forward_baseline(CellKind kind, const CellForward<T>& s) {
  forward_rows(kind, s);
}
template <typename T>
void backward_baseline(CellKind kind, const CellBackward<T>& s) {
  backward_rows(kind, s);
}
#if BPROP_HAVE_X86_KERNELS
template <typename T>
[[gnu::target("avx2,fma")]] void forward_avx2(CellKind kind, const CellForward<T>& s) {
  forward_rows(kind, s);
}
template <typename T>
[[gnu::target("avx2,fma")]] void backward_avx2(CellKind kind, const CellBackward<T>& s) {
  backward_rows(kind, s);
}
template <typename T>
[[gnu::target("avx512f,avx512vl,avx512dq,avx2,fma")]] void forward_avx512(CellKind kind, const CellForward<T>& s) {
  forward_rows(kind, s);
}
template <typename T>
[[gnu::target("avx512f,avx512vl,avx512dq,avx2,fma")]] void backward_avx512(CellKind kind, const CellBackward<T>& s) {
  backward_rows(kind, s);
}
#endif

}  // namespace

template <typename T>
void cell_forward(CellKind kind, const CellForward<T>& s) {
#if BPROP_HAVE_X86_KERNELS
  const Isa isa = active_isa();
  if (isa == Isa::avx512) return forward_avx512(kind, s);
  if (isa == Isa::avx2) return forward_avx2(kind, s);
#endif
  forward_baseline(kind, s);
}

template <typename T>
void cell_backward(CellKind kind, const CellBackward<T>& s) {
#if BPROP_HAVE_X86_KERNELS
  const Isa isa = active_isa();
  if (isa == Isa::avx512) return backward_avx512(kind, s);
  if (isa == Isa::avx2) return backward_avx2(kind, s);
#endif
  backward_baseline(kind, s);
}

template void cell_forward<float>(CellKind, const CellForward<float>&);
template void cell_forward<double>(CellKind, const CellForward<double>&);
template void cell_backward<float>(CellKind, const CellBackward<float>&);
template void cell_backward<double>(CellKind, const CellBackward<double>&);

}  // namespace bprop::ops
