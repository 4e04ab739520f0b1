// Elementwise activations, forward and backward, over n contiguous values. Backward gets the forward's
// input x and output y and uses whichever its derivative is cheaper from. `param` is LeakyReLU's slope,
// ELU's alpha, ignored elsewhere. These are the only implementations: layers and autograd call them.
#pragma once
#include <string>

namespace bprop::ops {

enum class Activation { identity, relu, leaky_relu, elu, gelu, gelu_tanh, sigmoid, tanh };

// ValueError for an unknown name; names as in Python ("ReLU", "LeakyReLU", "ELU", "GELU", ...).
Activation activation_from_name(const std::string& name);
const char* activation_name(Activation kind);

template <typename T>
void activation_forward(Activation kind, T param, const T* x, T* y, long n);

// dx = dy ⊙ f'(x)
template <typename T>
void activation_backward(Activation kind, T param, const T* x, const T* y, const T* dy, T* dx, long n);

// y ← f(y + bias) in place over a rows×cols block with row stride ld, bias holding cols values (or null),
// on the calling thread: what an activation fused after a GEMM applies to each finished block, while the
// block is still in cache. Elementwise, so the values are those of activation_forward after the addition.
template <typename T>
void bias_activation_block(Activation kind, T param, const T* bias, T* y, long rows, long cols, long ld);

// True when f'(x) can be read from y = f(x) alone (activation_backward then takes y for x too): what
// lets a Linear layer apply the activation in place and keep no pre-activation values. ReLU, ELU,
// Sigmoid, Tanh, Identity, and LeakyReLU with a slope >= 0 (so that y > 0 exactly when x > 0); not GELU.
bool derivative_from_output(Activation kind, double param);

}  // namespace bprop::ops
