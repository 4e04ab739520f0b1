// Matrix products on the packed GEMM (gemm/). The node keeps whether each operand is used transposed,
// so the vjps (two more products of the same kind) never materialise a transpose.
#include "autograd/kernels.h"
#include "autograd/node.h"
#include "core/error.h"
#include "gemm/gemm.h"

namespace bprop::autograd {
namespace {

Tensor product(const Tensor& a, const Tensor& b, bool ta, bool tb);

struct MatMulNode : Node {
  MatMulNode(bool ta, bool tb) : ta_(ta), tb_(tb) {}
  const char* name() const override { return "matmul"; }
  std::vector<Tensor> apply(const Tensor& g) override {
    const Tensor a = saved_tensor(0), b = saved_tensor(1);
    Tensor ga, gb;  // out = op(a)·op(b)
    if (needs_grad(0)) ga = ta_ ? product(b, g, tb_, true) : product(g, b, false, !tb_);
    if (needs_grad(1)) gb = tb_ ? product(g, a, true, ta_) : product(a, g, !ta_, false);
    return {ga, gb};
  }
  bool ta_, tb_;
};

// op(a)·op(b) for 2-D a and b of one dtype.
Tensor product(const Tensor& a, const Tensor& b, bool ta, bool tb) {
  const long m = ta ? a->size(1) : a->size(0), k = ta ? a->size(0) : a->size(1);
  const long kb = tb ? b->size(1) : b->size(0), n = tb ? b->size(0) : b->size(1);
  if (k != kb)
    throw ValueError("[matmul] shapes " + shape_string(a->shape()) + " and " + shape_string(b->shape()) +
                     " do not match: " + std::to_string(k) + " != " + std::to_string(kb));
  Tensor out = make_tensor(a->dtype(), {m, n});
  dispatch(a->dtype(), [&](auto zero) {
    using T = decltype(zero);
    gemm::gemm<T>(ta ? gemm::Op::T : gemm::Op::N, tb ? gemm::Op::T : gemm::Op::N, m, n, k, T(1), a->data<T>(),
                  a->size(1), b->data<T>(), b->size(1), T(0), out->data<T>(), n);
  });
  auto node = std::make_shared<MatMulNode>(ta, tb);
  if (record(out, node, {a, b})) {
    node->saved.emplace_back(a, false);
    node->saved.emplace_back(b, false);
  }
  return out;
}

}  // namespace

Tensor matmul(const Tensor& a0, const Tensor& b0) {
  if (a0->dim() < 1 || a0->dim() > 2 || b0->dim() < 1 || b0->dim() > 2)
    throw ValueError("[matmul] takes 1-D and 2-D operands; got shapes " + shape_string(a0->shape()) + " and " +
                     shape_string(b0->shape()));
  const DType dtype = detail::promote(a0, b0);
  Tensor a = to_dtype(a0, dtype), b = to_dtype(b0, dtype);
  // As numpy.matmul: a vector is a row (on the left) or a column (on the right), removed afterwards.
  const bool a_vector = a->dim() == 1, b_vector = b->dim() == 1;
  if (a_vector) a = reshape(a, {1, a->size(0)});
  if (b_vector) b = reshape(b, {b->size(0), 1});
  Tensor out = product(a, b, false, false);
  if (a_vector && b_vector) return reshape(out, {});
  if (a_vector) return reshape(out, {out->size(1)});
  if (b_vector) return reshape(out, {out->size(0)});
  return out;
}

}  // namespace bprop::autograd
