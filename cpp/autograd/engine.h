// Reverse-mode differentiation over the recorded graph. Nodes run in a topological order found
// iteratively (no recursion, so a chain of 100,000 operations works); gradients arriving by several
// paths are summed before a node runs; nodes free their saved tensors as they go unless retain_graph.
#pragma once
#include <vector>

#include "autograd/tensor.h"

namespace bprop::autograd {

// Adds ∂(Σ roots·grads)/∂leaf into every leaf's `grad`. grads[i] null means ones (roots[i] must then
// have one element). With create_graph, the vjps are recorded, so the gradients can be differentiated.
void backward(const std::vector<Tensor>& roots, const std::vector<Tensor>& grads, bool retain_graph, bool create_graph);

// The gradients of the roots with respect to `inputs` (tensors that require grad), returned rather than
// accumulated; null for an input the roots do not depend on.
std::vector<Tensor> grad(const std::vector<Tensor>& roots, const std::vector<Tensor>& grads,
                         const std::vector<Tensor>& inputs, bool retain_graph, bool create_graph);

// True inside backward() (gradients end in the leaves' `grad`), false inside grad() (they are returned):
// a layer node may then write its parameter gradients straight into the parameters.
bool accumulating_into_leaves();

}  // namespace bprop::autograd
