// Graph nodes. Every differentiable operation records one Node per output: the edges to the nodes of
// its inputs (null where an input needs no gradient), the tensors its vector-Jacobian product needs
// (saved with their buffer's version), and apply(), the vjp itself. Vjps are written with the same
// differentiable operations as forwards (ops.h), so with create_graph they record a graph of their own
// (gradients of gradients); otherwise backward runs them with recording off.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "autograd/tensor.h"

namespace bprop::autograd {

// A tensor kept for backward. Unpacking checks it was not written in place since, and that the graph
// was not freed. Inputs keep their grad_fn (so double backward flows through them); a node's own
// output is given the node back on unpacking (a stored pointer to it would be a cycle).
class SavedTensor {
 public:
  SavedTensor() = default;
  SavedTensor(const Tensor& tensor, bool is_output);
  Tensor unpack(Node& owner) const;
  bool defined() const { return defined_; }

 private:
  friend struct Node;
  bool defined_ = false, is_output_ = false;
  DType dtype_ = DType::float32;
  Shape shape_;
  std::shared_ptr<Buffer> buffer_;
  uint64_t version_ = 0;
  Tensor leaf_;                      // the tensor itself when it is a leaf that requires grad
  std::shared_ptr<Node> grad_fn_;    // an input's node
  std::string name_;
};

struct Node : std::enable_shared_from_this<Node> {
  virtual ~Node();  // tears long chains down iteratively: a chain of 100,000 ops must not recurse
  virtual const char* name() const = 0;
  // ∂L/∂input for each input, given ∂L/∂output; null entries for inputs that need no gradient.
  virtual std::vector<Tensor> apply(const Tensor& grad_output) = 0;

  // What backward frees unless retain_graph: the saved tensors.
  void release();
  bool released() const { return released_; }
  bool needs_grad(std::size_t input) const { return input < next.size() && next[input] != nullptr; }
  Tensor saved_tensor(std::size_t i) { return saved[i].unpack(*this); }

  std::vector<std::shared_ptr<Node>> next;  // one per input
  std::vector<SavedTensor> saved;
  DType dtype = DType::float32;  // of the output
  Shape shape;                   // of the output

 protected:
  bool released_ = false;
};

// The node at the end of every path to a leaf: adds the incoming gradient into the leaf's `grad`.
struct AccumulateGrad : Node {
  explicit AccumulateGrad(const Tensor& leaf);
  const char* name() const override { return "AccumulateGrad"; }
  std::vector<Tensor> apply(const Tensor& grad_output) override;
  std::weak_ptr<TensorImpl> leaf;
  // A parameter's view is held: its gradient must land even when nothing else keeps the view alive
  // (no cycle: the view holds its accumulator weakly).
  Tensor pinned_leaf;
};

// The gradient a kernel-only vjp produced (GELU, layers, losses), when create_graph asked for a graph:
// differentiating it again says which op has no second derivative rather than giving a silent zero.
struct NoSecondDerivative : Node {
  explicit NoSecondDerivative(std::string op) : op_(std::move(op)) {}
  const char* name() const override { return "NoSecondDerivative"; }
  std::vector<Tensor> apply(const Tensor&) override;
  std::string op_;
};

// Records `node` as the maker of `output` when grad mode is on and some input requires grad; returns
// whether it did. Sets node->next from the inputs, and node's output dtype and shape.
bool record(const Tensor& output, const std::shared_ptr<Node>& node, const std::vector<Tensor>& inputs);
// The node a gradient for `tensor` flows into: its grad_fn, its accumulator for a leaf that requires
// grad, or null.
std::shared_ptr<Node> gradient_edge(const Tensor& tensor);

}  // namespace bprop::autograd
