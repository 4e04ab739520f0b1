// Convolution over NCHW batches as products on the packed GEMM's micro-kernels (gemm/gemm.h). Per sample
// and group (Og output channels, Cg input channels, Kg = Cg·KH·KW values per patch, P output pixels):
//   forward           Y (Og×P)   = W (Og×Kg) · patches (Kg×P), then bias and `then` per block of Y
//   backward-data     stride 1: the forward's products on dY with the kernel flipped (a convolution too);
//                     else dX = col2im(Wᵀ (Kg×Og) · dY (Og×P)), in tiles of pixels
//   backward-weights  dW (Og×Kg) = dY (Og × batch·P) · patchesᵀ (batch·P × Kg), in im2col tiles within L2
// The forward's patches are never materialised: a panel packer (ops/conv_patches.h) writes them straight
// into the GEMM's panels from the image (implicit GEMM); a pointwise (1×1) convolution reads the image as B.
// Depthwise convolutions (one input channel per group) run a direct loop instead (ops/conv_depthwise.h).
// Geometry is checked by the caller (ops/conv_geometry.h); these never throw but Interrupted.
// Threads: samples over the team's threads when the batch has enough of them (each sample's products on
// one thread), else one sample after the other with every product threaded. Each value is computed in the
// same order either way: results do not depend on the thread count.
#pragma once
#include "ops/channel_norm.h"
#include "ops/conv_geometry.h"

namespace bprop::ops {

// y ← f(y) over a rows×cols block with row stride ld: an activation fused into the forward's epilogue.
template <typename T>
struct BlockMap {
  void (*apply)(const void* context, T* y, long rows, long cols, long ld) = nullptr;
  const void* context = nullptr;
};

// y (batch × out_size) = conv(x (batch × in_size), weight (out_channels × Kg)) + bias (out_channels, or
// null), then `then` (if any) on every block.
template <typename T>
void conv_forward(const ConvGeometry& g, long batch, const T* x, const T* weight, const T* bias, T* y,
                  const BlockMap<T>& then = {});

// dx (batch × in_size) = the input gradient for dy (batch × out_size): written, or added when accumulate.
template <typename T>
void conv_backward_data(const ConvGeometry& g, long batch, const T* dy, const T* weight, T* dx, bool accumulate);

// dweight (out_channels × Kg, or null) = Σ_batch dy ⊗ patches(x); dbias (out_channels, or null) = Σ dy per
// channel.
// Written, or added when accumulate.
template <typename T>
void conv_backward_weights(const ConvGeometry& g, long batch, const T* x, const T* dy, T* dweight, T* dbias,
                           bool accumulate);

}  // namespace bprop::ops
