// The differentiable operations on tensors. Each records its node (with the vjp beside the forward, in
// the ops_*.cpp file that defines it) when grad mode is on and an input requires grad. Binary
// elementwise operations broadcast as NumPy does; their vjps reduce over the broadcast axes in one
// place, sum_to(). Mixed float32/float64 inputs promote to float64 (NumPy's rule).
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "autograd/tensor.h"

namespace bprop::autograd {

// -- elementwise (ops_elementwise.cpp) --------------------------------------------------------------
Tensor add(const Tensor& a, const Tensor& b);
Tensor sub(const Tensor& a, const Tensor& b);
Tensor mul(const Tensor& a, const Tensor& b);
Tensor div(const Tensor& a, const Tensor& b);
Tensor pow(const Tensor& a, const Tensor& b);
Tensor pow_scalar(const Tensor& a, double exponent);
Tensor maximum(const Tensor& a, const Tensor& b);  // ties share the gradient equally, as in torch
Tensor where(const Tensor& condition, const Tensor& a, const Tensor& b);  // condition: nonzero = true
Tensor clip(const Tensor& x, double low, double high);
Tensor neg(const Tensor& x);
Tensor exp(const Tensor& x);
Tensor log(const Tensor& x);
Tensor sqrt(const Tensor& x);
Tensor abs(const Tensor& x);
// Comparisons give 0/1 tensors of a's dtype and no gradient.
enum class Compare { gt, ge, lt, le, eq, ne };
Tensor compare(const Tensor& a, const Tensor& b, Compare op);

// -- activations (ops_activation.cpp): the kernels of ops/activations and ops/softmax ---------------
Tensor relu(const Tensor& x);
Tensor sigmoid(const Tensor& x);
Tensor tanh(const Tensor& x);
Tensor gelu(const Tensor& x, bool approximate_tanh);
// Any entry of the activation table by its name ("SiLU") and parameter values (ops/activations.h):
// ValueError as there. Its vjp runs the backward kernel and has no second derivative.
Tensor activation(const Tensor& x, const std::string& name, const std::vector<double>& params);
Tensor softmax(const Tensor& x, long axis);  // any axis; negative counts from the end
Tensor log_softmax(const Tensor& x, long axis);

// -- reductions and shapes (ops_shape.cpp) ----------------------------------------------------------
// axes empty = all; negative axes count from the end.
Tensor sum(const Tensor& x, std::vector<long> axes, bool keepdims);
Tensor mean(const Tensor& x, std::vector<long> axes, bool keepdims);
Tensor max(const Tensor& x, std::vector<long> axes, bool keepdims);  // ties share the gradient
Tensor sum_to(const Tensor& x, const Shape& shape);  // sums the axes broadcasting added or stretched
Tensor expand(const Tensor& x, const Shape& shape);  // broadcast_to, materialised
Tensor reshape(const Tensor& x, Shape shape);        // one size may be -1; shares the buffer
Tensor transpose(const Tensor& x, std::vector<long> perm);  // empty perm = reversed axes
// out.flat[i] = x.flat[index[i]], shape `shape` (numel = index count); indexing and slicing reduce to it.
Tensor gather(const Tensor& x, std::shared_ptr<const std::vector<long>> index, Shape shape);
// out = zeros(shape); out.flat[index[i]] += x.flat[i]: gather's adjoint (concatenation is built on it).
Tensor scatter_add(const Tensor& x, std::shared_ptr<const std::vector<long>> index, Shape shape);

// -- linear algebra (ops_matmul.cpp) ----------------------------------------------------------------
// As numpy.matmul: N-D operands broadcast their batch axes (all but the last two); 1-D ones are promoted.
Tensor matmul(const Tensor& a, const Tensor& b);

// -- convolutions (ops_conv.cpp): the kernels of ops/conv.h, as nn.functional.conv1d/conv2d/conv_transpose2d
// x (batch, channels, *spatial), weight in PyTorch's shape, bias (out_channels,) or null. Settings hold one
// value (every axis) or one per spatial axis. ValueError naming the shapes; the vjps are kernels.
struct ConvSettings {
  std::vector<long> stride{1}, pad_begin{0}, pad_end{0}, dilation{1}, output_padding{0};
  long groups = 1;
};
Tensor conv(const Tensor& x, const Tensor& weight, const Tensor& bias, const ConvSettings& settings, bool transposed);

// -- helpers ------------------------------------------------------------------------------------------
Tensor copy(const Tensor& x);    // a new buffer, no graph
Tensor detach(const Tensor& x);  // the same buffer, no graph
void add_in_place(const Tensor& target, const Tensor& source);  // same shape; no graph; bumps the version
Tensor to_dtype(const Tensor& x, DType dtype);  // differentiable cast (the identity when equal)
Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op);  // ValueError naming both

}  // namespace bprop::autograd
