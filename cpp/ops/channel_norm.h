// Per-channel statistics and their gradients over channel-first data: `samples` × `channels` × `plane`
// values (NCHW with plane = H·W; (N, C, L) with plane = L; (N, C) with plane = 1). Channel c's values are
// the `samples` planes x[(n·channels + c)·plane + s]. What BatchNorm1d/2d compute on; reusable by any
// normalisation over the batch and the spatial axes.
//
// Determinism: every per-channel sum is Σ over n, in order, of that plane's sum (itself in a fixed lane
// order), in double. Planes are shared among threads, but each plane's sum is computed alone and the sums over n
// are added by one thread afterwards, so results are bit-identical at any thread count.
#pragma once

namespace bprop::ops {

struct ChannelLayout {
  long samples, channels, plane;
  long planes() const { return samples * channels; }
  long values() const { return samples * channels * plane; }
};

// Per channel: mean[c] and the biased variance var[c] over its samples·plane values (two passes: the
// one-pass formula loses precision when |mean| >> std). `partial` is scratch for planes() doubles.
template <typename T>
void channel_moments(const T* x, const ChannelLayout& layout, double* partial, double* mean, double* var);

// y = γ[c]·(x − mean[c])·inv_std[c] + β[c] for every value of channel c. The mean is subtracted as its
// rounding to T, c = T(mean), which x − c takes exactly for x near it, and β is corrected by the rest, mean − c:
// channel means far from zero (1e4 ± 1) keep float32's precision in the output.
template <typename T>
void channel_normalize(const T* x, const ChannelLayout& layout, const double* mean, const double* inv_std,
                       const T* gamma, const T* beta, T* y);

// y = scale[c]·x + shift[c] for every value of channel c (x == y allowed): the evaluation-mode map.
template <typename T>
void channel_affine(const T* x, const ChannelLayout& layout, const T* scale, const T* shift, T* y);

// out[c] = Σ dy over channel c's values: a per-channel bias's gradient (convolutions). Written, or added
// when accumulate; the sums as everywhere here (per plane in lanes, in double, then over samples in order).
template <typename T>
void channel_sums(const T* dy, const ChannelLayout& layout, T* out, bool accumulate);

// y += shift[c] for every value of channel c: a per-channel bias.
template <typename T>
void channel_shift(const ChannelLayout& layout, const T* shift, T* y);

// Per channel: sum_dy[c] = Σ dy and sum_dy_centered[c] = Σ dy·(x − mean[c]), in one pass over x and dy.
// `partial` is scratch for 2·planes() doubles.
template <typename T>
void channel_grad_sums(const T* x, const T* dy, const ChannelLayout& layout, const double* mean, double* partial,
                       double* sum_dy, double* sum_dy_centered);

// dx = a[c]·(dy − dy_mean[c]) − b[c]·(x − mean[c]): the input gradient of a normalisation whose per-channel
// coefficients the caller derived from its statistics and channel_grad_sums (the mean of dy subtracted before
// scaling, so a channel of one value gets exactly 0; the mean of x as channel_normalize subtracts it). b and
// dy_mean null: dx = a[c]·dy (statistics that do not depend on x).
template <typename T>
void channel_input_grad(const T* x, const T* dy, const ChannelLayout& layout, const double* mean, const double* a,
                        const double* b, const double* dy_mean, T* dx);

}  // namespace bprop::ops
