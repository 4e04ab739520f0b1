// Gradient clipping as torch.nn.utils does it; step() applies it before the update, norm first, then value.
// Clipping does not rewrite the stored gradients: step() passes the update kernels a GradientReader
// (update.h) that scales and clamps each gradient element as it is read, so clipping costs one pass over
// the gradients for the norm and nothing for the value bound.
#pragma once
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "nn/parameter.h"

namespace bprop::optim {

struct ClipOptions {
  std::optional<double> max_norm;   // clip_grad_norm_(max_norm): the total 2-norm of all gradients
  std::optional<double> max_value;  // clip_grad_value_(clip_value): each element into [-v, v]
  void validate(const std::string& who) const;  // each > 0 when set, else ValueError
};

// What clip_grad_norm_ multiplies every gradient by: max_norm / (norm + 1e-6), when that is below 1.
double clip_coefficient(double norm, double max_norm);

// The 2-norm of all the parameters' gradients, identical to the bit at any thread count: the gradients
// are cut into fixed chunks (never one per thread), each chunk's sum of squares is taken in element
// order, and the chunk sums are added in chunk order. OpenMP's `reduction` would not be reproducible.
// The chunks follow the parameters in order, so in an optimizer's arena they run once along the gradient
// span, skipping the padding; the sum is the same bits as parameter by parameter.
template <typename T>
class GradientNorm {
 public:
  // Plans the chunks and allocates their partial sums once.
  explicit GradientNorm(const std::vector<nn::ParameterPtr<T>>& params);
  // The norm of the gradients of the same parameters. Never throws.
  double operator()(const std::vector<nn::ParameterPtr<T>>& params);

 private:
  struct Chunk {
    std::size_t param;
    long begin, end;
  };
  std::vector<Chunk> chunks_;
  std::vector<double> partial_;
  long elements_ = 0;
};

}  // namespace bprop::optim
