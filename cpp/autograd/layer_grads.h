// What the graph nodes of layers share (nn_ops.cpp's LayerNode, recurrent_ops.cpp's RecurrentNode): running a
// layer's backward so that its parameters' gradients reach the graph the way the engine needs them.
#pragma once
#include <string>
#include <utility>
#include <vector>

#include "autograd/engine.h"
#include "autograd/node.h"
#include "autograd/nn_ops.h"
#include "nn/parameter.h"

namespace bprop::autograd::detail {

// Whether edge `i` ends in a parameter's own accumulator, so the layer may add into the parameter's
// gradient directly instead of handing the engine a gradient to add there.
inline bool ends_in_pinned_leaf(const Node& node, std::size_t i) {
  const auto* accumulate = dynamic_cast<const AccumulateGrad*>(node.next[i].get());
  if (!accumulate) return false;
  const Tensor leaf = accumulate->leaf.lock();
  return leaf && leaf->grad_pinned;
}

// Marks kernel-made gradients under create_graph so that differentiating them again raises.
inline void refuse_second_derivative(const std::vector<Tensor>& grads, const std::string& op, const Tensor& g,
                                     const Tensor& input) {
  if (!grad_enabled()) return;
  for (const auto& grad : grads)
    if (grad) record(grad, std::make_shared<NoSecondDerivative>(op), {g, input});
}

// Runs backward(accumulate), a layer's backward writing `parameters`' gradients, whose edges in `node` start
// at `first_edge`. The common case, loss.backward() on trainable parameters, adds straight into the
// parameters' gradients; otherwise (grad(), frozen parameters, create_graph) the layer writes fresh gradients
// into swapped-in arrays, handed back as grads[first_edge + i] for the engine to route, and the parameters' own
// gradients come back untouched.
template <typename T, class Backward>
void route_parameter_grads(const Node& node, std::size_t first_edge, const std::vector<nn::ParameterPtr<T>>& parameters,
                           std::vector<Tensor>& grads, Backward&& backward) {
  bool direct = accumulating_into_leaves() && !grad_enabled();
  for (std::size_t i = 0; i < parameters.size(); ++i) direct = direct && ends_in_pinned_leaf(node, first_edge + i);
  if (direct) {
    backward(true);
    for (const auto& parameter : parameters)
      if (auto view = std::static_pointer_cast<TensorImpl>(parameter->tensor_view.lock())) view->grad->bump_version();
    return;
  }
  std::vector<Array<T>> fresh(parameters.size());
  for (std::size_t i = 0; i < parameters.size(); ++i) {
    fresh[i].resize(parameters[i]->size());
    std::swap(fresh[i], parameters[i]->grad);
  }
  backward(false);
  for (std::size_t i = 0; i < parameters.size(); ++i) {
    std::swap(fresh[i], parameters[i]->grad);
    if (node.needs_grad(first_edge + i)) {
      Tensor grad = make_tensor(dtype_of<T>(), Shape(parameters[i]->shape));
      std::copy(fresh[i].data(), fresh[i].data() + fresh[i].size(), grad->template data<T>());
      grads[first_edge + i] = std::move(grad);
    }
  }
}

}  // namespace bprop::autograd::detail
