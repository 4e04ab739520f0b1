// The dense-training pieces as graph nodes, so custom models reuse their math rather than rewrite it:
//   parameter_tensor: a Parameter seen as a leaf tensor. It views the parameter's value and adds its
//       gradients into the parameter's `grad`, which optimizers step from.
//   apply_layer: a layer's forward on a tensor (samples, *sample_shape), the layer built for that shape;
//       the node's vjp is the layer's own backward, which writes dx and the parameter gradients.
//   apply_loss: a loss on 2-D outputs; its value and gradient come from one forward_backward pass, and
//       the vjp scales that saved gradient.
// Layer and loss vjps are kernels: differentiating them twice (create_graph) raises a ValueError
// naming them.
#pragma once
#include "autograd/tensor.h"
#include "loss/loss.h"
#include "nn/layer.h"

namespace bprop::autograd {

template <typename T>
constexpr DType dtype_of() {
  return sizeof(T) == 4 ? DType::float32 : DType::float64;
}

template <typename T>
Tensor parameter_tensor(const nn::ParameterPtr<T>& parameter);

// ValueError for a width the layer cannot take or an empty batch, TypeError for another dtype.
template <typename T>
Tensor apply_layer(const nn::LayerPtr<T>& layer, const Tensor& x, bool training);

// targets and sample_weight are validated by the caller and read during this call only.
template <typename T>
Tensor apply_loss(const loss::LossPtr<T>& loss, const Tensor& out, const loss::Targets<T>& targets,
                  const T* sample_weight);

}  // namespace bprop::autograd
