#include "nn/sample_shape.h"

#include "core/error.h"
#include "core/sizes.h"

namespace bprop::nn {

long sample_size(const SampleShape& shape, const std::string& where) {
  if (shape.empty()) throw ValueError(where + " needs samples of rank >= 1; got the shape ()");
  for (long size : shape)
    if (size < 1) throw ValueError(where + " needs every axis of a sample >= 1; got the shape " + shape_text(shape));
  return checked_count(shape, 1, where);
}

SampleShape with_last_axis(SampleShape shape, long size) {
  shape.back() = size;
  return shape;
}

}  // namespace bprop::nn
