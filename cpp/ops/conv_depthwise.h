// Depthwise convolutions (groups = in_channels: each output channel reads one input channel) as direct
// loops over image planes: as GEMMs they would be products with k = KH·KW and one row, all overhead.
// Same contracts as ops/conv.h, which routes here; threads take whole planes, each summed in a fixed order.
#pragma once
#include "ops/conv.h"

namespace bprop::ops {

template <typename T>
void depthwise_forward(const ConvGeometry& g, long batch, const T* x, const T* weight, const T* bias, T* y,
                       const BlockMap<T>& then);
template <typename T>
void depthwise_backward_data(const ConvGeometry& g, long batch, const T* dy, const T* weight, T* dx, bool accumulate);
template <typename T>
void depthwise_backward_weights(const ConvGeometry& g, long batch, const T* x, const T* dy, T* dweight, bool accumulate);

}  // namespace bprop::ops
