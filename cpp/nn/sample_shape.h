// The shape of one sample (the batch axis excluded): (features,) for a dense layer, (time, features) for a
// sequence, (channels, height, width) for an image. Data stay flat: a batch is `rows` contiguous samples
// of sample_size(shape) values each, so layers keep pointer signatures whatever the sample's rank.
#pragma once
#include <string>
#include <vector>

namespace bprop::nn {

using SampleShape = std::vector<long>;

// The number of values in one sample; ValueError ("[where] ...") unless the shape has rank >= 1, every
// size >= 1, and a product that fits in memory.
long sample_size(const SampleShape& shape, const std::string& where);

// `shape` with its last axis replaced by `size`: what a layer acting on the last axis returns.
SampleShape with_last_axis(SampleShape shape, long size);

}  // namespace bprop::nn
