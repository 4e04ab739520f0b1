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

}  // namespace bprop::ops
