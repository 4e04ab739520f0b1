// Pooling over NCHW planes, as PyTorch's max_pool1d/2d, avg_pool1d/2d and adaptive_avg_pool1d/2d: the
// forward and backward of each on `planes` contiguous planes of in_h × in_w values (a batch of (C, H, W)
// samples is rows·C planes; a 1d pool is the 2d one with in_h = 1 and a window one row high).
// The geometry is checked once (pool_geometry, adaptive_geometry: ValueError "[MaxPool2d] ..."); the
// kernels trust it, never throw, and split the planes over threads (core/parallel.h), each plane on one
// thread, so results do not depend on the thread count.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace bprop::ops {

// A sample's channels and plane: (C, L) for a 1d layer is (C, 1, L).
struct Planes {
  long channels = 0, height = 0, width = 0;
};

// The (C, H, W) of a 1d (C, L) or 2d (C, H, W) sample; ValueError "[name] expects samples of shape (C, H, W);
// got (...)" for another rank.
Planes sample_planes(const std::string& name, int dims, const std::vector<long>& sample);

enum class PoolKind { max, average };

// A window's settings per axis, [0] the height and [1] the width; a 1d pool's height axis is kernel 1,
// stride 1, no padding, dilation 1. Average pools have dilation 1 and read count_include_pad.
struct PoolOptions {
  PoolKind kind = PoolKind::max;
  long kernel[2] = {1, 1}, stride[2] = {1, 1}, padding[2] = {0, 0}, dilation[2] = {1, 1};
  bool ceil_mode = false, count_include_pad = true;
};

// The options from the user's per-axis lists (one value per spatial axis: dims of them), checked as PyTorch
// checks them: kernel, stride and dilation >= 1, 0 <= padding <= kernel / 2; ValueError "[name] ..." naming
// the argument otherwise.
PoolOptions pool_options(const std::string& name, PoolKind kind, int dims, const std::vector<long>& kernel_size,
                         const std::vector<long>& stride, const std::vector<long>& padding,
                         const std::vector<long>& dilation, bool ceil_mode, bool count_include_pad);

struct PoolGeometry {
  PoolOptions options;
  Planes in;
  long out_h = 0, out_w = 0;
  long in_plane() const { return in.height * in.width; }
  long out_plane() const { return out_h * out_w; }
};

// PyTorch's output size on one axis: floor (or ceil, with ceil_mode) of (in + 2·pad − dilation·(kernel−1) − 1)
// / stride, plus 1; with ceil_mode the last window must start inside the input or its left padding. May be
// < 1 (the caller refuses it).
long pool_output_size(long in, long kernel, long stride, long padding, long dilation, bool ceil_mode);

// The one check of a pool on `sample`: its rank, an output of at least 1 × 1, and (max pools, whose argmax
// is a 32-bit offset in the plane) a plane under 2^31 values. ValueError "[name] ..." naming the shapes.
PoolGeometry pool_geometry(const std::string& name, int dims, const PoolOptions& options,
                           const std::vector<long>& sample);

// y = the max of each window (NaN if the window holds one, as PyTorch). argmax, when not null, gets each
// output's offset in its input plane: the first maximum in scan order (row by row), the last NaN if any, and
// -1 for a window that covers no input value (possible with dilation and ceil_mode; y is then -inf).
template <typename T>
void max_pool_forward(const T* x, long planes, const PoolGeometry& g, T* y, int32_t* argmax);

// dx = 0, then each dy added at its window's argmax.
template <typename T>
void max_pool_backward(const T* dy, const int32_t* argmax, long planes, const PoolGeometry& g, T* dx);

// y = the sum of each window over PyTorch's divisor: the window clipped to the padded input
// (count_include_pad), or to the input alone.
template <typename T>
void avg_pool_forward(const T* x, long planes, const PoolGeometry& g, T* y);

template <typename T>
void avg_pool_backward(const T* dy, long planes, const PoolGeometry& g, T* dx);

// Adaptive average pooling to out_h × out_w: output i of an axis of size n averages inputs
// [floor(i·n/out), ceil((i+1)·n/out)), as PyTorch.
struct AdaptiveGeometry {
  Planes in;
  long out_h = 0, out_w = 0;
};

// ValueError "[name] ..." unless output_size holds one size per spatial axis (dims of them), each >= 1.
void check_output_size(const std::string& name, int dims, const std::vector<long>& output_size);

// The geometry for `sample`, output_size checked as above; ValueError for a sample of the wrong rank.
AdaptiveGeometry adaptive_geometry(const std::string& name, int dims, const std::vector<long>& output_size,
                                   const std::vector<long>& sample);

template <typename T>
void adaptive_avg_pool_forward(const T* x, long planes, const AdaptiveGeometry& g, T* y);

template <typename T>
void adaptive_avg_pool_backward(const T* dy, long planes, const AdaptiveGeometry& g, T* dx);

}  // namespace bprop::ops
