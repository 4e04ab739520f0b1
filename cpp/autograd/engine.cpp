#include "autograd/engine.h"

#include <unordered_map>

#include "autograd/node.h"
#include "autograd/ops.h"
#include "core/error.h"
#include "core/interrupt.h"

namespace bprop::autograd {
namespace {

// Seeds: each root's node and the gradient it starts with.
std::vector<std::pair<std::shared_ptr<Node>, Tensor>> seeds(const std::vector<Tensor>& roots,
                                                              const std::vector<Tensor>& grads) {
  if (grads.size() != roots.size()) throw ValueError("[backward] one gradient per output, or none");
  std::vector<std::pair<std::shared_ptr<Node>, Tensor>> out;
  for (std::size_t i = 0; i < roots.size(); ++i) {
    const Tensor& root = roots[i];
    auto node = gradient_edge(root);
    if (!node)
      throw ValueError("[backward] the tensor does not require grad and has no grad_fn: nothing it depends on "
                       "requires grad (set requires_grad=True on an input, outside no_grad())");
    Tensor g = grads[i];
    if (!g) {
      if (root->numel() != 1)
        throw ValueError("[backward] needs a gradient argument for a non-scalar output of shape " +
                         shape_text(root->shape()) + " (backward() alone is for a single value, such as a loss)");
      g = full_like(root, 1.0);
    } else if (g->shape() != root->shape()) {
      throw ValueError("[backward] gradient of shape " + shape_text(g->shape()) + " for an output of shape " +
                       shape_text(root->shape()));
    }
    out.emplace_back(node, to_dtype(g, root->dtype()));
  }
  return out;
}

thread_local bool into_leaves = false;

// Runs the graph from the seeds. capture: nodes whose incoming gradient is wanted (autograd.grad);
// when given, leaves' accumulators do not run.
void run(const std::vector<std::pair<std::shared_ptr<Node>, Tensor>>& start, bool retain_graph, bool create_graph,
         const std::unordered_map<Node*, std::size_t>* capture, std::vector<Tensor>* captured) {
  // Dependencies: how many edges from reachable nodes point at each node.
  std::unordered_map<Node*, int> dependencies;
  std::vector<Node*> stack;
  for (const auto& seed : start)
    if (dependencies.emplace(seed.first.get(), 0).second) stack.push_back(seed.first.get());
  while (!stack.empty()) {
    Node* node = stack.back();
    stack.pop_back();
    for (const auto& child : node->next) {
      if (!child) continue;
      auto [it, fresh] = dependencies.emplace(child.get(), 0);
      ++it->second;
      if (fresh) stack.push_back(child.get());
    }
  }

  std::unordered_map<Node*, Tensor> pending;  // gradient summed so far for each node
  GradMode mode(create_graph);
  const bool outer_into_leaves = into_leaves;  // restored on exit: a vjp may run a nested grad()
  into_leaves = capture == nullptr;
  struct Restore {
    bool value;
    ~Restore() { into_leaves = value; }
  } restore{outer_into_leaves};
  auto deliver = [&](Node* node, const Tensor& g) {
    auto [it, fresh] = pending.emplace(node, g);
    if (!fresh) it->second = add(it->second, g);
  };
  for (const auto& seed : start) deliver(seed.first.get(), seed.second);

  // Kahn's algorithm: a node runs once every edge into it has been followed (it may then hold no
  // gradient at all, when each path into it carried none; it still releases its children).
  std::vector<std::shared_ptr<Node>> order;
  std::unordered_map<Node*, bool> queued;
  for (const auto& seed : start)
    if (dependencies[seed.first.get()] == 0 && !queued[seed.first.get()]) {
      queued[seed.first.get()] = true;
      order.push_back(seed.first);
    }
  while (!order.empty()) {
    throw_if_interrupted();  // Ctrl-C between nodes of a long backward
    std::shared_ptr<Node> node = std::move(order.back());
    order.pop_back();
    Tensor g;
    if (auto it = pending.find(node.get()); it != pending.end()) {
      g = std::move(it->second);
      pending.erase(it);
    }
    std::vector<Tensor> grads;
    bool skip = !g;
    if (capture && g) {
      if (auto wanted = capture->find(node.get()); wanted != capture->end()) (*captured)[wanted->second] = g;
      skip = dynamic_cast<AccumulateGrad*>(node.get()) != nullptr;
    }
    if (!skip) {
      grads = node->apply(g);
      if (!retain_graph) node->release();
    }
    for (std::size_t i = 0; i < node->next.size(); ++i) {
      const auto& child = node->next[i];
      if (!child) continue;
      if (i < grads.size() && grads[i]) deliver(child.get(), grads[i]);
      if (--dependencies[child.get()] == 0) order.push_back(child);
    }
  }
}

}  // namespace

bool accumulating_into_leaves() { return into_leaves; }

void backward(const std::vector<Tensor>& roots, const std::vector<Tensor>& grads, bool retain_graph, bool create_graph) {
  run(seeds(roots, grads), retain_graph, create_graph, nullptr, nullptr);
}

std::vector<Tensor> grad(const std::vector<Tensor>& roots, const std::vector<Tensor>& grads,
                         const std::vector<Tensor>& inputs, bool retain_graph, bool create_graph) {
  std::unordered_map<Node*, std::size_t> capture;
  std::vector<std::shared_ptr<Node>> keep;  // accumulators made here must live through the run
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    auto node = gradient_edge(inputs[i]);
    if (!node) throw ValueError("[grad] input " + std::to_string(i) + " does not require grad");
    capture.emplace(node.get(), i);
    keep.push_back(node);
  }
  std::vector<Tensor> captured(inputs.size());
  run(seeds(roots, grads), retain_graph, create_graph, &capture, &captured);
  return captured;
}

}  // namespace bprop::autograd
