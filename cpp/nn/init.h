// Weight initialisers, each drawing from a seeded Generator. fan_in / fan_out are a Linear's
// in_features / out_features. Scales as PyTorch's (normal variants are plain, not truncated):
//   glorot_uniform  U(±√(6/(in+out)))   glorot_normal  N(0, 2/(in+out))
//   he_uniform      U(±√(6/in))         he_normal      N(0, 2/in)
//   lecun_uniform   U(±√(3/in))         lecun_normal   N(0, 1/in)
//   uniform         U(±limit)           zeros
// Aliases: xavier_* = glorot_*, kaiming_* = he_*.
#pragma once
#include <cstdint>
#include <string>

#include "core/array.h"

namespace bprop::nn {

// ValueError for an unknown name or a negative limit.
void check_initializer(const std::string& name, double limit);

template <typename T>
void initialize(Array<T>& values, const std::string& name, long fan_in, long fan_out, double limit, uint64_t seed);

}  // namespace bprop::nn
