#include "autograd/node.h"

#include "autograd/ops.h"
#include "core/error.h"

namespace bprop::autograd {

SavedTensor::SavedTensor(const Tensor& tensor, bool is_output)
    : defined_(true),
      is_output_(is_output),
      dtype_(tensor->dtype()),
      shape_(tensor->shape()),
      buffer_(tensor->buffer()),
      version_(tensor->version()),
      name_(tensor->name) {
  if (is_output) return;
  if (tensor->is_leaf() && tensor->requires_grad())
    leaf_ = tensor;
  else
    grad_fn_ = tensor->grad_fn();
}

Tensor SavedTensor::unpack(Node& owner) const {
  if (owner.released())
    throw ValueError(std::string("[backward] the graph through ") + owner.name() +
                     " was freed by an earlier backward(); call backward(retain_graph=True) to go through it twice");
  if (buffer_->current_version() != version_) {
    const std::string what = name_.empty() ? "a tensor of shape " + shape_text(shape_) : "tensor '" + name_ + "'";
    throw ValueError("[backward] " + what + " that " + owner.name() +
                     " saved for backward was modified in place since (version " + std::to_string(version_) +
                     " then, " + std::to_string(buffer_->current_version()) + " now); compute it again, or copy it first");
  }
  if (leaf_) return leaf_;
  auto view = std::make_shared<TensorImpl>(dtype_, shape_, buffer_);
  view->name = name_;
  if (is_output_) {
    if (grad_enabled()) view->set_grad_fn(owner.shared_from_this());
  } else if (grad_fn_) {
    view->set_grad_fn(grad_fn_);
  }
  return view;
}

Node::~Node() {
  // Children whose only owner is this node would be destroyed recursively; take them out first and
  // let them go one at a time.
  std::vector<std::shared_ptr<Node>> pending;
  auto take = [&pending](Node& node) {
    for (auto& child : node.next)
      if (child) pending.push_back(std::move(child));
    for (auto& tensor : node.saved) {
      if (tensor.grad_fn_) pending.push_back(std::move(tensor.grad_fn_));
      if (tensor.leaf_) tensor.leaf_.reset();
    }
    node.next.clear();
    node.saved.clear();
  };
  take(*this);
  while (!pending.empty()) {
    std::shared_ptr<Node> node = std::move(pending.back());
    pending.pop_back();
    if (node.use_count() == 1) take(*node);
  }
}

void Node::release() {
  released_ = true;
  saved.clear();
}

AccumulateGrad::AccumulateGrad(const Tensor& leaf_tensor) : leaf(leaf_tensor) {
  if (leaf_tensor->grad_pinned) pinned_leaf = leaf_tensor;
  dtype = leaf_tensor->dtype();
  shape = leaf_tensor->shape();
}

std::vector<Tensor> AccumulateGrad::apply(const Tensor& grad_output) {
  Tensor target = leaf.lock();
  if (!target) return {};
  if (target->grad_pinned) {
    add_in_place(target->grad, grad_output);
    return {};
  }
  if (!target->grad)
    target->grad = grad_enabled() ? grad_output : copy(grad_output);  // never alias another gradient
  else
    target->grad = add(target->grad, grad_output);
  return {};
}

std::vector<Tensor> NoSecondDerivative::apply(const Tensor&) {
  throw ValueError("[backward] " + op_ + " has no second derivative in bprop; create_graph=True works through "
                   "arithmetic, exp, log, sqrt, abs, relu, sigmoid, tanh, softmax, sums and matmul");
}

std::shared_ptr<Node> gradient_edge(const Tensor& tensor) {
  if (!tensor) return nullptr;
  if (tensor->grad_fn()) return tensor->grad_fn();
  if (tensor->requires_grad()) return tensor->grad_accumulator(tensor);
  return nullptr;
}

bool record(const Tensor& output, const std::shared_ptr<Node>& node, const std::vector<Tensor>& inputs) {
  if (!grad_enabled()) return false;
  bool any = false;
  for (const auto& input : inputs) any = any || (input && input->requires_grad());
  if (!any) return false;
  node->next.clear();
  for (const auto& input : inputs) node->next.push_back(gradient_edge(input));
  node->dtype = output->dtype();
  node->shape = output->shape();
  output->set_grad_fn(node);
  return true;
}

}  // namespace bprop::autograd
