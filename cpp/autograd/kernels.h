// The elementwise loops every autograd op shares (internal to cpp/autograd): a unary map, a NumPy-style
// broadcasting binary map, and the dtype promotion rule. The math of activations, softmax and GEMM is
// not here: those ops call ops/ and gemm/.
#pragma once
#include <type_traits>
#include <utility>

#include "autograd/node.h"
#include "autograd/ops.h"
#include "ops/strided.h"

namespace bprop::autograd::detail {

// float64 when either is float64 (NumPy's rule for float32 with float64).
inline DType promote(const Tensor& a, const Tensor& b) {
  return a->dtype() == DType::float64 || b->dtype() == DType::float64 ? DType::float64 : DType::float32;
}

// out[i] = f(x[i]) with f generic over the element type; no graph.
template <class F>
Tensor map_unary(const Tensor& x, F&& f) {
  Tensor out = make_tensor(x->dtype(), x->shape());
  dispatch(x->dtype(), [&](auto zero) {
    using T = decltype(zero);
    const T* in = x->data<T>();
    T* o = out->data<T>();
    for (long i = 0; i < x->numel(); ++i) o[i] = f(in[i]);
  });
  return out;
}

// out = f(a, b) broadcast, in the promoted dtype; no graph. a and b must already have that dtype.
template <class F>
Tensor map_binary(const Tensor& a, const Tensor& b, const char* op, F&& f) {
  const Shape shape = broadcast_shapes(a->shape(), b->shape(), op);
  Tensor out = make_tensor(a->dtype(), shape);
  dispatch(a->dtype(), [&](auto zero) {
    using T = decltype(zero);
    const T* pa = a->data<T>();
    const T* pb = b->data<T>();
    T* o = out->data<T>();
    const long n = out->numel();
    if (a->numel() == n && b->numel() == n) {
      for (long i = 0; i < n; ++i) o[i] = f(pa[i], pb[i]);
    } else if (b->numel() == 1 && a->numel() == n) {
      const T s = pb[0];
      for (long i = 0; i < n; ++i) o[i] = f(pa[i], s);
    } else if (a->numel() == 1 && b->numel() == n) {
      const T s = pa[0];
      for (long i = 0; i < n; ++i) o[i] = f(s, pb[i]);
    } else {
      ops::for_each_strided<2>(shape, {ops::broadcast_strides(a->shape(), shape), ops::broadcast_strides(b->shape(), shape)},
                               [&, i = 0L](const std::array<long, 2>& at) mutable { o[i++] = f(pa[at[0]], pb[at[1]]); });
    }
  });
  return out;
}

// A node whose vjp is a callable (node, g) returning one Tensor (one input) or one per input.
template <class Vjp>
struct FnNode : Node {
  FnNode(const char* op, Vjp vjp) : op_(op), vjp_(std::move(vjp)) {}
  const char* name() const override { return op_; }
  std::vector<Tensor> apply(const Tensor& g) override {
    if constexpr (std::is_same_v<decltype(vjp_(*this, g)), Tensor>)
      return {vjp_(*this, g)};
    else
      return vjp_(*this, g);
  }
  const char* op_;
  Vjp vjp_;
};

// Records an FnNode for out (see record()) with the given saved tensors; returns it, or null when
// nothing was recorded.
template <class Vjp>
std::shared_ptr<Node> record_fn(const Tensor& out, const char* op, const std::vector<Tensor>& inputs, Vjp vjp,
                                std::vector<std::pair<Tensor, bool>> saved = {}) {
  auto node = std::make_shared<FnNode<Vjp>>(op, std::move(vjp));
  if (!record(out, node, inputs)) return nullptr;
  for (auto& [tensor, is_output] : saved) node->saved.emplace_back(tensor, is_output);
  return node;
}

}  // namespace bprop::autograd::detail
