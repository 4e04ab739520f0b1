// Matrix products on the packed GEMM (gemm/), as numpy.matmul: the last two axes hold the matrices and
// the axes before them are a batch that broadcasts; one GEMM call per batch entry. The node keeps
// whether each operand is used transposed, so the vjps (two more products of the same kind) never
// materialise a transpose; they sum over broadcast batch axes with sum_to, so they stay differentiable.
#include <algorithm>
#include <type_traits>

#include "autograd/kernels.h"
#include "autograd/node.h"
#include "core/error.h"
#include "gemm/gemm.h"
#include "gemm/overflow.h"

namespace bprop::autograd {
namespace {

Tensor product(const Tensor& a, const Tensor& b, bool ta, bool tb);

struct MatMulNode : Node {
  MatMulNode(bool ta, bool tb) : ta_(ta), tb_(tb) {}
  const char* name() const override { return "matmul"; }
  std::vector<Tensor> apply(const Tensor& g) override {
    const Tensor a = saved_tensor(0), b = saved_tensor(1);
    Tensor ga, gb;  // out = op(a)·op(b)
    if (needs_grad(0)) ga = sum_to(ta_ ? product(b, g, tb_, true) : product(g, b, false, !tb_), a->shape());
    if (needs_grad(1)) gb = sum_to(tb_ ? product(g, a, true, ta_) : product(a, g, !ta_, false), b->shape());
    return {ga, gb};
  }
  bool ta_, tb_;
};

Shape batch_of(const Shape& shape) { return Shape(shape.begin(), shape.end() - 2); }

// op(a)·op(b) over the last two axes of a and b (at least 2-D, one dtype, sizes checked by matmul()),
// with the axes before them broadcast as a batch.
Tensor product(const Tensor& a, const Tensor& b, bool ta, bool tb) {
  const long a_rows = a->size(a->dim() - 2), a_cols = a->size(a->dim() - 1);
  const long b_rows = b->size(b->dim() - 2), b_cols = b->size(b->dim() - 1);
  const long m = ta ? a_cols : a_rows, k = ta ? a_rows : a_cols, n = tb ? b_rows : b_cols;
  const Shape a_batch = batch_of(a->shape()), b_batch = batch_of(b->shape());
  const Shape batch = broadcast_shapes(a_batch, b_batch, "matmul");
  Shape shape = batch;
  shape.push_back(m);
  shape.push_back(n);
  Tensor out = make_tensor(a->dtype(), shape);
  // Batch strides in matrices (0 along broadcast axes); gemm wants leading dimensions >= 1 even when
  // a matrix has no columns.
  const std::vector<long> a_step = ops::broadcast_strides(a_batch, batch), b_step = ops::broadcast_strides(b_batch, batch);
  const long lda = std::max(1L, a_cols), ldb = std::max(1L, b_cols), ldc = std::max(1L, n);
  dispatch(a->dtype(), [&](auto zero) {
    using T = decltype(zero);
    const T* pa = a->data<T>();
    const T* pb = b->data<T>();
    T* o = out->data<T>();
    const gemm::Op op_a = ta ? gemm::Op::T : gemm::Op::N, op_b = tb ? gemm::Op::T : gemm::Op::N;
    ops::for_each_strided<2>(batch, {a_step, b_step}, [&, i = 0L](const std::array<long, 2>& at) mutable {
      const T* a_at = pa + at[0] * a_rows * a_cols;
      const T* b_at = pb + at[1] * b_rows * b_cols;
      T* c_at = o + i++ * m * n;
      if constexpr (std::is_same_v<T, float>)  // a float32 value past float32's range, signed right
        gemm::gemm_repairing_overflow(op_a, op_b, m, n, k, 1.0f, a_at, lda, b_at, ldb, 0.0f, nullptr, 0, c_at, ldc);
      else
        gemm::gemm<T>(op_a, op_b, m, n, k, T(1), a_at, lda, b_at, ldb, T(0), c_at, ldc);
    });
  });
  auto node = std::make_shared<MatMulNode>(ta, tb);
  if (record(out, node, {a, b})) {
    node->saved.emplace_back(a, false);
    node->saved.emplace_back(b, false);
  }
  return out;
}

// numpy.matmul's rules, checked once on the shapes the caller gave (so the message names them).
void check_operands(const Shape& a, const Shape& b) {
  const std::string both = "shapes " + shape_text(a) + " and " + shape_text(b);
  if (a.empty() || b.empty()) throw ValueError("[matmul] needs operands with at least one dimension; got " + both);
  const long ka = a.back(), kb = b.size() == 1 ? b[0] : b[b.size() - 2];
  if (ka != kb)
    throw ValueError("[matmul] " + both + " do not match; expected a's last size to equal b's " +
                     (b.size() == 1 ? "only" : "second-to-last") + " size, got " + std::to_string(ka) + " and " +
                     std::to_string(kb));
  const Shape a_batch(a.begin(), a.end() - std::min<std::size_t>(a.size(), 2));
  const Shape b_batch(b.begin(), b.end() - std::min<std::size_t>(b.size(), 2));
  for (std::size_t i = 1; i <= std::min(a_batch.size(), b_batch.size()); ++i) {
    const long da = a_batch[a_batch.size() - i], db = b_batch[b_batch.size() - i];
    if (da != db && da != 1 && db != 1)
      throw ValueError("[matmul] " + both + " do not match; expected batch dimensions that broadcast, got " +
                       shape_text(a_batch) + " and " + shape_text(b_batch));
  }
}

}  // namespace

Tensor matmul(const Tensor& a0, const Tensor& b0) {
  check_operands(a0->shape(), b0->shape());
  const DType dtype = detail::promote(a0, b0);
  Tensor a = to_dtype(a0, dtype), b = to_dtype(b0, dtype);
  // As numpy.matmul: a vector is a row (on the left) or a column (on the right), removed afterwards.
  const bool a_vector = a->dim() == 1, b_vector = b->dim() == 1;
  if (a_vector) a = reshape(a, {1, a->size(0)});
  if (b_vector) b = reshape(b, {b->size(0), 1});
  Tensor out;
  if (a->dim() > 2 && b->dim() == 2) {
    // A batch against one matrix is one GEMM with the batch folded into the rows; then b's vjp is one
    // GEMM over all rows too, instead of a product per batch entry summed afterwards.
    Shape shape = a->shape();
    shape.back() = b->size(1);
    const long rows = numel(Shape(a->shape().begin(), a->shape().end() - 1));
    out = reshape(product(reshape(a, {rows, a->size(a->dim() - 1)}), b, false, false), shape);
  } else {
    out = product(a, b, false, false);
  }
  if (!a_vector && !b_vector) return out;
  Shape shape = out->shape();
  if (a_vector) shape.erase(shape.end() - 2);
  if (b_vector) shape.pop_back();
  return reshape(out, shape);
}

}  // namespace bprop::autograd
