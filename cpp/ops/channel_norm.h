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

// y = (x − center[c])·scale[c] + shift[c] for every value of channel c (x == y allowed).
template <typename T>
void channel_affine(const T* x, const ChannelLayout& layout, const T* center, const T* scale, const T* shift, T* y);

// Per channel: sum_dy[c] = Σ dy and sum_dy_centered[c] = Σ dy·(x − center[c]), in one pass over x and dy.
// `partial` is scratch for 2·planes() doubles.
template <typename T>
void channel_grad_sums(const T* x, const T* dy, const ChannelLayout& layout, const T* center, double* partial,
                       double* sum_dy, double* sum_dy_centered);

// dx = a[c]·(dy − dy_center[c]) − b[c]·(x − center[c]): the input gradient of a normalisation whose
// per-channel coefficients the caller derived from its statistics and channel_grad_sums (dy_center the mean
// of dy, subtracted before scaling: a channel of one value gets exactly 0). dy_center and b may be null (0).
template <typename T>
void channel_input_grad(const T* x, const T* dy, const ChannelLayout& layout, const T* center, const T* dy_center,
                        const T* a, const T* b, T* dx);

}  // namespace bprop::ops
