// Nearest-neighbour upsampling by integer factors over NCHW planes, as PyTorch's interpolate(mode="nearest")
// with an integer scale_factor: output (i, j) of a plane is input (i / scale_h, j / scale_w). Backward sums
// each input's scale_h × scale_w block of output gradients, in the order the outputs lie. Planes are split
// over threads, each plane on one thread (results do not depend on the thread count); nothing throws.
#pragma once

namespace bprop::ops {

struct UpsampleGeometry {
  long in_h = 0, in_w = 0, scale_h = 1, scale_w = 1;
  long in_plane() const { return in_h * in_w; }
  long out_plane() const { return in_h * scale_h * in_w * scale_w; }
};

template <typename T>
void upsample_nearest_forward(const T* x, long planes, const UpsampleGeometry& g, T* y);

template <typename T>
void upsample_nearest_backward(const T* dy, long planes, const UpsampleGeometry& g, T* dx);

}  // namespace bprop::ops
